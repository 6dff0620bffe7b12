//! The business zone recorded in the ledger (issue 16, item 1): chosen with `ledger init --zone`
//! as the ledger's first event, read by every reader of the log; Beijing time when none is recorded.

use chrono::{DateTime, Duration, FixedOffset, Utc};

use crate::cli_support::{fails_with_one_line, json, ledger, ok, stdout};

/// The `recorded_at` of every change (newest first) and the CSV's times, in the same order.
fn times(path: &std::path::Path) -> (Vec<DateTime<Utc>>, Vec<String>) {
    let recorded = json(&ledger(path, &["changes", "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            DateTime::parse_from_rfc3339(c["recorded_at"].as_str().unwrap())
                .unwrap()
                .to_utc()
        })
        .collect();
    let csv = stdout(ok(&ledger(path, &["changes", "--csv"])));
    let shown = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.unwrap()[1].to_owned())
        .collect();
    (recorded, shown)
}

fn local(t: DateTime<Utc>, hours: i32, format: &str) -> String {
    t.with_timezone(&FixedOffset::east_opt(hours * 3600).unwrap())
        .format(format)
        .to_string()
}

/// A ledger created with `--zone Asia/Tokyo` records the zone first and shows every time at
/// +09:00; a minute typed (`--until`) is a minute in Tokyo, not in Beijing (an hour apart); the
/// zone cannot be changed once events exist, and re-running `init` with the same zone is harmless.
/// An unknown zone is refused with the known ones listed, before any file is created. A ledger
/// created without `--zone` reads as Beijing time (+08:00).
#[test]
fn a_ledger_keeps_the_zone_it_was_created_with() {
    let dir = tempfile::tempdir().unwrap();

    let berlin = dir.path().join("berlin.db");
    let reason = fails_with_one_line(&ledger(&berlin, &["init", "--zone", "Europe/Berlin"]));
    assert!(
        reason.contains("Europe/Berlin") && reason.contains("Asia/Tokyo, Asia/Seoul"),
        "{reason}"
    );
    assert!(!berlin.exists(), "nothing created for a refused zone");

    let tokyo = dir.path().join("tokyo.db");
    ok(&ledger(&tokyo, &["init", "--zone", "asia/tokyo"]));
    ok(&ledger(&tokyo, &["rubric", "load"]));
    ok(&ledger(&tokyo, &["init", "--zone", "Asia/Tokyo"]));
    let reason = fails_with_one_line(&ledger(&tokyo, &["init", "--zone", "Asia/Shanghai"]));
    assert!(reason.contains("2 events"), "{reason}");
    let changes = json(&ledger(&tokyo, &["changes", "--json"]));
    let first = changes.as_array().unwrap().last().unwrap();
    assert_eq!(
        (first["event_type"].as_str(), first["position"].as_u64()),
        (Some("BusinessZoneSet"), Some(1))
    );
    let (recorded, shown) = times(&tokyo);
    assert_eq!(recorded.len(), 2);
    for (t, s) in recorded.iter().zip(&shown) {
        assert_eq!(s, &local(*t, 9, "%Y-%m-%d %H:%M:%S"), "Tokyo time");
    }
    // The rubric's minute read back in Tokyo includes it; half an hour earlier excludes it, which
    // on Beijing's clock would have been half an hour later and included it.
    let rubric_at = recorded[0];
    let count = |until: String| {
        json(&ledger(&tokyo, &["changes", "--json", "--until", &until]))
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(local(rubric_at, 9, "%Y-%m-%d %H:%M")), 2);
    assert_eq!(
        count(local(
            rubric_at - Duration::minutes(30),
            9,
            "%Y-%m-%d %H:%M"
        )),
        usize::from(recorded[1] < rubric_at - Duration::minutes(29))
    );

    let beijing = dir.path().join("beijing.db");
    ok(&ledger(&beijing, &["rubric", "load"]));
    let (recorded, shown) = times(&beijing);
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        shown[0],
        local(recorded[0], 8, "%Y-%m-%d %H:%M:%S"),
        "Beijing time"
    );
}
