//! `ledger rubric ...`: load the default template or a user's own rubric file, list versions.
//!
//! Loading records a `RubricDefined` event acting as the ledger itself (`system`), after the same
//! checks an HTTP request would get: a file that is not valid JSON is reported with its line and
//! column, a rubric whose sums do not add up with the actual sums.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use ledger_projections::domain::Command;
use ledger_projections::rubric;
use ledger_schemas::Actor;
use ledger_schemas::ids::RubricId;

use super::LedgerArg;
use crate::app::{Clock, Ledger};
use crate::store::SqliteStore;

#[derive(Debug, Subcommand)]
pub enum RubricCommand {
    /// 载入评分细则 Load a rubric: the default template (7 aspects, 33 items), or `--file`.
    Load {
        #[command(flatten)]
        ledger: LedgerArg,
        /// 评分细则文件 A rubric file (JSON, the shape of `projections/data/default-rubric.json`).
        #[arg(long)]
        file: Option<PathBuf>,
        /// 评分细则标识 The rubric's id.
        #[arg(long, default_value = "default")]
        rubric: RubricId,
    },
    /// 列出评分细则及其版本 List the rubrics and their versions.
    List {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: RubricCommand) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    match command {
        RubricCommand::Load {
            ledger,
            file,
            rubric: id,
        } => {
            let definition = match &file {
                None => rubric::default_template(),
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("无法读取 (cannot read) {}", path.display()))?;
                    rubric::parse_rubric_file(&text)
                        .with_context(|| format!("{}", path.display()))?
                }
            };
            let (aspects, items) = (
                definition.aspects.len(),
                definition
                    .aspects
                    .iter()
                    .map(|a| a.items.len())
                    .sum::<usize>(),
            );
            rt.block_on(async {
                let store = Arc::new(SqliteStore::open(&ledger.path)?);
                let app = Ledger::open(store.clone(), Clock::System).await?;
                let result = app
                    .execute(
                        Actor::system(),
                        Command::DefineRubric {
                            rubric: id.clone(),
                            definition,
                        },
                    )
                    .await;
                store.close().await;
                result?;
                anyhow::Ok(())
            })?;
            println!(
                "已载入评分细则 {id} 第 1 版: {aspects} 个大方面, {items} 个子项目 (loaded rubric {id} version 1: {aspects} aspects, {items} items)"
            );
            Ok(())
        }
        RubricCommand::List { ledger, json } => {
            let rows = rt.block_on(async {
                let store = Arc::new(SqliteStore::open_existing(&ledger.path)?);
                let app = Ledger::open(store.clone(), Clock::System).await?;
                let rows: Vec<(String, u32, String)> = app
                    .folded()
                    .state
                    .rubrics
                    .iter()
                    .map(|(id, r)| {
                        let latest = r.latest();
                        let title = r
                            .version(latest)
                            .map(|d| d.title.to_string())
                            .unwrap_or_default();
                        (id.to_string(), latest, title)
                    })
                    .collect();
                store.close().await;
                anyhow::Ok(rows)
            })?;
            if json {
                let value: Vec<_> = rows
                    .iter()
                    .map(|(id, v, t)| serde_json::json!({"rubric": id, "latest_version": v, "title": t}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&value)?);
            } else if rows.is_empty() {
                println!(
                    "尚无评分细则 (no rubrics yet); 用 `ledger rubric load` 载入 (load one with `ledger rubric load`)"
                );
            } else {
                println!("评分细则 rubric\t最新版本 latest\t标题 title");
                for (id, v, t) in rows {
                    println!("{id}\t{v}\t{t}");
                }
            }
            Ok(())
        }
    }
}
