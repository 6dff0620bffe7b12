//! `ledger import ...`: a rubric file, score sheets or business results from CSV or `.xlsx`, and
//! the business-results template (the checks and the all-or-nothing rule live in `crate::import`;
//! this parses the arguments, reads the file, prints).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ledger_projections::domain::{Context, State};
use ledger_schemas::envelope::Actor;
use ledger_schemas::ids::{PeriodId, PersonId, RubricId};

use super::LedgerArg;
use super::rubric::RubricCommand;
use crate::app::{Clock, Ledger};
use crate::import::{self, ImportPlan, RowsRefused, business};
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
    /// 导入评分表 Score sheets from CSV or .xlsx: all rows or none. The file's columns: unit,
    /// item, value, note, evidence, reason (the template from `ledger rubric template` is one); the
    /// person `--as` holds the assessor (考评) role over the rows' units.
    Scores(FileImport),
    /// 导入经营业绩 Business results from CSV or .xlsx (one row a unit): all rows or none. The
    /// file's columns: unit, score, vetoed, source, reason (the template from `ledger import
    /// business-template` is one); the person `--as` holds the admin (管理) or assessor (考评)
    /// role over the rows' units.
    Business(FileImport),
    /// 经营业绩模板 Write the business-results template of a period as .xlsx: one row per unit.
    BusinessTemplate {
        /// 考核周期 The period, e.g. `2026Q4`.
        #[arg(long)]
        period: PeriodId,
        /// 输出文件 The .xlsx file to write.
        #[arg(long, value_name = "FILE")]
        xlsx: PathBuf,
    },
}

/// A file to import into a period, as a person.
#[derive(Debug, Args)]
pub struct FileImport {
    /// 考核周期 The period, e.g. `2026Q4`.
    #[arg(long)]
    pub period: PeriodId,
    /// 文件 The CSV or .xlsx file.
    pub file: PathBuf,
    /// 只校验, 不记录 Check every row and report, record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// 导入人 The person importing the file, who is recorded as having recorded every row: a
    /// registered person holding a role that records them.
    #[arg(long = "as", value_name = "PERSON")]
    pub person: PersonId,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    match args.what {
        ImportWhat::Rubric { file, rubric } => super::rubric::run(RubricCommand::Load {
            ledger: LedgerArg { path: args.ledger },
            file: Some(file),
            rubric,
        }),
        ImportWhat::Scores(f) => import_scores(&args.ledger, &f),
        ImportWhat::Business(f) => import_business(&args.ledger, &f),
        ImportWhat::BusinessTemplate { period, xlsx } => {
            business_template(&args.ledger, &period, &xlsx)
        }
    }
}

/// What one import says: the words of its summaries, given (new, changed, unchanged).
struct Said {
    dry_run: fn(usize, usize, usize) -> String,
    done: fn(&PeriodId, usize, usize, usize) -> String,
}

/// The one flow of both imports: read the file, take the importing person (`importer`), check the
/// file (`check`: every bad row on standard error, the summary as the one-line failure), and
/// record the plan unless `dry_run`, with a progress bar.
fn run_import<P: ImportPlan>(
    path: &Path,
    FileImport {
        period,
        file,
        dry_run,
        person,
    }: &FileImport,
    importer: fn(&State, &PersonId) -> anyhow::Result<Actor>,
    check: fn(&State, &Context, &PeriodId, &str, &[u8]) -> anyhow::Result<P>,
    said: Said,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("无法读取 (cannot read) {}", file.display()))?;
    // Recorded on every imported event, so the paper file can be matched to the record.
    let file_sha256 = crate::audit::bundle::sha256_hex(&bytes);
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    with_ledger(path, async |app| {
        let state = app.folded().state.clone();
        let actor = importer(&state, person)?;
        let now = Utc::now();
        let ctx = Context {
            actor: actor.clone(),
            now,
            today: crate::app::clock::business_date(now),
            file_sha256: Some(file_sha256.clone()),
        };
        let plan = check(&state, &ctx, period, &file_name, &bytes)
            .inspect_err(|err| {
                if let Some(RowsRefused(errors)) = err.downcast_ref() {
                    for e in errors {
                        eprintln!("{e}");
                    }
                }
            })
            .with_context(|| format!("{}", file.display()))?;
        let (new, changed, unchanged) = plan.counts();
        if *dry_run {
            println!("{}", (said.dry_run)(new, changed, unchanged));
            return Ok(());
        }
        let bar = ProgressBar::new((new + changed) as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message("导入 importing");
        let done = import::execute(app, &actor, &file_sha256, &plan, || bar.inc(1)).await;
        match done {
            Ok(_) => bar.finish_and_clear(),
            Err(_) => bar.abandon(),
        }
        done?;
        println!("{}", (said.done)(period, new, changed, unchanged));
        Ok(())
    })
}

