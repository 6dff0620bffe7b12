//! The console as each role's workplace, in real Chromium over the demo ledger: a responsible person's
//! 待办 and 我的责任, the auditor's jump to the 公示 milestone, every page at 390 px, and the page's
//! own SHA-256 (used outside a secure context) against the standard's vectors. Screenshots at 1440
//! and 390 px land in `target/browser-screenshots/`.

use ledger_schemas::Role;
use serde_json::Value;

use crate::browser_support::{Browser, DemoSite};

/// A responsible person (the demo's 纪检委员) signs in, lands on 待办 and sees the overdue
/// rectification with the days past due the API reports; 我的责任 shows it too, with what they can do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responsible_person_sees_an_overdue_item_with_its_days() {
    let site = DemoSite::start().await;
    let todo = site.api(Role::Responsible, "/api/v1/todo").await;
    let overdue = todo["overdue"].as_array().unwrap();
    assert_eq!(overdue.len(), 1, "{todo}");
    let late = &overdue[0];
    let id = late["rectification"].as_str().unwrap();
    let days = late["days_overdue"].as_i64().unwrap();
    assert!(days > 0, "{late}");

    let mut b = Browser::open(&site, "responsible").await;
    b.client.set_window_size(1440, 900).await.expect("resize");
    b.sign_in(site.token(Role::Responsible)).await;
    b.goto("/").await;
    b.wait("#todo-counts").await;
    assert!(b.path().await.starts_with("/todo"), "{}", b.path().await);
    let row = format!("#overdue-list tr[data-rectification='{id}']");
    assert_eq!(
        b.text(&format!("{row} td.days-overdue")).await,
        days.to_string()
    );
    // Names, not ids: the unit by name (the id on hover).
    let unit = late["unit"].as_str().unwrap();
    let unit_cell = b.text(&format!("{row} td:nth-child(2)")).await;
    assert_eq!(unit_cell, todo["unit_names"][unit].as_str().unwrap());
    assert_eq!(
        b.text("[data-count=overdue] .n").await,
        "1",
        "the warning card counts it"
    );
    b.shot("todo-1440").await;
    b.client.set_window_size(390, 844).await.expect("resize");
    b.goto("/todo").await;
    b.shot("todo-390").await;

    b.client.set_window_size(1440, 900).await.expect("resize");
    b.goto("/mine").await;
    let mine = format!("#my-rectifications tr[data-rectification='{id}']");
    assert_eq!(
        b.text(&format!("{mine} td.days-overdue")).await,
        days.to_string()
    );
    assert!(
        b.text(&format!("{mine} td.action"))
            .await
            .contains("提交整改")
    );
    assert!(
        b.count("#my-items tbody tr").await > 0,
        "the items they answer for"
    );
    b.shot("mine-1440").await;
    b.client.set_window_size(390, 844).await.expect("resize");
    b.goto("/mine").await;
    b.shot("mine-390").await;
    b.close().await;
}

/// The auditor jumps the time control to the 公示 milestone of 2026Q3 and sees the standings as
/// published: the position is the publication's, and the figures are the API's as of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_moves_the_time_control_to_publication() {
    let site = DemoSite::start().await;
    let life = site
        .api(Role::Auditor, "/api/v1/periods/2026Q3/milestones")
        .await;
    let published = life["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["kind"] == "published")
        .expect("2026Q3 was published");
    let at = published["position"].as_u64().unwrap();
    assert_eq!(life["published_at"], published["recorded_at"]);
    let then = site
        .api(
            Role::Auditor,
            &format!("/api/v1/periods/2026Q3/standings?at_position={at}"),
        )
        .await;

    let mut b = Browser::open(&site, "as_published").await;
    b.client.set_window_size(1440, 900).await.expect("resize");
    b.sign_in(site.token(Role::Auditor)).await;
    b.goto("/standings?period=2026Q3").await;
    assert!(
        b.count("#milestone-marks li").await >= 5,
        "opened, stages, published, appeals"
    );
    b.click("#as-published").await;
    b.wait(&format!("#as-of[data-position='{at}']")).await;
    b.shot("as-published-1440").await;
    let first = &then["units"][0];
    let unit = first["unit"].as_str().unwrap();
    let combined = b
        .text(&format!(
            "#standings tr[data-unit='{unit}'] td:nth-last-child(2)"
        ))
        .await;
    assert!(
        combined.starts_with(&ledger::console::format::points(
            first["score"]["combined"].as_str().unwrap()
        )),
        "{combined} vs {first}"
    );
    b.client.set_window_size(390, 844).await.expect("resize");
    b.shot("as-published-390").await;
    b.close().await;
}

