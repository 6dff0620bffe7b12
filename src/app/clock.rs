//! The business clock: the time zone people read and type times in, and the calendar day a read
//! stands on, which judges due dates and overdue work.
//!
//! The zone is the ledger's, **recorded in the ledger** as its first event (`BusinessZoneSet`,
//! chosen by `ledger init --zone NAME` when the ledger is created), so every reader of the log
//! agrees on it; a ledger that records none (every ledger made before, and the default) reads as
//! Asia/Shanghai (UTC+8, no daylight saving since 1991). The known zones are
//! `ledger_schemas::zone::ZONES`; an unknown name is refused with the list. The zone cannot change
//! once the ledger holds events (the domain refuses it): a time typed and a due date judged on one
//! clock must not be re-read on another.
//!
//! One process serves one ledger, so the zone is a process-wide setting: [`adopt`] sets it when a
//! ledger is opened and folded (`Ledger::open`, `ReadSide::catch_up`, the CLI's read commands
//! before they parse a typed time), and [`zone`] is what every reader uses. Everything that turns
//! an instant into a person's date or time goes through this module: the console, the CLI's tables,
//! the CSV and xlsx exports, the write side's "today" (due dates), and every time a person types
//! (`--as-of`, `--since`, the console's time picker). The JSON API alone keeps RFC 3339 with an
//! offset (and accepts any offset).
//!
//! A typed time names a span: a date is that whole day, `2026-12-06 08:00` that minute,
//! `2026-12-06 08:00:03` that second. "As of" reads the **end** of the span (as it stood on that
//! day, at that minute) and "since" its **start**, so a time printed to the second (the demo's
//! milestones, the console's picker) reads the event recorded within that second, whichever way it
//! is typed back. RFC 3339 with an offset is an exact instant.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::reads::ReadAt;

pub use ledger_schemas::zone::{DEFAULT_ZONE, ZONES, Zone};

/// Beijing time: the zone of a ledger that records none (`ledger_schemas::zone::DEFAULT_ZONE`).
pub const BUSINESS_ZONE: Zone = DEFAULT_ZONE;

/// The process's business zone, as an index into [`ZONES`]: one process serves one ledger, and
/// every reader in it (console, CLI, CSV, xlsx, the write side's today) takes the zone from here.
static CURRENT: AtomicUsize = AtomicUsize::new(0);

/// Reads every time on the clock of the zone a ledger recorded (`BusinessZoneSet`, by name; none:
/// Asia/Shanghai). Called when a ledger is opened and folded. A recorded name this program does not
/// know (from a newer program) falls back to Asia/Shanghai with a warning rather than refusing to
/// read the ledger.
pub fn adopt(recorded: Option<&str>) -> Zone {
    let zone = match recorded {
        None => DEFAULT_ZONE,
        Some(name) => Zone::named(name).unwrap_or_else(|| {
            tracing::warn!(
                zone = name,
                "the ledger's business zone is unknown to this program; reading Asia/Shanghai"
            );
            DEFAULT_ZONE
        }),
    };
    let index = ZONES.iter().position(|z| *z == zone).unwrap_or(0);
    CURRENT.store(index, Ordering::Relaxed);
    zone
}

/// The business clock's zone: the one the ledger this process opened recorded.
pub fn zone() -> Zone {
    ZONES[CURRENT.load(Ordering::Relaxed)]
}

/// The business clock's offset (UTC+8 for Asia/Shanghai).
pub fn business_offset() -> FixedOffset {
    zone().offset()
}

/// The calendar day an instant falls on, on the business clock.
pub fn business_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&business_offset()).date_naive()
}

/// An instant as people read it: business-clock time to the second, `2026-12-06 08:00:03`.
pub fn business_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&business_offset())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// An instant to the microsecond on the business clock, `2026-12-06 08:00:03.123456`: what the
/// demo prints as milestones, since many events share a second; `--as-of` and the console read it
/// back as that exact instant.
pub fn business_time_exact(t: DateTime<Utc>) -> String {
    t.with_timezone(&business_offset())
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

/// An instant as the business clock's local date and time (for spreadsheets' date cells).
pub fn business_local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&business_offset()).naive_local()
}

/// A typed time that is not one, with the forms that are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "“{0}”不是时间, 应为日期 2026-10-15、账本时区的时间 2026-10-15 08:00 或带时区的 RFC 3339 (“{0}” is not a time: a date such as 2026-10-15, a time on the ledger's clock such as 2026-10-15 08:00 or 2026-10-15 08:00:03, or RFC 3339 with an offset such as 2026-10-15T08:00:00+08:00)"
)]
pub struct NotATime(pub String);

