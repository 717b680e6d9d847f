//! Headless Chromium driven over WebDriver (chromedriver + fantoccini), for tests that
//! use the board the way a person does. Each [`Session`] is an independent browser
//! profile, so two sessions are two people.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::actions::{
    Actions, InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::eventually;

/// A JavaScript function expression that finds a note element by its id.
pub const NOTE_BY_ID: &str = "(id) => document.querySelector(`.note[data-note-id=\"${id}\"]`)";

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

/// A running chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
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
        let port = free_port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        eventually("chromedriver to listen", || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
        })
        .await;
        Driver {
            child,
            url,
            chromium,
        }
    }

    /// Opens a fresh browser profile.
    pub async fn session(&self) -> Session {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": self.chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1400,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("new WebDriver session");
        Session {
            client,
            _profile: profile,
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// One person's browser.
pub struct Session {
    pub client: Client,
    _profile: tempfile::TempDir,
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
        self.goto(&format!("{http_base}/")).await;
        self.click("#new-board").await;
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
            &format!(
                "return ({NOTE_BY_ID})(arguments[0])?.querySelector('textarea.note-text')?.value === arguments[1];"
            ),
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
        let steps = 10;
        let mut mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: el,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            });
        for _ in 0..steps {
            mouse = mouse.then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(30)),
                x: dx / steps as f64,
                y: dy / steps as f64,
            });
        }
        mouse = mouse.then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
        self.client
            .perform_actions(mouse)
            .await
            .expect("perform drag");
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
        let steps = 10;
        let shift = char::from(Key::Shift);
        let mut keys = KeyActions::new("keyboard".into()).then(KeyAction::Down { value: shift });
        let mut mouse = MouseActions::new("mouse".into())
            .then(PointerAction::MoveToElement {
                element: el,
                duration: None,
                x,
                y,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            });
        keys = keys.then(KeyAction::Pause {
            duration: Duration::ZERO,
        });
        for _ in 0..steps {
            mouse = mouse.then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(30)),
                x: dx / steps as f64,
                y: dy / steps as f64,
            });
            keys = keys.then(KeyAction::Pause {
                duration: Duration::ZERO,
            });
        }
        mouse = mouse
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Pause {
                duration: Duration::ZERO,
            });
        keys = keys.then(KeyAction::Up { value: shift });
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

    /// Saves what the page shows as `<repo>/target/screenshots/<name>`, for people to
    /// look at, and checks that it shows something.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.len() > 10_000, "screenshot {name} is empty");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(name), png).expect("write screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