/// The time field shows and takes the office's format (`2026-10-01 08:30`, Beijing time) in
/// Chromium whatever its locale (a `datetime-local` input drew `mm/dd/yyyy` in an American one): the
/// value is the text shown, a US-style date is refused by the field before anything is sent, and a
/// typed office time reads the standings as of then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_field_takes_the_offices_format() {
    let site = DemoSite::start().await;
    let life = site
        .api(Role::Auditor, "/api/v1/periods/2026Q3/milestones")
        .await;
    let published = life["published_at"].as_str().unwrap();
    let typed = chrono::DateTime::parse_from_rfc3339(published)
        .unwrap()
        .with_timezone(&ledger::console::format::beijing())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();

    let mut b = Browser::open(&site, "time_field").await;
    b.client.set_window_size(1440, 900).await.expect("resize");
    b.sign_in(site.token(Role::Auditor)).await;
    b.goto("/standings?period=2026Q3").await;
    let field: Value = b
        .client
        .execute("return [document.getElementById('time').type];", vec![])
        .await
        .expect("field");
    assert_eq!(field[0], "text", "a text field: its value is what is shown");

    // A date as an American browser would write it is refused by the field itself.
    b.fill("#time", "10/01/2026 08:30").await;
    let valid = b
        .client
        .execute(
            "return document.getElementById('time').checkValidity();",
            vec![],
        )
        .await
        .expect("validity");
    assert_eq!(valid, false, "mm/dd/yyyy is not the office's format");

    b.fill("#time", &typed).await;
    b.click("#time-go").await;
    b.wait_path("time=").await;
    let at: u64 = b
        .wait("#as-of")
        .await
        .attr("data-position")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    let then = site
        .api(
            Role::Auditor,
            &format!(
                "/api/v1/periods/2026Q3/standings?{}",
                ledger::console::format::query(&[("as_of", published)])
            ),
        )
        .await;
    assert!(at >= then["as_of"].as_u64().unwrap(), "{at} vs {then}");
    // The field keeps the office's format after the round trip.
    let shown = b.wait("#time").await.prop("value").await.unwrap().unwrap();
    assert_eq!(shown, typed);
    b.shot("time-field-1440").await;
    b.close().await;
}

