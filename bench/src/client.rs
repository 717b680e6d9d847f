//! The Hindsight-only figures: the release client's download size (P5), and the page's
//! work in headless Chromium (P6) on boards of thousands of notes: a drag, a page
//! watching someone else drag, the time from opening a board to its first painted note,
//! and typing into a 4,000-character note.
//!
//! Headless Chromium paces frames at about 16.7 ms whatever the page does, so P6 reports
//! the page's own work per frame: its input handlers (pointer and keys), the time spent
//! on messages from the server (which the page adds up itself with `?debug=timing`), and
//! the frame's rendering (from its first animation callback to a message posted from
//! there, which runs after style, layout and paint), all timed with `performance.now()`.
//! The time between frames is reported beside it.
//!
//! The watching page's peer is not a second browser but a Rust client that moves a note
//! the way the page does while dragging (a write every 40 ms, with presence saying it
//! edits the note), so the page measured does not share the machine with another one.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::Client;
use futures_util::SinkExt;
use hindsight_shared::layout::BoardLayout;
use hindsight_shared::presence::{Point, Presence, PresenceUser};
use hindsight_shared::schema::new_doc;
use hindsight_shared::{Board, NewNote, NoteId};
use hindsight_tests::browser::{drag_actions_at, Driver};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::{Awareness, Message};
use yrs::updates::encoder::Encode;
use yrs::Transact;

use crate::peers::{Kind, Server, Setup};
use crate::updates;
use crate::wire::{self, Sink};

/// P5: bytes of `dist/*.wasm` and `dist/*.js`, each compressed with gzip -9.
pub fn p5(dist: &Path) -> Result<u64, String> {
    let entries = std::fs::read_dir(dist).map_err(|e| format!("read {}: {e}", dist.display()))?;
    let mut total = 0u64;
    let mut files = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let shipped = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wasm" | "js")
        );
        if !shipped {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).map_err(|e| format!("gzip: {e}"))?;
        total += gz.finish().map_err(|e| format!("gzip: {e}"))?.len() as u64;
        files += 1;
    }
    if files == 0 {
        return Err(format!("no .wasm or .js in {}", dist.display()));
    }
    Ok(total)
}

pub struct Browser {
    pub chromium: String,
    pub chromedriver: String,
}

/// The page's work per frame over one stretch of time.
#[derive(Clone, Debug)]
pub struct Frames {
    /// p95 of the page's work per frame (input handlers, server messages, rendering).
    pub work_p95_ms: f64,
    /// p95 of the time between frames, which headless Chromium paces at about 16.7 ms.
    pub interval_p95_ms: f64,
    pub frames: usize,
}

/// P6 on one board size.
#[derive(Clone, Debug)]
pub struct BoardFrames {
    pub notes: usize,
    /// From navigation start to the first notes painted (`hindsight:first-note`): the
    /// median of [`FIRST_PAINT_RUNS`] fresh browsers.
    pub first_note_ms: f64,
    /// This page drags a note 720 px.
    pub drag: Frames,
    /// Someone else drags a note across this page.
    pub watch: Frames,
}

/// P6 typing into one long note.
#[derive(Clone, Debug)]
pub struct Typing {
    pub chars: usize,
    pub first_note_ms: f64,
    /// The page's work per frame while 40 characters are typed, 50 ms apart.
    pub keys: Frames,
}

/// Everything P6 measured; each part may have failed on its own.
#[derive(Clone, Debug)]
pub struct P6 {
    pub boards: Vec<Result<BoardFrames, String>>,
    pub typing: Result<Typing, String>,
}

impl P6 {
    /// The figures for the board of `notes` notes, if it was measured.
    pub fn board(&self, notes: usize) -> Option<Result<&BoardFrames, String>> {
        self.boards.iter().find_map(|b| match b {
            Ok(b) if b.notes == notes => Some(Ok(b)),
            Err(e) if e.starts_with(&format!("{notes} notes:")) => Some(Err(e.clone())),
            _ => None,
        })
    }
}

/// How many fresh browsers open each board for its time to the first painted note.
pub const FIRST_PAINT_RUNS: usize = 3;

