//! Time travel beyond the standings: a sheet has the same time control, over its period's own life,
//! with the milestones and the 按公示时 shortcut, and reads the sheet as it stood there.

use hyper::Method;
use ledger_schemas::Role;

use crate::browser_support::DemoSite;

async fn page(site: &DemoSite, path: &str) -> (u16, String) {
    let cookie = format!("ledger_token={}", site.token(Role::Auditor));
    let reply = site
        .server
        .raw(Method::GET, path, &[("cookie", &cookie)], b"")
        .await;
    (reply.status, reply.text)
}

/// The sheet of a published period shows the period's milestones, and its 按公示时 link reads the
/// sheet as published: the position is the publication's and the party score the API's then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sheet_travels_to_its_periods_milestones() {
    let site = DemoSite::start().await;
    let life = site
        .api(Role::Auditor, "/api/v1/periods/2026Q3/milestones")
        .await;
    let milestones = life["milestones"].as_array().unwrap();
    let published = milestones
        .iter()
        .rev()
        .find(|m| m["kind"] == "published")
        .unwrap()["position"]
        .as_u64()
        .unwrap();
    let unit = "SH-CZ-B1";
    let sheet = format!("/periods/2026Q3/units/{unit}");
    let (status, now) = page(&site, &sheet).await;
    assert_eq!(status, 200);
    assert_eq!(
        now.split("<li")
            .filter(|li| li.contains("data-kind="))
            .count(),
        milestones.len(),
        "one mark per milestone"
    );
    let link = format!("{sheet}?at={published}");
    assert!(
        now.contains(&format!("id=\"as-published\" href=\"{link}\"")),
        "按公示时 leads to the publication"
    );
    assert!(!now.contains("id=\"sheet-as-of\""), "now is not the past");

    let (status, then) = page(&site, &link).await;
    assert_eq!(status, 200);
    assert!(then.contains(&format!("id=\"sheet-as-of\" data-position=\"{published}\"")));
    let api = site
        .api(
            Role::Auditor,
            &format!("/api/v1/periods/2026Q3/units/{unit}?at_position={published}"),
        )
        .await;
    let party = ledger::console::format::points(api["score"]["party_score"].as_str().unwrap());
    assert!(
        then.contains(&format!("id=\"party-score\">{party}<")),
        "the party score as published, {party}"
    );
    // A typed time reads the same way; a time that is not one is refused with a message.
    let (status, bad) = page(&site, &format!("{sheet}?time=tomorrow")).await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("data-code=\"invalid-query\""));
}
