//! Importing score sheets and business results from the files assessment offices keep: CSV as
//! Excel saves it, or an `.xlsx` workbook (such as the templates `template.rs` writes). Used by
//! `ledger import scores|business` (`cli/import.rs`), the import API (`http/imports.rs`) and the
//! console's import pages (`console/import.rs`).
//!
//! Both imports read files the same way: each names its columns by a type implementing [`Column`]
//! (score sheets: [`Field`], below; business results: `business::BusinessField`, whose columns
//! `business.rs` lists), and share the header, the readers, blank and short rows, the unit lookup
//! (a unit's code, or its name when no other unit has it), the decision of every row against a
//! copy of the state, the row/column report, the plan's fingerprint and its execution
//! ([`ImportPlan`], [`execute`]). What follows describes score sheets; business results differ only
//! in their columns and in what a row records.
//!
//! # The file
//!
//! A CSV file is UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or
//! GBK/GB18030 (what Excel's "CSV (逗号分隔)" writes on Chinese Windows); `csv_in.rs` reads it. An
//! `.xlsx` workbook is read from its sheet named `评分表` (or `scores`); `xlsx_in.rs` reads it and
//! says which cells it refuses (merged cells, formulas, dates, numbers where a code is expected).
//! Either way, units, items and values typed with full-width forms (`ＳＨ－Ａ`, `２．５`, the
//! ideographic space) are read half-width.
//!
//! The first row names the columns, in any order, in English or Chinese:
//!
//! | column | also | required | what |
//! |---|---|---|---|
//! | `unit` | 单位, 单位编码, 考核单位 | yes | the unit's id, e.g. `SH-CZ-B1` (or its name, when unique) |
//! | `item` | 子项目, 子项目编码, 项目 | yes | the item's code, e.g. `B2` |
//! | `value` | 得分, 分值, 评价, 考评结果 | yes | see below |
//! | `note` | 说明, 备注, 评分说明 | no | the assessor's note |
//! | `evidence` | 佐证材料, 佐证 | no | references, separated by `;` (or `；`, `|`, a line break) |
//! | `reason` | 更正原因, 原因 | no | needed only when a row changes a score already recorded |
//! | `aspect`, `title`, `content`, `max`, `responsible` | 考核方面, 考评项目, 考评内容, 满分, 责任人 | no | what the template shows beside each item; read by people, ignored here |
//!
//! The value is read by the item's kind in the period's **current** rubric version: points as a
//! decimal (`2.5`, or `2.5分`); a ladder level by its code or its label (`good` / `好`, `较好`,
//! `一般`, `差`); awards as `title:points` pairs separated by `;` (a bare number is one award;
//! `无` or `none` for no award); deduction cases as a whole number (`2`, or `2起`); a veto as
//! yes/no (`是`/`否`, `true`/`false`, `1`/`0`). A row whose value, note, evidence and reason are
//! all empty is left out (a template row not scored yet). Row numbers are the spreadsheet's (the
//! header is row 1); columns are named by their letter and their header.
//!
//! # All or nothing
//!
//! Nothing is recorded unless every row is good. The file is checked in two passes before anything
//! is written: each row is parsed and its value checked with `scoring::check_value`; then every row
//! is **decided by the domain** (`decide`) against a copy of the ledger's state, onto which each
//! accepted row's events are folded, so later rows see earlier ones (a repeated row, a correction of
//! a row above, a stage or scope refusal). Every bad row is reported with its row number and column
//! (`RowsRefused`), and the import is refused as a whole. Only then are the commands executed, one
//! per row, through the application service, all under one correlation id (an auditor sees them as
//! one import).
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
//! Imported scores are recorded as the person who imports the file (a registered assessor whose
//! role covers the rows' units), with the source `import` and the file's SHA-256 (`file_sha256`),
//! so an auditor can match the paper file to the record.

