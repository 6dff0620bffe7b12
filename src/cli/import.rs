//! `ledger import ...`: a rubric file, or score sheets from CSV or `.xlsx` (the checks and the
//! all-or-nothing rule live in `crate::import`; this parses the arguments, reads the file, prints).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ledger_projections::domain::Context;
use ledger_schemas::ids::{PeriodId, PersonId, RubricId};

use super::LedgerArg;
use super::rubric::RubricCommand;
use crate::app::{Clock, Ledger};
use crate::import::{self, RowsRefused};
use crate::store::SqliteStore;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// 账本文件 The ledger file (SQLite).
    #[arg(
        long = "ledger",
        env = "LEDGER_PATH",
        default_value = "ledger.db",
        global = true
    )]
    pub ledger: PathBuf,
    #[command(subcommand)]
    pub what: ImportWhat,
}

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// 导入评分细则 A rubric file (JSON), as `ledger rubric load --file`.
    Rubric {
        /// 评分细则文件 The rubric file.
        file: PathBuf,
        /// 评分细则标识 The rubric's id.
        #[arg(long, default_value = "default")]
        rubric: RubricId,
    },
    /// 导入评分表 Score sheets from CSV or .xlsx: all rows or none.
    Scores {
        /// 考核周期 The period, e.g. `2026Q4`.
        #[arg(long)]
        period: PeriodId,
        /// 评分表 The CSV or .xlsx file (columns unit, item, value, note, evidence, reason; the
        /// template from `ledger rubric template` is one).
        file: PathBuf,
        /// 只校验, 不记录 Check every row and report, record nothing.
        #[arg(long)]
        dry_run: bool,
        /// 导入人 The person importing the file, who is recorded as having recorded every row: a
        /// registered person holding the assessor (考评) role over the rows' units.
        #[arg(long = "as", value_name = "PERSON")]
        person: PersonId,
    },
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    match args.what {
        ImportWhat::Rubric { file, rubric } => super::rubric::run(RubricCommand::Load {
            ledger: LedgerArg { path: args.ledger },
            file: Some(file),
            rubric,
        }),
        ImportWhat::Scores {
            period,
            file,
            dry_run,
            person,
        } => import_scores(&args.ledger, &period, &file, dry_run, &person),
    }
}

fn import_scores(
    path: &Path,
    period: &PeriodId,
    file: &Path,
    dry_run: bool,
    person: &PersonId,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("无法读取 (cannot read) {}", file.display()))?;
    // Recorded on every imported score, so the paper file can be matched to the record.
    let file_sha256 = crate::audit::bundle::sha256_hex(&bytes);
    let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open_existing(path)?);
        let result = async {
            let app = Ledger::open(store.clone(), Clock::System).await?;
            let state = app.folded().state.clone();
            let actor = import::importer(&state, person)?;
            let now = Utc::now();
            let ctx = Context {
                actor: actor.clone(),
                now,
                today: crate::app::clock::business_date(now),
                file_sha256: Some(file_sha256.clone()),
            };
            let plan = import::check_scores(
                &state,
                &ctx,
                period,
                file_name.as_deref().unwrap_or_default(),
                &bytes,
            )
            .inspect_err(|err| {
                // Every bad row on standard error, the summary as the one-line failure.
                if let Some(RowsRefused(errors)) = err.downcast_ref() {
                    for e in errors {
                        eprintln!("{e}");
                    }
                }
            })
            .with_context(|| format!("{}", file.display()))?;
            let (recorded, corrected, unchanged) = plan.counts();
            if dry_run {
                println!(
                    "校验通过, 未记录任何内容: 将新录入 {recorded} 项, 更正 {corrected} 项, {unchanged} 项未变 (dry run, every row is good and nothing was recorded: {recorded} new scores, {corrected} corrections, {unchanged} unchanged)"
                );
                return anyhow::Ok(());
            }
            let bar = ProgressBar::new((recorded + corrected) as u64);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message("导入 importing");
            let done = import::execute(&app, &actor, &file_sha256, &plan, || bar.inc(1)).await;
            match done {
                Ok(_) => bar.finish_and_clear(),
                Err(_) => bar.abandon(),
            }
            done?;
            println!(
                "已导入 {period}: 新录入 {recorded} 项, 更正 {corrected} 项, {unchanged} 项未变 (imported into {period}: {recorded} new scores, {corrected} corrections, {unchanged} unchanged)"
            );
            anyhow::Ok(())
        }
        .await;
        store.close().await;
        result
    })
}
