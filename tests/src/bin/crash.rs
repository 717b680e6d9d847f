//! `crash --cycles N [--seed S] [--compact-every K] [--max-notes M]`: kills the real
//! server at random moments while clients write, restarts it, and checks that nothing
//! seen or acknowledged was lost (`hindsight_tests::chaos`). Run by `cargo xtask crash`;
//! needs the server binary (`HINDSIGHT_BIN`, or the debug build beside this one).

use clap::Parser;
use hindsight_tests::chaos::{self, Plan};

#[derive(Parser)]
#[command(about = "Random SIGKILL crash test against the hindsight binary")]
struct Args {
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 50)]
    cycles: usize,
    /// Seed of the random kill points [default: from the clock].
    #[arg(long)]
    seed: Option<u64>,
    /// Passed to the server: updates per snapshot (1: compaction after every update).
    #[arg(long, default_value_t = 1)]
    compact_every: u64,
    /// Most notes each of the two writers sends per cycle.
    #[arg(long, default_value_t = 40)]
    max_notes: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let mut plan = Plan::new(args.cycles, args.seed.unwrap_or_else(chaos::fresh_seed));
    plan.compact_every = args.compact_every;
    plan.max_notes = args.max_notes.max(1);
    println!(
        "crash: {} cycles, seed {}, --compact-every {}",
        plan.cycles, plan.seed, plan.compact_every
    );
    let report = chaos::run(&plan).await;
    println!(
        "crash: ok: {} cycles, {} notes written, {} required to survive ({} only \
         acknowledged, not seen), all present (seed {})",
        report.cycles, report.written, report.required, report.acknowledged, report.seed
    );
}