pub mod business;
mod csv_in;
pub mod template;
mod xlsx_in;

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use ledger_projections::domain::state::PeriodState;
use ledger_projections::domain::{self, Command, Context, Meta, Rejection, State};
use ledger_projections::rubric::find_item;
use ledger_projections::scoring::check_value;
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, UnitId, stream};
use ledger_schemas::rubric::{ItemKind, RubricDefinition};
use ledger_schemas::values::{Award, Points, ScoreSource, ScoreValue, Stage};
use uuid::Uuid;

use crate::app::Ledger;
use crate::store::EventStore;

/// A column the file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Unit,
    Item,
    Value,
    Note,
    Evidence,
    Reason,
    /// The template's columns for people to read beside each item; ignored on import.
    Aspect,
    Title,
    Content,
    Max,
    Responsible,
}

/// The columns of one kind of import file (score sheets: [`Field`]; business results:
/// `business::BusinessField`): what the header, the CSV and workbook readers and the row checks
/// need to know of them, so that both imports read files the same way.
pub(crate) trait Column: Copy + Eq + std::hash::Hash + 'static {
    /// Every column, in the order the template writes them.
    const ALL: &'static [Self];
    /// The names the workbook's sheet may have (the template writes the first).
    const SHEETS: &'static [&'static str];

    /// The column's English name, as the API and the error messages name it.
    fn name(self) -> &'static str;

    /// The headers it may have, the English name first, then the Chinese ones.
    fn aliases(self) -> &'static [&'static str];

    fn required(self) -> bool;

    /// Whether a cell of this column is a code (unit, item), which a workbook must hold as text.
    fn is_code(self) -> bool;

    /// Whether a filled cell of this column makes a row one to import: a template row with only
    /// its read-only columns (codes, names, titles) filled in is left out.
    fn is_entry(self) -> bool;

    /// The header the template writes, the first Chinese alias.
    fn zh(self) -> &'static str {
        self.aliases()[1]
    }

    fn from_header(header: &str) -> Option<Self> {
        let header = header.trim().trim_start_matches('\u{feff}').to_lowercase();
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.aliases().iter().any(|a| *a == header))
    }
}

impl Column for Field {
    const ALL: &'static [Field] = &[
        Field::Unit,
        Field::Item,
        Field::Value,
        Field::Note,
        Field::Evidence,
        Field::Reason,
        Field::Aspect,
        Field::Title,
        Field::Content,
        Field::Max,
        Field::Responsible,
    ];
    const SHEETS: &'static [&'static str] = &["评分表", "scores"];

    fn name(self) -> &'static str {
        match self {
            Field::Unit => "unit",
            Field::Item => "item",
            Field::Value => "value",
            Field::Note => "note",
            Field::Evidence => "evidence",
            Field::Reason => "reason",
            Field::Aspect => "aspect",
            Field::Title => "title",
            Field::Content => "content",
            Field::Max => "max",
            Field::Responsible => "responsible",
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
            Field::Aspect => &["aspect", "考核方面"],
            Field::Title => &["title", "考评项目"],
            Field::Content => &["content", "考评内容"],
            Field::Max => &["max", "满分"],
            Field::Responsible => &["responsible", "责任人"],
        }
    }

    fn required(self) -> bool {
        matches!(self, Field::Unit | Field::Item | Field::Value)
    }

    fn is_code(self) -> bool {
        matches!(self, Field::Unit | Field::Item)
    }

    fn is_entry(self) -> bool {
        matches!(
            self,
            Field::Value | Field::Note | Field::Evidence | Field::Reason
        )
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
pub struct RowError {
    /// The spreadsheet's row number (the header is row 1).
    pub row: u64,
    /// (letter, header as written), or `None` for the row as a whole.
    pub column: Option<(String, String)>,
    pub message: String,
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

/// The refusal of a file with bad rows: every problem, by row and column. Nothing was recorded.
#[derive(Debug)]
pub struct RowsRefused(pub Vec<RowError>);

impl std::fmt::Display for RowsRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rows: Vec<u64> = self.0.iter().map(|e| e.row).collect();
        rows.dedup();
        let (bad_rows, problems) = (rows.len(), self.0.len());
        write!(
            f,
            "导入被拒绝: {bad_rows} 行有误 (共 {problems} 处), 未记录任何内容 (import refused: {bad_rows} bad rows, {problems} problems; nothing was recorded)"
        )
    }
}

