//! Time travel beyond the standings: a sheet has the same time control, over its period's own life,
//! with the milestones and the 按公示时 shortcut, and reads the sheet as it stood there.

use hyper::Method;
use ledger_schemas::Role;

use crate::browser_support::DemoSite;

async fn page(site: &DemoSite, path: &str) -> (u16, String) {
    page_as(site, Role::Auditor, path).await
}

async fn page_as(site: &DemoSite, role: Role, path: &str) -> (u16, String) {
    let cookie = format!("ledger_token={}", site.token(role));
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
    // Before the period was opened there was no sheet: the page says so, as the standings do, and
    // keeps the time control, rather than an error page.
    let (status, before) = page(&site, &format!("{sheet}?at=3")).await;
    assert_eq!(status, 200, "{before}");
    assert!(before.contains("id=\"not-yet\""), "{before}");
    assert!(
        before.contains("id=\"as-published\""),
        "the way back to the period's life"
    );
    // An item likewise: its score and history as published, and no entry form into the past.
    let item = format!("{sheet}/items/C1");
    let (status, now) = page(&site, &item).await;
    assert_eq!(status, 200);
    assert!(now.contains(&format!(
        "id=\"as-published\" href=\"{item}?at={published}\""
    )));
    let (status, then) = page(&site, &format!("{item}?at={published}")).await;
    assert_eq!(status, 200);
    assert!(then.contains(&format!("id=\"item-as-of\" data-position=\"{published}\"")));
    // A reviewer has forms on an item in review now, none on the item as it stood (even at the
    // latest record).
    let in_review = "/periods/2026Q4/units/SH-NY-B2/items/F5";
    let (_, reviewer_now) = page_as(&site, Role::Reviewer, in_review).await;
    let (_, reviewer_then) = page_as(
        &site,
        Role::Reviewer,
        &format!("{in_review}?at={}", site.head),
    )
    .await;
    assert!(reviewer_now.contains("id=\"review-form\""), "a form now");
    assert!(
        !reviewer_then.contains("id=\"review-form\""),
        "no form acts on the past"
    );
    let was = site
        .api(
            Role::Auditor,
            &format!("/api/v1/periods/2026Q3/units/{unit}/items/C1?at_position={published}"),
        )
        .await;
    let history = site
        .api(
            Role::Auditor,
            &format!(
                "/api/v1/periods/2026Q3/units/{unit}/items/C1/history?at_position={published}"
            ),
        )
        .await;
    let points = ledger::console::format::points(was["score"]["value"]["points"].as_str().unwrap());
    assert!(
        then.contains(&format!("id=\"current-value\">{points} 分<")),
        "{points}"
    );
    assert_eq!(
        then.matches("<li data-position=").count(),
        history["changes"].as_array().unwrap().len(),
        "the history as it stood"
    );
    // The change log of the period: 按公示时 reads it up to the publication's record.
    let (status, log) = page(&site, "/changes?period=2026Q3").await;
    assert_eq!(status, 200);
    let href = format!(
        "/changes?{}",
        ledger::console::format::query(&[
            ("period", "2026Q3"),
            ("before", &(published + 1).to_string())
        ])
    )
    .replace('&', "&amp;");
    assert!(
        log.contains(&format!("id=\"as-published\" href=\"{href}\"")),
        "{href}"
    );
    let (status, until) = page(&site, &href.replace("&amp;", "&")).await;
    assert_eq!(status, 200);
    let newest: u64 = until
        .split("<tr data-position=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(newest, published, "the publication first, nothing after it");
    // The closed loop as it stood: before anything was raised, nothing; now, the demo's work.
    let (status, loop_now) = page(&site, "/rectifications").await;
    assert_eq!(status, 200);
    assert!(loop_now.contains("data-rectification=\"ZG-2026Q3-01\""));
    let (status, loop_then) = page(&site, "/rectifications?at=1").await;
    assert_eq!(status, 200);
    assert!(loop_then.contains("id=\"loop-as-of\" data-position=\"1\""));
    assert!(
        !loop_then.contains("data-rectification="),
        "nothing raised yet"
    );
    // A typed time reads the same way; a time that is not one is refused with a message.
    let (status, bad) = page(&site, &format!("{sheet}?time=tomorrow")).await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("data-code=\"invalid-query\""));
}
