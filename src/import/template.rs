//! The import templates, `.xlsx` workbooks that import back as they are once filled in.
//!
//! - The score-sheet template ([`Template`]): one per rubric version with one row per item (code,
//!   aspect, title, content, maximum, responsible person) and empty value, note, evidence and
//!   reason columns (`ledger rubric template --xlsx FILE`, and the console's download link).
//! - The business-results template ([`BusinessTemplate`]): one per period with one row per unit
//!   assessed in it (code and name) and empty score, veto, source and reason columns (`ledger
//!   import business-template`, and the console's business-results import page).
//!
//! The sheet is named `评分表` and its header is its first row, which is what `xlsx_in.rs` reads;
//! the unit and item columns are formatted as text so Excel keeps codes as typed. A second sheet,
//! `填写说明`, says how each kind of item's value is written. Every text is written as a string
//! cell, never a formula.

use ledger_schemas::ids::{PersonId, RubricId, UnitId};
use ledger_schemas::rubric::{ItemKind, RubricDefinition};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use super::business::BusinessField;
use super::{Column, Field};

/// The template's columns, in order, with their widths.
const COLUMNS: [(Field, f64); 11] = [
    (Field::Unit, 12.0),
    (Field::Item, 8.0),
    (Field::Aspect, 16.0),
    (Field::Title, 20.0),
    (Field::Content, 40.0),
    (Field::Max, 14.0),
    (Field::Responsible, 14.0),
    (Field::Value, 12.0),
    (Field::Note, 30.0),
    (Field::Evidence, 24.0),
    (Field::Reason, 20.0),
];

/// What the template is made for.
pub struct Template<'a> {
    pub rubric: &'a RubricId,
    pub version: u32,
    pub definition: &'a RubricDefinition,
    /// Filled into every row's unit cell, when the template is for one unit's sheet.
    pub unit: Option<&'a UnitId>,
    /// The responsible person as shown: a name beside the id where known.
    pub responsible: &'a dyn Fn(&PersonId) -> String,
}

/// How an item's maximum reads in the `满分` column: a number for points and ladder items, words
/// for the unweighted kinds.
enum Max {
    Number(f64),
    Words(String),
}

fn max_of(kind: &ItemKind) -> Max {
    let number = |p: &dyn ToString| p.to_string().parse().unwrap_or(f64::NAN);
    match kind {
        ItemKind::Points { max } | ItemKind::Ladder { max } => Max::Number(number(max)),
        ItemKind::Bonus { cap, .. } => Max::Words(format!("加分上限 {cap}")),
        ItemKind::Deduction { per_case, cap } => Max::Words(match cap {
            Some(cap) => format!("每起扣 {per_case}, 上限 {cap}"),
            None => format!("每起扣 {per_case}"),
        }),
        ItemKind::Veto => Max::Words("一票否决".to_owned()),
    }
}

/// The formats both templates write with.
struct Formats {
    /// A code column's cells: text, so Excel keeps a code as typed.
    text: Format,
    /// The cells to fill in: shaded, and text, so that `2.50` or `1-2` stay as typed.
    fill: Format,
}

/// A template's workbook: the data sheet named as the import reads it (`C::SHEETS[0]`), its header
/// (the columns' Chinese names, bold, frozen) and widths; `rows` writes the rows below it.
fn workbook<C: Column>(
    columns: &[(C, f64)],
    rows: impl FnOnce(&mut rust_xlsxwriter::Worksheet, &Formats) -> Result<(), XlsxError>,
) -> Result<Workbook, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color("#E8EEF4")
        .set_border(FormatBorder::Thin);
    let formats = Formats {
        text: Format::new().set_num_format("@"),
        fill: Format::new()
            .set_background_color("#FFF8DC")
            .set_num_format("@"),
    };
    let sheet = book.add_worksheet();
    sheet.set_name(C::SHEETS[0])?;
    for (col, (field, width)) in columns.iter().enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, *width)?;
        sheet.write_string_with_format(0, col, field.zh(), &header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    rows(sheet, &formats)?;
    Ok(book)
}

/// The second sheet, `填写说明`: how the first is filled in, one line a row; then the bytes.
fn with_help(mut book: Workbook, lines: &[String]) -> Result<Vec<u8>, XlsxError> {
    let help = book.add_worksheet();
    help.set_name("填写说明")?;
    help.set_column_width(0, 100)?;
    for (i, line) in lines.iter().enumerate() {
        help.write_string(i as u32, 0, line)?;
    }
    book.save_to_buffer()
}