impl std::error::Error for RowsRefused {}

/// The header: which field is in which column.
struct Header<C: Column = Field> {
    names: Vec<String>,
    fields: HashMap<C, usize>,
}

impl<C: Column> Header<C> {
    fn parse<'a>(cells: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Self> {
        let mut fields = HashMap::new();
        let mut unknown = Vec::new();
        let names: Vec<String> = cells
            .into_iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
            .collect();
        for (i, name) in names.iter().enumerate() {
            match C::from_header(name) {
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
        // The columns a file is written with (the template's read-only columns aside).
        let known: Vec<&str> = C::ALL
            .iter()
            .filter(|f| f.required() || f.is_entry())
            .map(|f| f.name())
            .collect();
        if !unknown.is_empty() {
            bail!(
                "第 1 行有无法识别的列 {} (row 1 names unknown columns {}); 可用列 (known columns): {}",
                unknown.join(", "),
                unknown.join(", "),
                known.join(", ")
            );
        }
        let missing: Vec<&str> = C::ALL
            .iter()
            .filter(|f| f.required() && !fields.contains_key(f))
            .map(|f| f.name())
            .collect();
        if !missing.is_empty() {
            bail!(
                "第 1 行缺少必需的列 {} (row 1 lacks the required columns {}); 首行须为列名, 例如 {} (the first row names the columns)",
                missing.join(", "),
                missing.join(", "),
                known.join(",")
            );
        }
        Ok(Self { names, fields })
    }

    fn column(&self, field: C) -> Option<(String, String)> {
        self.fields
            .get(&field)
            .map(|i| (column_letter(*i), self.names[*i].clone()))
    }

    /// The field of the 0-based column `index`.
    fn field_at(&self, index: usize) -> Option<C> {
        self.fields
            .iter()
            .find(|(_, i)| **i == index)
            .map(|(f, _)| *f)
    }

    fn get<'r>(&self, record: &'r [String], field: C) -> &'r str {
        self.fields
            .get(&field)
            .and_then(|i| record.get(*i))
            .map_or("", |c| c.trim())
    }

    /// A unit, item or value cell with full-width forms made half-width (`２．５`, `ＳＨ－Ａ`, as a
    /// Chinese IME types them, read as `2.5`, `SH-A`).
    fn get_narrow(&self, record: &[String], field: C) -> String {
        narrow(self.get(record, field))
    }

    /// Whether the cells the import reads are all empty: a template row not filled in yet.
    fn is_blank(&self, record: &[String]) -> bool {
        C::ALL
            .iter()
            .filter(|f| f.is_entry())
            .all(|f| self.get(record, *f).is_empty())
    }

    /// The column a domain refusal of a text rule names (`Rejection::Text`'s field, e.g.
    /// `note` or `evidence[2]`), when the file has it.
    fn text_column(&self, refusal_field: &str) -> Option<(String, String)> {
        let name = refusal_field.split(['.', '[']).next().unwrap_or_default();
        C::ALL
            .iter()
            .find(|f| f.name() == name)
            .and_then(|f| self.column(*f))
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

/// One data row of the file as text, with its spreadsheet row number.
struct Row {
    row: u64,
    cells: Vec<String>,
}

/// A file read into rows, before any row is checked: its header, its rows, and the problems met
/// while reading (cells a workbook holds in a form the import does not take, unreadable lines).
struct Table<C: Column = Field> {
    header: Header<C>,
    rows: Vec<Row>,
    errors: Vec<RowError>,
}

impl<C: Column> Table<C> {
    /// The rows to check, in file order: rows of empty cells (which spreadsheets leave at the end)
    /// and rows whose entry columns are all empty (template rows not filled in) left out; a row
    /// with more or fewer cells than the header is put in `errors`. A file with no data row at all
    /// is refused as a whole.
    fn data_rows(self) -> anyhow::Result<(Header<C>, Vec<Row>, Vec<RowError>)> {
        let Table {
            header,
            rows,
            mut errors,
        } = self;
        let mut data = Vec::new();
        let mut count = 0usize;
        for Row { row, cells } in rows {
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            count += 1;
            if cells.len() != header.names.len() {
                errors.push(RowError {
                    row,
                    column: None,
                    message: format!(
                        "有 {} 列, 首行有 {} 列 (has {} columns, the header has {})",
                        cells.len(),
                        header.names.len(),
                        cells.len(),
                        header.names.len()
                    ),
                });
                continue;
            }
            if header.is_blank(&cells) {
                continue;
            }
            data.push(Row { row, cells });
        }
        if count == 0 && errors.is_empty() {
            bail!("文件没有数据行 (the file has no data rows)");
        }
        Ok((header, data, errors))
    }
}

/// Reads a file as CSV or as an `.xlsx` workbook: a workbook by its content (a ZIP archive) or by
/// its name; a name ending in `.xlsx` whose content is not a workbook is refused, not read as CSV.
fn read_table<C: Column>(file_name: &str, bytes: &[u8]) -> anyhow::Result<Table<C>> {
    let lower = file_name.to_lowercase();
    if bytes.starts_with(b"PK\x03\x04") || lower.ends_with(".xlsx") {
        return xlsx_in::read(bytes);
    }
    // The compound-file signature of Excel 97-2003 `.xls` workbooks.
    if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) || lower.ends_with(".xls") {
        bail!(
            "这是旧版 Excel 97-2003 (.xls) 文件, 请在 Excel 中另存为 .xlsx 或 CSV UTF-8 (an Excel 97-2003 .xls file; save it again as .xlsx or CSV UTF-8)"
        );
    }
    csv_in::read(bytes)
}

