//! How values read in the console: times in Beijing time, score values in words, addresses.

use chrono::{DateTime, Utc};
use ledger_schemas::rubric::{ItemKind, LadderStep};
use ledger_schemas::values::{ScoreSource, ScoreValue};

use super::i18n::Lang;

/// Beijing time (UTC+8, no daylight saving): the business clock's offset, kept in one place.
pub use crate::app::clock::business_offset as beijing;

/// A recorded time, to the second, in Beijing time.
pub fn time(t: &DateTime<Utc>) -> String {
    crate::app::clock::business_time(*t)
}

/// The value of a time field for a time: the office's own format, `YYYY-MM-DD HH:mm:ss`, Beijing time.
pub fn time_input(t: &DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The shape a time field accepts: a day, or a day and a time to the minute or second, with a space
/// (or the `T` older links carry) between them.
pub const TIME_PATTERN: &str = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?";

/// A field for a time in the office's format (`2026-10-01 08:30`, Beijing time), whatever the
/// browser's locale: a `datetime-local` input draws its value in the browser's own format
/// (`10/01/2026, 08:30 AM` in an American Chromium), so this is a text input with a pattern.
pub fn time_field(lang: Lang, id: &str, name: &str, value: Option<&str>) -> maud::Markup {
    maud::html! {
        input id=(id) type="text" name=(name) value=[value] inputmode="numeric" autocomplete="off"
            size="19" pattern=(TIME_PATTERN) placeholder="2026-10-01 08:30"
            title=(lang.t("北京时间, 年-月-日 时:分, 例如 2026-10-01 08:30", "Beijing time, year-month-day hour:minute, e.g. 2026-10-01 08:30"));
    }
}

/// A typed time (a time field's value, or anything `--as-of` accepts: Beijing time to the day,
/// minute, second or microsecond, or RFC 3339) as the instant a read stands on: the end of the span
/// it names, as the command line reads it (`app::clock::parse_as_of`).
pub fn parse_time_input(text: &str) -> Option<DateTime<Utc>> {
    crate::app::clock::parse_as_of(text).ok()
}

/// A figure with the rubric's decimals (every amount of points has [`Points::SCALE`] places), so
/// that a column of figures lines up: `8.5` reads `8.50`, `19` reads `19.00`. Anything that is not
/// a number (`—`, a grade) is kept as it is.
///
/// [`Points::SCALE`]: ledger_schemas::values::Points::SCALE
pub fn points(figure: &str) -> String {
    let places = ledger_schemas::values::Points::SCALE as usize;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = figure.strip_prefix('-').unwrap_or(figure);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || fraction.len() > places {
        return figure.to_owned();
    }
    let sign = if figure.starts_with('-') { "-" } else { "" };
    format!("{sign}{whole}.{fraction:0<places$}")
}

/// The mean of figures (each with at most the rubric's two decimals), with two decimals, rounded
/// half away from zero once, in whole hundredths (no binary floating point); none for no figures
/// or one that is not a figure.
pub fn mean(figures: &[&str]) -> Option<String> {
    let cents = |f: &str| -> Option<i64> {
        let fixed = points(f);
        let (whole, fraction) = fixed.split_once('.')?;
        let negative = whole.starts_with('-');
        let magnitude = whole.trim_start_matches('-').parse::<i64>().ok()? * 100
            + fraction
                .parse::<i64>()
                .ok()
                .filter(|_| fraction.len() == 2)?;
        Some(if negative { -magnitude } else { magnitude })
    };
    let all: Vec<i64> = figures.iter().map(|f| cents(f)).collect::<Option<_>>()?;
    let n = i64::try_from(all.len()).ok().filter(|n| *n > 0)?;
    let sum: i64 = all.iter().sum();
    let rounded = (2 * sum.abs() + n) / (2 * n) * sum.signum();
    let sign = if rounded < 0 { "-" } else { "" };
    Some(format!(
        "{sign}{}.{:02}",
        rounded.abs() / 100,
        rounded.abs() % 100
    ))
}

/// A score value as people read it.
pub fn value(lang: Lang, value: &ScoreValue, ladder: &[LadderStep]) -> String {
    match value {
        ScoreValue::Points { points: p } => {
            format!("{}{}", points(&p.to_string()), lang.t(" 分", " pts"))
        }
        ScoreValue::Level { level } => ladder
            .iter()
            .find(|s| &s.level == level)
            .map(|s| lang.text(&s.label))
            .unwrap_or_else(|| level.to_string()),
        ScoreValue::Awards { awards } if awards.is_empty() => lang.t("无", "none").to_owned(),
        ScoreValue::Awards { awards } => awards
            .iter()
            .map(|a| format!("{} +{}", a.title, a.points))
            .collect::<Vec<_>>()
            .join("; "),
        ScoreValue::Cases { cases } => format!("{cases}{}", lang.t(" 起", " case(s)")),
        ScoreValue::Veto { vetoed: true } => lang.t("否决", "vetoed").to_owned(),
        ScoreValue::Veto { vetoed: false } => lang.t("不否决", "not vetoed").to_owned(),
    }
}

/// What an item of a kind is worth, briefly.
pub fn kind(lang: Lang, kind: &ItemKind) -> String {
    match kind {
        ItemKind::Points { max } => format!("{}{max}", lang.t("定量 ≤", "points ≤ ")),
        ItemKind::Ladder { max } => format!("{}{max}", lang.t("定性 ≤", "ladder ≤ ")),
        ItemKind::Bonus { cap, .. } => format!("{}{cap}", lang.t("加分 ≤", "bonus ≤ ")),
        ItemKind::Deduction { per_case, .. } => {
            format!("{}{per_case}", lang.t("扣分 每起 ", "deduction per case "))
        }
        ItemKind::Veto => lang.t("一票否决", "veto").to_owned(),
    }
}

pub fn source(lang: Lang, source: ScoreSource) -> &'static str {
    match source {
        ScoreSource::Manual => lang.t("人工录入", "manual"),
        ScoreSource::Import => lang.t("文件导入", "import"),
        ScoreSource::Appeal => lang.t("申诉改分", "appeal"),
        ScoreSource::Recalculation => lang.t("重新计算", "recalculation"),
    }
}

