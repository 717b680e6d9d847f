//! The one table a run prints: each figure for each server, its ratio to Hindsight's,
//! the target and whether Hindsight meets it. Reports; asserts nothing.

use crate::peers::Kind;
use crate::scenarios::{FanOut, Memory, Sustained};

/// What one server produced; `None` where a scenario does not apply to it.
pub struct Results {
    pub kind: Kind,
    /// Why the server could not be run at all.
    pub unavailable: Option<String>,
    pub p1: Option<Result<FanOut, String>>,
    pub p2_one: Option<Result<Sustained, String>>,
    pub p2_many: Option<Result<Sustained, String>>,
    pub p3: Option<Result<Memory, String>>,
    pub p4: Option<Result<f64, String>>,
    pub p5: Option<Result<u64, String>>,
    pub p6: Option<Result<crate::client::P6, String>>,
}

impl Results {
    pub fn new(kind: Kind) -> Results {
        Results {
            kind,
            unavailable: None,
            p1: None,
            p2_one: None,
            p2_many: None,
            p3: None,
            p4: None,
            p5: None,
            p6: None,
        }
    }
}

/// A figure: absent (does not apply), failed, or a number.
type Cell = Option<Result<f64, String>>;

fn cell<T>(r: &Option<Result<T, String>>, f: impl Fn(&T) -> Option<f64>) -> Cell {
    match r {
        None => None,
        Some(Err(e)) => Some(Err(e.clone())),
        Some(Ok(v)) => f(v).map(Ok),
    }
}

/// Whether Hindsight's figure `h` meets the target, given every server's figures.
type Check = fn(h: f64, all: &[(Kind, f64)]) -> Option<bool>;

struct Row {
    figure: &'static str,
    unit: &'static str,
    target: &'static str,
    get: fn(&Results) -> Cell,
    check: Option<Check>,
    /// Whose figure the target is for (ratios are always to Hindsight's).
    subject: Kind,
}