/// A row that parsed and fits the rubric.
#[derive(Debug, Clone)]
struct ParsedRow {
    row: u64,
    unit: UnitId,
    item: ItemCode,
    value: ScoreValue,
    value_text: String,
    note: String,
    evidence: Vec<String>,
    reason: String,
}

/// What a good row will do.
#[derive(Debug, Clone)]
pub enum Action {
    Record(Command),
    Correct(Command),
    /// The item already has this value: nothing to record.
    Unchanged,
}

/// A good row as it will be recorded: what the preview shows.
#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub row: u64,
    pub unit: UnitId,
    pub item: ItemCode,
    pub value: ScoreValue,
    /// The value as the file wrote it (half-width).
    pub value_text: String,
    pub note: String,
    pub evidence: Vec<String>,
    pub reason: String,
    pub action: Action,
}

impl PlannedRow {
    fn new(r: ParsedRow, action: Action) -> Self {
        Self {
            row: r.row,
            unit: r.unit,
            item: r.item,
            value: r.value,
            value_text: r.value_text,
            note: r.note,
            evidence: r.evidence,
            reason: r.reason,
            action,
        }
    }
}

/// Every good row of a checked file, in file order (blank rows left out).
#[derive(Debug, Clone)]
pub struct Plan {
    pub rows: Vec<PlannedRow>,
}

impl ImportPlan for Plan {
    fn digest(&self, file_sha256: &str) -> String {
        digest(
            file_sha256,
            self.rows.iter().map(|p| {
                let action = match &p.action {
                    Action::Record(_) => "record",
                    Action::Correct(_) => "correct",
                    Action::Unchanged => "unchanged",
                };
                serde_json::json!([
                    p.row, p.unit, p.item, action, p.value, p.note, p.evidence, p.reason
                ])
            }),
        )
    }

