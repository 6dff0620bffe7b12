//! The change log as CSV, the form auditors file: one writer for `ledger changes --csv` and the web
//! console's export, so the two files have the same columns.

use std::io::Write;

use chrono::SecondsFormat;

use crate::http::views::ChangeEntryView;

/// The header row.
pub const CHANGE_COLUMNS: [&str; 18] = [
    "position",
    "recorded_at",
    "event_type",
    "actor",
    "role",
    "period",
    "unit",
    "item",
    "aspect",
    "rubric_version",
    "summary_zh",
    "summary_en",
    "old",
    "new",
    "reason",
    "note",
    "evidence",
    "source",
];

fn opt<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes the header and one row per change.
pub fn write_changes<W: Write>(out: W, changes: &[ChangeEntryView]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CHANGE_COLUMNS)?;
    for c in changes {
        let source = c
            .source
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        w.write_record([
            c.position.to_string(),
            c.recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            c.event_type.clone(),
            c.actor.to_string(),
            c.role.to_string(),
            opt(c.period.as_ref()),
            opt(c.unit.as_ref()),
            opt(c.item.as_ref()),
            opt(c.aspect.as_ref()),
            opt(c.rubric_version),
            c.summary.zh.clone(),
            c.summary.en.clone().unwrap_or_default(),
            opt(c.old.as_ref()),
            opt(c.new.as_ref()),
            c.reason.clone().unwrap_or_default(),
            c.note.clone().unwrap_or_default(),
            c.evidence.join("; "),
            source,
        ])?;
    }
    w.flush()?;
    Ok(())
}