/// The length of the long note P6 types into: the most a note holds.
pub const LONG_NOTE_CHARS: usize = 4000;

/// P6 on boards of each size in `sizes`, then typing into a long note.
pub async fn p6(setup: &Setup, browser: &Browser, sizes: &[usize]) -> Result<P6, String> {
    let driver = Driver::with_tools(
        Path::new(&browser.chromedriver),
        Path::new(&browser.chromium),
    )
    .await;
    let mut boards = Vec::new();
    for &notes in sizes {
        eprintln!("  P6: a board of {notes} notes");
        let mut server = Server::start(Kind::Hindsight, setup).await?;
        let measured = board_frames(&mut server, &driver, notes).await;
        if let Err(e) = &measured {
            eprintln!("  P6: {notes} notes failed: {e}");
        }
        server.stop().await;
        boards.push(measured.map_err(|e| format!("{notes} notes: {e}")));
    }
    eprintln!("  P6: typing into a {LONG_NOTE_CHARS}-character note");
    let mut server = Server::start(Kind::Hindsight, setup).await?;
    let typing = typing(&mut server, &driver).await;
    server.stop().await;
    Ok(P6 { boards, typing })
}

/// A board of `notes` seeded notes, and the Rust peer that seeded it (it holds the same
/// document, so it can go on to move one of them).
struct Seeded {
    page: String,
    peer: yrs::Doc,
    sink: Sink,
    /// The room's connection, kept open so the peer stays a participant.
    _stream: wire::Stream,
}

async fn seed(server: &mut Server, notes: usize) -> Result<Seeded, String> {
    let board = crate::peers::create_board(server.addr).await?;
    let room = server.room_of(&board);
    let (mut sink, mut stream) = room.connect().await?;
    wire::wait_step2(&room, &mut sink, &mut stream).await?;
    let peer = new_doc(Some(8_000_000));
    for message in updates::seed_into(&peer, notes, 100) {
        sink.send(WsMessage::Binary(message.into()))
            .await
            .map_err(|e| format!("seed: {e}"))?;
    }
    Ok(Seeded {
        page: format!("{}&debug=timing", board.page(server.addr)),
        peer,
        sink,
        _stream: stream,
    })
}

async fn board_frames(
    server: &mut Server,
    driver: &Driver,
    notes: usize,
) -> Result<BoardFrames, String> {
    let mut seeded = seed(server, notes).await?;
    eprintln!("  P6: seeded; opening the page");
    let first_note_ms = first_paint(driver, &seeded.page, notes).await?;
    let session = driver.session().await;
    let client = &session.client;
    let result = async {
        open(client, &seeded.page, notes).await?;
        let drag = drag(client).await?;
        let watch = watch(client, &mut seeded).await?;
        Ok(BoardFrames {
            notes,
            first_note_ms,
            drag,
            watch,
        })
    }
    .await;
    let _ = session.close().await;
    result
}

async fn js(client: &Client, script: &str, args: Vec<Value>) -> Result<Value, String> {
    client
        .execute(script, args)
        .await
        .map_err(|e| format!("script failed: {e}"))
}

async fn wait_js(client: &Client, what: &str, script: &str) -> Result<Value, String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = js(client, script, vec![]).await?;
        if !v.is_null() && v != Value::Bool(false) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The median time from navigation start to the first painted note over
/// [`FIRST_PAINT_RUNS`] browsers, each with a fresh profile (nothing cached, as for a
/// first visit) and given a moment after starting before it opens the page: a browser's
/// own start-up work is not the page's.
async fn first_paint(driver: &Driver, page: &str, notes: usize) -> Result<f64, String> {
    let mut times = Vec::new();
    for _ in 0..FIRST_PAINT_RUNS {
        let session = driver.session().await;
        let client = &session.client;
        let opened = async {
            client
                .goto("about:blank")
                .await
                .map_err(|e| format!("open about:blank: {e}"))?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            open(client, page, notes).await
        }
        .await;
        let _ = session.close().await;
        times.push(opened?);
    }
    times.sort_by(f64::total_cmp);
    let each: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
    eprintln!("  P6: first painted note after {} ms", each.join(", "));
    Ok(times[times.len() / 2])
}