    fn commands(&self) -> Vec<(u64, &Command)> {
        self.rows
            .iter()
            .filter_map(|p| match &p.action {
                Action::Record(command) | Action::Correct(command) => Some((p.row, command)),
                Action::Unchanged => None,
            })
            .collect()
    }

    /// (new scores, corrections, unchanged).
    fn counts(&self) -> (usize, usize, usize) {
        self.rows.iter().fold((0, 0, 0), |acc, p| match p.action {
            Action::Record(_) => (acc.0 + 1, acc.1, acc.2),
            Action::Correct(_) => (acc.0, acc.1 + 1, acc.2),
            Action::Unchanged => (acc.0, acc.1, acc.2 + 1),
        })
    }
}

/// The actor an import records as: `person`, who must be registered and hold one of `roles` (the
/// first held is taken; the domain then checks, row by row, that the role covers each row's unit).
/// `what` names what is imported, for the refusal.
fn importer_in(
    state: &State,
    person: &PersonId,
    roles: &[Role],
    what: (&str, &str),
) -> anyhow::Result<Actor> {
    let Some(p) = state.people.get(person) else {
        bail!(
            "没有人员 {person}, 请用 --as 指定已登记的人员 (there is no person {person}; name a registered person with --as)"
        );
    };
    match roles.iter().find(|r| p.roles.contains_key(r)) {
        Some(role) => Ok(Actor::new(person.clone(), *role)),
        None => {
            let held: Vec<String> = p.roles.keys().map(|r| r.to_string()).collect();
            let may: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
            bail!(
                "{person} ({}) 不能导入{} ({person} holds no role that records {}: {} may; holds: {})",
                p.name,
                what.0,
                what.1,
                may.join(", "),
                if held.is_empty() {
                    "无 none".to_owned()
                } else {
                    held.join(", ")
                }
            )
        }
    }
}

/// The actor a score import records as: `person`, holding the assessor role that records scores.
pub fn importer(state: &State, person: &PersonId) -> anyhow::Result<Actor> {
    importer_in(state, person, &[Role::Assessor], ("得分", "scores"))
}

/// Checks the whole file against `state` (see the module docs) and returns what each row will
/// record. A file with bad rows fails with `RowsRefused` (every row error); a file that cannot be
/// read as a whole, or a period that takes no scores, fails with one message.
pub fn check_scores(
    state: &State,
    ctx: &Context,
    period: &PeriodId,
    file_name: &str,
    bytes: &[u8],
) -> anyhow::Result<Plan> {
    let p = period_of(state, period)?;
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

    let (header, table_rows, mut errors) = read_table::<Field>(file_name, bytes)?.data_rows()?;
    let mut parsed: Vec<ParsedRow> = Vec::new();
    let mut seen: HashMap<(UnitId, ItemCode), u64> = HashMap::new();
    for Row { row, cells } in table_rows {
        match parse_row(
            state,
            p.units.as_slice(),
            period,
            &def,
            &header,
            &cells,
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

    let plan = decide_all(state, ctx, period, &header, parsed, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(RowsRefused(errors).into());
    }
    if plan.is_empty() {
        bail!("文件的每一行都没有填写得分 (no row of the file has a value filled in)");
    }
    Ok(Plan { rows: plan })
}

/// Parses one row and checks its value against the rubric; every problem of the row is reported.
fn parse_row(
    state: &State,
    units: &[UnitId],
    period: &PeriodId,
    def: &RubricDefinition,
    header: &Header,
    record: &[String],
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

    let unit = resolve_unit(
        state,
        units,
        period,
        &header.get_narrow(record, Field::Unit),
    )
    .map_err(|message| fail(Field::Unit, message))
    .ok();

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
            value_text,
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
        ItemKind::Veto => parse_yes_no(text)
            .map(|vetoed| ScoreValue::Veto { vetoed })
            .ok_or_else(|| not_yes_no(text)),
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
) -> Vec<PlannedRow> {
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
                plan.push(PlannedRow::new(r, Action::Unchanged));
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
                    files: Vec::new(),
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
                files: Vec::new(),
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
        match simulate(&mut sim, ctx, command.clone()) {
            Ok(()) => {
                let action = match command {
                    Command::CorrectScore { .. } => Action::Correct(command),
                    _ => Action::Record(command),
                };
                plan.push(PlannedRow::new(r, action));
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
                    _ => None,
                };
                let column = match &rejection {
                    // A text rule (control or bidirectional characters, lengths): its column.
                    Rejection::Text(refusal) => header.text_column(&refusal.field),
                    _ => field.and_then(|f| header.column(f)),
                };
                errors.push(RowError {
                    row: r.row,
                    column,
                    message: rejection.to_string(),
                });
            }
        }
    }
    plan
}