/// The demo lives through its quarters (issue #22): the 2026Q3 公示 date `ledger demo` prints,
/// typed into the console's time field as printed, reads the standings as published: the point
/// is the publication's record, and the figures are the API's as of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_publication_date_shows_the_standings_as_published() {
    let site = DemoSite::start().await;
    let published = site
        .summary
        .milestones
        .iter()
        .find(|m| m.label.starts_with("2026Q3 公示"))
        .expect("the demo prints the 2026Q3 publication");
    let date = published.date.to_string();
    assert_eq!(date.len(), 10, "a date a person recognises: {date}");
    let then = site
        .api(
            Role::Auditor,
            &format!(
                "/api/v1/periods/2026Q3/standings?at_position={}",
                published.position
            ),
        )
        .await;

    let mut b = Browser::open(&site, "demo_date").await;
    b.client.set_window_size(1440, 900).await.expect("resize");
    b.sign_in(site.token(Role::Auditor)).await;
    b.goto("/standings?period=2026Q3").await;
    b.fill("#time", &date).await;
    b.click("#time-go").await;
    b.wait_path("time=").await;
    let at: u64 = b
        .wait("#as-of")
        .await
        .attr("data-position")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        at, published.position,
        "the end of {date} is the publication"
    );
    for unit in then["units"].as_array().unwrap() {
        let id = unit["unit"].as_str().unwrap();
        let combined = b
            .text(&format!(
                "#standings tr[data-unit='{id}'] td:nth-last-child(2)"
            ))
            .await;
        let expected = ledger::console::format::points(unit["score"]["combined"].as_str().unwrap());
        assert!(
            combined.starts_with(&expected),
            "{id}: {combined} vs {expected}"
        );
    }
    b.shot("published-date-1440").await;
    b.client.set_window_size(390, 844).await.expect("resize");
    b.shot("published-date-390").await;
    b.close().await;
}

/// Every page of every role at 390 px wide: the page never scrolls sideways (a wide table scrolls
/// inside its own box).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "phone").await;
    b.client.set_window_size(390, 844).await.expect("resize");
    let pages = [
        "/todo",
        "/mine",
        "/standings?period=2026Q3",
        "/standings?period=2026Q4",
        "/annual",
        "/changes",
        "/rubrics",
        "/rectifications",
        "/appeals",
        "/charts",
        "/integrity",
        "/periods/2026Q4/units/SH-NY-B2",
        "/periods/2026Q4/units/SH-NY-B2/items/F5",
    ];
    let mut wide = Vec::new();
    for role in [
        Role::Admin,
        Role::Assessor,
        Role::Reviewer,
        Role::Auditor,
        Role::Unit,
        Role::Responsible,
    ] {
        b.sign_in(site.token(role)).await;
        for page in pages {
            b.goto(page).await;
            b.wait("h1").await;
            let (width, window) = b.widths().await;
            assert!(window <= 390, "{window}");
            if width > 390 {
                wide.push(format!("{role} {page}: {width} px"));
                b.shot("too-wide").await;
            }
        }
    }
    assert!(wide.is_empty(), "pages wider than 390 px: {wide:#?}");
    b.close().await;
}

/// The SHA-256 the page uses when `crypto.subtle` is missing gives FIPS 180-4's digests (the empty
/// message, "abc", the two-block message, and a million "a"), and the same as WebCrypto for a
/// message across the padding boundary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_own_sha256_matches_the_standard() {
    let site = DemoSite::start().await;
    let b = Browser::open(&site, "sha256").await;
    b.sign_in(site.token(Role::Auditor)).await;
    b.goto("/integrity").await;
    let cases = [
        (
            "",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ];
    for (message, digest) in cases {
        let got = b
            .client
            .execute(
                "return bytesToHex(sha256Soft(new TextEncoder().encode(arguments[0])));",
                vec![Value::from(message)],
            )
            .await
            .expect("hash");
        assert_eq!(got, digest, "{message:?}");
    }
    let million = b
        .client
        .execute(
            "return bytesToHex(sha256Soft(new TextEncoder().encode('a'.repeat(1000000))));",
            vec![],
        )
        .await
        .expect("hash");
    assert_eq!(
        million,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
    // Lengths around the 55/56/64-byte padding boundaries agree with WebCrypto.
    let agree = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             (async () => {
               for (const n of [55, 56, 57, 63, 64, 65, 119, 120]) {
                 const data = new Uint8Array(n).map((_, i) => (i * 7 + 3) & 255);
                 const web = bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
                 if (web !== bytesToHex(sha256Soft(data))) return done('differs at ' + n);
               }
               done('same');
             })();",
            vec![],
        )
        .await
        .expect("compare");
    assert_eq!(agree, "same");
    b.close().await;
}
