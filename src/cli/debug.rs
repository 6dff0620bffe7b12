//! `ledger debug ...`: tools for tests, hidden from `--help`.
//!
//! `append-stress` is the child process of the crash test (`tests/it/crash.rs`): it appends without
//! end from several tasks and prints one line per acknowledged event, so that the test, after
//! killing it at a random instant, knows exactly which events the store promised to keep.

use std::io::Write;

use anyhow::Context;
use clap::Subcommand;
use ledger_schemas::{Actor, ProposedEvent};

use super::LedgerArg;
use crate::bench::score_event;
use crate::store::{Direction, EventStore, ExpectedRevision, ReadFrom, SqliteStore, StoreError};

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Append forever from N tasks; print `ack <event_id> <position>` for every acknowledged event.
    ///
    /// Each task appends to its own stream (`stress-t{i}`) with exact expected revisions, taking up
    /// where an earlier run left it, and every fifth append goes to the shared `stress-shared` with
    /// `any`. Appends carry one to three events. Runs until killed.
    AppendStress {
        #[command(flatten)]
        ledger: LedgerArg,
        /// How many appending tasks.
        #[arg(long, default_value_t = 4)]
        tasks: usize,
    },
}

/// Runs one debug command.
pub fn run(cmd: DebugCommand) -> anyhow::Result<()> {
    match cmd {
        DebugCommand::AppendStress { ledger, tasks } => append_stress(&ledger.path, tasks),
    }
}

fn append_stress(path: &std::path::Path, tasks: usize) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("无法启动异步运行时 (cannot start the async runtime)")?;
    rt.block_on(async {
        let store = SqliteStore::open(path)?;
        let mut set = tokio::task::JoinSet::new();
        for task in 0..tasks.max(1) {
            set.spawn(stress_task(store.clone(), task));
        }
        // Only an error ends the run; the result of the first task to fail is the reason.
        match set.join_next().await {
            Some(Ok(Err(err))) => {
                Err(anyhow::Error::new(err).context("任务失败 (a stress task failed)"))
            }
            Some(Err(join)) => Err(anyhow::anyhow!("任务崩溃 (a stress task panicked): {join}")),
            Some(Ok(Ok(()))) | None => Ok(()),
        }
    })
}

async fn stress_task(store: SqliteStore, task: usize) -> Result<(), StoreError> {
    let own = format!("stress-t{task}");
    let shared = "stress-shared";
    let actor = Actor::system();
    let last = store
        .read_stream(&own, Direction::Backwards, ReadFrom::Edge, 1)
        .await?;
    let mut expected = match last.first() {
        Some(e) => ExpectedRevision::Exact(e.revision),
        None => ExpectedRevision::NoStream,
    };
    let correlation = uuid::Uuid::now_v7();
    for n in 0u64.. {
        let count = (n % 3 + 1) as usize;
        let events: Vec<ProposedEvent> = (0..count)
            .map(|k| score_event(n * 3 + k as u64, task as u64, actor.clone(), correlation))
            .collect();
        let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.event_id).collect();
        let to_shared = n % 5 == 4;
        let outcome = if to_shared {
            store.append(shared, ExpectedRevision::Any, events).await?
        } else {
            let outcome = store.append(&own, expected, events).await?;
            expected = ExpectedRevision::Exact(outcome.next_expected);
            outcome
        };
        let mut out = std::io::stdout().lock();
        for (id, position) in ids.iter().zip(&outcome.positions) {
            // A closed stdout (the test stopped reading) ends the run like a kill would.
            if writeln!(out, "ack {id} {position}").is_err() {
                return Ok(());
            }
        }
        if out.flush().is_err() {
            return Ok(());
        }
    }
    Ok(())
}
