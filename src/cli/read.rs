//! `ledger standings`, `ledger history` and `ledger changes`: the read models for people (aligned
//! tables), for scripts (`--json`) and for the file (`--csv`).
//!
//! Every read goes through the read side (`app::reads::ReadSide`, over the pure read models of
//! `ledger_projections::read`), so the command line shows exactly what the HTTP API serves.
//! `standings` and `history` read **as of** a past point with `--as-of TIME` (Beijing time, the
//! business clock of `app::clock`: a date or a minute means its end; or RFC 3339) or `--at-position N`; `changes` filters by time with
//! `--since`/`--until` instead. Names the ledger does not know (a period, unit, person, item or
//! aspect) are refused with a one-line reason rather than answered with an empty table.
//!
//! JSON is the read model's own shape (`PeriodStandings`, `ChangeView`); CSV has one row per unit or
//! per change, written by `csv_out` for Excel (BOM, Chinese headers, Beijing time, no formulas);
//! `--no-bom --lang en` gives scripts plain UTF-8 with the stable English column names.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use ledger_projections::read::{ChangeFilter, ChangeKind, ChangeView, PeriodStandings};
use ledger_schemas::ids::{AspectCode, ItemCode, PeriodId, PersonId, UnitId};

use super::LedgerArg;
use super::table::{Align, Table};
use crate::app::clock;
use crate::app::reads::{ReadAt, ReadSide};
use crate::csv_out::{CsvStyle, CsvWriter, Names};
use crate::store::SqliteStore;

/// Where to read: now, or as of a time or a position.
#[derive(Debug, Clone, Args)]
pub struct AsOfArgs {
    /// 截至时间 As of this time on the ledger's clock (Beijing time unless it recorded another
    /// zone): a date (the end of that day), `2026-10-15 08:00` (the end of that minute),
    /// `2026-10-15 08:00:03`, or RFC 3339 with any offset.
    #[arg(long, value_parser = typed_time, conflicts_with = "at_position")]
    pub as_of: Option<TypedTime>,
    /// 截至位置 As of this position in the log.
    #[arg(long)]
    pub at_position: Option<u64>,
}

impl AsOfArgs {
    /// Where to read; a typed time is read on the clock of the ledger's zone, so call this after
    /// [`adopt_zone`].
    pub(super) fn read_at(&self) -> ReadAt {
        match (&self.as_of, self.at_position) {
            (Some(t), _) => ReadAt::Time(t.end()),
            (None, Some(p)) => ReadAt::Position(p),
            (None, None) => ReadAt::Head,
        }
    }
}

/// How to print.
#[derive(Debug, Clone, Copy, Args)]
pub struct FormatArgs {
    /// 输出 JSON Print JSON for scripts.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// 输出 CSV Print CSV for spreadsheets and the file (UTF-8 with a byte-order mark, so Excel
    /// reads it; Chinese headers; Beijing time).
    #[arg(long)]
    pub csv: bool,
    /// (with --csv) 不加 BOM Plain UTF-8 without the byte-order mark, for scripts.
    #[arg(long, requires = "csv")]
    pub no_bom: bool,
    /// (with --csv or --xlsx) 语言 Language of headers and words: `zh` (default; every word in
    /// Chinese) or `en` (the stable column names and codes).
    #[arg(long, value_enum, default_value_t = HeaderLang::Zh)]
    pub lang: HeaderLang,
}

/// The language of CSV headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HeaderLang {
    Zh,
    En,
}

impl FormatArgs {
    pub(super) fn csv_style(&self) -> CsvStyle {
        CsvStyle {
            bom: !self.no_bom,
            zh: self.lang == HeaderLang::Zh,
        }
    }
}