/// What a typed time names on the business clock: an exact instant, or a span of local time.
fn parse_span(text: &str) -> Result<(DateTime<Utc>, Duration), NotATime> {
    parse_span_in(business_offset(), text)
}

/// What a typed time names on the clock of `offset`.
fn parse_span_in(offset: FixedOffset, text: &str) -> Result<(DateTime<Utc>, Duration), NotATime> {
    let trimmed = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok((t.with_timezone(&Utc), Duration::zero()));
    }
    let local = |naive: NaiveDateTime| {
        offset
            .from_local_datetime(&naive)
            .single()
            .map(|t| t.with_timezone(&Utc))
    };
    let fail = || NotATime(text.to_owned());
    if let Ok(day) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
        let start = local(day.and_time(NaiveTime::MIN)).ok_or_else(fail)?;
        return Ok((start, Duration::days(1)));
    }
    // Either a space or `T` between date and time (a `datetime-local` input sends `T`).
    let spaced = trimmed.replacen('T', " ", 1);
    for (format, span) in [
        ("%Y-%m-%d %H:%M", Duration::minutes(1)),
        ("%Y-%m-%d %H:%M:%S", Duration::seconds(1)),
        ("%Y-%m-%d %H:%M:%S%.f", Duration::zero()),
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(&spaced, format) {
            // `%S` also matches `03.5`'s prefix only with `%.f`; a fraction means an exact instant.
            let span = if spaced.contains('.') {
                Duration::zero()
            } else {
                span
            };
            return Ok((local(naive).ok_or_else(fail)?, span));
        }
    }
    Err(fail())
}

/// A typed time for "as of" or "until": the **end** of the span it names (the last microsecond of
/// that day, minute or second, business clock), or the exact instant of RFC 3339.
pub fn parse_as_of(text: &str) -> Result<DateTime<Utc>, NotATime> {
    parse_as_of_in(zone(), text)
}

/// [`parse_as_of`] on the clock of `zone`.
pub fn parse_as_of_in(zone: Zone, text: &str) -> Result<DateTime<Utc>, NotATime> {
    let (start, span) = parse_span_in(zone.offset(), text)?;
    Ok(if span.is_zero() {
        start
    } else {
        start + span - Duration::microseconds(1)
    })
}

/// A typed time for "since": the **start** of the span it names, or the exact instant of RFC 3339.
pub fn parse_since(text: &str) -> Result<DateTime<Utc>, NotATime> {
    parse_span(text).map(|(start, _)| start)
}

