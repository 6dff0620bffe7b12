//! `ledger import ...`: a rubric file, or score sheets from CSV the way assessment offices keep them
//! in spreadsheets.
//!
//! # Score sheets (`ledger import scores --period P --as PERSON FILE.csv`)
//!
//! The file is UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or
//! GBK/GB18030 (what Excel's "CSV (逗号分隔)" writes on Chinese Windows). Units, items and values
//! typed with full-width forms (`ＳＨ－Ａ`, `２．５`, the ideographic space) are read half-width.
//! The first row names the columns, in any order, in English or Chinese:
//!
//! | column | also | required | what |
//! |---|---|---|---|
//! | `unit` | 单位, 单位编码, 考核单位 | yes | the unit's id, e.g. `SH-CZ-B1` |
//! | `item` | 子项目, 子项目编码, 项目 | yes | the item's code, e.g. `B2` |
//! | `value` | 得分, 分值, 评价, 考评结果 | yes | see below |
//! | `note` | 说明, 备注, 评分说明 | no | the assessor's note |
//! | `evidence` | 佐证材料, 佐证 | no | references, separated by `;` (or `；`, `|`, a line break) |
//! | `reason` | 更正原因, 原因 | no | needed only when a row changes a score already recorded |
//!
//! The value is read by the item's kind in the period's **current** rubric version: points as a
//! decimal (`2.5`, or `2.5分`); a ladder level by its code or its label (`good` / `好`, `较好`,
//! `一般`, `差`); awards as `title:points` pairs separated by `;` (a bare number is one award;
//! `无` or `none` for no award); deduction cases as a whole number (`2`, or `2起`); a veto as
//! yes/no (`是`/`否`, `true`/`false`, `1`/`0`). Row numbers are the spreadsheet's (the header is
//! row 1); columns are named by their letter and their header.
//!
//! # All or nothing
//!
//! Nothing is recorded unless every row is good. The file is checked in two passes before anything
//! is written: each row is parsed and its value checked with `scoring::check_value`; then every row
//! is **decided by the domain** (`decide`) against a copy of the ledger's state, onto which each
//! accepted row's events are folded, so later rows see earlier ones (a repeated row, a correction of
//! a row above, a stage or scope refusal). Every bad row is reported with its row number and column,
//! and the import is refused as a whole. Only then are the commands executed, one per row, through
//! the application service, all under one correlation id (an auditor sees them as one import).
//!
//! The store appends per stream, so a batch that spans several sheets cannot be one transaction.
//! What closes the remaining gap, another writer changing a sheet between the check and the write,
//! is that every command carries the sheet revision the check was made on: such a change is refused
//! as stale at its first row, the import stops there, and the message says how many rows were
//! recorded and under which correlation id (events are never deleted, so nothing is rolled back).
//! On a ledger no one else writes to at that moment, the import is all or nothing.
//!
//! A row whose item already has the same value is left alone (re-importing a file records nothing
//! twice); a row that changes a recorded value becomes a correction, which needs a `reason`.
//! Imported scores are recorded as the person who imports the file (`--as PERSON`, a registered
//! assessor whose role covers the rows' units), with the source `import` and the file's SHA-256
//! (`file_sha256`), so an auditor can match the paper file to the record.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ledger_projections::domain::{self, Command, Context, Meta, Rejection, State};
use ledger_projections::rubric::find_item;
use ledger_projections::scoring::check_value;
use ledger_schemas::envelope::Actor;
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, RubricId, UnitId, stream};
use ledger_schemas::rubric::{ItemKind, RubricDefinition};
use ledger_schemas::values::{Award, Points, ScoreSource, ScoreValue, Stage};
use uuid::Uuid;

use super::LedgerArg;
use super::rubric::RubricCommand;
use crate::app::{Clock, Ledger};
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
    /// 导入评分表 Score sheets from CSV: all rows or none.
    Scores {
        /// 考核周期 The period, e.g. `2026Q4`.
        #[arg(long)]
        period: PeriodId,
        /// 评分表 The CSV file (columns unit, item, value, note, evidence, reason).
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

/// A column the file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Unit,
    Item,
    Value,
    Note,
    Evidence,
    Reason,
}

