//! `crash --cycles N [--seed S] [--compact-every K] [--max-notes M] [--database]`: kills
//! the real server at random moments while clients write, restarts it, and checks that
//! nothing seen or acknowledged was lost (`hindsight_tests::chaos`); with `--database`,
//! one of two nodes on a PostgreSQL of its own, the killed node's writer failing over. Run by `cargo xtask crash`;
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
    /// Two nodes on a PostgreSQL of the run's own, one of them killed each cycle, its
    /// writer failing over to the other; without it, one server on a data directory.
    #[arg(long)]
    database: bool,
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
    if args.database {
        let database = hindsight_tests::postgres::OwnServer::start();
        let run = chaos::run_nodes(&plan, &database.url()).await;
        let report = run.report;
        println!(
            "crash --database: ok: {} cycles, one of two nodes killed in each; {} notes \
             written, {} required to survive ({} only acknowledged, not seen), {} sent \
             again through the survivor; all present (seed {})",
            report.cycles,
            report.written,
            report.required,
            report.acknowledged,
            run.failed_over,
            report.seed
        );
        return;
    }
    let report = chaos::run(&plan).await;
    println!(
        "crash: ok: {} cycles, {} notes written, {} required to survive ({} only \
         acknowledged, not seen), all present (seed {})",
        report.cycles, report.written, report.required, report.acknowledged, report.seed
    );
}
