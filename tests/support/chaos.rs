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
        assert_holds(&check, &required, plan.seed, &format!("cycle {cycle}"));
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
        let sent = write_to_kill_point(&writers, &watcher, cycle, plan, &mut rng).await;
        server.child.kill().await.expect("SIGKILL the server");

        // Everything the watcher received was durable before it was sent; everything a
        // writer was told is saved is durable. Read after the kill: nothing more arrives.
        let _ = server.child.wait().await;
        let promised = promised(&watcher, &writers, &bases, &sent, &mut report);
        required.extend(promised);
        report.cycles += 1;
    }
    // The last kill is checked by one more start.
    let server = start(dir.path(), plan.compact_every).await;
    if let Some(board) = board {
        let check = YClient::connect(&format!("ws://{}/ws", server.addr), &board).await;
        assert_holds(&check, &required, plan.seed, "after the last kill");
    }
    report.required = required.len();
    report
}

/// What a run on two nodes did, beyond [`Report`].
#[derive(Debug, Default)]
pub struct NodesReport {
    pub report: Report,
    /// Notes a writer had sent to the killed node unacknowledged, sent again through the
    /// survivor after failing over, and stored there.
    pub failed_over: usize,
}

/// [`run`] with two nodes on one PostgreSQL database (`database`): each cycle one of them,
/// at random, is killed while a writer on each node adds notes and a watcher on the
/// other node reads; the killed node's writer fails over to the survivor (as the page
/// reconnects, sending what it was not told is saved), and the node is started again.
/// Everything the watcher saw or a writer was told is saved must be in the database
/// afterwards, read through either node.
pub async fn run_nodes(plan: &Plan, database: &str) -> NodesReport {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rng = SplitMix(plan.seed);
    let mut out = NodesReport::default();
    out.report.seed = plan.seed;
    let mut required = BTreeSet::new();
    let mut nodes = [
        start_node(dir.path(), database, plan.compact_every).await,
        start_node(dir.path(), database, plan.compact_every).await,
    ];
    let board = crate::create_board(nodes[0].addr).await;
    let ws = |node: &Spawned| format!("ws://{}/ws", node.addr);
    for cycle in 0..plan.cycles {
        // What earlier cycles promised is there, through either node.
        let check = YClient::connect(&ws(&nodes[cycle % 2]), &board).await;
        assert_holds(&check, &required, plan.seed, &format!("cycle {cycle}"));
        drop(check);

        let victim = rng.below(2);
        let survivor = 1 - victim;
        let writers = [
            YClient::connect(&ws(&nodes[0]), &board).await,
            YClient::connect(&ws(&nodes[1]), &board).await,
        ];
        let watcher = YClient::connect(&ws(&nodes[survivor]), &board).await;
        let mut bases = Vec::new();
        for w in &writers {
            w.track_saves();
            bases.push(w.sent_changes());
        }
        let sent = write_to_kill_point(&writers, &watcher, cycle, plan, &mut rng).await;
        let killed = &mut nodes[victim];
        killed.child.kill().await.expect("SIGKILL a node");
        let _ = killed.child.wait().await;

        // Promised: what the watcher on the survivor has, and what either writer was
        // told is saved (the victim's writer hears nothing more).
        let promised = promised(&watcher, &writers, &bases, &sent, &mut out.report);
        // The victim's writer fails over: its unsaved notes go through the survivor.
        let moved = writers[victim]
            .reconnect(&ws(&nodes[survivor]), &board)
            .await;
        moved.wait_saved(moved.sent_changes()).await;
        let mine = format!("c{cycle}-w{victim}-");
        let held: BTreeSet<NoteId> = moved.notes().into_iter().map(|n| n.id).collect();
        for id in &sent[victim] {
            assert!(
                held.contains(id),
                "seed {}: cycle {cycle}: {id} did not land after failing over",
                plan.seed
            );
        }
        out.failed_over += sent[victim]
            .iter()
            .filter(|id| id.as_str().starts_with(&mine) && !promised.contains(*id))
            .count();
        required.extend(promised);
        required.extend(sent[victim].iter().cloned());
        drop((writers, watcher, moved));
        nodes[victim] = start_node(dir.path(), database, plan.compact_every).await;
        out.report.cycles += 1;
    }
    for node in &nodes {
        let check = YClient::connect(&ws(node), &board).await;
        assert_holds(&check, &required, plan.seed, "after the last kill");
    }
    out.report.required = required.len();
    out
}

/// The writers add notes `c{cycle}-w{k}-{i}` in turn until the watcher has seen a random
/// number of this cycle's notes and a few more were sent: the kill point, so that the kill
/// lands while writes are in flight and flushes run. Returns what each writer sent.
async fn write_to_kill_point(
    writers: &[YClient],
    watcher: &YClient,
    cycle: usize,
    plan: &Plan,
    rng: &mut SplitMix,
) -> Vec<Vec<NoteId>> {
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
        if after_target.is_none() && seen(watcher) >= target {
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
    sent
}

/// What must survive a kill, read after it (nothing more arrives): everything the watcher
/// received, which was durable before it was sent, and everything a writer was told is
/// saved. Counts the writes and the notes only acknowledged into `report`.
fn promised(
    watcher: &YClient,
    writers: &[YClient],
    bases: &[u64],
    sent: &[Vec<NoteId>],
    report: &mut Report,
) -> BTreeSet<NoteId> {
    let mut promised: BTreeSet<NoteId> = watcher.notes().into_iter().map(|n| n.id).collect();
    for ((w, base), ids) in writers.iter().zip(bases).zip(sent) {
        let acknowledged = w.saved().saturating_sub(*base) as usize;
        for id in ids.iter().take(acknowledged) {
            if promised.insert(id.clone()) {
                report.acknowledged += 1;
            }
        }
        report.written += ids.len();
    }
    promised
}

fn assert_holds(client: &YClient, required: &BTreeSet<NoteId>, seed: u64, when: &str) {
    let present: BTreeSet<NoteId> = client.notes().into_iter().map(|n| n.id).collect();
    let missing: Vec<_> = required.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "seed {seed}: {when}: lost {} of {} notes: {missing:?}",
        missing.len(),
        required.len()
    );
}

/// A node on the database `database`.
async fn start_node(dir: &Path, database: &str, compact_every: u64) -> Spawned {
    start_on(dir, ["--database", database], compact_every).await
}

/// A server on the data directory `dir`.
async fn start(dir: &Path, compact_every: u64) -> Spawned {
    let data = dir.to_str().expect("UTF-8 temporary path");
    start_on(dir, ["--data-dir", data], compact_every).await
}

async fn start_on(dir: &Path, store: [&str; 2], compact_every: u64) -> Spawned {
    let every = compact_every.to_string();
    let mut args = store.to_vec();
    args.extend([
        "--compact-every",
        &every,
        // By count alone, so that kills land inside compactions often.
        "--compact-growth-percent",
        "0",
        // Many cycles write many notes, and the writers are deliberately fast.
        "--max-notes",
        "1000000",
        "--messages-per-sec",
        "1000000",
        "--message-burst",
        "1000000",
    ]);
    spawn(dir, &args).await
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