impl Field {
    const ALL: [Field; 6] = [
        Field::Unit,
        Field::Item,
        Field::Value,
        Field::Note,
        Field::Evidence,
        Field::Reason,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::Unit => "unit",
            Field::Item => "item",
            Field::Value => "value",
            Field::Note => "note",
            Field::Evidence => "evidence",
            Field::Reason => "reason",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Unit => &["unit", "单位", "单位编码", "考核单位"],
            Field::Item => &["item", "子项目", "子项目编码", "项目"],
            Field::Value => &["value", "得分", "分值", "评价", "考评结果"],
            Field::Note => &["note", "说明", "备注", "评分说明"],
            Field::Evidence => &["evidence", "佐证材料", "佐证"],
            Field::Reason => &["reason", "更正原因", "原因"],
        }
    }

    fn required(self) -> bool {
        matches!(self, Field::Unit | Field::Item | Field::Value)
    }

    fn from_header(header: &str) -> Option<Field> {
        let header = header.trim().trim_start_matches('\u{feff}').to_lowercase();
        Field::ALL
            .into_iter()
            .find(|f| f.aliases().iter().any(|a| *a == header))
    }
}

/// The spreadsheet's letter for a 0-based column: A, B, …, Z, AA, AB, …
fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// One bad row: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowError {
    row: u64,
    /// (letter, header as written), or `None` for the row as a whole.
    column: Option<(String, String)>,
    message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some((letter, header)) => write!(
                f,
                "第 {} 行 {letter} 列 {header} (row {}, column {letter} {header}): {}",
                self.row, self.row, self.message
            ),
            None => write!(f, "第 {} 行 (row {}): {}", self.row, self.row, self.message),
        }
    }
}

/// The header: which field is in which column.
struct Header {
    names: Vec<String>,
    fields: HashMap<Field, usize>,
}

impl Header {
    fn parse(record: &csv::StringRecord) -> anyhow::Result<Self> {
        let mut fields = HashMap::new();
        let mut unknown = Vec::new();
        let names: Vec<String> = record
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect();
        for (i, name) in names.iter().enumerate() {
            match Field::from_header(name) {
                Some(field) => {
                    if let Some(first) = fields.insert(field, i) {
                        bail!(
                            "第 1 行: {} 列与 {} 列都是 {} (row 1: columns {} and {} are both {})",
                            column_letter(first),
                            column_letter(i),
                            field.name(),
                            column_letter(first),
                            column_letter(i),
                            field.name()
                        );
                    }
                }
                None => unknown.push(format!("{} “{name}”", column_letter(i))),
            }
        }
        if !unknown.is_empty() {
            bail!(
                "第 1 行有无法识别的列 {} (row 1 names unknown columns {}); 可用列 (known columns): unit, item, value, note, evidence, reason",
                unknown.join(", "),
                unknown.join(", ")
            );
        }
        let missing: Vec<&str> = Field::ALL
            .into_iter()
            .filter(|f| f.required() && !fields.contains_key(f))
            .map(Field::name)
            .collect();
        if !missing.is_empty() {
            bail!(
                "第 1 行缺少必需的列 {} (row 1 lacks the required columns {}); 首行须为列名, 例如 unit,item,value,note,evidence (the first row names the columns)",
                missing.join(", "),
                missing.join(", ")
            );
        }
        Ok(Self { names, fields })
    }

    fn column(&self, field: Field) -> Option<(String, String)> {
        self.fields
            .get(&field)
            .map(|i| (column_letter(*i), self.names[*i].clone()))
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, field: Field) -> &'r str {
        self.fields
            .get(&field)
            .and_then(|i| record.get(*i))
            .unwrap_or("")
            .trim()
    }

    /// A unit, item or value cell with full-width forms made half-width (`２．５`, `ＳＨ－Ａ`, as a
    /// Chinese IME types them, read as `2.5`, `SH-A`).
    fn get_narrow(&self, record: &csv::StringRecord, field: Field) -> String {
        narrow(self.get(record, field))
    }
}

