//! Exports as .xlsx workbooks, the form the assessment office files: `ledger standings --xlsx FILE`.
//!
//! A sheet opens with a title block (the period, the rubric version, the point the figures were
//! read at, in Beijing time, and when the file was made), then one frozen header row in Chinese
//! with a filter, then one row per unit. Figures are numbers (never text) shown with the two
//! decimals every derived figure is rounded to; ranks are whole numbers. Text is always written as
//! a string cell, never as a formula, so a name such as `=HYPERLINK(...)` cannot run.

use chrono::{DateTime, Utc};
use ledger_projections::read::PeriodStandings;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::app::clock;

/// The standings as a workbook, in bytes.
pub struct StandingsXlsx<'a> {
    pub standings: &'a PeriodStandings,
    /// The unit names, in the order of `standings.units`.
    pub names: &'a [String],
    /// When the event at the standings' position was recorded.
    pub as_of_time: Option<DateTime<Utc>>,
    /// When the file is made.
    pub made_at: DateTime<Utc>,
}

/// A figure as a number: points are decimals with at most a few places, well within an `f64`.
fn number(text: impl ToString) -> f64 {
    text.to_string().parse().unwrap_or(f64::NAN)
}

impl StandingsXlsx<'_> {
    pub fn to_bytes(&self) -> Result<Vec<u8>, XlsxError> {
        let s = self.standings;
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("排名")?;
        let bold = Format::new().set_bold();
        let title = Format::new().set_bold().set_font_size(14);
        let header = Format::new().set_bold().set_background_color("#E8EEF4");
        let points = Format::new().set_num_format("0.00");
        let whole = Format::new().set_num_format("0");

        sheet.write_string_with_format(
            0,
            0,
            format!("{} ({}) 考核排名", s.name, s.period),
            &title,
        )?;
        sheet.write_string(
            1,
            0,
            format!(
                "评分细则 {} 第 {} 版 · 阶段: {}",
                s.rubric,
                s.rubric_version,
                s.stage.label()
            ),
        )?;
        sheet.write_string(
            2,
            0,
            format!(
                "截至位置 {}{} (北京时间)",
                s.as_of,
                self.as_of_time
                    .map_or_else(String::new, |t| format!(" · {}", clock::business_time(t)))
            ),
        )?;
        sheet.write_string(
            3,
            0,
            format!("导出时间 {} (北京时间)", clock::business_time(self.made_at)),
        )?;

        const HEAD: u32 = 5;
        let mut columns: Vec<String> = ["名次", "单位", "单位名称"].map(String::from).to_vec();
        columns.extend(
            s.aspects
                .iter()
                .map(|a| format!("{} {}", a.aspect, a.title.zh)),
        );
        columns.extend(
            [
                "加分",
                "扣分",
                "党建得分",
                "经营业绩",
                "综合得分",
                "等次",
                "一票否决",
                "评分完成",
            ]
            .map(String::from),
        );
        for (c, name) in columns.iter().enumerate() {
            sheet.write_string_with_format(HEAD, c as u16, name, &header)?;
        }
        for (i, (u, name)) in s.units.iter().zip(self.names).enumerate() {
            let row = HEAD + 1 + i as u32;
            let mut col = 0u16;
            let mut next = || {
                col += 1;
                col - 1
            };
            sheet.write_number_with_format(row, next(), u.rank as f64, &whole)?;
            sheet.write_string(row, next(), u.unit.as_str())?;
            sheet.write_string(row, next(), name)?;
            for a in &u.score.aspects {
                sheet.write_number_with_format(row, next(), number(a.points), &points)?;
            }
            for figure in [
                Some(number(u.score.bonus)),
                Some(number(u.score.deduction)),
                Some(number(u.score.party_score)),
                u.score.business_score.map(number),
                u.score.combined.map(number),
            ] {
                let c = next();
                if let Some(v) = figure {
                    sheet.write_number_with_format(row, c, v, &points)?;
                }
            }
            sheet.write_string(row, next(), &u.grade_label.zh)?;
            sheet.write_string(
                row,
                next(),
                if u.score.capped_by_veto { "是" } else { "否" },
            )?;
            sheet.write_string(row, next(), if u.score.complete { "是" } else { "否" })?;
        }
        let last_row = HEAD + s.units.len() as u32;
        let last_col = columns.len() as u16 - 1;
        sheet.set_freeze_panes(HEAD + 1, 0)?;
        sheet.autofilter(HEAD, 0, last_row, last_col)?;
        sheet.set_column_width(0, 6)?;
        sheet.set_column_width(1, 12)?;
        sheet.set_column_width(2, 22)?;
        for c in 3..=last_col {
            sheet.set_column_width(c, 11)?;
        }
        sheet.set_row_format(HEAD, &bold)?;
        book.save_to_buffer()
    }
}