/// Decides `command` against the copy of the state an import checks its rows on, and folds its
/// events onto it, so the rows below see this one (a repeated row, a later change of the same
/// record).
fn simulate(sim: &mut State, ctx: &Context, command: Command) -> Result<(), Rejection> {
    let decision = domain::decide(sim, ctx, command)?;
    for event in &decision.events {
        let meta = Meta {
            position: sim.position + 1,
            actor: ctx.actor.clone(),
            recorded_at: ctx.now,
        };
        sim.evolve(&meta, event);
    }
    Ok(())
}

/// A plan's fingerprint: the file's SHA-256, then one JSON line per row saying what it records.
fn digest(file_sha256: &str, lines: impl IntoIterator<Item = serde_json::Value>) -> String {
    let mut text = format!("{file_sha256}\n");
    for line in lines {
        text.push_str(&line.to_string());
        text.push('\n');
    }
    crate::audit::bundle::sha256_hex(text.as_bytes())
}

/// The period a file is imported into; refused by name, with the periods there are.
fn period_of<'s>(state: &'s State, period: &PeriodId) -> anyhow::Result<&'s PeriodState> {
    state.periods.get(period).with_context(|| {
        let known: Vec<&str> = state.periods.keys().map(PeriodId::as_str).collect();
        format!(
            "没有考核周期 {period} (there is no period {period}); 已有 (known): {}",
            if known.is_empty() {
                "无 none".to_owned()
            } else {
                known.join(", ")
            }
        )
    })
}

/// A unit cell (`text`, already made half-width): the unit's id, or its name as registered (when
/// exactly one unit of the ledger has it), which must be assessed in `period` (whose units are
/// `units`).
fn resolve_unit(
    state: &State,
    units: &[UnitId],
    period: &PeriodId,
    text: &str,
) -> Result<UnitId, String> {
    // Names compared as the cell is read (full-width forms made half-width), so 一支部（东） in the
    // file finds 一支部（东） on record.
    let by_name: Vec<&UnitId> = state
        .units
        .iter()
        .filter(|(_, u)| narrow(&u.name) == text)
        .map(|(id, _)| id)
        .collect();
    let unit = match text.parse::<UnitId>() {
        Ok(unit) if state.units.contains_key(&unit) => unit,
        _ if by_name.len() == 1 => by_name[0].clone(),
        _ if by_name.len() > 1 => {
            let ids: Vec<&str> = by_name.iter().map(|u| u.as_str()).collect();
            return Err(format!(
                "有 {} 个单位名为“{text}”, 请填写单位编码 ({} units are named {text:?}; write the unit's code: {})",
                by_name.len(),
                by_name.len(),
                ids.join(", ")
            ));
        }
        Ok(unit) => return Err(format!("没有单位 {unit} (there is no unit {unit})")),
        Err(e) => return Err(e.to_string()),
    };
    if !units.contains(&unit) {
        return Err(format!(
            "单位 {unit} 不在考核周期 {period} 中 (unit {unit} is not assessed in period {period})"
        ));
    }
    Ok(unit)
}

