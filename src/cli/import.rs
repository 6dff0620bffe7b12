//! `ledger import ...`: a rubric file, score sheets or business results from CSV or `.xlsx`, and
//! the business-results template (the checks and the all-or-nothing rule live in `crate::import`;
//! this parses the arguments, reads the file, prints).

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
use crate::import::{self, RowsRefused, business};
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
    /// 导入经营业绩 Business results from CSV or .xlsx (one row a unit): all rows or none.
    Business {
        /// 考核周期 The period, e.g. `2026Q4`.
        #[arg(long)]
        period: PeriodId,
        /// 经营业绩文件 The CSV or .xlsx file (columns unit, score, vetoed, source, reason; the
        /// template from `ledger import business-template` is one).
        file: PathBuf,
        /// 只校验, 不记录 Check every row and report, record nothing.
        #[arg(long)]
        dry_run: bool,
        /// 导入人 The person importing the file, who is recorded as having recorded every row: a
        /// registered person holding the admin (管理) or assessor (考评) role over the rows' units.
        #[arg(long = "as", value_name = "PERSON")]
        person: PersonId,
    },
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
        ImportWhat::Business {
            period,
            file,
            dry_run,
            person,
        } => import_business(&args.ledger, &period, &file, dry_run, &person),
        ImportWhat::BusinessTemplate { period, xlsx } => {
            business_template(&args.ledger, &period, &xlsx)
        }
    }
}

/// The file's bytes, their SHA-256 (recorded on every imported event, so the paper file can be
/// matched to the record) and its name.
fn read_file(file: &Path) -> anyhow::Result<(Vec<u8>, String, String)> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("无法读取 (cannot read) {}", file.display()))?;
    let sha = crate::audit::bundle::sha256_hex(&bytes);
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((bytes, sha, name))
}

/// The context an import is checked and recorded in: the importing person, now, the file.
fn context(actor: &ledger_schemas::envelope::Actor, file_sha256: &str) -> Context {
    let now = Utc::now();
    Context {
        actor: actor.clone(),
        now,
        today: crate::app::clock::business_date(now),
        file_sha256: Some(file_sha256.to_owned()),
    }
}

/// Every bad row on standard error (the summary stays the one-line failure), and the file named.
fn report_rows<T>(result: anyhow::Result<T>, file: &Path) -> anyhow::Result<T> {
    result
        .inspect_err(|err| {
            if let Some(RowsRefused(errors)) = err.downcast_ref() {
                for e in errors {
                    eprintln!("{e}");
                }
            }
        })
        .with_context(|| format!("{}", file.display()))
}

fn progress(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("导入 importing");
    bar
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

fn import_business(
    path: &Path,
    period: &PeriodId,
    file: &Path,
    dry_run: bool,
    person: &PersonId,
) -> anyhow::Result<()> {
    let (bytes, file_sha256, file_name) = read_file(file)?;
    with_ledger(path, async |app| {
        let state = app.folded().state.clone();
        let actor = business::importer(&state, person)?;
        let ctx = context(&actor, &file_sha256);
        let plan = report_rows(
            business::check_business(&state, &ctx, period, &file_name, &bytes),
            file,
        )?;
        let (recorded, replaced, unchanged) = plan.counts();
        if dry_run {
            println!(
                "校验通过, 未记录任何内容: 将新录入 {recorded} 项, 修改 {replaced} 项, {unchanged} 项未变 (dry run, every row is good and nothing was recorded: {recorded} new results, {replaced} replaced, {unchanged} unchanged)"
            );
            return Ok(());
        }
        let bar = progress(recorded + replaced);
        let done = business::execute(app, &actor, &file_sha256, &plan, || bar.inc(1)).await;
        match done {
            Ok(_) => bar.finish_and_clear(),
            Err(_) => bar.abandon(),
        }
        done?;
        println!(
            "已导入 {period} 经营业绩: 新录入 {recorded} 项, 修改 {replaced} 项, {unchanged} 项未变 (imported business results into {period}: {recorded} new results, {replaced} replaced, {unchanged} unchanged)"
        );
        Ok(())
    })
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

fn import_scores(
    path: &Path,
    period: &PeriodId,
    file: &Path,
    dry_run: bool,
    person: &PersonId,
) -> anyhow::Result<()> {
    let (bytes, file_sha256, file_name) = read_file(file)?;
    with_ledger(path, async |app| {
        let state = app.folded().state.clone();
        let actor = import::importer(&state, person)?;
        let ctx = context(&actor, &file_sha256);
        let plan = report_rows(
            import::check_scores(&state, &ctx, period, &file_name, &bytes),
            file,
        )?;
        let (recorded, corrected, unchanged) = plan.counts();
        if dry_run {
            println!(
                "校验通过, 未记录任何内容: 将新录入 {recorded} 项, 更正 {corrected} 项, {unchanged} 项未变 (dry run, every row is good and nothing was recorded: {recorded} new scores, {corrected} corrections, {unchanged} unchanged)"
            );
            return Ok(());
        }
        let bar = progress(recorded + corrected);
        let done = import::execute(app, &actor, &file_sha256, &plan, || bar.inc(1)).await;
        match done {
            Ok(_) => bar.finish_and_clear(),
            Err(_) => bar.abandon(),
        }
        done?;
        println!(
            "已导入 {period}: 新录入 {recorded} 项, 更正 {corrected} 项, {unchanged} 项未变 (imported into {period}: {recorded} new scores, {corrected} corrections, {unchanged} unchanged)"
        );
        Ok(())
    })
}
