//! Headless Chromium driven over WebDriver (chromedriver + fantoccini), for tests that
//! use the board the way a person does. Each [`Session`] is an independent browser
//! profile, so two sessions are two people. A [`Meeting`] is the usual setting of such a
//! test, and cleans up after itself even when the test fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::actions::{
    Actions, InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hindsight_server::SledStore;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::{eventually, TestBoard, TestServer};

/// A JavaScript function expression that finds a note element by its id.
pub const NOTE_BY_ID: &str = "(id) => document.querySelector(`.note[data-note-id=\"${id}\"]`)";

/// A JavaScript function expression for the text a note element shows: its text field's
/// value while someone edits it here, else the shown text.
pub const TEXT_OF: &str =
    "(note) => { const t = note?.querySelector('.note-text'); return t ? (t.value ?? t.textContent) : null; }";

fn tool(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.exists(),
        "{} not found (set {env}); `cargo xtask test` installs Chromium and ChromeDriver",
        path.display()
    );
    path
}

/// The WebDriver capabilities of a headless Chromium at `chromium` whose profile is
/// `profile` (an empty directory, so that every session is a new person).
pub fn chromium_capabilities(chromium: &Path, profile: &Path) -> serde_json::Map<String, Value> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    caps
}

/// The pointer actions of a drag the way a hand makes one: press on `element` at `(x, y)`
/// from its centre, move by `(dx, dy)` screen pixels in `steps` equal moves of
/// `step_duration` each (so that intermediate positions are seen too), and release.
pub fn drag_actions(
    element: Element,
    (x, y): (f64, f64),
    by: (f64, f64),
    steps: u32,
    step_duration: Duration,
) -> MouseActions {
    let to = PointerAction::MoveToElement {
        element,
        duration: None,
        x,
        y,
    };
    drag_from(to, by, steps, step_duration)
}

/// The same drag, pressed at `(x, y)` in the viewport rather than on an element: for
/// what the page draws on a canvas (the overview of a large board).
pub fn drag_actions_at(
    (x, y): (f64, f64),
    by: (f64, f64),
    steps: u32,
    step_duration: Duration,
) -> MouseActions {
    let to = PointerAction::MoveTo {
        duration: None,
        x: x.round(),
        y: y.round(),
    };
    drag_from(to, by, steps, step_duration)
}

/// Goes `to` the press, presses, moves by `(dx, dy)` in `steps`, releases.
fn drag_from(
    to: PointerAction,
    (dx, dy): (f64, f64),
    steps: u32,
    step_duration: Duration,
) -> MouseActions {
    let mut mouse = MouseActions::new("mouse".into())
        .then(to)
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        });
    for _ in 0..steps {
        mouse = mouse.then(PointerAction::MoveBy {
            duration: Some(step_duration),
            x: dx / f64::from(steps),
            y: dy / f64::from(steps),
        });
    }
    mouse.then(PointerAction::Up {
        button: MOUSE_BUTTON_LEFT,
    })
}

/// How a test's drags move: ten steps of 30 ms.
const DRAG_STEPS: u32 = 10;
const DRAG_STEP: Duration = Duration::from_millis(30);

/// A running chromedriver in a process group of its own, which the Chromium processes it
/// starts belong to as well. Dropping it kills the whole group, then removes every
/// session's profile.
pub struct Driver {
    child: Child,
    /// The process group: chromedriver's pid.
    group: i32,
    url: String,
    chromium: PathBuf,
    /// One directory per session below it, and Chromium's temporary files.
    profiles: tempfile::TempDir,
    sessions: AtomicUsize,
}

impl Driver {
    /// Starts chromedriver; the browser tests need the built client, so this is also
    /// where a missing build is reported.
    pub async fn start() -> Driver {
        assert!(
            crate::dist_dir().join("index.html").exists(),
            "the web client is not built in {}; run `cargo xtask test`",
            crate::dist_dir().display()
        );
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = tool("CHROMIUM", "/usr/bin/chromium");
        Driver::with_tools(&chromedriver, &chromium).await
    }

    /// Starts the given chromedriver, whose sessions run the given Chromium (the
    /// benchmark names both).
    pub async fn with_tools(chromedriver: &Path, chromium: &Path) -> Driver {
        let chromium = chromium.to_owned();
        let port = free_port();
        // Chromium's own temporary directories go there too, so that a browser killed
        // before it could remove them leaves nothing behind either.
        let profiles = tempfile::tempdir().expect("profiles dir");
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .env("TMPDIR", profiles.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let group = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .expect("chromedriver's pid");
        let driver = Driver {
            child,
            group,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            profiles,
            sessions: AtomicUsize::new(0),
        };
        eventually("chromedriver to listen", || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
        })
        .await;
        driver
    }

