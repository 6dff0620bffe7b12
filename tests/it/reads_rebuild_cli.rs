//! `ledger rebuild` on the demo ledger: it folds every event and reports the rate, the memory and
//! where the time went.

use crate::cli_support::{demo_copy, events, json, ledger, ok, stdout};

/// Proves that `ledger rebuild --json` folds the whole demo log (as many events as `ledger status`
/// counts, its periods and sheets) and reports each stage's busy time; and that the text form
/// names the rate in both languages.
#[test]
fn rebuild_reports_rate_and_time_split() {
    // A copy: the rebuild keeps snapshots in the ledger, and the shared demo stays as built.
    let (_dir, path) = demo_copy();
    let report = json(&ledger(&path, &["rebuild", "--json"]));
    assert_eq!(report["events"].as_u64(), Some(events(&path)));
    assert_eq!(report["periods"].as_u64(), Some(2), "{report}");
    assert!(report["sheets"].as_u64().unwrap() > 0, "{report}");
    assert!(report["events_per_second"].as_f64().unwrap() > 0.0);
    for stage in ["read_seconds", "decode_seconds", "fold_seconds"] {
        let busy = report[stage].as_f64().unwrap();
        assert!(
            busy >= 0.0 && busy <= report["seconds"].as_f64().unwrap() + 0.5,
            "{stage}: {report}"
        );
    }
    let text = stdout(ok(&ledger(&path, &["rebuild"])));
    assert!(text.contains("事件/秒 (events/s)"), "{text}");
    assert!(text.contains("折叠 fold"), "{text}");
}
