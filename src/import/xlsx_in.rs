//! `.xlsx` workbooks, read with `calamine` from the sheet the import names (`Column::SHEETS`: a
//! score sheet's `评分表` or `scores`, business results' `经营业绩` or `business`).
//!
//! A workbook carries more than text, so what each column takes is stated here, and every cell
//! that breaks it is reported at its row and column rather than read in some guessed way:
//!
//! - every column: no formula (the import records values, and a formula's cached result is
//!   whatever the last program to save the file computed, if anything); no date or time (a code
//!   such as `1-2` that Excel turned into a date would be read as a serial number); no error
//!   value (`#N/A`);
//! - codes (a unit, an item): text only (a code typed as a number has lost its form, e.g. a
//!   leading zero);
//! - every other column: text, a number, or TRUE/FALSE;
//! - no merged cell anywhere in the sheet (a merged range holds its value in its first cell only,
//!   so the other rows would silently read as empty);
//! - no cell right of the header's last column.
//!
//! The header is the sheet's first row, as in the template (`template.rs`).

use std::io::Cursor;

use anyhow::{anyhow, bail};
use calamine::{Data, Reader, Xlsx};

use super::{Column, Header, Row, RowError, Table, column_letter};

/// A number as a spreadsheet shows it: `2.5`, `3` (not `3.0`).
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

pub(super) fn read<C: Column>(bytes: &[u8]) -> anyhow::Result<Table<C>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        anyhow!(
            "文件不是有效的 .xlsx 工作簿 ({e}); 请在 Excel 中另存为 “Excel 工作簿 (*.xlsx)” 或 CSV UTF-8 (the file is not a valid .xlsx workbook; save it again as an Excel workbook or as CSV UTF-8)"
        )
    })?;
    let sheets = book.sheet_names();
    let Some(name) = sheets
        .iter()
        .find(|n| C::SHEETS.iter().any(|s| n.trim().eq_ignore_ascii_case(s)))
        .cloned()
    else {
        bail!(
            "工作簿中没有名为 “{}” 的工作表, 现有: {} (the workbook has no sheet named {}; it has: {}); 请使用下载的模板或重命名工作表 (use the downloaded template, or rename the sheet)",
            C::SHEETS[0],
            sheets.join(", "),
            C::SHEETS.join(" or "),
            sheets.join(", ")
        );
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| anyhow!("无法读取工作表 {name} (cannot read sheet {name}): {e}"))?;
    let formulas = book
        .worksheet_formula(&name)
        .map_err(|e| anyhow!("无法读取工作表 {name} (cannot read sheet {name}): {e}"))?;
    let merged = match book.worksheet_merge_cells(&name) {
        Some(Ok(merged)) => merged,
        Some(Err(e)) => bail!("无法读取工作表 {name} (cannot read sheet {name}): {e}"),
        None => Vec::new(),
    };

    let Some((_, end_col)) = range.end() else {
        bail!("工作表 {name} 是空的 (sheet {name} is empty)");
    };
    let cell = |row: u32, col: u32| range.get_value((row, col)).unwrap_or(&Data::Empty);
    // The header: the first row, up to its last filled cell.
    let width = (0..=end_col)
        .rev()
        .find(|c| !matches!(cell(0, *c), Data::Empty))
        .map_or(0, |c| c + 1);
    let names: Vec<String> = (0..width).map(|c| cell(0, c).to_string()).collect();
    let header = Header::<C>::parse(names.iter().map(String::as_str))?;

    let mut errors = Vec::new();
    let mut at = |row: u32, col: u32, message: String| {
        errors.push(RowError {
            row: u64::from(row) + 1,
            column: Some((
                column_letter(col as usize),
                names.get(col as usize).cloned().unwrap_or_default(),
            )),
            message,
        });
    };
    for region in &merged {
        let ((r0, c0), (r1, c1)) = (region.start, region.end);
        at(
            r0,
            c0,
            format!(
                "合并单元格 {}{}:{}{}, 请取消合并并在每行填写 (merged cells {}{}:{}{}; unmerge them and fill every row)",
                column_letter(c0 as usize),
                r0 + 1,
                column_letter(c1 as usize),
                r1 + 1,
                column_letter(c0 as usize),
                r0 + 1,
                column_letter(c1 as usize),
                r1 + 1
            ),
        );
    }
    for (r, c, formula) in formulas.used_cells() {
        let (r, c) = (
            r as u32 + formulas.start().map_or(0, |s| s.0),
            c as u32 + formulas.start().map_or(0, |s| s.1),
        );
        at(
            r,
            c,
            format!(
                "单元格含公式 ={formula}, 请粘贴为数值 (the cell holds the formula ={formula}; paste it as values)"
            ),
        );
    }

    let mut rows = Vec::new();
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let (last_row, _) = range.end().unwrap_or((0, 0));
    for r in first_row.max(1)..=last_row {
        let mut cells = Vec::with_capacity(width as usize);
        for c in 0..=end_col.max(width.saturating_sub(1)) {
            let data = cell(r, c);
            if c >= width {
                if !matches!(data, Data::Empty) {
                    at(
                        r,
                        c,
                        format!(
                            "首行在 {} 列之后没有列名, 此单元格却有内容 “{data}” (the header has no column here, yet the cell holds “{data}”)",
                            column_letter(width.saturating_sub(1) as usize)
                        ),
                    );
                }
                continue;
            }
            let field = header.field_at(c as usize);
            let text = match data {
                Data::Empty => String::new(),
                Data::String(s) => s.clone(),
                Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
                    at(
                        r,
                        c,
                        format!(
                            "单元格是日期或时间 ({data}), 此列应为文本或数字; 请将该列设为 “文本” 格式后重新输入 (the cell is a date or time; this column takes text or numbers: format the column as Text and type it again)"
                        ),
                    );
                    String::new()
                }
                Data::Error(e) => {
                    at(
                        r,
                        c,
                        format!("单元格是错误值 {e} (the cell is the error value {e})"),
                    );
                    String::new()
                }
                Data::Int(_) | Data::Float(_) | Data::Bool(_) if field.is_some_and(C::is_code) => {
                    at(
                        r,
                        c,
                        format!(
                            "此列是编码, 须为文本, 单元格却是数字或逻辑值 {data} (this column holds codes as text, the cell is the number or boolean {data}); 请将该列设为 “文本” 格式 (format the column as Text)"
                        ),
                    );
                    String::new()
                }
                Data::Int(n) => n.to_string(),
                Data::Float(n) => number_text(*n),
                Data::Bool(b) => b.to_string(),
            };
            cells.push(text);
        }
        rows.push(Row {
            row: u64::from(r) + 1,
            cells,
        });
    }
    Ok(Table {
        header,
        rows,
        errors,
    })
}
