//! The time the store records an event at, and the one exception to "the store's clock is the
//! system's".
//!
//! Every store stamps `recorded_at` itself, never taking it from a caller: the embedded store from
//! the system clock (raised to the previous event's time, so the log's times never go backwards),
//! KurrentDB from its leader's `created` stamp. No HTTP request, CLI flag, import file or command
//! carries a recorded time.
//!
//! The exception is the demo builder ([`crate::demo`]), which records a history as it would have
//! happened over the weeks before it runs, so that time travel by date has something to show. It
//! gets a [`HistoryClock`], and the rules that keep it from becoming a way to choose times are
//! enforced here and in [`super::SqliteStore::create_for_history`], not by convention:
//!
//! - a `HistoryClock` can be made only inside this crate (`pub(crate)` constructor), and the only
//!   store that takes one is an embedded store **created on a new, empty ledger file**
//!   (`create_for_history` refuses a ledger that holds events), so no existing record can gain an
//!   event with a chosen time;
//! - the time it gives is never later than the system clock: an event cannot be dated in the future;
//! - the store still raises it to the previous event's time, so `recorded_at` never decreases.
//!
//! A source scan in the tests (`tests/it/demo_timeline.rs`) fails if anything but the demo builder
//! and this module names the history clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// A clock the demo builder sets: shared by its store (recorded times) and its ledger (the
/// decisions' "now" and "today").
#[derive(Debug, Clone)]
pub struct HistoryClock {
    /// Microseconds since the Unix epoch.
    micros: Arc<AtomicI64>,
}

impl HistoryClock {
    /// A clock at `start` (the demo builder only; see the module docs).
    pub(crate) fn new(start: DateTime<Utc>) -> Self {
        Self {
            micros: Arc::new(AtomicI64::new(start.timestamp_micros())),
        }
    }

    /// Sets the clock. Nothing stops it from going back; the store's recorded times still never
    /// decrease.
    pub(crate) fn set(&self, t: DateTime<Utc>) {
        self.micros.store(t.timestamp_micros(), Ordering::Release);
    }

    /// Moves the clock on by `d`.
    pub(crate) fn advance(&self, d: chrono::Duration) {
        self.micros
            .fetch_add(d.num_microseconds().unwrap_or(0), Ordering::AcqRel);
    }

    /// The clock's time, never later than the system clock's.
    pub fn now(&self) -> DateTime<Utc> {
        let set = DateTime::from_timestamp_micros(self.micros.load(Ordering::Acquire))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        set.min(Utc::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_later_than_the_system_clock() {
        let clock = HistoryClock::new(Utc::now() + chrono::Duration::days(3));
        assert!(clock.now() <= Utc::now());
        let past = DateTime::from_timestamp_micros(
            (Utc::now() - chrono::Duration::days(40)).timestamp_micros(),
        )
        .unwrap();
        clock.set(past);
        assert_eq!(clock.now(), past);
    }
}