    /// Opens a fresh browser profile.
    pub async fn session(&self) -> Session {
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        let profile = self.profiles.path().join(n.to_string());
        std::fs::create_dir(&profile).expect("profile dir");
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(chromium_capabilities(&self.chromium, &profile))
            .connect(&self.url)
            .await
            .expect("new WebDriver session");
        Session { client }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: kill(2) only sends a signal; a negative pid names a process group.
        unsafe { libc::kill(-self.group, libc::SIGKILL) };
        // Reaps chromedriver; the browsers, now orphans, are reaped by init. The profiles
        // are removed (when the fields drop) once no process of the group runs any more.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let reaped = !matches!(self.child.try_wait(), Ok(None));
            if reaped && !group_runs(self.group) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Whether a process of `group` is still running (not yet a zombie), from `/proc`.
fn group_runs(group: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // `pid (comm) state ppid pgrp …`; the command name may hold spaces and brackets.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        matches!(fields.as_slice(), [state, _ppid, pgrp, ..]
            if *state != "Z" && *state != "X" && pgrp.parse() == Ok(group))
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The setting of a browser test: a server with the built client on a fresh data
/// directory, chromedriver, and a board made from the start page. Dropping it, as a
/// failing assertion does, kills chromedriver and every Chromium it started and removes
/// their profiles and the data directory; [`Meeting::end`] also stops the server cleanly.
pub struct Meeting {
    /// The board's edit link, as its creator's page shows it.
    pub url: String,
    /// `None` while stopped.
    server: Option<TestServer>,
    /// Where the server listens, again after a restart.
    addr: std::net::SocketAddr,
    driver: Driver,
    data: tempfile::TempDir,
}

impl Meeting {
    /// Starts a server and chromedriver; the first person starts a new board from the
    /// start page (so they facilitate) and joins it as `creator`.
    pub async fn start(creator: &str) -> (Meeting, Session) {
        Meeting::start_from(creator, "#new-board").await
    }

    /// Like [`Meeting::start`], but the board is made by the start page's button `button`
    /// (a template's card, say).
    pub async fn start_from(creator: &str, button: &str) -> (Meeting, Session) {
        Meeting::start_configured(creator, button, |_| {}).await
    }

    /// Like [`Meeting::start_from`], on a server whose configuration `tweak` changes.
    pub async fn start_configured(
        creator: &str,
        button: &str,
        tweak: impl FnOnce(&mut hindsight_server::Config),
    ) -> (Meeting, Session) {
        let data = tempfile::tempdir().expect("data dir");
        let server = TestServer::start_with(data.path(), tweak).await;
        let driver = Driver::start().await;
        let first = driver.session().await;
        let url = first.start_board_with(&server.http_base(), button).await;
        first.join_as(creator).await;
        let meeting = Meeting {
            url,
            addr: server.addr(),
            server: Some(server),
            driver,
            data,
        };
        (meeting, first)
    }

    /// Someone else opens the board's edit link in a new browser and joins as `name`.
    pub async fn join(&self, name: &str) -> Session {
        self.open(&self.url, name).await
    }

    /// Someone opens `url` (another link to the board) in a new browser and joins as
    /// `name`.
    pub async fn open(&self, url: &str, name: &str) -> Session {
        let session = self.visit(url).await;
        session.join_as(name).await;
        session
    }

    /// Someone opens `url` in a new browser and has not answered the name prompt yet.
    pub async fn visit(&self, url: &str) -> Session {
        let session = self.driver.session().await;
        session.goto(url).await;
        session
    }

    /// The board and its links, read from its edit link.
    pub fn board(&self) -> TestBoard {
        TestBoard::from_url(&self.url)
    }

    pub fn server(&self) -> &TestServer {
        self.server.as_ref().expect("the server is running")
    }

    /// Stops the server cleanly; the pages stay open.
    pub async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }

    /// Starts the server again where it was, on the same address and data directory,
    /// stopping it first if it runs.
    pub async fn restart_server(&mut self) {
        self.stop_server().await;
        let mut config = TestServer::config(self.data.path());
        config.addr = self.addr;
        let store = std::sync::Arc::new(SledStore::open(&config.data_dir).expect("reopen sled"));
        self.server = Some(TestServer::start_on(config, store).await);
    }

    /// Ends the meeting: the browsers and chromedriver go, then the server stops cleanly,
    /// then its data directory is removed.
    pub async fn end(self) {
        let Meeting {
            server,
            driver,
            data,
            ..
        } = self;
        drop(driver);
        if let Some(server) = server {
            server.stop().await;
        }
        drop(data);
    }
}

/// Ada starts a board, so she facilitates, and Bo opens its link; both have joined.
pub async fn two_people() -> (Meeting, Session, Session) {
    let (meeting, ada) = Meeting::start("Ada").await;
    let bo = meeting.join("Bo").await;
    (meeting, ada, bo)
}

/// One person's browser.
pub struct Session {
    pub client: Client,
}

impl Session {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Runs JavaScript in the page and returns its result.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` returns something other than null/false, and returns it.
    pub async fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        eventually(what, || async {
            let v = self.js(script, args.clone()).await;
            (!v.is_null() && v != Value::Bool(false)).then_some(v)
        })
        .await
    }

    pub async fn click(&self, css: &str) {
        let el = eventually(&format!("element {css}"), || async {
            self.client.find(Locator::Css(css)).await.ok()
        })
        .await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = eventually(&format!("element {css}"), || async {
            self.client.find(Locator::Css(css)).await.ok()
        })
        .await;
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Starts a new board from the start page, as its creator (and so its facilitator),
    /// and returns the board's URL.
    pub async fn start_board(&self, http_base: &str) -> String {
        self.start_board_with(http_base, "#new-board").await
    }

    /// Starts a new board with the start page's button `button`, as its creator, and
    /// returns the board's URL.
    pub async fn start_board_with(&self, http_base: &str, button: &str) -> String {
        self.goto(&format!("{http_base}/")).await;
        self.click(button).await;
        let url = self
            .wait_js(
                "navigation to the new board",
                "return location.pathname.startsWith('/b/') ? location.href : null;",
                vec![],
            )
            .await;
        url.as_str().expect("board URL").to_owned()
    }

    /// Answers the display-name prompt and waits for the live connection.
    pub async fn join_as(&self, name: &str) {
        self.type_into("#name-input", name).await;
        self.click("#name-submit").await;
        self.wait_js(
            "the board to be live",
            "return document.querySelector('#connection')?.dataset.state === 'connected';",
            vec![],
        )
        .await;
    }

    /// Adds a note through a region's add button, types `text` into it, and returns the
    /// new note's id.
    pub async fn add_note(&self, region: &str, text: &str) -> String {
        let before = self
            .js(
                "return [...document.querySelectorAll('.note')].map(n => n.dataset.noteId);",
                vec![],
            )
            .await;
        self.click(&format!(".region[data-region=\"{region}\"] .region-add"))
            .await;
        let id = self
            .wait_js(
                "the new note",
                "const known = arguments[0];
                 const fresh = [...document.querySelectorAll('.note')]
                     .map(n => n.dataset.noteId).filter(id => !known.includes(id));
                 return fresh.length === 1 ? fresh[0] : null;",
                vec![before],
            )
            .await;
        let id = id.as_str().expect("note id").to_owned();
        self.type_into(
            &format!(".note[data-note-id=\"{id}\"] textarea.note-text"),
            text,
        )
        .await;
        id
    }

    /// Waits until the note `id` shows `text`; `who` names this session in a failure.
    pub async fn wait_for_note_text(&self, who: &str, id: &str, text: &str) {
        self.wait_js(
            &format!("{who} to show note {id} with {text:?}"),
            &format!("return ({TEXT_OF})(({NOTE_BY_ID})(arguments[0])) === arguments[1];"),
            vec![json!(id), json!(text)],
        )
        .await;
    }

    /// Drags the element matched by `css` by (dx, dy) screen pixels in small steps, the
    /// way a hand does, so intermediate positions are sent too.
    pub async fn drag(&self, css: &str, dx: f64, dy: f64) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        let mouse = drag_actions(el, (0.0, 0.0), (dx, dy), DRAG_STEPS, DRAG_STEP);
        self.client
            .perform_actions(mouse)
            .await
            .expect("perform drag");
    }

    /// Sets a form field's value the way a person's edit would: focus, the new value,
    /// `input` and `change`, then leaving the field.
    pub async fn set_field(&self, css: &str, value: &str) {
        self.wait_js(
            &format!("{css} to take {value:?}"),
            "const el = document.querySelector(arguments[0]);
             if (!el) return false;
             el.focus();
             el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));
             el.dispatchEvent(new Event('change', { bubbles: true }));
             el.blur();
             return el.value === arguments[1];",
            vec![json!(css), json!(value)],
        )
        .await;
    }

    /// Moves the pointer, no button held, from the centre of the element matched by `css`
    /// by (dx, dy) screen pixels in small steps: a cursor wandering over the canvas.
    pub async fn wander(&self, css: &str, dx: f64, dy: f64) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        let mut mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element: el,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        for _ in 0..DRAG_STEPS {
            mouse = mouse.then(PointerAction::MoveBy {
                duration: Some(DRAG_STEP),
                x: dx / f64::from(DRAG_STEPS),
                y: dy / f64::from(DRAG_STEPS),
            });
        }
        self.client
            .perform_actions(mouse)
            .await
            .expect("move the pointer");
    }

    /// Opens the text of note `id` for editing, as focusing it does, with the caret at
    /// its `"start"` or `"end"`.
    pub async fn edit_text(&self, id: &str, at: &str) {
        self.js(
            &format!("({NOTE_BY_ID})(arguments[0])?.querySelector('.note-text')?.focus();"),
            vec![json!(id)],
        )
        .await;
        self.place_caret(
            &format!(".note[data-note-id=\"{id}\"] textarea.note-text"),
            at,
        )
        .await;
    }

    /// Focuses the text field matched by `css` with the caret at its `"start"` or `"end"`.
    pub async fn place_caret(&self, css: &str, at: &str) {
        self.wait_js(
            &format!("the caret in {css}"),
            "const el = document.querySelector(arguments[0]);
             if (!el) return false;
             el.focus();
             const at = arguments[1] === 'start' ? 0 : el.value.length;
             el.setSelectionRange(at, at);
             return document.activeElement === el;",
            vec![json!(css), json!(at)],
        )
        .await;
    }

    /// Types `text` key by key into whatever has the focus, wherever its caret is.
    pub async fn type_keys(&self, text: &str) {
        let mut keys = KeyActions::new("keyboard".into());
        for c in text.chars() {
            keys = keys
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client
            .perform_actions(keys)
            .await
            .expect("perform typing");
    }

    /// Presses `keys` together (modifiers first, as in `[Key::Control.into(), 'z']`) and
    /// lets them go.
    pub async fn press(&self, keys: &[char]) {
        let mut actions = KeyActions::new("keyboard".into());
        for &value in keys {
            actions = actions.then(KeyAction::Down { value });
        }
        for &value in keys.iter().rev() {
            actions = actions.then(KeyAction::Up { value });
        }
        self.client
            .perform_actions(actions)
            .await
            .expect("press keys");
    }

    /// Clicks the element matched by `css` with Shift held.
    pub async fn shift_click(&self, css: &str) {
        let el = eventually(&format!("element {css}"), || async {
            self.client.find(Locator::Css(css)).await.ok()
        })
        .await;
        let shift = char::from(Key::Shift);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: shift })
            .then(KeyAction::Pause {
                duration: Duration::ZERO,
            })
            .then(KeyAction::Pause {
                duration: Duration::ZERO,
            })
            .then(KeyAction::Up { value: shift });
        let mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: el,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Pause {
                duration: Duration::ZERO,
            });
        self.client
            .perform_actions(Actions::from(keys).and(mouse))
            .await
            .expect("shift-click");
    }

    /// Drags with Shift held from `(x, y)` (offset from the centre of the element matched
    /// by `css`) by `(dx, dy)` screen pixels: a rubber band on empty canvas.
    pub async fn shift_drag(&self, css: &str, (x, y): (f64, f64), dx: f64, dy: f64) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        // Shift goes down with the pointer's first move and up with its release; the
        // key source pauses through the steps in between.
        let shift = char::from(Key::Shift);
        let mut keys = KeyActions::new("keyboard".into()).then(KeyAction::Down { value: shift });
        for _ in 0..=DRAG_STEPS {
            keys = keys.then(KeyAction::Pause {
                duration: Duration::ZERO,
            });
        }
        keys = keys.then(KeyAction::Up { value: shift });
        let mouse =
            drag_actions(el, (x, y), (dx, dy), DRAG_STEPS, DRAG_STEP).then(PointerAction::Pause {
                duration: Duration::ZERO,
            });
        self.client
            .perform_actions(Actions::from(keys).and(mouse))
            .await
            .expect("perform shift-drag");
    }

    /// Waits until the save indicator is in `state` with a text containing `text`, and
    /// returns the text.
    pub async fn wait_save_state(&self, state: &str, text: &str) -> String {
        let shown = self
            .wait_js(
                &format!("the save state {state:?} with {text:?}"),
                "const el = document.querySelector('#save-state');
                 return el && el.dataset.state === arguments[0] && el.textContent.includes(arguments[1])
                     ? el.textContent : null;",
                vec![json!(state), json!(text)],
            )
            .await;
        shown.as_str().unwrap_or_default().to_owned()
    }

    /// Saves what the page shows as `<repo>/target/screenshots/<name>` (`name` may hold a
    /// folder), for people to look at, and checks that it shows something.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.len() > 10_000, "screenshot {name} is empty");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/screenshots")
            .join(name);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("screenshot dir");
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