/// Opens the board page, joins, waits for all `notes`, and returns the time from
/// navigation start to the first painted note.
async fn open(client: &Client, page: &str, notes: usize) -> Result<f64, String> {
    client
        .goto(page)
        .await
        .map_err(|e| format!("open {page}: {e}"))?;
    let first = wait_js(
        client,
        "the first notes to be painted",
        "return performance.getEntriesByName('hindsight:first-note')[0]?.startTime ?? null;",
    )
    .await?;
    let name = wait_js(
        client,
        "the name prompt",
        "return document.querySelector('#name-input');",
    )
    .await;
    if name.is_ok() {
        js(
            client,
            "const i = document.querySelector('#name-input');
             i.value = 'bench'; i.dispatchEvent(new Event('input', {bubbles: true}));
             document.querySelector('#name-submit').click(); return true;",
            vec![],
        )
        .await?;
    }
    // Every note in the page's document (only those near the view are in the page).
    let all = wait_js(
        client,
        "every note on the page",
        &format!("return Number(document.querySelector('.world')?.dataset.notes) >= {notes};"),
    )
    .await;
    if let Err(e) = all {
        let seen = js(
            client,
            "return document.querySelector('.world')?.dataset.notes ?? 'no board';",
            vec![],
        )
        .await?;
        return Err(format!("{e} (the page holds {seen} of {notes})"));
    }
    // Let the first layout settle before recording.
    tokio::time::sleep(Duration::from_secs(1)).await;
    first
        .as_f64()
        .ok_or_else(|| format!("first-note mark is not a number: {first}"))
}

/// Starts recording the page's work per frame (see the module's comment).
const RECORD: &str = "const w = window;
     w.__work = []; w.__intervals = []; w.__recording = true;
     let input = 0, inputStart = 0, t0 = 0, last = 0, busy = w.__hindsightBusy ?? 0;
     for (const type of ['pointermove', 'keydown', 'keyup', 'input']) {
         addEventListener(type, () => { inputStart = performance.now(); }, true);
         addEventListener(type, () => { input += performance.now() - inputStart; }, false);
     }
     const channel = new MessageChannel();
     channel.port1.onmessage = () => {
         const now = w.__hindsightBusy ?? 0;
         w.__work.push(input + (now - busy) + performance.now() - t0);
         input = 0; busy = now;
     };
     const tick = (t) => {
         if (!w.__recording) return;
         if (last) w.__intervals.push(t - last);
         last = t;
         t0 = performance.now();
         channel.port2.postMessage(0);
         requestAnimationFrame(tick);
     };
     requestAnimationFrame(tick);
     return true;";