/// Hindsight's figure is at most `share` of each Node peer's.
fn within_node_share(h: f64, all: &[(Kind, f64)], share: f64) -> Option<bool> {
    let nodes: Vec<f64> = all
        .iter()
        .filter(|(k, _)| k.is_node())
        .map(|(_, v)| *v)
        .collect();
    (!nodes.is_empty()).then(|| nodes.iter().all(|n| h <= n * share))
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            figure: "P1 fan-out p50",
            unit: "ms",
            target: "",
            get: |r| cell(&r.p1, |f| Some(f.p50_ms)),
            check: None,
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P1 fan-out p99",
            unit: "ms",
            target: "≤ 1/3 of each Node peer",
            get: |r| cell(&r.p1, |f| Some(f.p99_ms)),
            check: Some(|h, all| within_node_share(h, all, 1.0 / 3.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P1 fan-out p999",
            unit: "ms",
            target: "",
            get: |r| cell(&r.p1, |f| Some(f.p999_ms)),
            check: None,
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P1 cross-node fan-out p99",
            unit: "ms",
            target: "< 10 ms (×2 on PostgreSQL)",
            get: |r| cell(&r.p1, |f| f.cross_node_p99_ms),
            check: Some(|h, _| Some(h < 10.0)),
            subject: Kind::HindsightPostgresPair,
        },
        Row {
            figure: "P1 server CPU per relayed update",
            unit: "µs",
            target: "≤ 1/3 of each Node peer",
            get: |r| cell(&r.p1, |f| Some(f.cpu_us_per_update)),
            check: Some(|h, all| within_node_share(h, all, 1.0 / 3.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P2 sustained, 1 board",
            unit: "upd/s",
            target: "≥ 3× Hocuspocus",
            get: |r| cell(&r.p2_one, |s| Some(s.rate)),
            check: Some(at_least_3x_hocuspocus),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P2 sustained, 100 boards",
            unit: "upd/s",
            target: "≥ 3× Hocuspocus",
            get: |r| cell(&r.p2_many, |s| Some(s.rate)),
            check: Some(at_least_3x_hocuspocus),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P3 RSS per idle connection",
            unit: "KiB",
            target: "≤ 1/5 of each Node peer",
            get: |r| cell(&r.p3, |m| Some(m.per_connection_kib)),
            check: Some(|h, all| within_node_share(h, all, 0.2)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P3 RSS per idle board",
            unit: "KiB",
            target: "≤ 1/5 of each Node peer",
            get: |r| cell(&r.p3, |m| Some(m.per_board_kib)),
            check: Some(|h, all| within_node_share(h, all, 0.2)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P3 RSS of the big board",
            unit: "MiB",
            target: "≤ 1/5 of each Node peer",
            get: |r| cell(&r.p3, |m| m.big_board_mib),
            check: Some(|h, all| within_node_share(h, all, 0.2)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P4 cold open, big board",
            unit: "ms",
            target: "< 50 ms",
            get: |r| cell(&r.p4, |t| Some(*t)),
            check: Some(|h, _| Some(h < 50.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P5 client wasm+js gzip",
            unit: "KB",
            target: "< 400 KB",
            get: |r| cell(&r.p5, |b| Some(*b as f64 / 1000.0)),
            check: Some(|h, _| Some(h < 400.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P6 drag, work per frame p95, 2,000 notes",
            unit: "ms",
            target: "≤ 8 ms",
            get: |r| p6_board(r, 2000, |b| b.drag.work_p95_ms),
            check: Some(|h, _| Some(h <= 8.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P6 drag, work per frame p95, 5,000 notes",
            unit: "ms",
            target: "≤ 16 ms",
            get: |r| p6_board(r, 5000, |b| b.drag.work_p95_ms),
            check: Some(|h, _| Some(h <= 16.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P6 watching a drag, work per frame p95, 2,000 notes",
            unit: "ms",
            target: "≤ 8 ms",
            get: |r| p6_board(r, 2000, |b| b.watch.work_p95_ms),
            check: Some(|h, _| Some(h <= 8.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P6 watching a drag, work per frame p95, 5,000 notes",
            unit: "ms",
            target: "≤ 16 ms",
            get: |r| p6_board(r, 5000, |b| b.watch.work_p95_ms),
            check: Some(|h, _| Some(h <= 16.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P6 open to first painted note, 5,000 notes",
            unit: "ms",
            target: "< 1500 ms",
            get: |r| p6_board(r, 5000, |b| b.first_note_ms),
            check: Some(|h, _| Some(h < 1500.0)),
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P6 typing in a 4,000-character note, work per frame p95",
            unit: "ms",
            target: "",
            get: |r| p6_typing(r, |t| t.keys.work_p95_ms),
            check: None,
            subject: Kind::Hindsight,
        },
        Row {
            figure: "P6 open to first painted note, one 4,000-character note",
            unit: "ms",
            target: "",
            get: |r| p6_typing(r, |t| t.first_note_ms),
            check: None,
            subject: Kind::Hindsight,
        },
    ]
}

/// A P6 figure of the board of `notes` notes.
fn p6_board(r: &Results, notes: usize, f: fn(&crate::client::BoardFrames) -> f64) -> Cell {
    match &r.p6 {
        None => None,
        Some(Err(e)) => Some(Err(e.clone())),
        Some(Ok(p6)) => p6.board(notes).map(|b| b.map(f)),
    }
}

/// A P6 figure of the typing run.
fn p6_typing(r: &Results, f: fn(&crate::client::Typing) -> f64) -> Cell {
    match &r.p6 {
        None => None,
        Some(Err(e)) => Some(Err(e.clone())),
        Some(Ok(p6)) => Some(p6.typing.as_ref().map(f).map_err(Clone::clone)),
    }
}

fn at_least_3x_hocuspocus(h: f64, all: &[(Kind, f64)]) -> Option<bool> {
    all.iter()
        .find(|(k, _)| *k == Kind::Hocuspocus)
        .map(|(_, hp)| h >= 3.0 * hp)
}

fn number(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The table in Markdown, then numbered notes for failures and unavailable servers.
pub fn table(results: &[Results], heading: &str) -> String {
    let mut notes: Vec<String> = Vec::new();
    let mut note = |text: String| -> String {
        let n = match notes.iter().position(|t| *t == text) {
            Some(i) => i + 1,
            None => {
                notes.push(text);
                notes.len()
            }
        };
        format!("[{n}]")
    };
    let hindsight = results.iter().find(|r| r.kind == Kind::Hindsight);
    let mut out = format!("{heading}\n\n| figure | unit |");
    for r in results {
        out.push_str(&format!(" {} |", r.kind.name()));
    }
    out.push_str(" target | met |\n|---|---|");
    for _ in results {
        out.push_str("---:|");
    }
    out.push_str("---|---|\n");
    for row in rows() {
        let h = hindsight.and_then(|r| (row.get)(r)).and_then(Result::ok);
        let subject = results
            .iter()
            .find(|r| r.kind == row.subject)
            .and_then(|r| (row.get)(r))
            .and_then(Result::ok);
        out.push_str(&format!("| {} | {} |", row.figure, row.unit));
        let mut all = Vec::new();
        for r in results {
            let text = if let Some(why) = &r.unavailable {
                format!("unavailable {}", note(format!("{}: {why}", r.kind.name())))
            } else {
                match (row.get)(r) {
                    None => "—".into(),
                    Some(Err(e)) => format!("error {}", note(format!("{}: {e}", r.kind.name()))),
                    Some(Ok(v)) => {
                        all.push((r.kind, v));
                        match h {
                            Some(h) if r.kind != Kind::Hindsight && h != 0.0 => {
                                format!("{} ({}×)", number(v), number(v / h))
                            }
                            _ => number(v),
                        }
                    }
                }
            };
            out.push_str(&format!(" {text} |"));
        }
        let met = match (row.check, subject) {
            (None, _) => "",
            (Some(_), None) => "?",
            (Some(check), Some(h)) => match check(h, &all) {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "?",
            },
        };
        out.push_str(&format!(" {} | {met} |\n", row.target));
    }
    out.push_str("\n(×) = that server's figure divided by Hindsight's.\n");
    for (i, text) in notes.iter().enumerate() {
        out.push_str(&format!("\n[{}] {}", i + 1, text.replace('\n', " ")));
    }
    out.push('\n');
    out
}

/// What P1 delivered and why each P2 ramp stopped, one line each per server.
pub fn details(results: &[Results]) -> String {
    let mut out = String::new();
    for r in results {
        if let Some(Ok(f)) = &r.p1 {
            out.push_str(&format!(
                "P1 {}: {:.2}% of the fan-out delivered\n",
                r.kind.name(),
                f.delivered * 100.0
            ));
            if let Some(db) = f.database_cpu_us_per_update {
                out.push_str(&format!(
                    "P1 {}: PostgreSQL's own processes used {db:.0} µs of CPU per relayed \
                     update besides\n",
                    r.kind.name(),
                ));
            }
        }
    }
    for r in results {
        if let Some(Ok(p6)) = &r.p6 {
            for b in p6.boards.iter().flatten() {
                for (what, f) in [("drag", &b.drag), ("watching a drag", &b.watch)] {
                    out.push_str(&format!(
                        "P6 {}, {} notes, {what}: {} frames; work per frame p95 {:.1} ms; \
                         time between frames p95 {:.1} ms\n",
                        r.kind.name(),
                        b.notes,
                        f.frames,
                        f.work_p95_ms,
                        f.interval_p95_ms
                    ));
                }
                out.push_str(&format!(
                    "P6 {}, {} notes: first note painted {:.0} ms after navigation\n",
                    r.kind.name(),
                    b.notes,
                    b.first_note_ms
                ));
            }
            if let Ok(t) = &p6.typing {
                out.push_str(&format!(
                    "P6 {}, typing into a {}-character note: {} frames; work per frame p95 \
                     {:.1} ms; first note painted {:.0} ms after navigation\n",
                    r.kind.name(),
                    t.chars,
                    t.keys.frames,
                    t.keys.work_p95_ms,
                    t.first_note_ms
                ));
            }
        }
        for (what, ramp) in [("1 board", &r.p2_one), ("100 boards", &r.p2_many)] {
            if let Some(Ok(s)) = ramp {
                out.push_str(&format!(
                    "P2 {} ({what}): stopped {}\n",
                    r.kind.name(),
                    s.limit
                ));
            }
        }
    }
    out
}
