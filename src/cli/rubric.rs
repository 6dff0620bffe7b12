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
use ledger_schemas::ids::{RubricId, UnitId};

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
    /// 下载评分表模板 Write the score-sheet template of a rubric version as .xlsx: one row per
    /// item, empty value columns; fill it in and `ledger import scores` it.
    Template {
        #[command(flatten)]
        ledger: LedgerArg,
        /// 模板文件 Where to write the workbook.
        #[arg(long, value_name = "FILE")]
        xlsx: PathBuf,
        /// 评分细则标识 The rubric's id.
        #[arg(long, default_value = "default")]
        rubric: RubricId,
        /// 版本 The rubric version (default: the newest).
        #[arg(long)]
        version: Option<u32>,
        /// 单位 Fill every row's unit column with this unit.
        #[arg(long)]
        unit: Option<UnitId>,
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
        RubricCommand::Template {
            ledger,
            xlsx,
            rubric: id,
            version,
            unit,
        } => {
            let (bytes, version) = rt.block_on(async {
                let store = Arc::new(SqliteStore::open_existing(&ledger.path)?);
                let app = Ledger::open(store.clone(), Clock::System).await?;
                let made = template_bytes(&app.folded().state, &id, version, unit.as_ref());
                store.close().await;
                made
            })?;
            std::fs::write(&xlsx, bytes)
                .with_context(|| format!("无法写入 (cannot write) {}", xlsx.display()))?;
            println!(
                "已写出评分细则 {id} 第 {version} 版的评分表模板 {} (wrote the score-sheet template of rubric {id} version {version})",
                xlsx.display()
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

/// The template of `rubric` at `version` (the newest when `None`), and the version it is of.
fn template_bytes(
    state: &ledger_projections::domain::State,
    id: &RubricId,
    version: Option<u32>,
    unit: Option<&UnitId>,
) -> anyhow::Result<(Vec<u8>, u32)> {
    let Some(r) = state.rubrics.get(id) else {
        anyhow::bail!(
            "没有评分细则 {id} (there is no rubric {id}); 用 `ledger rubric list` 查看 (see `ledger rubric list`)"
        );
    };
    let version = version.unwrap_or_else(|| r.latest());
    let Some(definition) = r.version(version) else {
        anyhow::bail!(
            "评分细则 {id} 没有第 {version} 版, 最新为第 {} 版 (rubric {id} has no version {version}; the newest is {})",
            r.latest(),
            r.latest()
        );
    };
    if let Some(unit) = unit
        && !state.units.contains_key(unit)
    {
        anyhow::bail!("没有单位 {unit} (there is no unit {unit})");
    }
    let responsible = |p: &ledger_schemas::ids::PersonId| match state.people.get(p) {
        Some(person) => format!("{} ({p})", person.name),
        None => p.to_string(),
    };
    let bytes = crate::import::template::Template {
        rubric: id,
        version,
        definition,
        unit,
        responsible: &responsible,
    }
    .to_bytes()?;
    Ok((bytes, version))
}