/// Runs `f` on the ledger at `path`, opened for writing, and closes it whatever happens.
fn with_ledger<T>(
    path: &Path,
    f: impl AsyncFnOnce(&Ledger<SqliteStore>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open_existing(path)?);
        let result = async {
            let app = Ledger::open(store.clone(), Clock::System).await?;
            f(&app).await
        }
        .await;
        store.close().await;
        result
    })
}

fn import_scores(path: &Path, f: &FileImport) -> anyhow::Result<()> {
    run_import(
        path,
        f,
        import::importer,
        import::check_scores,
        Said {
            dry_run: |new, corrected, unchanged| {
                format!(
                    "校验通过, 未记录任何内容: 将新录入 {new} 项, 更正 {corrected} 项, {unchanged} 项未变 (dry run, every row is good and nothing was recorded: {new} new scores, {corrected} corrections, {unchanged} unchanged)"
                )
            },
            done: |period, new, corrected, unchanged| {
                format!(
                    "已导入 {period}: 新录入 {new} 项, 更正 {corrected} 项, {unchanged} 项未变 (imported into {period}: {new} new scores, {corrected} corrections, {unchanged} unchanged)"
                )
            },
        },
    )
}

fn import_business(path: &Path, f: &FileImport) -> anyhow::Result<()> {
    run_import(
        path,
        f,
        business::importer,
        business::check_business,
        Said {
            dry_run: |new, replaced, unchanged| {
                format!(
                    "校验通过, 未记录任何内容: 将新录入 {new} 项, 修改 {replaced} 项, {unchanged} 项未变 (dry run, every row is good and nothing was recorded: {new} new results, {replaced} replaced, {unchanged} unchanged)"
                )
            },
            done: |period, new, replaced, unchanged| {
                format!(
                    "已导入 {period} 经营业绩: 新录入 {new} 项, 修改 {replaced} 项, {unchanged} 项未变 (imported business results into {period}: {new} new results, {replaced} replaced, {unchanged} unchanged)"
                )
            },
        },
    )
}

fn business_template(path: &Path, period: &PeriodId, xlsx: &Path) -> anyhow::Result<()> {
    let bytes = with_ledger(path, async |app| {
        let state = &app.folded().state;
        let p = state
            .periods
            .get(period)
            .with_context(|| format!("没有考核周期 {period} (there is no period {period})"))?;
        let units: Vec<(String, String)> = p
            .units
            .iter()
            .map(|u| {
                let name = state
                    .units
                    .get(u)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                (u.to_string(), name)
            })
            .collect();
        Ok(crate::import::template::BusinessTemplate {
            period: period.as_str(),
            period_name: &p.name,
            units: &units,
        }
        .to_bytes()?)
    })?;
    std::fs::write(xlsx, bytes)
        .with_context(|| format!("无法写入 {0} (cannot write {0})", xlsx.display()))?;
    println!(
        "已写出考核周期 {period} 的经营业绩模板 {} (wrote the business-results template of period {period})",
        xlsx.display()
    );
    Ok(())
}
