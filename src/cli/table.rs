//! Plain terminal tables for people: columns aligned by **display width**, so that Chinese text (two
//! columns per character) lines up with ASCII, and numbers right-aligned.
//!
//! Deliberately small: no borders, no wrapping. A cell that would make a line unreadable is shortened
//! with `…` to [`MAX_CELL`] columns (except in the last column, which nothing follows); `--json` and
//! `--csv` always carry the full text.

use std::io::{self, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The widest a cell is shown, in terminal columns.
pub const MAX_CELL: usize = 48;

/// How a column is aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table: a header row and data rows of the same length.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    aligns: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers, each aligned as given.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Self {
            headers: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            aligns: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the table: header, a rule, the rows.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let shown: Vec<Vec<String>> = std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|row| {
                // The last column is shortened only to one line: nothing after it needs aligning.
                let last = row.len().saturating_sub(1);
                row.iter()
                    .enumerate()
                    .map(|(i, c)| shorten(c, if i == last { usize::MAX } else { MAX_CELL }))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| shown.iter().map(|r| r[i].width()).max().unwrap_or(0))
            .collect();
        for (n, row) in shown.iter().enumerate() {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = widths[i].saturating_sub(cell.width());
                let last = i + 1 == row.len();
                match self.aligns[i] {
                    Align::Right => {
                        line.push_str(&" ".repeat(pad));
                        line.push_str(cell);
                    }
                    Align::Left => {
                        line.push_str(cell);
                        if !last {
                            line.push_str(&" ".repeat(pad));
                        }
                    }
                }
                if !last {
                    line.push_str("  ");
                }
            }
            writeln!(out, "{}", line.trim_end())?;
            if n == 0 {
                let total = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
                writeln!(out, "{}", "─".repeat(total))?;
            }
        }
        Ok(())
    }

    /// Prints the table on standard output.
    pub fn print(&self) -> io::Result<()> {
        self.write(&mut io::stdout().lock())
    }
}

/// `text` followed by spaces up to `width` display columns.
pub fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(text.width())))
}

/// One line of text, cut to `max` display columns with a trailing `…` when longer.
pub fn shorten(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.width() <= max {
        return flat;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in flat.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chinese cells count two columns each, so the next column starts at the same place on every
    /// line; long cells are shortened with an ellipsis.
    #[test]
    fn columns_align_by_display_width() {
        let mut t = Table::new(&[("单位 unit", Align::Left), ("分 pts", Align::Right)]);
        t.row(vec!["盛和城镇党支部".into(), "95.5".into()]);
        t.row(vec!["SH-WL".into(), "7".into()]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        let ends: Vec<usize> = [lines[0], lines[2], lines[3]]
            .iter()
            .map(|l| l.width())
            .collect();
        assert!(ends.iter().all(|w| *w == ends[0]), "{text}");
        assert_eq!(shorten("甲乙丙丁", 5), "甲乙…");
        assert_eq!(shorten("a\nb", 10), "a b");
    }
}
