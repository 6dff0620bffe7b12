//! CSV as the office opens it in Excel: one writer for every CSV the program exports (`ledger
//! standings|annual|history|changes --csv` and the console's `/changes.csv`).
//!
//! - **A byte-order mark** by default: Excel on zh-CN Windows reads a CSV without one as GBK, which
//!   turns every Chinese character into mojibake. Plain UTF-8 on request, for scripts.
//! - **Headers in the chosen language**: Chinese by default, the stable English column names
//!   (which scripts rely on) in English.
//! - **Times on the business clock** (`app::clock`), to the second; names beside ids.
//! - **No formula runs**: a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
//!   (or their full-width forms, which Excel's IME input treats alike) is prefixed with `'`, as
//!   OWASP's CSV-injection guidance says, so a reason such as `=HYPERLINK(...)` reads as text.
//!   Plain numbers (`-1.5`) are left as numbers.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use crate::app::clock;
use crate::console::i18n::Lang;
use crate::http::views::ChangeEntryView;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a CSV is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStyle {
    /// Start with the UTF-8 byte-order mark (for Excel).
    pub bom: bool,
    /// Chinese headers (else the English column names).
    pub zh: bool,
}

impl Default for CsvStyle {
    /// What the office opens in Excel: BOM, Chinese headers.
    fn default() -> Self {
        CsvStyle {
            bom: true,
            zh: true,
        }
    }
}

impl CsvStyle {
    /// For scripts: plain UTF-8, English column names.
    pub const SCRIPTS: CsvStyle = CsvStyle {
        bom: false,
        zh: false,
    };

    /// The language of the file's headers and words.
    pub fn lang(self) -> Lang {
        if self.zh { Lang::Zh } else { Lang::En }
    }
}

/// The first characters that make a spreadsheet read a cell as a formula (OWASP), with the
/// full-width forms of the four signs.
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// Whether `text` is a plain decimal number (`-1.5`, `+3`), which a spreadsheet reads as a number
/// and never as a formula.
fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// A cell a spreadsheet will not run: text that begins (after any spaces) with a formula sign gets
/// a leading `'`; plain numbers stay numbers.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let first = cell.trim_start_matches([' ', '\u{3000}']).chars().next();
    match first {
        Some(c) if FORMULA_STARTS.contains(&c) && !is_number(cell) => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// A CSV writer that applies a [`CsvStyle`] and neutralises every cell.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
    zh: bool,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(mut out: W, style: CsvStyle) -> csv::Result<Self> {
        if style.bom {
            out.write_all(BOM)?;
        }
        Ok(CsvWriter {
            inner: csv::Writer::from_writer(out),
            zh: style.zh,
        })
    }

    /// The header row: of each `(english, chinese)` pair, the style's language.
    pub fn header<E: AsRef<str>, Z: AsRef<str>>(
        &mut self,
        columns: impl IntoIterator<Item = (E, Z)>,
    ) -> csv::Result<()> {
        let zh = self.zh;
        let names: Vec<String> = columns
            .into_iter()
            .map(|(en, z)| if zh { z.as_ref() } else { en.as_ref() }.to_owned())
            .collect();
        self.row(names)
    }

    /// One row, every cell neutralised.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> csv::Result<()> {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&cells)
    }

    /// One row of typed cells, as text, every cell neutralised.
    pub fn cells(&mut self, cells: &[Cell]) -> csv::Result<()> {
        self.row(cells.iter().map(Cell::csv_text))
    }

    pub fn finish(mut self) -> csv::Result<()> {
        self.inner.flush()?;
        Ok(())
    }
}

/// The change log's columns: English name, Chinese header. One summary column, in the chosen
/// language: a zh file carries no English words and an en file no Chinese ones (beyond what people
/// typed and the ids).
pub const CHANGE_COLUMNS: [(&str, &str); 19] = [
    ("position", "记录序号"),
    ("recorded_at", "记录时间"),
    ("event_type", "事件类型"),
    ("actor", "操作人"),
    ("actor_name", "操作人姓名"),
    ("role", "角色"),
    ("period", "考核周期"),
    ("unit", "单位"),
    ("unit_name", "单位名称"),
    ("item", "子项目"),
    ("aspect", "大方面"),
    ("rubric_version", "细则版本"),
    ("summary", "摘要"),
    ("old", "旧值"),
    ("new", "新值"),
    ("reason", "原因"),
    ("note", "说明"),
    ("evidence", "佐证材料"),
    ("source", "来源"),
];

/// One cell of an exported row, typed: the CSV writes its text (neutralised), the xlsx writer a
/// cell of its type (a number with a format, a date, a string, never a formula).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text as recorded or as the glossary words it.
    Text(String),
    /// A whole number (a position, a rank, a version).
    Whole(u64),
    /// A decimal figure (points, scores) as its exact text, `92.50`.
    Figure(String),
    /// An instant, read on the business clock.
    Time(chrono::DateTime<chrono::Utc>),
    /// A calendar date (a due date).
    Date(chrono::NaiveDate),
    /// Nothing.
    Empty,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    /// A figure, from anything that prints as a decimal (`Points`, `Decimal`).
    pub fn figure(value: impl std::fmt::Display) -> Cell {
        Cell::Figure(value.to_string())
    }

    /// A figure, or nothing.
    pub fn figure_or_empty(value: Option<impl std::fmt::Display>) -> Cell {
        value.map_or(Cell::Empty, Cell::figure)
    }

    /// The text a CSV carries: times on the business clock to the second.
    pub fn csv_text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Whole(n) => n.to_string(),
            Cell::Figure(d) => d.clone(),
            Cell::Time(t) => clock::business_time(*t),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A yes/no in the file's language: 是/否, or the stable `true`/`false` scripts read.