impl Template<'_> {
    pub fn to_bytes(&self) -> Result<Vec<u8>, XlsxError> {
        let wrap = Format::new().set_text_wrap();
        let book = workbook(&COLUMNS, |sheet, f| {
            let mut row = 1u32;
            for aspect in &self.definition.aspects {
                for item in &aspect.items {
                    let unit = self.unit.map_or("", |u| u.as_str());
                    sheet.write_string_with_format(row, 0, unit, &f.text)?;
                    sheet.write_string_with_format(row, 1, item.code.as_str(), &f.text)?;
                    sheet.write_string(row, 2, &aspect.title.zh)?;
                    sheet.write_string_with_format(row, 3, &item.title.zh, &wrap)?;
                    sheet.write_string_with_format(row, 4, &item.content, &wrap)?;
                    match max_of(&item.kind) {
                        Max::Number(n) => sheet.write_number(row, 5, n)?,
                        Max::Words(w) => sheet.write_string(row, 5, w)?,
                    };
                    sheet.write_string(row, 6, (self.responsible)(&item.responsible))?;
                    for col in 7..11 {
                        sheet.write_blank(row, col, &f.fill)?;
                    }
                    row += 1;
                }
            }
            Ok(())
        })?;
        let ladder: Vec<String> = self
            .definition
            .ladder
            .iter()
            .map(|s| format!("{} ({})", s.label.zh, s.level))
            .collect();
        let lines = [
            format!(
                "评分细则 {} 第 {} 版 · {}",
                self.rubric, self.version, self.definition.title.zh
            ),
            "在 “评分表” 中每行填写一个单位的一个子项目; 单位列填单位编码, 得分列按子项目类型填写:"
                .to_owned(),
            "定量: 分数, 如 2.5 (不超过满分)".to_owned(),
            format!("定性: 等级, 如 {}", ladder.join(" / ")),
            "加分: 事项:分数, 多项以 ; 分隔, 如 市级表彰:1; 无加分填 无".to_owned(),
            "扣分: 起数, 如 2".to_owned(),
            "一票否决: 是 / 否".to_owned(),
            "得分、说明、佐证材料、更正原因都空着的行不导入; 更正已记录的得分须填写更正原因。"
                .to_owned(),
            "请勿合并单元格、使用公式或改动首行列名; 导入时全部行无误才记录。".to_owned(),
        ];
        with_help(book, &lines)
    }
}

/// What the business-results template is made for: a period and the units assessed in it.
pub struct BusinessTemplate<'a> {
    pub period: &'a str,
    pub period_name: &'a str,
    /// (id, name) of every unit assessed in the period, in the period's order.
    pub units: &'a [(String, String)],
}

/// The business template's columns, in order, with their widths.
const BUSINESS_COLUMNS: [(BusinessField, f64); 6] = [
    (BusinessField::Unit, 14.0),
    (BusinessField::Name, 24.0),
    (BusinessField::Score, 10.0),
    (BusinessField::Vetoed, 8.0),
    (BusinessField::Source, 40.0),
    (BusinessField::Reason, 30.0),
];

impl BusinessTemplate<'_> {
    pub fn to_bytes(&self) -> Result<Vec<u8>, XlsxError> {
        let book = workbook(&BUSINESS_COLUMNS, |sheet, f| {
            for (row, (id, name)) in self.units.iter().enumerate() {
                let row = row as u32 + 1;
                sheet.write_string_with_format(row, 0, id, &f.text)?;
                sheet.write_string(row, 1, name)?;
                for col in 2..BUSINESS_COLUMNS.len() as u16 {
                    sheet.write_blank(row, col, &f.fill)?;
                }
            }
            Ok(())
        })?;
        let lines = [
            format!("考核周期 {} · {} · 经营业绩", self.period, self.period_name),
            "在 “经营业绩” 中每行填写一个单位的经营业绩; 单位列填单位编码 (或唯一的单位名称):"
                .to_owned(),
            "得分: 0–100, 最多两位小数, 如 86.5".to_owned(),
            "否决: 经营业绩考核一票否决时填 是, 否则填 否 或留空".to_owned(),
            "依据: 数据来源, 如 经营目标责任书 第三条".to_owned(),
            "原因: 修改已记录的经营业绩时必填".to_owned(),
            "得分、否决、依据、原因都空着的行不导入; 与已记录结果相同的行不重复记录。".to_owned(),
            "请勿合并单元格、使用公式或改动首行列名; 导入时全部行无误才记录。".to_owned(),
        ];
        with_help(book, &lines)
    }
}
