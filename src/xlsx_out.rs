//! Exports as .xlsx workbooks, the form the assessment office files: the standings, a unit's sheet,
//! an item's or a sheet's history, the change log and the closed loop, from the CLI (`--xlsx FILE`)
//! and the console (a download on each of those pages).
//!
//! Every workbook is one sheet of the same shape ([`Workbook`]): a title block (the title, then the
//! period, the point read at with its time on the business clock, the rubric version, the signed
//! checkpoint the read is covered by, and when the file was made), one frozen bold header row in the
//! chosen language with a filter, then the rows. The rows are typed [`Cell`]s shared with the CSV
//! exports (`csv_out`): figures are numbers with two decimals (every derived figure is rounded to
//! two places), positions and ranks whole numbers, times and dates real date cells on the business
//! clock, and text is always a string cell, never a formula, so a name such as `=HYPERLINK(...)`
//! cannot run.

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, XlsxError};
use unicode_width::UnicodeWidthStr;

use crate::app::clock;
use crate::console::i18n::Lang;
pub use crate::csv_out::Cell;

/// The signed checkpoint a read is covered by: its tree size and root hash (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointMark {
    pub tree_size: u64,
    pub root_hex: String,
}

/// What the title block says about where a read stands.
#[derive(Debug, Clone, Default)]
pub struct TitleBlock {
    /// The first line, in bold.
    pub title: String,
    /// The period (its id and name), when the export is about one.
    pub period: Option<String>,
    /// The rubric and its version, when the export is about one period.
    pub rubric: Option<(String, u32)>,
    /// The position read at (`None`: not known) and the time its event was recorded.
    pub as_of: Option<(u64, Option<DateTime<Utc>>)>,
    /// The latest signed checkpoint at or before the position read (`Err`: why none is named).
    pub checkpoint: Option<Result<CheckpointMark, String>>,
    /// When the file was made.
    pub made_at: Option<DateTime<Utc>>,
}

impl TitleBlock {
    /// The block's lines in `lang`, after the title.
    pub fn lines(&self, lang: Lang) -> Vec<String> {
        let zone = zone_label(lang);
        let mut lines = Vec::new();
        if let Some(period) = &self.period {
            lines.push(format!("{}{period}", lang.t("考核周期: ", "Period: ")));
        }
        if let Some((rubric, version)) = &self.rubric {
            lines.push(match lang {
                Lang::Zh => format!("评分细则: {rubric} 第 {version} 版"),
                Lang::En => format!("Rubric: {rubric} version {version}"),
            });
        }
        if let Some((position, time)) = &self.as_of {
            let time = time.map_or_else(String::new, |t| {
                format!(" · {} ({zone})", clock::business_time(t))
            });
            lines.push(match lang {
                Lang::Zh => format!("截至记录序号 {position}{time}"),
                Lang::En => format!("As of position {position}{time}"),
            });
        }
        let read_at = self.as_of.map(|(p, _)| p);
        match &self.checkpoint {
            Some(Ok(c)) => {
                let after = read_at.map_or(0, |p| p.saturating_sub(c.tree_size));
                lines.push(match lang {
                    Lang::Zh if after > 0 => format!(
                        "已签名检查点: 大小 {} · 根哈希 {} (其后 {after} 个事件尚未签名)",
                        c.tree_size, c.root_hex
                    ),
                    Lang::Zh => format!("已签名检查点: 大小 {} · 根哈希 {}", c.tree_size, c.root_hex),
                    Lang::En if after > 0 => format!(
                        "Signed checkpoint: size {} · root hash {} ({after} later events not yet signed)",
                        c.tree_size, c.root_hex
                    ),
                    Lang::En => format!(
                        "Signed checkpoint: size {} · root hash {}",
                        c.tree_size, c.root_hex
                    ),
                })
            }
            Some(Err(why)) => lines.push(format!(
                "{}{why}",
                lang.t("已签名检查点: ", "Signed checkpoint: ")
            )),
            None => {}
        }
        if let Some(t) = self.made_at {
            lines.push(format!(
                "{}{} ({zone})",
                lang.t("导出时间 ", "Exported at "),
                clock::business_time(t)
            ));
        }
        lines
    }
}