/// Full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space made half-width.
fn narrow(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The file's text: UTF-8 (with or without a byte-order mark), UTF-16 with one (Excel's "Unicode
/// text"), or else GB18030, which includes GBK (what Excel's "CSV (逗号分隔)" writes on Chinese
/// Windows). A file that is none of these is refused as a whole, naming the line.
fn decode_text(bytes: &[u8]) -> anyhow::Result<String> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, malformed) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if malformed {
            bail!(
                "文件以 {0} 的字节顺序标记开头, 但内容不是有效的 {0} (the file starts with a {0} byte-order mark but is not valid {0}); 请在 Excel 中另存为 CSV UTF-8 (save it again as CSV UTF-8)",
                encoding.name()
            );
        }
        return Ok(text.into_owned());
    }
    let utf8_error = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text.to_owned()),
        Err(e) => e,
    };
    // Where reading it as UTF-8 stopped: the stray bytes of a UTF-8 file, or the first character
    // of a file in some other encoding.
    let upto = utf8_error.valid_up_to();
    let line = bytes[..upto].iter().filter(|b| **b == b'\n').count() + 1;
    // Chinese text in UTF-8 before that point: a UTF-8 file with bad bytes, not a GBK file (whose
    // Chinese characters are almost never valid UTF-8), so it is not read as GBK into mojibake.
    if bytes[..upto].iter().any(|b| !b.is_ascii()) {
        bail!(
            "第 {line} 行: 文件是 UTF-8 编码, 但此行有无效字节 (line {line}: the file is UTF-8 but this line has bytes that are not); 请在 Excel 中另存为 CSV UTF-8 (save it again as CSV UTF-8)"
        );
    }
    let (text, malformed) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if malformed {
        bail!(
            "第 {line} 行: 文件既不是 UTF-8 也不是 GBK/GB18030 编码 (line {line}: the file is neither UTF-8 nor GBK/GB18030); 请在 Excel 中另存为 CSV UTF-8 (save it again as CSV UTF-8)"
        );
    }
    Ok(text.into_owned())
}

/// A row that parsed and fits the rubric.
#[derive(Debug, Clone)]
struct ParsedRow {
    row: u64,
    unit: UnitId,
    item: ItemCode,
    value: ScoreValue,
    note: String,
    evidence: Vec<String>,
    reason: String,
}

/// What a good row will record.
#[derive(Debug, Clone)]
enum Planned {
    Record(u64, Command),
    Correct(u64, Command),
    Unchanged,
}

