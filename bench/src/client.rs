//! The Hindsight-only figures: the release client's download size (P5) and the frame
//! time of a drag on a crowded board in headless Chromium (P6).
//!
//! Headless Chromium paces frames at about 16.7 ms whatever the page does, so P6 reports
//! the page's own work per frame (pointer handlers, then the frame's animation callbacks
//! through style, layout and paint), timed with `performance.now()`, and the time
//! between frames beside it.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::SinkExt;
use hindsight_tests::browser::{chromium_capabilities, drag_actions};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::peers::{Kind, Server, Setup};
use crate::updates;
use crate::wire;

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

/// P6: frame time p95 (ms) while one note is dragged across a board of `notes` notes.
pub async fn p6(setup: &Setup, browser: &Browser, notes: usize) -> Result<Frames, String> {
    let mut server = Server::start(Kind::Hindsight, setup).await?;
    let result = drag_frames(&mut server, browser, notes).await;
    server.stop().await;
    result
}

async fn drag_frames(
    server: &mut Server,
    browser: &Browser,
    notes: usize,
) -> Result<Frames, String> {
    let board = crate::peers::create_board(server.addr).await?;
    let room = server.room_of(&board);
    let (mut sink, mut stream) = room.connect().await?;
    wire::wait_step2(&room, &mut sink, &mut stream).await?;
    for message in updates::seed_notes(8_000_000, notes, 100) {
        sink.send(WsMessage::Binary(message.into()))
            .await
            .map_err(|e| format!("seed: {e}"))?;
    }
    let page = board.page(server.addr);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    // Killed when dropped, at the end of this function or on an error.
    let _driver = Command::new(&browser.chromedriver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start chromedriver: {e}"))?;
    let profile = tempfile::tempdir().map_err(|e| format!("profile directory: {e}"))?;
    let caps = chromium_capabilities(Path::new(&browser.chromium), profile.path());
    let started = Instant::now();
    let client = loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break client,
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                return Err(format!("WebDriver session: {e}"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let result = measure(&client, &page, notes).await;
    let _ = client.close().await;
    drop(sink);
    result
}

async fn js(client: &Client, script: &str) -> Result<Value, String> {
    client
        .execute(script, vec![])
        .await
        .map_err(|e| format!("script failed: {e}"))
}

async fn wait_js(client: &Client, what: &str, script: &str) -> Result<Value, String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = js(client, script).await?;
        if !v.is_null() && v != Value::Bool(false) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn measure(client: &Client, page: &str, notes: usize) -> Result<Frames, String> {
    client
        .goto(page)
        .await
        .map_err(|e| format!("open {page}: {e}"))?;
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
        )
        .await?;
    }
    wait_js(
        client,
        "every note on the page",
        &format!("return document.querySelectorAll('.note').length >= {notes};"),
    )
    .await?;
    // Let the first layout settle before recording.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // A note whose grip is not under another note, in view, so the drag takes it.
    wait_js(
        client,
        "a note to drag",
        "const free = [...document.querySelectorAll('.note')].find(n => {
             const bar = n.querySelector('.note-bar');
             if (!bar) return false;
             const r = bar.getBoundingClientRect();
             const x = r.left + r.width / 2, y = r.top + r.height / 2;
             if (x < 50 || y < 100 || x > 500 || y > 600) return false;
             return document.elementFromPoint(x, y)?.closest('.note') === n;
         });
         if (!free) return null;
         free.id = 'bench-dragged';
         return true;",
    )
    .await?;
    let grip = client
        .find(Locator::Css("#bench-dragged .note-bar"))
        .await
        .map_err(|e| format!("find the note to drag: {e}"))?;
    let start = js(
        client,
        "return Number(document.querySelector('#bench-dragged').dataset.x);",
    )
    .await?;
    // Per frame: the pointer handlers' time since the last frame plus the time from
    // the frame's first animation callback to the end of its rendering (a message
    // posted from requestAnimationFrame runs after style, layout and paint).
    js(
        client,
        "const w = window;
         w.__work = []; w.__intervals = []; w.__recording = true;
         let input = 0, inputStart = 0, t0 = 0, last = 0;
         addEventListener('pointermove', () => { inputStart = performance.now(); }, true);
         addEventListener('pointermove', () => { input += performance.now() - inputStart; }, false);
         const channel = new MessageChannel();
         channel.port1.onmessage = () => { w.__work.push(input + performance.now() - t0); input = 0; };
         const tick = (t) => {
             if (!w.__recording) return;
             if (last) w.__intervals.push(t - last);
             last = t;
             t0 = performance.now();
             channel.port2.postMessage(0);
             requestAnimationFrame(tick);
         };
         requestAnimationFrame(tick);
         return true;",
    )
    .await?;
    // 60 moves of (12, 4) px, one per frame.
    let mouse = drag_actions(
        grip,
        (0.0, 0.0),
        (720.0, 240.0),
        60,
        Duration::from_millis(16),
    );
    client
        .perform_actions(mouse)
        .await
        .map_err(|e| format!("drag: {e}"))?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let recorded = js(
        client,
        "window.__recording = false;
         return [window.__work.slice(1), window.__intervals.slice(1),
                 Number(document.querySelector('#bench-dragged').dataset.x)];",
    )
    .await?;
    let series = |i: usize| -> Vec<f64> {
        recorded[i]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let (work, intervals) = (series(0), series(1));
    let moved = recorded[2].as_f64().unwrap_or(f64::NAN) - start.as_f64().unwrap_or(f64::NAN);
    if moved.is_nan() || moved.abs() <= 100.0 {
        return Err(format!("the drag did not move the note (moved {moved} px)"));
    }
    if work.len() < 10 {
        return Err(format!("only {} frames recorded", work.len()));
    }
    Ok(Frames {
        notes,
        work_p95_ms: p95(work.clone()),
        interval_p95_ms: p95(intervals),
        frames: work.len(),
    })
}

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = ((0.95 * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    v.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// What P6 measured.
#[derive(Clone, Debug)]
pub struct Frames {
    /// Notes on the board.
    pub notes: usize,
    /// The page's work per frame (pointer handlers, animation callbacks, rendering).
    pub work_p95_ms: f64,
    /// Time between frames, which headless Chromium paces at about 16.7 ms.
    pub interval_p95_ms: f64,
    pub frames: usize,
}