/// The calendar day a read at `at` stands on, for judging what is overdue: the day of the point
/// read, not the day the question is asked, so "what was overdue on day X" reads back as it was.
///
/// - the head: today (`now`);
/// - a position: the day the event at that position was recorded (`point`, the `recorded_at` of the
///   last event the read includes; before the first event, today), so the same `at_position` read
///   gives the same answer whenever it is repeated;
/// - a time: that time's day (no later than today: a time in the future reads the present).
pub fn day_of_read(at: ReadAt, point: Option<DateTime<Utc>>, now: DateTime<Utc>) -> NaiveDate {
    business_date(match at {
        ReadAt::Head => now,
        ReadAt::Position(_) => point.unwrap_or(now),
        ReadAt::Time(t) => t.min(now),
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// 16:00 UTC is midnight in Beijing: an event recorded at 2026-12-05T16:30Z happened on the 6th.
    #[test]
    fn the_business_date_turns_at_16_00_utc() {
        assert_eq!(business_date(utc(2026, 12, 5, 15, 59)), day(2026, 12, 5));
        assert_eq!(business_date(utc(2026, 12, 5, 16, 0)), day(2026, 12, 6));
        assert_eq!(business_date(utc(2026, 12, 5, 16, 30)), day(2026, 12, 6));
        assert_eq!(business_date(utc(2026, 12, 31, 16, 0)), day(2027, 1, 1));
    }

    /// A read stands on the day of its point: a position on the day its event was recorded (across
    /// the date line), a time on its own day, the head on today; a time in the future reads today.
    #[test]
    fn a_read_stands_on_the_day_of_its_point() {
        let now = utc(2026, 12, 9, 2, 0);
        let recorded = utc(2026, 12, 5, 16, 30);
        assert_eq!(
            day_of_read(ReadAt::Head, Some(recorded), now),
            day(2026, 12, 9)
        );
        assert_eq!(
            day_of_read(ReadAt::Position(42), Some(recorded), now),
            day(2026, 12, 6)
        );
        assert_eq!(
            day_of_read(ReadAt::Position(0), None, now),
            day(2026, 12, 9)
        );
        assert_eq!(
            day_of_read(ReadAt::Time(utc(2026, 12, 7, 23, 0)), Some(recorded), now),
            day(2026, 12, 8)
        );
        assert_eq!(
            day_of_read(ReadAt::Time(utc(2027, 1, 1, 0, 0)), Some(recorded), now),
            day(2026, 12, 9)
        );
    }

    /// `--as-of 2026-10-15` reads the end of 15 October in Beijing time (15:59:59.999999 UTC), not
    /// of the UTC day; `--since` the start (16:00 UTC the day before).
    #[test]
    fn a_date_is_the_whole_day_in_beijing() {
        assert_eq!(
            parse_as_of("2026-10-15").unwrap().to_rfc3339(),
            "2026-10-15T15:59:59.999999+00:00"
        );
        assert_eq!(
            parse_since(" 2026-10-15 ").unwrap().to_rfc3339(),
            "2026-10-14T16:00:00+00:00"
        );
    }

    /// A minute or a second names its span; a fraction or an offset names an exact instant, and
    /// any offset is accepted.
    #[test]
    fn times_are_typed_in_beijing_time() {
        let at = |t: &str| parse_as_of(t).unwrap().to_rfc3339();
        assert_eq!(at("2026-12-06 08:00"), "2026-12-06T00:00:59.999999+00:00");
        assert_eq!(at("2026-12-06T08:00"), "2026-12-06T00:00:59.999999+00:00");
        assert_eq!(
            at("2026-12-06 08:00:03"),
            "2026-12-06T00:00:03.999999+00:00"
        );
        assert_eq!(
            at("2026-12-06 08:00:03.123456"),
            "2026-12-06T00:00:03.123456+00:00"
        );
        assert_eq!(at("2026-12-06T08:00:00+08:00"), "2026-12-06T00:00:00+00:00");
        assert_eq!(at("2026-12-06T00:00:00Z"), "2026-12-06T00:00:00+00:00");
        assert_eq!(at("2026-12-05T19:00:00-05:00"), "2026-12-06T00:00:00+00:00");
        assert_eq!(
            parse_since("2026-12-06 08:00").unwrap().to_rfc3339(),
            "2026-12-06T00:00:00+00:00"
        );
        // What is printed is read back as the same instant.
        let t = utc(2026, 12, 5, 17, 0) + Duration::microseconds(123_456);
        assert_eq!(business_time_exact(t), "2026-12-06 01:00:00.123456");
        assert_eq!(parse_as_of(&business_time_exact(t)).unwrap(), t);
        assert_eq!(business_time(t), "2026-12-06 01:00:00");
        assert!(parse_as_of(&business_time(t)).unwrap() >= t);
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-12-06 25:00",
            "06/12/2026",
            "",
        ] {
            let e = parse_as_of(bad).unwrap_err();
            assert!(e.to_string().contains("2026-10-15 08:00"), "{e}");
        }
    }

    /// In a ledger kept on Tokyo time, `--as-of 2026-10-15` reads the end of 15 October in Tokyo
    /// (14:59:59.999999 UTC), an hour before the end of that day in Beijing.
    #[test]
    fn a_date_is_the_whole_day_in_the_ledgers_zone() {
        let tokyo = Zone::named("Asia/Tokyo").unwrap();
        assert_eq!(
            parse_as_of_in(tokyo, "2026-10-15").unwrap().to_rfc3339(),
            "2026-10-15T14:59:59.999999+00:00"
        );
        assert_eq!(
            parse_as_of_in(DEFAULT_ZONE, "2026-10-15")
                .unwrap()
                .to_rfc3339(),
            "2026-10-15T15:59:59.999999+00:00"
        );
        // An offset typed is exact, whatever the ledger's zone.
        assert_eq!(
            parse_as_of_in(tokyo, "2026-10-15T08:00:00+08:00").unwrap(),
            parse_as_of_in(DEFAULT_ZONE, "2026-10-15T08:00:00+08:00").unwrap()
        );
    }
}