/// A yes/no cell: 是/否, 否决/不否决, yes/no, y/n, true/false, 1/0 (TRUE/FALSE as a workbook holds
/// a boolean).
fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "是" | "否决" | "yes" | "y" | "true" | "1" => Some(true),
        "否" | "不否决" | "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// A checked file's plan, of either import: what a preview shows and a confirmation records.
pub trait ImportPlan {
    /// A fingerprint of what the plan will record from the file whose SHA-256 is `file_sha256`:
    /// a preview answers it, and a confirmation that names it records only a plan with the same
    /// fingerprint, so what is recorded is what was previewed, even if the ledger changed between.
    fn digest(&self, file_sha256: &str) -> String;

    /// The commands to execute, each with its row number, in file order (unchanged rows left out).
    fn commands(&self) -> Vec<(u64, &Command)>;

    /// (new, changed, unchanged) rows.
    fn counts(&self) -> (usize, usize, usize);
}

/// The refusal of a cell that is not yes or no (each half in one language, so a page in either
/// shows one).
fn not_yes_no(text: &str) -> String {
    format!("“{text}”不是“是”或“否” (“{text}” is not yes or no: write yes/no, true/false or 1/0)")
}

/// Executes a checked plan's commands in file order under one correlation id, as `actor`, with the
/// file's SHA-256, calling `done` after each recorded row (the CLI's progress bar). Returns the
/// correlation id. A row refused here (another writer changed its record since the check) stops
/// the import there, and the message says how many rows were recorded and under which id.
pub async fn execute<S: EventStore>(
    app: &Ledger<S>,
    actor: &Actor,
    file_sha256: &str,
    plan: &impl ImportPlan,
    mut done: impl FnMut(),
) -> anyhow::Result<Uuid> {
    let correlation = Uuid::now_v7();
    for (recorded, (row, command)) in plan.commands().into_iter().enumerate() {
        if let Err(err) = app
            .execute_imported(actor.clone(), command.clone(), correlation, file_sha256)
            .await
        {
            bail!(
                "第 {row} 行记录失败 (row {row} was not recorded): {err}; 此前 {recorded} 行已记录, 关联标识 {correlation}, 其后各行未记录 (the {recorded} rows before it were recorded under correlation id {correlation}, the rest were not)"
            );
        }
        done();
    }
    Ok(correlation)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit is found by its code or by its name, full-width forms in either read half-width; a
    /// name two units share, an unknown code and a unit outside the period are refused by name.
    #[test]
    fn units_are_found_by_code_or_unique_name() {
        use ledger_schemas::values::UnitKind;
        let mut state = State::default();
        let meta = Meta {
            position: 0,
            actor: Actor::system(),
            recorded_at: chrono::Utc::now(),
        };
        for (id, name) in [
            ("SH-A", "一支部（东）"),
            ("SH-B", "二支部"),
            ("SH-C", "二支部"),
        ] {
            state.position += 1;
            state.evolve(
                &meta,
                &ledger_schemas::events::UnitRegistered {
                    unit: id.parse().unwrap(),
                    name: name.into(),
                    kind: UnitKind::Branch,
                    parent: None,
                }
                .into(),
            );
        }
        let units: Vec<UnitId> = ["SH-A", "SH-B"].map(|u| u.parse().unwrap()).to_vec();
        let period: PeriodId = "2026Q1".parse().unwrap();
        let find = |text: &str| resolve_unit(&state, &units, &period, &narrow(text));
        assert_eq!(find("ＳＨ－Ａ").unwrap().as_str(), "SH-A");
        assert_eq!(find("一支部（东）").unwrap().as_str(), "SH-A");
        assert!(find("二支部").unwrap_err().contains("SH-B, SH-C"));
        assert!(find("SH-X").unwrap_err().contains("no unit SH-X"));
        assert!(
            find("SH-C")
                .unwrap_err()
                .contains("not assessed in period 2026Q1")
        );
    }

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