#[derive(Debug, Args)]
pub struct StandingsArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 考核周期 The period, e.g. `2026Q3`.
    #[arg(long)]
    pub period: PeriodId,
    #[command(flatten)]
    pub at: AsOfArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    /// 导出 Excel Write the standings to FILE as an .xlsx workbook (title block, frozen Chinese
    /// header, numbers as numbers).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "csv"])]
    pub xlsx: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 考核周期 The period.
    #[arg(long)]
    pub period: PeriodId,
    /// 单位 The unit.
    #[arg(long)]
    pub unit: UnitId,
    /// 子项目 Only this item's history.
    #[arg(long)]
    pub item: Option<ItemCode>,
    #[command(flatten)]
    pub at: AsOfArgs,
    #[command(flatten)]
    pub format: FormatArgs,
    /// 导出 Excel Write the changes to FILE as an .xlsx workbook (title block with the point read
    /// at and its signed checkpoint, frozen header in the chosen language, times as date cells).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "csv"])]
    pub xlsx: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ChangesArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 操作人 Recorded by this person.
    #[arg(long)]
    pub person: Option<PersonId>,
    /// 考核周期 In this period.
    #[arg(long)]
    pub period: Option<PeriodId>,
    /// 单位 About this unit.
    #[arg(long)]
    pub unit: Option<UnitId>,
    /// 子项目 About this item.
    #[arg(long)]
    pub item: Option<ItemCode>,
    /// 大方面 About items of this aspect.
    #[arg(long)]
    pub aspect: Option<AspectCode>,
    /// 事件类型 Of these event types (repeat, or separate with commas), e.g. `ScoreCorrected`.
    #[arg(long = "type", value_delimiter = ',')]
    pub types: Vec<String>,
    /// 起始时间 Recorded at or after (the ledger's clock: a date or `2026-10-15 08:00` means its start; or RFC 3339).
    #[arg(long, value_parser = typed_time)]
    pub since: Option<TypedTime>,
    /// 截止时间 Recorded at or before (the ledger's clock: a date or `2026-10-15 08:00` means its end; or RFC 3339).
    #[arg(long, value_parser = typed_time)]
    pub until: Option<TypedTime>,
    /// 条数 At most this many changes, newest first (0: all).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub format: FormatArgs,
    /// 检查点文件 (with --csv) Read the change log as of the latest signed checkpoint (not the
    /// head) and write that checkpoint's signed note to FILE, beside the CSV: every row is then
    /// covered by a root the ledger's key signed, and an auditor can prove each row's event against
    /// it. Events after the checkpoint are left out (run `ledger audit checkpoint` first to include
    /// them).
    #[arg(long, value_name = "FILE", requires = "csv")]
    pub checkpoint_out: Option<std::path::PathBuf>,
    /// 导出 Excel Write the changes to FILE as an .xlsx workbook (title block with the point read
    /// at and its signed checkpoint, frozen header in the chosen language, times as date cells).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "csv"])]
    pub xlsx: Option<std::path::PathBuf>,
}

/// A typed time (`--as-of`, `--since`, `--until`), checked when the arguments are parsed and read
/// once the ledger's zone is known ([`adopt_zone`]): a date or a minute on the ledger's clock
/// names a span, RFC 3339 an instant (`app::clock`).
#[derive(Debug, Clone)]
pub struct TypedTime(String);

impl TypedTime {
    /// The end of the span it names (for "as of" and "until").
    pub fn end(&self) -> DateTime<Utc> {
        clock::parse_as_of(&self.0).expect("checked when the arguments were parsed")
    }

    /// The start of the span it names (for "since").
    pub fn start(&self) -> DateTime<Utc> {
        clock::parse_since(&self.0).expect("checked when the arguments were parsed")
    }
}

fn typed_time(text: &str) -> Result<TypedTime, String> {
    clock::parse_as_of(text).map_err(|e| e.to_string())?;
    Ok(TypedTime(text.to_owned()))
}

/// Reads times on the clock of the zone the ledger at `path` recorded (its first event; none:
/// Asia/Shanghai), before any typed time is read.
pub(super) fn adopt_zone(path: &Path) -> anyhow::Result<()> {
    use crate::store::EventStore as _;
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open_existing(path)?;
        let first = store
            .read_all(
                crate::store::Direction::Forwards,
                crate::store::ReadFrom::At(1),
                1,
            )
            .await;
        store.close().await;
        let zone = match first?.first() {
            Some(e) if e.event_type == "BusinessZoneSet" => {
                match ledger_schemas::events::decode(&e.event_type, e.schema_version, &e.payload)? {
                    ledger_schemas::Event::BusinessZoneSet(z) => Some(z.zone),
                    _ => None,
                }
            }
            _ => None,
        };
        clock::adopt(zone.as_deref());
        anyhow::Ok(())
    })
}

/// A recorded time as people read it: business clock, to the second.
pub(super) fn time_text(t: DateTime<Utc>) -> String {
    clock::business_time(t)
}

