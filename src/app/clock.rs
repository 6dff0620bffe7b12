//! The business clock: the time zone people read and type times in (Beijing time, UTC+8, no daylight
//! saving), and the calendar day a read stands on, which judges due dates and overdue work.
//!
//! Everything that turns an instant into a person's date goes through [`business_date`], so that the
//! ledger's own recorded time zone (the business clock of issue 16) replaces this one place.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::reads::ReadAt;

/// The business clock's offset: Beijing time (UTC+8, no daylight saving), the time every user of the
/// ledger reads.
pub fn business_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The calendar day an instant falls on, on the business clock.
pub fn business_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&business_offset()).date_naive()
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
}