pub fn yes_no(lang: Lang, yes: bool) -> Cell {
    Cell::text(if yes {
        lang.t("是", "true")
    } else {
        lang.t("否", "false")
    })
}

/// One change as a row of [`CHANGE_COLUMNS`], every word in `lang`: in Chinese the glossary's words
/// for the event type, role and source (`console::i18n`, `console::format::source`); in English the
/// stable codes scripts rely on (`ScoreCorrected`, `assessor`, `manual`).
pub fn change_row(c: &ChangeEntryView, lang: Lang, names: &Names) -> Vec<Cell> {
    let text_or_empty =
        |t: Option<String>| t.filter(|t| !t.is_empty()).map_or(Cell::Empty, Cell::Text);
    let zh = lang == Lang::Zh;
    let source = c.source.map(|s| {
        if zh {
            crate::console::format::source(lang, s).to_owned()
        } else {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
    });
    vec![
        Cell::Whole(c.position),
        Cell::Time(c.recorded_at),
        Cell::Text(if zh {
            lang.label(&c.kind_label)
        } else {
            c.event_type.clone()
        }),
        Cell::text(c.actor.as_str()),
        text_or_empty(names.people.get(c.actor.as_str()).cloned()),
        Cell::text(if zh {
            crate::console::i18n::role(lang, c.role).to_owned()
        } else {
            c.role.to_string()
        }),
        text_or_empty(c.period.as_ref().map(|p| p.to_string())),
        text_or_empty(c.unit.as_ref().map(|u| u.to_string())),
        text_or_empty(
            c.unit
                .as_ref()
                .and_then(|u| names.units.get(u.as_str()))
                .cloned(),
        ),
        text_or_empty(c.item.as_ref().map(|i| i.to_string())),
        text_or_empty(c.aspect.as_ref().map(|a| a.to_string())),
        c.rubric_version
            .map_or(Cell::Empty, |v| Cell::Whole(v.into())),
        Cell::Text(lang.text(&c.summary)),
        text_or_empty(c.old.as_ref().map(|t| lang.text(t))),
        text_or_empty(c.new.as_ref().map(|t| lang.text(t))),
        text_or_empty(c.reason.clone()),
        text_or_empty(c.note.clone()),
        text_or_empty(Some(c.evidence.join("; "))),
        text_or_empty(source),
    ]
}

/// The names of people and units by id, written beside the ids.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub people: BTreeMap<String, String>,
    pub units: BTreeMap<String, String>,
}

impl Names {
    /// The names in a folded state.
    pub fn of(state: &ledger_projections::domain::State) -> Names {
        Names {
            people: state
                .people
                .iter()
                .map(|(id, p)| (id.to_string(), p.name.clone()))
                .collect(),
            units: state
                .units
                .iter()
                .map(|(id, u)| (id.to_string(), u.name.clone()))
                .collect(),
        }
    }
}

/// Writes the header and one row per change.
pub fn write_changes<W: Write>(
    out: W,
    changes: &[ChangeEntryView],
    style: CsvStyle,
    names: &Names,
) -> csv::Result<()> {
    let mut w = CsvWriter::new(out, style)?;
    w.header(CHANGE_COLUMNS)?;
    for c in changes {
        w.cells(&change_row(c, style.lang(), names))?;
    }
    w.finish()
}

/// Formula-like payloads (OWASP's `=`, `+`, `-`, `@`, tab, CR, and full-width variants) that every
/// export path is tested with.
pub const FORMULA_PAYLOADS: [&str; 12] = [
    "=HYPERLINK(\"http://x\",\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1",
    "－1+1",
    "＠SUM(A1)",
    "  =1+1",
    "\u{3000}=1+1",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// OWASP's list and the full-width signs are neutralised wherever they start a cell (also after
    /// spaces); numbers, text and signs later in the cell are left alone.
    #[test]
    fn formula_payloads_are_neutralised() {
        for payload in FORMULA_PAYLOADS {
            let out = neutralise(payload);
            assert!(out.starts_with('\''), "{payload:?} → {out:?}");
            assert_eq!(&out[1..], payload);
        }
        for plain in [
            "-1.5",
            "+3",
            "12",
            "0.25",
            "盛和城镇党支部",
            "a=b",
            "",
            "2026-12-06",
        ] {
            assert_eq!(neutralise(plain), plain);
        }
        for not_number in ["-", "-.5", "-1.", "+1e3", "-1,5"] {
            assert!(neutralise(not_number).starts_with('\''), "{not_number}");
        }
    }

    /// The BOM leads by default and not for scripts; headers follow the language.
    #[test]
    fn style_sets_bom_and_header_language() {
        let mut out = Vec::new();
        write_changes(&mut out, &[], CsvStyle::default(), &Names::default()).unwrap();
        assert!(out.starts_with(BOM));
        let text = String::from_utf8(out[3..].to_vec()).unwrap();
        assert!(
            text.starts_with("记录序号,记录时间,事件类型,操作人,操作人姓名"),
            "{text}"
        );
        let mut out = Vec::new();
        write_changes(&mut out, &[], CsvStyle::SCRIPTS, &Names::default()).unwrap();
        assert!(out.starts_with(b"position,recorded_at,event_type,actor,actor_name,"));
    }
}