/// One query-string pair list, encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

/// One path segment, percent-encoded (ids are plain already; this keeps any other text safe).
pub fn seg(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_have_the_rubrics_decimals() {
        assert_eq!(points("8.5"), "8.50");
        assert_eq!(points("17.75"), "17.75");
        assert_eq!(points("19"), "19.00");
        assert_eq!(points("-0.5"), "-0.50");
        assert_eq!(points("0"), "0.00");
        assert_eq!(points("—"), "—");
        assert_eq!(points("优秀"), "优秀");
        // Never rounds: a figure with more places than the rubric's is shown as it came.
        assert_eq!(points("1.125"), "1.125");
        let ladder = [];
        let value = ScoreValue::Points {
            points: ledger_schemas::values::Points::from_cents(850),
        };
        assert_eq!(super::value(Lang::Zh, &value, &ladder), "8.50 分");
    }

    #[test]
    fn means_round_once_half_away_from_zero() {
        assert_eq!(mean(&["8.5", "17.75", "19"]).as_deref(), Some("15.08"));
        assert_eq!(mean(&["0.01", "0.02"]).as_deref(), Some("0.02"));
        assert_eq!(mean(&["-0.01", "-0.02"]).as_deref(), Some("-0.02"));
        assert_eq!(mean(&["90"]).as_deref(), Some("90.00"));
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&["—", "1"]), None);
        assert_eq!(mean(&["1.125"]), None);
    }

    #[test]
    fn time_inputs_are_beijing_time() {
        let t = parse_time_input("2026-10-01T08:30:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-01T00:30:00.999999+00:00");
        assert_eq!(time_input(&t), "2026-10-01 08:30:00");
        // The field's own value reads back as the same second.
        assert_eq!(parse_time_input(&time_input(&t)), Some(t));
        assert_eq!(time(&t), "2026-10-01 08:30:00");
        let minute = parse_time_input("2026-10-01T08:30").unwrap();
        assert_eq!(minute.to_rfc3339(), "2026-10-01T00:30:59.999999+00:00");
        assert!(parse_time_input("2026-13-01T08:30").is_none());
        assert!(parse_time_input("yesterday").is_none());
    }
}
