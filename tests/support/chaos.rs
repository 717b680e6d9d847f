//! Random kills: the real binary is killed with SIGKILL at random moments while clients
//! write, and restarted on the same directory; every note another client saw, or whose
//! save its writer was told of, must be there afterwards. Compaction runs after every
//! update (`--compact-every 1` by default), so kills land inside it too.
//!
//! Shared by `tests/tests/it/crash.rs` (a few cycles) and the `crash` binary (`cargo
//! xtask crash --cycles N`, many). The randomness is a seeded generator; the seed is
//! printed so a failure can be replayed.

use std::collections::BTreeSet;
use std::path::Path;

use hindsight_shared::{NewNote, NoteColor, NoteId};

use crate::binary::{spawn, Spawned};
use crate::YClient;

/// What a run did, for the caller to print.
#[derive(Debug, Default)]
pub struct Report {
    pub seed: u64,
    pub cycles: usize,
    /// Notes written, over all cycles.
    pub written: usize,
    /// Notes that had to survive (seen by the watcher or acknowledged), over all cycles.
    pub required: usize,
    /// Of those, how many were acknowledged to a writer rather than only seen.
    pub acknowledged: usize,
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cycles: usize,
    pub seed: u64,
    pub compact_every: u64,
    /// Most notes each writer sends per cycle before the kill.
    pub max_notes: usize,
}

impl Plan {
    pub fn new(cycles: usize, seed: u64) -> Plan {
        Plan {
            cycles,
            seed,
            compact_every: 1,
            max_notes: 40,
        }
    }
}

/// A seed from the clock, for runs that should differ.
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// Runs the plan in a fresh temporary directory; panics, naming the seed, when a note
/// that had to survive is missing.
pub async fn run(plan: &Plan) -> Report {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rng = SplitMix(plan.seed);
    let mut report = Report {
        seed: plan.seed,
        ..Report::default()
    };
    let mut required = BTreeSet::new();
    let mut board = None;
    for cycle in 0..plan.cycles {
        let mut server = start(dir.path(), plan.compact_every).await;
        let board = board
            .get_or_insert(crate::create_board(server.addr).await)
            .clone();
        let ws = format!("ws://{}/ws", server.addr);

        // What previous cycles promised must have survived their kill.
        let check = YClient::connect(&ws, &board).await;
        let present: BTreeSet<NoteId> = check.notes().into_iter().map(|n| n.id).collect();
        let missing: Vec<_> = required.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "seed {}: cycle {cycle}: lost {} of {} notes: {missing:?}",
            plan.seed,
            missing.len(),
            required.len()
        );
        drop(check);

        let writers = [
            YClient::connect(&ws, &board).await,
            YClient::connect(&ws, &board).await,
        ];
        let watcher = YClient::connect(&ws, &board).await;
        let mut bases = Vec::new();
        for w in &writers {
            w.track_saves();
            bases.push(w.sent_changes());
        }
        // Kill once the watcher has seen `target` of this cycle's notes, plus a few more
        // sent: the kill lands while writes are in flight and flushes run.
        let target = rng.below(plan.max_notes) + 1;
        let extra = rng.below(4);
        let prefix = format!("c{cycle}-");
        let seen = |w: &YClient| {
            w.notes()
                .iter()
                .filter(|n| n.id.as_str().starts_with(&prefix))
                .count()
        };
        let mut sent = vec![Vec::new(); writers.len()];
        let mut after_target = None;
        for i in 0..plan.max_notes {
            for (k, w) in writers.iter().enumerate() {
                let id: NoteId = format!("c{cycle}-w{k}-{i}").parse().unwrap();
                w.edit(|b, txn| b.add_note(txn, &id, note(i)));
                sent[k].push(id);
            }
            // Lets the readers and the server make progress between edits.
            tokio::task::yield_now().await;
            if after_target.is_none() && seen(&watcher) >= target {
                after_target = Some(i);
            }
            if after_target.is_some_and(|t| i >= t + extra) {
                break;
            }
        }
        if after_target.is_none() {
            let want = target.min(writers.len() * plan.max_notes);
            watcher
                .wait_until("the watcher reaches the kill point", |b, txn| {
                    b.note_ids(txn)
                        .iter()
                        .filter(|id| id.as_str().starts_with(&prefix))
                        .count()
                        >= want
                })
                .await;
        }
        server.child.kill().await.expect("SIGKILL the server");

        // Everything the watcher received was durable before it was sent; everything a
        // writer was told is saved is durable. Read after the kill: nothing more arrives.
        let _ = server.child.wait().await;
        let mut promised: BTreeSet<NoteId> = watcher.notes().into_iter().map(|n| n.id).collect();
        for ((w, base), ids) in writers.iter().zip(&bases).zip(&sent) {
            let acknowledged = w.saved().saturating_sub(*base) as usize;
            for id in ids.iter().take(acknowledged) {
                if promised.insert(id.clone()) {
                    report.acknowledged += 1;
                }
            }
            report.written += ids.len();
        }
        required.extend(promised);
        report.cycles += 1;
    }
    // The last kill is checked by one more start.
    let server = start(dir.path(), plan.compact_every).await;
    if let Some(board) = board {
        let check = YClient::connect(&format!("ws://{}/ws", server.addr), &board).await;
        let present: BTreeSet<NoteId> = check.notes().into_iter().map(|n| n.id).collect();
        let missing: Vec<_> = required.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "seed {}: after the last kill: lost {missing:?}",
            plan.seed
        );
    }
    report.required = required.len();
    report
}

async fn start(dir: &Path, compact_every: u64) -> Spawned {
    let data = dir.to_str().expect("UTF-8 temporary path");
    let every = compact_every.to_string();
    spawn(
        dir,
        &[
            "--data-dir",
            data,
            "--compact-every",
            &every,
            // Many cycles write many notes, and the writers are deliberately fast.
            "--max-notes",
            "1000000",
            "--messages-per-sec",
            "1000000",
            "--message-burst",
            "1000000",
        ],
    )
    .await
}

fn note(i: usize) -> NewNote {
    NewNote::at(10.0 + (i % 10) as f64 * 20.0, 10.0, format!("note {i}"))
        .color(NoteColor::Pink)
        .created_at(i as f64)
}

/// SplitMix64: small, seedable, good enough to pick kill moments.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