/// Stops recording and returns what was recorded, without the first frame (which began
/// before recording did).
async fn recorded(client: &Client) -> Result<Frames, String> {
    let recorded = js(
        client,
        "window.__recording = false;
         return [window.__work.slice(1), window.__intervals.slice(1)];",
        vec![],
    )
    .await?;
    let series = |i: usize| -> Vec<f64> {
        recorded[i]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let (work, intervals) = (series(0), series(1));
    if work.len() < 10 {
        return Err(format!("only {} frames recorded", work.len()));
    }
    Ok(Frames {
        work_p95_ms: p95(work.clone()),
        interval_p95_ms: p95(intervals),
        frames: work.len(),
    })
}

/// A note to grab: on the left of the middle row of regions (Detect to Other Areas of
/// Risk, which a drag to the right crosses without reaching the timeline or Next Steps),
/// and on top at its centre. The page lists where it draws every note, on its overview's
/// canvas or as an element (`window.__hindsightNoteRects`, under `debug=`), bottom
/// first; returns `[id, x, y]`, the centre in the viewport.
const FREE_NOTE: &str = "const row = [...document.querySelectorAll('.region')]
         .map(r => r.getBoundingClientRect())
         .filter(r => r.top > 200 && r.top < 400);
     const top = Math.min(...row.map(r => r.top)), bottom = Math.max(...row.map(r => r.bottom));
     const notes = window.__hindsightNoteRects();
     const inside = (n, x, y) => x >= n.left && x < n.left + n.width && y >= n.top && y < n.top + n.height;
     for (const [i, n] of notes.entries()) {
         const x = n.left + n.width / 2, y = n.top + n.height / 2;
         if (x < 50 || x > 500 || y < top + 60 || y > bottom - 60) continue;
         if (notes.slice(i + 1).some(m => inside(m, x, y))) continue;
         // Nothing of the page's own (a panel, a menu) over it either.
         const at = document.elementFromPoint(x, y);
         if (!at || !(at.closest('.note') || at.closest('.viewport'))) continue;
         return [n.id, x, y];
     }
     return null;";

/// The stored x of note `id` as the page draws it (it is an element once grabbed).
const NOTE_X: &str =
    "return Number(window.__hindsightNoteRects().find(n => n.id === arguments[0])?.x);";

/// This page drags a free note 720 px to the right, in 60 steps of 16 ms.
async fn drag(client: &Client) -> Result<Frames, String> {
    let free = wait_js(client, "a note to drag", FREE_NOTE).await?;
    let (Some(id), Some(cx), Some(cy)) = (free[0].as_str(), free[1].as_f64(), free[2].as_f64())
    else {
        return Err(format!("a note to drag: {free}"));
    };
    let x = |client: &Client| {
        let client = client.clone();
        async move {
            js(&client, NOTE_X, vec![json!(id)])
                .await
                .map(|v| v.as_f64().unwrap_or(f64::NAN))
        }
    };
    let start = x(client).await?;
    js(client, RECORD, vec![]).await?;
    client
        .perform_actions(drag_actions_at(
            (cx, cy),
            (720.0, 0.0),
            60,
            Duration::from_millis(16),
        ))
        .await
        .map_err(|e| format!("drag: {e}"))?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let frames = recorded(client).await?;
    let moved = x(client).await? - start;
    if moved.is_nan() || moved.abs() <= 100.0 {
        let state = js(
            client,
            "const n = document.querySelector(`.note[data-note-id=\"${arguments[0]}\"]`);
             return [n?.className ?? 'not an element', document.querySelector('#connection')?.dataset.state,
                     document.querySelector('.board-page').className];",
            vec![json!(id)],
        )
        .await?;
        return Err(format!(
            "the drag did not move note {id} (moved {moved} px; the note: {state})"
        ));
    }
    Ok(frames)
}

/// The Rust peer moves a note across the board as a dragging person's page does: its
/// presence says it edits the note, and it writes the note's position every 40 ms.
async fn watch(client: &Client, seeded: &mut Seeded) -> Result<Frames, String> {
    let board = Board::new(&seeded.peer);
    // A note below the timeline on the left, so that its path stays clear of the
    // timeline (whose notes are laid out, not placed) and on the board.
    let (id, x0, y0) = {
        let txn = seeded.peer.transact();
        board
            .notes(&txn)
            .into_iter()
            .find(|n| n.x < 500.0 && n.y > 620.0 && n.y < 1000.0)
            .map(|n| (n.id, n.x, n.y))
            .ok_or("no seeded note to move")?
    };
    let mut awareness = Awareness::new(new_doc(Some(seeded.peer.client_id().get())));
    awareness
        .set_local_state(&Presence {
            user: PresenceUser {
                name: "Peer".into(),
                color: "#2563eb".into(),
            },
            cursor: Some(Point { x: x0, y: y0 }),
            editing: Some(id.to_string()),
            moving: Some(id.to_string()),
        })
        .map_err(|e| format!("presence: {e}"))?;
    let presence = awareness.update().map_err(|e| format!("presence: {e}"))?;
    seeded
        .sink
        .send(WsMessage::Binary(
            Message::Awareness(presence).encode_v1().into(),
        ))
        .await
        .map_err(|e| format!("send presence: {e}"))?;
    js(client, RECORD, vec![]).await?;
    for step in 1..=60 {
        let update = {
            let mut txn = seeded.peer.transact_mut();
            let (x, y) = (x0 + f64::from(step) * 40.0, y0 + f64::from(step) * 13.0);
            board.move_note(&mut txn, &id, x, y);
            txn.encode_update_v1()
        };
        seeded
            .sink
            .send(WsMessage::Binary(wire::update_message(update).into()))
            .await
            .map_err(|e| format!("send a move: {e}"))?;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frames = recorded(client).await?;
    let shown = js(
        client,
        "return Number(document.querySelector(`.note[data-note-id=\"${arguments[0]}\"]`)?.dataset.x);",
        vec![json!(id.to_string())],
    )
    .await?;
    // The page draws the note where its region is drawn: regions grow to their notes,
    // except the one the peer is still dragging (its presence says so).
    let expected = {
        let txn = seeded.peer.transact();
        let (moved, others): (Vec<_>, Vec<_>) =
            board.notes(&txn).into_iter().partition(|n| n.id == id);
        let (layout, _) = BoardLayout::of_notes(&board.template(&txn), &others);
        let note = moved.first().ok_or("the moved note")?;
        layout.to_drawn(note.region.as_deref(), note.x, note.y).0
    };
    if shown.as_f64().is_none_or(|x| (x - expected).abs() > 1.0) {
        return Err(format!(
            "the page did not follow the peer's drag (x {shown}, not {expected})"
        ));
    }
    Ok(frames)
}

/// Opens a board with one long note and types 40 characters into it, 50 ms apart.
async fn typing(server: &mut Server, driver: &Driver) -> Result<Typing, String> {
    let board = crate::peers::create_board(server.addr).await?;
    let room = server.room_of(&board);
    let (mut sink, mut stream) = room.connect().await?;
    wire::wait_step2(&room, &mut sink, &mut stream).await?;
    let peer = new_doc(Some(8_100_000));
    let id: NoteId = "longnote".parse().expect("note id");
    let text: String = "Pager fired for checkout p99 latency; "
        .chars()
        .cycle()
        .take(LONG_NOTE_CHARS - 40)
        .collect();
    // Looking up the root types takes a transaction of its own, so before this one.
    let peer_board = Board::new(&peer);
    let update = {
        let mut txn = peer.transact_mut();
        // In Detect, where the page can grab it.
        peer_board.add_note(&mut txn, &id, NewNote::at(60.0, 700.0, text.clone()));
        txn.encode_update_v1()
    };
    sink.send(WsMessage::Binary(wire::update_message(update).into()))
        .await
        .map_err(|e| format!("seed the long note: {e}"))?;
    let page = format!("{}&debug=timing", board.page(server.addr));
    let first_note_ms = first_paint(driver, &page, 1).await?;
    let session = driver.session().await;
    let client = &session.client;
    let result = async {
        open(client, &page, 1).await?;
        js(
            client,
            "document.querySelector('.note[data-note-id=\"longnote\"] .note-text').focus();
             return true;",
            vec![],
        )
        .await?;
        wait_js(
            client,
            "the long note's text field",
            "const t = document.activeElement;
             if (!t || t.tagName !== 'TEXTAREA') return null;
             t.setSelectionRange(t.value.length, t.value.length);
             return true;",
        )
        .await?;
        js(client, RECORD, vec![]).await?;
        let mut keys = KeyActions::new("keyboard".into());
        for c in " and then the fix went out at 14:55 UTC.".chars() {
            keys = keys
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c })
                .then(KeyAction::Pause {
                    duration: Duration::from_millis(50),
                });
        }
        client
            .perform_actions(keys)
            .await
            .map_err(|e| format!("type: {e}"))?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let keys = recorded(client).await?;
        let length = js(
            client,
            "return document.activeElement.value.length;",
            vec![],
        )
        .await?;
        if length.as_u64() != Some(LONG_NOTE_CHARS as u64) {
            return Err(format!("the typing did not arrive (length {length})"));
        }
        Ok(Typing {
            chars: LONG_NOTE_CHARS,
            first_note_ms,
            keys,
        })
    }
    .await;
    let _ = session.close().await;
    drop((sink, stream));
    result
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = ((0.95 * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    v.get(rank - 1).copied().unwrap_or(f64::NAN)
}