fn open(path: &Path) -> anyhow::Result<(Arc<SqliteStore>, ReadSide<SqliteStore>)> {
    let store = Arc::new(SqliteStore::open_existing(path)?);
    let reads = ReadSide::new(store.clone());
    Ok((store, reads))
}

/// Runs `work` on the read side of the ledger at `path` and closes the store whatever happens.
pub(super) fn with_reads<T>(
    path: &Path,
    work: impl AsyncFnOnce(&ReadSide<SqliteStore>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let (store, reads) = open(path)?;
        let result = work(&reads).await;
        store.close().await;
        result
    })
}

/// The names of `units` in `state`, in order (empty for a unit it does not know).
pub(super) fn unit_names<'a>(
    state: &ledger_projections::domain::State,
    units: impl Iterator<Item = &'a UnitId>,
) -> Vec<String> {
    units
        .map(|u| {
            state
                .units
                .get(u)
                .map(|x| x.name.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn known(list: Vec<String>) -> String {
    if list.is_empty() {
        "无 none".to_owned()
    } else {
        list.join(", ")
    }
}

// ---- standings ----

/// What `standings` prints: the standings and the unit names at that point.
struct StandingsAt {
    standings: PeriodStandings,
    names: Vec<String>,
    recorded_at: Option<DateTime<Utc>>,
}

pub fn standings(args: StandingsArgs) -> anyhow::Result<()> {
    adopt_zone(&args.ledger.path)?;
    let period = args.period.clone();
    let at = args.at.read_at();
    let found = with_reads(&args.ledger.path, async |reads| {
        let answer = reads
            .query(at, |view| match view.standings(&period) {
                Some(s) => {
                    let names = unit_names(view.state(), s.units.iter().map(|u| &u.unit));
                    Ok((s, names))
                }
                None => Err(known(
                    view.periods().iter().map(|p| p.to_string()).collect(),
                )),
            })
            .await?;
        match answer {
            Ok((standings, names)) => {
                let recorded_at = recorded_at(reads, standings.as_of).await?;
                Ok(StandingsAt {
                    standings,
                    names,
                    recorded_at,
                })
            }
            Err(periods) => bail!(
                "没有考核周期 {period} (there is no period {period}{}); 已有 (known): {periods}",
                if at == ReadAt::Head {
                    ""
                } else {
                    " at that point"
                }
            ),
        }
    })?;
    let StandingsAt {
        standings: s,
        names,
        recorded_at,
    } = found;
    if args.xlsx.is_some() || args.format.csv {
        let view = crate::http::views::StandingsView::new(&s, |_| true);
        let by_unit = s
            .units
            .iter()
            .map(|u| u.unit.to_string())
            .zip(names.iter().cloned())
            .collect();
        let lang = args.format.csv_style().lang();
        let (columns, rows) = crate::export_rows::standings(&view, &by_unit, lang);
        if let Some(file) = &args.xlsx {
            let title = crate::xlsx_out::TitleBlock {
                title: match lang {
                    crate::console::i18n::Lang::Zh => format!("{} 考核排名", s.name),
                    crate::console::i18n::Lang::En => format!("{} standings", s.name),
                },
                period: Some(format!(
                    "{} ({}) · {}",
                    s.period,
                    s.name,
                    crate::console::i18n::stage(lang, s.stage)
                )),
                rubric: Some((s.rubric.to_string(), s.rubric_version)),
                as_of: Some((s.as_of, recorded_at)),
                checkpoint: Some(checkpoint_at(&args.ledger.path, s.as_of, lang)?),
                made_at: Some(Utc::now()),
            };
            return write_xlsx(
                file,
                lang.t("排名", "Standings"),
                lang,
                &title,
                columns,
                &rows,
            );
        }
        let mut w = CsvWriter::new(std::io::stdout().lock(), args.format.csv_style())?;
        w.header(columns)?;
        for row in &rows {
            w.cells(row)?;
        }
        w.finish()?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    if args.format.json {
        serde_json::to_writer_pretty(&mut out, &s)?;
        writeln!(out)?;
        return Ok(());
    }

    writeln!(
        out,
        "{} ({}) · {} · 评分细则 rubric {} 第 {} 版 (version {}) · 截至位置 as of position {}{}",
        s.name,
        s.period,
        s.stage.label(),
        s.rubric,
        s.rubric_version,
        s.rubric_version,
        s.as_of,
        recorded_at.map_or_else(String::new, |t| format!(" ({})", time_text(t)))
    )?;
    let mut columns: Vec<(String, Align)> = vec![
        ("名次 rank".into(), Align::Right),
        ("单位 unit".into(), Align::Left),
        ("名称 name".into(), Align::Left),
    ];
    columns.extend(
        s.aspects
            .iter()
            .map(|a| (format!("{} {}", a.aspect, a.title.zh), Align::Right)),
    );
    for h in [
        "加分 bonus",
        "扣分 deduct",
        "党建 party",
        "经营 business",
        "综合 combined",
    ] {
        columns.push((h.into(), Align::Right));
    }
    columns.push(("等次 grade".into(), Align::Left));
    let refs: Vec<(&str, Align)> = columns.iter().map(|(h, a)| (h.as_str(), *a)).collect();
    let mut table = Table::new(&refs);
    for (u, name) in s.units.iter().zip(&names) {
        let mut row = vec![u.rank.to_string(), u.unit.to_string(), name.clone()];
        row.extend(u.score.aspects.iter().map(|a| a.points.to_string()));
        row.extend([
            u.score.bonus.to_string(),
            u.score.deduction.to_string(),
            u.score.party_score.to_string(),
            u.score
                .business_score
                .map_or_else(|| "—".into(), |b| b.to_string()),
            u.score
                .combined
                .map_or_else(|| "—".into(), |c| c.to_string()),
        ]);
        let mut grade = u.grade_label.zh.clone();
        if u.score.capped_by_veto {
            grade.push_str(" (一票否决 veto)");
        }
        if !u.score.complete {
            grade.push_str(" *");
        }
        row.push(grade);
        table.row(row);
    }
    table.write(&mut out)?;
    let incomplete: Vec<String> = s
        .units
        .iter()
        .filter(|u| !u.score.complete)
        .map(|u| {
            format!(
                "{} ({} / {})",
                u.unit,
                u.score.unscored.len(),
                u.score.ignored.len()
            )
        })
        .collect();
    if !incomplete.is_empty() {
        writeln!(
            out,
            "* 评分未完成, 括号内为未评 / 不计分 (须重评或已删除) 的子项目数 (sheet incomplete; unscored / ignored items in brackets): {}",
            incomplete.join(", ")
        )?;
    }
    Ok(())
}

pub(super) fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// When the event at `position` was recorded (`None` before the first event).
pub(super) async fn recorded_at(
    reads: &ReadSide<SqliteStore>,
    position: u64,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    if position == 0 {
        return Ok(None);
    }
    Ok(reads
        .envelopes(&[position])
        .await?
        .first()
        .map(|e| e.recorded_at))
}

/// Writes one exported table to `file` as an .xlsx workbook and says so.
pub(super) fn write_xlsx(
    file: &Path,
    sheet: &str,
    lang: crate::console::i18n::Lang,
    title: &crate::xlsx_out::TitleBlock,
    columns: crate::export_rows::Columns,
    rows: &[Vec<crate::csv_out::Cell>],
) -> anyhow::Result<()> {
    let bytes = crate::xlsx_out::Workbook {
        sheet,
        lang,
        title,
        header: crate::xlsx_out::header(lang, columns),
        rows,
    }
    .to_bytes()?;
    std::fs::write(file, bytes)
        .with_context(|| format!("无法写入 {0} (cannot write {0})", file.display()))?;
    println!("已导出 (written): {}", file.display());
    Ok(())
}

/// The latest signed checkpoint at or before `position`, checked against the log as stored (its
/// root must be the root of the log's first `tree size` events), for an export's title block; the
/// reason in words when there is none.
pub(super) fn checkpoint_at(
    path: &Path,
    position: u64,
    lang: crate::console::i18n::Lang,
) -> anyhow::Result<Result<crate::xlsx_out::CheckpointMark, String>> {
    let rt = super::runtime()?;
    let snapshot = rt.block_on(async {
        let store = SqliteStore::open_existing(path)?;
        let snapshot = store.audit_snapshot().await;
        store.close().await;
        anyhow::Ok(snapshot?)
    })?;
    let Some((size, note)) = snapshot
        .checkpoints
        .iter()
        .rev()
        .find(|(size, _)| *size <= position)
        .cloned()
    else {
        return Ok(Err(lang
            .t(
                "无 (所读记录之前没有已签名的检查点, 可先运行 ledger audit checkpoint)",
                "none (no signed checkpoint at or before the point read; run ledger audit checkpoint)",
            )
            .to_owned()));
    };
    let checkpoint = ledger_schemas::checkpoint::Checkpoint::from_note(&note)?;
    let tree = ledger_schemas::merkle::MerkleTree::from_event_hashes(&snapshot.event_hashes);
    if tree.root(size).ok() != Some(*checkpoint.root_hash()) {
        bail!(
            "大小为 {size} 的检查点与日志不符，请运行 ledger verify (the checkpoint of size {size} does not agree with the log; run ledger verify)"
        );
    }
    Ok(Ok(crate::xlsx_out::CheckpointMark {
        tree_size: size,
        root_hex: checkpoint.root_hash().to_string(),
    }))
}

// ---- history and the change log ----

pub fn history(args: HistoryArgs) -> anyhow::Result<()> {
    adopt_zone(&args.ledger.path)?;
    let HistoryArgs {
        ledger,
        period,
        unit,
        item,
        at,
        format,
        xlsx,
    } = args;
    let read_at = at.read_at();
    let (changes, read_position) = with_reads(&ledger.path, async |reads| {
        let (positions, read_position) = reads
            .query(read_at, |view| {
                let state = view.state();
                let Some(p) = state.periods.get(&period) else {
                    return Err(format!(
                        "没有考核周期 {period} (there is no period {period}); 已有 (known): {}",
                        known(view.periods().iter().map(|p| p.to_string()).collect())
                    ));
                };
                if !p.units.contains(&unit) {
                    return Err(format!(
                        "单位 {unit} 不在考核周期 {period} 中 (unit {unit} is not assessed in period {period}); 参评单位 (its units): {}",
                        known(p.units.iter().map(|u| u.to_string()).collect())
                    ));
                }
                match &item {
                    Some(item) => {
                        let in_rubric = state.rubrics.get(&p.rubric).is_some_and(|r| {
                            r.versions
                                .iter()
                                .any(|d| ledger_projections::rubric::find_item(d, item).is_some())
                        });
                        if !in_rubric {
                            return Err(format!(
                                "考核周期 {period} 的评分细则中没有子项目 {item} (the rubric of period {period} has no item {item})"
                            ));
                        }
                        Ok((view.item_history(&period, &unit, item), view.position()))
                    }
                    None => Ok((view.sheet_history(&period, &unit), view.position())),
                }
            })
            .await?
            .map_err(anyhow::Error::msg)?;
        let envelopes = reads.envelopes(&positions).await?;
        let changes = match &item {
            Some(item) => reads.render_item_history(&envelopes, &period, &unit, item)?,
            None => reads.render(&envelopes)?,
        };
        Ok((changes, read_position))
    })?;
    let title = format!(
        "{period} {unit}{} 的变更历史, 由旧到新 (history, oldest first): {} 条 (changes)",
        item.as_ref().map_or_else(String::new, |i| format!(" {i}")),
        changes.len()
    );
    let xlsx = xlsx.map(|file| {
        let lang = format.csv_style().lang();
        let what = item.as_ref().map_or_else(String::new, |i| format!(" {i}"));
        let title = crate::xlsx_out::TitleBlock {
            title: match lang {
                crate::console::i18n::Lang::Zh => format!("{period} {unit}{what} 变更历史"),
                crate::console::i18n::Lang::En => format!("{period} {unit}{what} history"),
            },
            period: Some(period.to_string()),
            as_of: Some((read_position, None)),
            ..Default::default()
        };
        (file, title, lang.t("变更历史", "History"))
    });
    print_changes(&ledger.path, &changes, format, &title, xlsx)
}

pub fn changes(args: ChangesArgs) -> anyhow::Result<()> {
    adopt_zone(&args.ledger.path)?;
    let mut kinds = Vec::new();
    for name in args
        .types
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        let kind = ChangeKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
            .with_context(|| {
                format!(
                    "未知的事件类型“{name}” (unknown event type {name:?}); 例如 (e.g.) ScoreRecorded, ScoreCorrected, ItemReviewed, AppealUpheld"
                )
            })?;
        kinds.push(kind);
    }
    let filter = ChangeFilter {
        actor: args.person.clone(),
        period: args.period.clone(),
        unit: args.unit.clone(),
        item: args.item.clone(),
        aspect: args.aspect.clone(),
        kinds,
        from: args.since.as_ref().map(TypedTime::start),
        to: args.until.as_ref().map(TypedTime::end),
    };
    let limit = args.limit;
    let path = args.ledger.path.clone();
    let mut signed = None;
    let (changes, read_position) = with_reads(&args.ledger.path, async |reads| {
        let at = match &args.checkpoint_out {
            Some(_) => {
                let checkpoint = latest_checkpoint(&path).await?;
                let at = ReadAt::Position(checkpoint.0);
                signed = Some(checkpoint);
                at
            }
            None => ReadAt::Head,
        };
        let (positions, read_position) = reads
            .query(at, |view| {
                check_filter(view.state(), &filter)?;
                // Newest first, page by page, until the limit (0: everything that matches).
                let mut positions = Vec::new();
                let mut before = None;
                loop {
                    let page = view.changes(&filter, before, 1000);
                    positions.extend(page.positions);
                    if limit > 0 && positions.len() >= limit {
                        positions.truncate(limit);
                        break;
                    }
                    match page.next {
                        Some(next) => before = Some(next),
                        None => break,
                    }
                }
                Ok::<_, String>((positions, view.position()))
            })
            .await?
            .map_err(anyhow::Error::msg)?;
        let envelopes = reads.envelopes(&positions).await?;
        Ok((reads.render(&envelopes)?, read_position))
    })?;
    let title = format!(
        "变更记录, 由新到旧 (the change log, newest first): {} 条 (changes){}",
        changes.len(),
        if limit > 0 && changes.len() == limit {
            format!(
                "; 仅显示前 {limit} 条, 用 --limit 0 查看全部 (showing the first {limit}; --limit 0 shows all)"
            )
        } else {
            String::new()
        }
    );
    if let (Some(file), Some((size, note))) = (&args.checkpoint_out, &signed) {
        // The note first: a CSV without its checkpoint beside it must not look finished.
        std::fs::write(file, note)
            .with_context(|| format!("无法写入 {0} (cannot write {0})", file.display()))?;
        eprintln!(
            "变更记录截至大小为 {size} 的已签名检查点读取，其签名记录已写入 {0} (the change log was read as of the signed checkpoint of size {size}; its note is in {0})",
            file.display()
        );
    }
    let xlsx = args.xlsx.clone().map(|file| {
        let lang = args.format.csv_style().lang();
        let title = crate::xlsx_out::TitleBlock {
            title: lang.t("变更记录", "Change log").to_owned(),
            period: args.period.as_ref().map(|p| p.to_string()),
            as_of: Some((read_position, None)),
            ..Default::default()
        };
        (file, title, lang.t("变更记录", "Changes"))
    });
    print_changes(&args.ledger.path, &changes, args.format, &title, xlsx)
}

/// The latest signed checkpoint as `(tree size, note)`, after checking that its root is the root of
/// the log's first `tree size` events as stored now: a CSV must not be handed out beside a
/// checkpoint the file no longer agrees with (`ledger verify` names the fault).
async fn latest_checkpoint(path: &Path) -> anyhow::Result<(u64, String)> {
    let store = SqliteStore::open_existing(path)?;
    let snapshot = store.audit_snapshot().await;
    store.close().await;
    let snapshot = snapshot?;
    let (size, note) = snapshot.checkpoints.last().cloned().ok_or_else(|| {
        anyhow::anyhow!(
            "账本没有已签名的检查点，请先运行 ledger audit checkpoint (the ledger has no signed checkpoint; run ledger audit checkpoint first)"
        )
    })?;
    let checkpoint = ledger_schemas::checkpoint::Checkpoint::from_note(&note)?;
    let tree = ledger_schemas::merkle::MerkleTree::from_event_hashes(&snapshot.event_hashes);
    if tree.root(size).ok() != Some(*checkpoint.root_hash()) {
        bail!(
            "大小为 {size} 的检查点与日志不符，请运行 ledger verify (the checkpoint of size {size} does not agree with the log; run ledger verify)"
        );
    }
    Ok((size, note))
}

/// Refuses a filter that names something the ledger never knew: an auditor's typo must not read as
/// "nothing changed".
fn check_filter(
    state: &ledger_projections::domain::State,
    filter: &ChangeFilter,
) -> Result<(), String> {
    if let Some(person) = &filter.actor
        && person.as_str() != "system"
        && !state.people.contains_key(person)
    {
        return Err(format!("没有人员 {person} (there is no person {person})"));
    }
    if let Some(period) = &filter.period
        && !state.periods.contains_key(period)
    {
        return Err(format!(
            "没有考核周期 {period} (there is no period {period}); 已有 (known): {}",
            known(state.periods.keys().map(|p| p.to_string()).collect())
        ));
    }
    if let Some(unit) = &filter.unit
        && !state.units.contains_key(unit)
    {
        return Err(format!("没有单位 {unit} (there is no unit {unit})"));
    }
    let definitions = || state.rubrics.values().flat_map(|r| r.versions.iter());
    if let Some(item) = &filter.item
        && !definitions().any(|d| ledger_projections::rubric::find_item(d, item).is_some())
    {
        return Err(format!(
            "任何评分细则中都没有子项目 {item} (no rubric has an item {item})"
        ));
    }
    if let Some(aspect) = &filter.aspect
        && !definitions().any(|d| d.aspects.iter().any(|a| &a.code == aspect))
    {
        return Err(format!(
            "任何评分细则中都没有大方面 {aspect} (no rubric has an aspect {aspect})"
        ));
    }
    Ok(())
}

/// Prints changes as a table (with a title line), JSON (an array of `ChangeView`) or CSV, or
/// writes them to an .xlsx file (`xlsx`: the file, its title block and the sheet's name).
fn print_changes(
    path: &Path,
    changes: &[ChangeView],
    format: FormatArgs,
    title: &str,
    xlsx: Option<(std::path::PathBuf, crate::xlsx_out::TitleBlock, &str)>,
) -> anyhow::Result<()> {
    if let Some((file, mut block, sheet)) = xlsx {
        let lang = format.csv_style().lang();
        let names = with_reads(path, async |reads| {
            Ok(reads
                .query(ReadAt::Head, |view| Names::of(view.state()))
                .await?)
        })?;
        if let Some((position, time)) = &mut block.as_of {
            *time = with_reads(path, async |reads| recorded_at(reads, *position).await)?;
            block.checkpoint = Some(checkpoint_at(path, *position, lang)?);
        }
        block.made_at = Some(Utc::now());
        let rows: Vec<_> = changes
            .iter()
            .cloned()
            .map(crate::http::views::ChangeEntryView::from)
            .map(|c| crate::csv_out::change_row(&c, lang, &names))
            .collect();
        let columns = crate::csv_out::CHANGE_COLUMNS
            .iter()
            .map(|(e, z)| ((*e).to_owned(), (*z).to_owned()))
            .collect();
        return write_xlsx(&file, sheet, lang, &block, columns, &rows);
    }
    let mut out = std::io::stdout().lock();
    if format.json {
        serde_json::to_writer_pretty(&mut out, changes)?;
        writeln!(out)?;
        return Ok(());
    }
    if format.csv {
        let rows: Vec<_> = changes
            .iter()
            .cloned()
            .map(crate::http::views::ChangeEntryView::from)
            .collect();
        let names = with_reads(path, async |reads| {
            Ok(reads
                .query(ReadAt::Head, |view| Names::of(view.state()))
                .await?)
        })?;
        crate::csv_out::write_changes(out, &rows, format.csv_style(), &names)?;
        return Ok(());
    }
    writeln!(out, "{title}")?;
    if changes.is_empty() {
        return Ok(());
    }
    let mut table = Table::new(&[
        ("位置 #", Align::Right),
        ("时间 time (北京时间 Beijing)", Align::Left),
        ("操作人 by", Align::Left),
        ("对象 about", Align::Left),
        ("变更 change", Align::Left),
        ("旧值 → 新值 old → new", Align::Left),
        ("原因或说明 reason / note", Align::Left),
    ]);
    for c in changes {
        let about = [
            c.period.as_ref().map(|p| p.to_string()),
            c.unit.as_ref().map(|u| u.to_string()),
            c.item.as_ref().map(|i| i.to_string()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let values = match (&c.old, &c.new) {
            (Some(old), Some(new)) => format!("{} → {}", old.zh, new.zh),
            (None, Some(new)) => new.zh.clone(),
            (Some(old), None) => format!("{} → —", old.zh),
            (None, None) => String::new(),
        };
        table.row(vec![
            c.position.to_string(),
            time_text(c.recorded_at),
            format!("{} ({})", c.actor, c.role),
            about,
            c.summary.zh.clone(),
            values,
            c.reason
                .clone()
                .or_else(|| c.note.clone())
                .unwrap_or_default(),
        ]);
    }
    table.write(&mut out)?;
    Ok(())
}