/// The business clock's name as people read it: 北京时间 for Asia/Shanghai, else the zone's name.
pub fn zone_label(lang: Lang) -> String {
    let zone = clock::zone();
    if zone.name == "Asia/Shanghai" {
        lang.t("北京时间", "Beijing time").to_owned()
    } else {
        zone.name.to_owned()
    }
}

/// One exported table as a workbook of one sheet.
pub struct Workbook<'a> {
    /// The sheet's name (at most 31 characters, no `[]:*?/\`).
    pub sheet: &'a str,
    pub lang: Lang,
    pub title: &'a TitleBlock,
    pub header: Vec<String>,
    pub rows: &'a [Vec<Cell>],
}

/// Excel's column width is in characters of the default font; a Chinese character takes two.
fn width_of(text: &str) -> f64 {
    (text.width() as f64 + 2.0).clamp(6.0, 60.0)
}

impl Workbook<'_> {
    pub fn to_bytes(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(self.sheet)?;
        let title = Format::new().set_bold().set_font_size(14);
        let header = Format::new()
            .set_bold()
            .set_background_color("#E8EEF4")
            .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
        let whole = Format::new().set_num_format("0");
        let figure = Format::new().set_num_format("0.00");
        let time = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        let date = Format::new().set_num_format("yyyy-mm-dd");

        sheet.write_string_with_format(0, 0, &self.title.title, &title)?;
        let lines = self.title.lines(self.lang);
        for (i, line) in lines.iter().enumerate() {
            sheet.write_string(1 + i as u32, 0, line)?;
        }
        // One empty row between the title block and the header.
        let head = 2 + lines.len() as u32;
        let mut widths: Vec<f64> = self.header.iter().map(|h| width_of(h)).collect();
        for (c, name) in self.header.iter().enumerate() {
            sheet.write_string_with_format(head, c as u16, name, &header)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            let r = head + 1 + i as u32;
            for (c, cell) in row.iter().enumerate() {
                let col = c as u16;
                let shown = match cell {
                    Cell::Text(t) => {
                        // Always a string cell: text is never parsed as a formula or a number.
                        sheet.write_string(r, col, t)?;
                        t.clone()
                    }
                    Cell::Whole(n) => {
                        sheet.write_number_with_format(r, col, *n as f64, &whole)?;
                        n.to_string()
                    }
                    Cell::Figure(d) => {
                        match d.parse::<f64>() {
                            Ok(v) => sheet.write_number_with_format(r, col, v, &figure)?,
                            Err(_) => sheet.write_string(r, col, d)?,
                        };
                        d.clone()
                    }
                    Cell::Time(t) => {
                        let local = clock::business_local(*t);
                        let cell = ExcelDateTime::parse_from_str(
                            &local.format("%Y-%m-%dT%H:%M:%S").to_string(),
                        )?;
                        sheet.write_datetime_with_format(r, col, &cell, &time)?;
                        "2026-12-06 08:00:00".to_owned()
                    }
                    Cell::Date(d) => {
                        let cell =
                            ExcelDateTime::parse_from_str(&d.format("%Y-%m-%d").to_string())?;
                        sheet.write_datetime_with_format(r, col, &cell, &date)?;
                        "2026-12-06".to_owned()
                    }
                    Cell::Empty => String::new(),
                };
                if let Some(w) = widths.get_mut(c) {
                    *w = w.max(width_of(&shown));
                }
            }
        }
        let last_row = head + self.rows.len() as u32;
        let last_col = (self.header.len().max(1) - 1) as u16;
        sheet.set_freeze_panes(head + 1, 0)?;
        sheet.autofilter(head, 0, last_row, last_col)?;
        for (c, w) in widths.iter().enumerate() {
            sheet.set_column_width(c as u16, *w)?;
        }
        book.save_to_buffer()
    }
}

/// The columns' headers of `(english, chinese)` pairs in `lang`.
pub fn header<E: AsRef<str>, Z: AsRef<str>>(
    lang: Lang,
    columns: impl IntoIterator<Item = (E, Z)>,
) -> Vec<String> {
    columns
        .into_iter()
        .map(|(en, zh)| match lang {
            Lang::Zh => zh.as_ref().to_owned(),
            Lang::En => en.as_ref().to_owned(),
        })
        .collect()
}
