//! The business clock's zones: the IANA time zones a ledger may record as the zone people read and
//! type times in (`BusinessZoneSet`). Only zones that have kept one offset, without daylight
//! saving, for decades are listed, so a zone is one fixed offset and a local time always names
//! exactly one instant; a zone with daylight saving would need the tz database (`chrono-tz`), and
//! none of the offices this ledger serves needs one.
//!
//! The table is part of the contract: a ledger records a zone by its name, and every reader must
//! know that name's offset, so a name is never removed and its offset never changed.

use chrono::FixedOffset;

/// A named time zone of the business clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// The IANA name.
    pub name: &'static str,
    /// East of UTC, in seconds.
    pub offset_secs: i32,
}

/// The zones the business clock knows. The first is the default: a ledger that records no zone
/// reads as Beijing time.
pub const ZONES: [Zone; 8] = [
    Zone {
        name: "Asia/Shanghai",
        offset_secs: 8 * 3600,
    },
    Zone {
        name: "Asia/Hong_Kong",
        offset_secs: 8 * 3600,
    },
    Zone {
        name: "Asia/Macau",
        offset_secs: 8 * 3600,
    },
    Zone {
        name: "Asia/Taipei",
        offset_secs: 8 * 3600,
    },
    Zone {
        name: "Asia/Singapore",
        offset_secs: 8 * 3600,
    },
    Zone {
        name: "Asia/Tokyo",
        offset_secs: 9 * 3600,
    },
    Zone {
        name: "Asia/Seoul",
        offset_secs: 9 * 3600,
    },
    Zone {
        name: "UTC",
        offset_secs: 0,
    },
];

/// Beijing time: the zone of a ledger that records none.
pub const DEFAULT_ZONE: Zone = ZONES[0];

impl Zone {
    /// The zone of this IANA name (any case), if the business clock knows it.
    pub fn named(name: &str) -> Option<Zone> {
        ZONES
            .iter()
            .copied()
            .find(|z| z.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Every known name, for a refusal to list.
    pub fn known_names() -> String {
        ZONES.map(|z| z.name).join(", ")
    }

    pub fn offset(self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_secs).expect("every listed offset is within a day")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zones are found by their IANA names in any case; unknown names are not; Beijing is the default.
    #[test]
    fn zones_are_named() {
        assert_eq!(DEFAULT_ZONE.name, "Asia/Shanghai");
        assert_eq!(Zone::named(" asia/shanghai "), Some(DEFAULT_ZONE));
        assert_eq!(Zone::named("Asia/Tokyo").unwrap().offset_secs, 9 * 3600);
        assert_eq!(Zone::named("Europe/Berlin"), None);
        assert!(Zone::known_names().contains("Asia/Tokyo, Asia/Seoul"));
    }
}