/// The actor an import records as: `person`, who must be registered and hold the role that records
/// scores (the domain then checks, row by row, that the role covers each row's unit).
fn importer(state: &State, person: &PersonId) -> anyhow::Result<Actor> {
    let Some(p) = state.people.get(person) else {
        bail!(
            "没有人员 {person}, 请用 --as 指定已登记的考评人 (there is no person {person}; name a registered assessor with --as)"
        );
    };
    if !p.roles.contains_key(&Role::Assessor) {
        let held: Vec<String> = p.roles.keys().map(|r| r.to_string()).collect();
        bail!(
            "{person} ({}) 不是考评人, 不能导入得分 ({person} does not hold the assessor role that records scores; holds: {})",
            p.name,
            if held.is_empty() {
                "无 none".to_owned()
            } else {
                held.join(", ")
            }
        );
    }
    Ok(Actor::new(person.clone(), Role::Assessor))
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
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open_existing(path)?);
        let result = async {
            let app = Ledger::open(store.clone(), Clock::System).await?;
            let state = app.folded().state.clone();
            let actor = importer(&state, person)?;
            let now = Utc::now();
            let ctx = Context {
                actor: actor.clone(),
                now,
                today: crate::app::clock::business_date(now),
                file_sha256: Some(file_sha256.clone()),
            };
            let plan = check(&state, &ctx, period, &bytes)
                .with_context(|| format!("{}", file.display()))?;
            let (recorded, corrected, unchanged) = plan.iter().fold((0, 0, 0), |acc, p| match p {
                Planned::Record(..) => (acc.0 + 1, acc.1, acc.2),
                Planned::Correct(..) => (acc.0, acc.1 + 1, acc.2),
                Planned::Unchanged => (acc.0, acc.1, acc.2 + 1),
            });
            if dry_run {
                println!(
                    "校验通过, 未记录任何内容: 将新录入 {recorded} 项, 更正 {corrected} 项, {unchanged} 项未变 (dry run, every row is good and nothing was recorded: {recorded} new scores, {corrected} corrections, {unchanged} unchanged)"
                );
                return anyhow::Ok(());
            }
            execute(&app, &actor, &file_sha256, plan).await?;
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

/// Checks the whole file against `state` (see the module docs) and returns what each row will
/// record, or fails listing every bad row on standard error.
fn check(
    state: &State,
    ctx: &Context,
    period: &PeriodId,
    bytes: &[u8],
) -> anyhow::Result<Vec<Planned>> {
    let Some(p) = state.periods.get(period) else {
        let known: Vec<&str> = state.periods.keys().map(PeriodId::as_str).collect();
        bail!(
            "没有考核周期 {period} (there is no period {period}); 已有 (known): {}",
            if known.is_empty() {
                "无 none".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    if !matches!(p.stage, Stage::Scoring | Stage::Review) {
        bail!(
            "考核周期 {period} 处于“{}”阶段, 只能在考评或审核阶段导入得分 (period {period} is in stage {}; scores are imported in scoring or review)",
            p.stage.label(),
            p.stage.label()
        );
    }
    let def = state
        .period_definition(period)
        .with_context(|| format!("考核周期 {period} 的评分细则版本缺失 (the rubric version of period {period} is missing)"))?
        .clone();

    let text = decode_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = Header::parse(
        reader
            .headers()
            .context("无法读取首行 (cannot read the header row)")?,
    )?;

    let mut errors: Vec<RowError> = Vec::new();
    let mut parsed: Vec<ParsedRow> = Vec::new();
    let mut seen: HashMap<(UnitId, ItemCode), u64> = HashMap::new();
    let mut rows = 0usize;
    for result in reader.records() {
        let record = match result {
            Ok(record) => record,
            Err(err) => {
                let row = err.position().map_or(0, |p| p.line());
                let column = match err.kind() {
                    csv::ErrorKind::Utf8 { err, .. } => header
                        .names
                        .get(err.field())
                        .map(|name| (column_letter(err.field()), name.clone())),
                    _ => None,
                };
                errors.push(RowError {
                    row,
                    column,
                    message: format!("无法读取 (unreadable): {err}"),
                });
                continue;
            }
        };
        let row = record.position().map_or(0, |p| p.line());
        // Spreadsheets leave rows of empty cells at the end; they say nothing.
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows += 1;
        if record.len() != header.names.len() {
            errors.push(RowError {
                row,
                column: None,
                message: format!(
                    "有 {} 列, 首行有 {} 列 (has {} columns, the header has {})",
                    record.len(),
                    header.names.len(),
                    record.len(),
                    header.names.len()
                ),
            });
            continue;
        }
        match parse_row(
            state,
            p.units.as_slice(),
            period,
            &def,
            &header,
            &record,
            row,
        ) {
            Ok(r) => {
                if let Some(first) = seen.insert((r.unit.clone(), r.item.clone()), row) {
                    errors.push(RowError {
                        row,
                        column: header.column(Field::Item),
                        message: format!(
                            "{} 的 {} 与第 {first} 行重复 (duplicates row {first} for {} {})",
                            r.unit, r.item, r.unit, r.item
                        ),
                    });
                } else {
                    parsed.push(r);
                }
            }
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }
    if rows == 0 && errors.is_empty() {
        bail!("文件没有数据行 (the file has no data rows)");
    }

    let plan = decide_all(state, ctx, period, &header, parsed, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        for e in &errors {
            eprintln!("{e}");
        }
        let bad_rows = {
            let mut r: Vec<u64> = errors.iter().map(|e| e.row).collect();
            r.dedup();
            r.len()
        };
        bail!(
            "导入被拒绝: {bad_rows} 行有误 (共 {} 处), 未记录任何内容 (import refused: {bad_rows} bad rows, {} problems; nothing was recorded)",
            errors.len(),
            errors.len()
        );
    }
    Ok(plan)
}

/// Parses one row and checks its value against the rubric; every problem of the row is reported.
fn parse_row(
    state: &State,
    units: &[UnitId],
    period: &PeriodId,
    def: &RubricDefinition,
    header: &Header,
    record: &csv::StringRecord,
    row: u64,
) -> Result<ParsedRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut fail = |field: Field, message: String| {
        errors.push(RowError {
            row,
            column: header.column(field),
            message,
        });
    };

    let unit_text = header.get_narrow(record, Field::Unit);
    let unit = match unit_text.parse::<UnitId>() {
        Err(e) => {
            fail(Field::Unit, e.to_string());
            None
        }
        Ok(unit) if !state.units.contains_key(&unit) => {
            fail(
                Field::Unit,
                format!("没有单位 {unit} (there is no unit {unit})"),
            );
            None
        }
        Ok(unit) if !units.contains(&unit) => {
            fail(
                Field::Unit,
                format!(
                    "单位 {unit} 不在考核周期 {period} 中 (unit {unit} is not assessed in period {period})"
                ),
            );
            None
        }
        Ok(unit) => Some(unit),
    };

    let item_text = header.get_narrow(record, Field::Item);
    let item = match item_text.parse::<ItemCode>() {
        Err(e) => {
            fail(Field::Item, e.to_string());
            None
        }
        Ok(item) => match find_item(def, &item) {
            None => {
                fail(
                    Field::Item,
                    format!(
                        "考核周期 {period} 的评分细则中没有子项目 {item} (the rubric of period {period} has no item {item})"
                    ),
                );
                None
            }
            Some((_, found)) => Some((item, found.kind.clone())),
        },
    };

    let value_text = header.get_narrow(record, Field::Value);
    let value = match &item {
        // Without a known item the value cannot be read (its kind decides how).
        None => None,
        Some((code, kind)) => match parse_value(def, kind, &value_text) {
            Err(message) => {
                fail(Field::Value, message);
                None
            }
            Ok(value) => match check_value(def, code, &value) {
                Err(why) => {
                    fail(Field::Value, why.to_string());
                    None
                }
                Ok(()) => Some(value),
            },
        },
    };

    match (unit, item, value) {
        (Some(unit), Some((item, _)), Some(value)) if errors.is_empty() => Ok(ParsedRow {
            row,
            unit,
            item,
            value,
            note: header.get(record, Field::Note).to_owned(),
            evidence: split_list(header.get(record, Field::Evidence)),
            reason: header.get(record, Field::Reason).to_owned(),
        }),
        _ => Err(errors),
    }
}

/// Reads a cell as the value an item of `kind` takes.
fn parse_value(def: &RubricDefinition, kind: &ItemKind, text: &str) -> Result<ScoreValue, String> {
    let text = text.trim();
    if text.is_empty() && !matches!(kind, ItemKind::Bonus { .. }) {
        return Err("得分为空 (the value is empty)".into());
    }
    match kind {
        ItemKind::Points { .. } => {
            let number = text.trim_end_matches('分').trim();
            number
                .parse::<Points>()
                .map(|points| ScoreValue::Points { points })
                .map_err(|e| e.to_string())
        }
        ItemKind::Ladder { .. } => {
            let wanted = text.to_lowercase();
            def.ladder
                .iter()
                .find(|s| {
                    s.level.as_str().eq_ignore_ascii_case(text)
                        || s.label.zh == text
                        || s.label.en.as_deref().map(str::to_lowercase).as_deref() == Some(&wanted)
                })
                .map(|s| ScoreValue::Level {
                    level: s.level.clone(),
                })
                .ok_or_else(|| {
                    let levels: Vec<String> = def
                        .ladder
                        .iter()
                        .map(|s| format!("{} {}", s.level, s.label.zh))
                        .collect();
                    format!(
                        "“{text}”不是定性等级, 可选 {} (“{text}” is not a level of the ladder; one of {})",
                        levels.join(" / "),
                        levels.join(" / ")
                    )
                })
        }
        ItemKind::Bonus { .. } => parse_awards(text),
        ItemKind::Deduction { .. } => {
            let number = text.trim_end_matches("cases").trim_end_matches('起').trim();
            number
                .parse::<u32>()
                .map(|cases| ScoreValue::Cases { cases })
                .map_err(|_| {
                    format!("“{text}”不是扣分起数 (“{text}” is not a number of cases, e.g. 2)")
                })
        }
        ItemKind::Veto => match text.to_lowercase().as_str() {
            "是" | "否决" | "yes" | "y" | "true" | "1" => Ok(ScoreValue::Veto { vetoed: true }),
            "否" | "不否决" | "no" | "n" | "false" | "0" => {
                Ok(ScoreValue::Veto { vetoed: false })
            }
            _ => Err(format!(
                "“{text}”不是是/否 (“{text}” is not yes or no: 是/否, yes/no, 1/0)"
            )),
        },
    }
}

/// `title:points; title:points`, a bare number (one award), or `无`/`none`/empty (no award).
fn parse_awards(text: &str) -> Result<ScoreValue, String> {
    if text.is_empty() || matches!(text.to_lowercase().as_str(), "无" | "none" | "0") {
        return Ok(ScoreValue::Awards { awards: vec![] });
    }
    let mut awards = Vec::new();
    for part in split_list(text) {
        let (title, amount) = match part.rsplit_once([':', '：']) {
            Some((title, amount)) => (title.trim().to_owned(), amount.trim()),
            None => ("加分 bonus".to_owned(), part.as_str()),
        };
        let points = amount
            .trim_end_matches('分')
            .trim()
            .parse::<Points>()
            .map_err(|e| {
                format!(
                    "加分事项“{part}”: {e} (award {part:?}: write title:points, e.g. 市级表彰:1)"
                )
            })?;
        if title.is_empty() {
            return Err(format!(
                "加分事项“{part}”缺少名称 (award {part:?} has no title; write title:points)"
            ));
        }
        awards.push(Award { title, points });
    }
    Ok(ScoreValue::Awards { awards })
}

/// A list cell: items separated by `;`, `；`, `|` or line breaks, blanks dropped.
fn split_list(text: &str) -> Vec<String> {
    text.split([';', '；', '|', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Decides every parsed row in file order against a copy of the state, folding each accepted row's
/// events onto it; refusals become row errors.
fn decide_all(
    state: &State,
    ctx: &Context,
    period: &PeriodId,
    header: &Header,
    rows: Vec<ParsedRow>,
    errors: &mut Vec<RowError>,
) -> Vec<Planned> {
    let mut sim = state.clone();
    let mut plan = Vec::with_capacity(rows.len());
    for r in rows {
        let sheet_stream = stream::sheet(period, &r.unit);
        let expected_revision = sim.revision(&sheet_stream);
        let on_record = sim
            .sheet(period, &r.unit)
            .and_then(|s| s.live(&r.item))
            .map(|s| s.value.clone());
        let command = match on_record {
            Some(current) if current == r.value => {
                plan.push(Planned::Unchanged);
                continue;
            }
            Some(current) => {
                if r.reason.is_empty() {
                    errors.push(RowError {
                        row: r.row,
                        column: header.column(Field::Reason).or(header.column(Field::Value)),
                        message: format!(
                            "{} 的 {} 已有得分, 更正须在 reason 列说明原因 ({} {} is already scored; a correction needs a reason in a reason column)",
                            r.unit, r.item, r.unit, r.item
                        ),
                    });
                    continue;
                }
                Command::CorrectScore {
                    period: period.clone(),
                    unit: r.unit.clone(),
                    item: r.item.clone(),
                    previous: current,
                    value: r.value.clone(),
                    note: r.note.clone(),
                    evidence: r.evidence.clone(),
                    source: ScoreSource::Import,
                    reason: r.reason.clone(),
                    expected_revision,
                }
            }
            None => Command::RecordScore {
                period: period.clone(),
                unit: r.unit.clone(),
                item: r.item.clone(),
                value: r.value.clone(),
                note: r.note.clone(),
                evidence: r.evidence.clone(),
                source: ScoreSource::Import,
                expected_revision,
            },
        };
        match domain::decide(&sim, ctx, command.clone()) {
            Ok(decision) => {
                for event in &decision.events {
                    let meta = Meta {
                        position: sim.position + 1,
                        actor: ctx.actor.clone(),
                        recorded_at: ctx.now,
                    };
                    sim.evolve(&meta, event);
                }
                plan.push(match command {
                    Command::CorrectScore { .. } => Planned::Correct(r.row, command),
                    _ => Planned::Record(r.row, command),
                });
            }
            Err(rejection) => {
                let field = match &rejection {
                    Rejection::UnknownUnit { .. }
                    | Rejection::UnitNotInPeriod { .. }
                    | Rejection::NotAssignedToUnit { .. } => Some(Field::Unit),
                    Rejection::ReasonRequired { .. } => Some(Field::Reason),
                    Rejection::Value(_)
                    | Rejection::AlreadyScored { .. }
                    | Rejection::NotScored { .. }
                    | Rejection::StaleValue { .. }
                    | Rejection::NothingToCorrect { .. }
                    | Rejection::ItemApproved { .. }
                    | Rejection::NeedsRescoring { .. } => Some(Field::Value),
                    // A text rule (control or bidirectional characters, lengths): its column.
                    Rejection::Text(refusal) => {
                        let name = refusal.field.split(['.', '[']).next().unwrap_or_default();
                        Field::ALL.into_iter().find(|f| f.name() == name)
                    }
                    _ => None,
                };
                errors.push(RowError {
                    row: r.row,
                    column: field.and_then(|f| header.column(f)),
                    message: rejection.to_string(),
                });
            }
        }
    }
    plan
}

/// Executes the checked rows in file order under one correlation id, with a progress bar.
async fn execute(
    app: &Ledger<SqliteStore>,
    actor: &Actor,
    file_sha256: &str,
    plan: Vec<Planned>,
) -> anyhow::Result<()> {
    let commands: Vec<(u64, Command)> = plan
        .into_iter()
        .filter_map(|p| match p {
            Planned::Record(row, c) | Planned::Correct(row, c) => Some((row, c)),
            Planned::Unchanged => None,
        })
        .collect();
    let bar = ProgressBar::new(commands.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("导入 importing");
    let correlation = Uuid::now_v7();
    for (done, (row, command)) in commands.into_iter().enumerate() {
        if let Err(err) = app
            .execute_imported(actor.clone(), command, correlation, file_sha256)
            .await
        {
            bar.abandon();
            bail!(
                "第 {row} 行记录失败 (row {row} was not recorded): {err}; 此前 {done} 行已记录, 关联标识 {correlation}, 其后各行未记录 (the {done} rows before it were recorded under correlation id {correlation}, the rest were not)"
            );
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column letters follow the spreadsheet: A…Z, then AA.
    #[test]
    fn column_letters_are_the_spreadsheets() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    /// Cells read by item kind: points with or without 分, ladder labels, awards, cases, yes/no.
    #[test]
    fn values_read_by_item_kind() {
        let def = ledger_projections::rubric::default_template();
        let kind = |code: &str| {
            find_item(&def, &code.parse().unwrap())
                .unwrap()
                .1
                .kind
                .clone()
        };
        assert_eq!(
            parse_value(&def, &kind("A1"), "1.5分").unwrap(),
            ScoreValue::Points {
                points: "1.5".parse().unwrap()
            }
        );
        assert_eq!(
            parse_value(&def, &kind("B2"), "较好").unwrap(),
            ScoreValue::Level {
                level: "fairly_good".parse().unwrap()
            }
        );
        assert!(parse_value(&def, &kind("B2"), "优").is_err());
        assert_eq!(
            parse_value(&def, &kind("G2"), "市级表彰:1；集团表彰：0.5").unwrap(),
            ScoreValue::Awards {
                awards: vec![
                    Award {
                        title: "市级表彰".into(),
                        points: "1".parse().unwrap()
                    },
                    Award {
                        title: "集团表彰".into(),
                        points: "0.5".parse().unwrap()
                    },
                ]
            }
        );
        assert_eq!(
            parse_value(&def, &kind("G1"), "无").unwrap(),
            ScoreValue::Awards { awards: vec![] }
        );
        assert_eq!(
            parse_value(&def, &kind("G3"), "2起").unwrap(),
            ScoreValue::Cases { cases: 2 }
        );
        assert_eq!(
            parse_value(&def, &kind("G4"), "否").unwrap(),
            ScoreValue::Veto { vetoed: false }
        );
        assert!(parse_value(&def, &kind("A1"), "").is_err());
    }
}
