//! The web console end to end, in a real headless Chromium against a real server on a random port
//! over the signed demo ledger (see `browser_support`). Each test saves screenshots in
//! `target/browser-screenshots/`.

use ledger_schemas::Role;
use serde_json::Value;

use crate::browser_support::{Browser, DemoSite};

/// The units of the API's standings, in rank order.
fn unit_order(standings: &Value) -> Vec<String> {
    standings["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap().to_owned())
        .collect()
}

/// The oldest score correction of the published period, as the change log (newest first) has it.
async fn oldest_correction(site: &DemoSite, role: Role) -> Value {
    let changes = site
        .api(
            role,
            "/api/v1/changes?kind=ScoreCorrected&period=2026Q3&limit=1000",
        )
        .await;
    changes["changes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

/// A visitor is sent to sign in; a wrong token is refused next to the field; the right one shows
/// the standings, ranked as the API ranks them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_and_reads_the_standings() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "sign_in").await;
    b.goto("/standings").await;
    b.wait("#sign-in").await;
    assert!(
        b.path().await.starts_with("/sign-in?next=%2Fstandings"),
        "{}",
        b.path().await
    );

    b.fill("#token", "tok-nobody~0000").await;
    b.click("#sign-in button[type=submit]").await;
    let refusal = b.text(".field-error[data-field=token]").await;
    assert!(
        refusal.contains("令牌") || refusal.contains("token"),
        "{refusal}"
    );
    b.shot("refused").await;

    b.sign_in(site.token(Role::Admin)).await;
    b.goto("/standings?period=2026Q3").await;
    let api = site
        .api(Role::Admin, "/api/v1/periods/2026Q3/standings")
        .await;
    let mut rows = Vec::new();
    for row in b.all("#standings tbody tr").await {
        rows.push(row.attr("data-unit").await.unwrap().unwrap());
    }
    assert_eq!(rows.len(), 8);
    assert_eq!(rows, unit_order(&api));
    let first = &api["units"][0];
    let combined = b
        .text("#standings tbody tr:first-child td:nth-last-child(2)")
        .await;
    assert_eq!(combined, first["score"]["combined"].as_str().unwrap());
    b.shot("standings").await;
    b.close().await;
}

/// The slider moved to just before a correction shows the value before it, highlighted as changed
/// since, with today's value beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_control_shows_the_value_before_a_correction() {
    let site = DemoSite::start().await;
    let correction = oldest_correction(&site, Role::Auditor).await;
    let position = correction["position"].as_u64().unwrap();
    let unit = correction["unit"].as_str().unwrap();
    let aspect = correction["aspect"].as_str().unwrap();
    let before = position - 1;
    let then = site
        .api(
            Role::Auditor,
            &format!("/api/v1/periods/2026Q3/standings?at_position={before}"),
        )
        .await;
    let now = site
        .api(Role::Auditor, "/api/v1/periods/2026Q3/standings")
        .await;
    let points = |s: &Value| -> (usize, String) {
        let line = s["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == unit)
            .unwrap();
        let aspects = line["score"]["aspects"].as_array().unwrap();
        let i = aspects.iter().position(|a| a["aspect"] == aspect).unwrap();
        (i, aspects[i]["points"].as_str().unwrap().to_owned())
    };
    let ((column, old), (_, new)) = (points(&then), points(&now));
    // The page shows figures with the rubric's two decimals.
    let (old, new) = (
        ledger::console::format::points(&old),
        ledger::console::format::points(&new),
    );
    assert_ne!(old, new, "the correction changed the aspect's points");

    let mut b = Browser::open(&site, "time_control").await;
    b.sign_in(site.token(Role::Auditor)).await;
    b.goto("/standings?period=2026Q3").await;
    let cell = format!(
        "#standings tr[data-unit='{unit}'] td[data-col='{}']",
        // Rank and 已评 n/m come before the aspects.
        column + 2
    );
    assert_eq!(b.text(&cell).await, new, "today's value first");
    // Drag the slider: its value, then the change event a release fires.
    let slider = b.wait("#at").await;
    b.client
        .execute(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'));",
            vec![serde_json::to_value(&slider).unwrap(), Value::from(before)],
        )
        .await
        .unwrap();
    b.wait(&format!("#as-of[data-position='{before}']")).await;
    let shown = b.wait(&cell).await;
    assert!(
        shown
            .attr("class")
            .await
            .unwrap()
            .is_some_and(|c| c.split(' ').any(|c| c == "changed"))
    );
    let text = shown.text().await.unwrap();
    assert!(text.starts_with(&old), "{text} shows the old value {old}");
    assert!(
        text.contains(&format!("→ {new}")),
        "{text} names today's value {new}"
    );
    b.shot("before_correction").await;

    // The date-time input reads the same point in time.
    // The date-time input shows when that point was recorded, in Beijing time.
    let time = b.wait("#time").await.prop("value").await.unwrap().unwrap();
    let recorded = chrono::DateTime::parse_from_rfc3339(then["as_of_time"].as_str().unwrap())
        .unwrap()
        .with_timezone(&ledger::console::format::beijing())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert_eq!(time, recorded);
    b.close().await;
}

/// From the standings to a unit's sheet to an item: its history is a timeline, old → new, who, why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_items_history_opens_as_a_timeline() {
    let site = DemoSite::start().await;
    let correction = oldest_correction(&site, Role::Reviewer).await;
    let (unit, item) = (
        correction["unit"].as_str().unwrap(),
        correction["item"].as_str().unwrap(),
    );
    let mut b = Browser::open(&site, "item_history").await;
    b.sign_in(site.token(Role::Reviewer)).await;
    b.goto("/standings?period=2026Q3").await;
    b.click(&format!("#standings tr[data-unit='{unit}'] td.unit a"))
        .await;
    b.wait("#totals").await;
    b.click(&format!("tr[data-item='{item}'] a")).await;
    b.wait("#timeline").await;
    let entries = b.all("#timeline li").await;
    assert!(entries.len() >= 2, "scored, then corrected");
    let corrected = b
        .wait(&format!(
            "#timeline li[data-position='{}']",
            correction["position"]
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        corrected.contains(correction["reason"].as_str().unwrap()),
        "{corrected}"
    );
    // Who, by name (the id is on hover).
    let actor = site
        .api(
            Role::Admin,
            &format!("/api/v1/people/{}", correction["actor"].as_str().unwrap()),
        )
        .await;
    assert!(
        corrected.contains(actor["name"].as_str().unwrap()),
        "{corrected}"
    );
    assert!(corrected.contains('→'), "{corrected}");
    b.shot("timeline").await;
    b.close().await;
}

/// The change log filtered by person shows that person's changes only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_log_filters_by_person() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "change_log").await;
    b.sign_in(site.token(Role::Auditor)).await;
    b.goto("/changes").await;
    let mut others = 0;
    for row in b.all("#changes tbody tr").await {
        if row.attr("data-actor").await.unwrap().as_deref() != Some("reviewer-chen") {
            others += 1;
        }
    }
    assert!(
        others > 0,
        "the unfiltered page shows other people's changes too"
    );
    // A picker of people by name, not a free-text id.
    b.click("#change-filters select[name=person] option[value='reviewer-chen']")
        .await;
    b.click("#filter-go").await;
    b.wait_path("person=reviewer-chen").await;
    let rows = b.all("#changes tbody tr").await;
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(
            row.attr("data-actor").await.unwrap().as_deref(),
            Some("reviewer-chen")
        );
    }
    let api = site
        .api(
            Role::Auditor,
            "/api/v1/changes?person=reviewer-chen&limit=50",
        )
        .await;
    assert_eq!(rows.len(), api["changes"].as_array().unwrap().len());
    let csv = b.wait("#csv").await.attr("href").await.unwrap().unwrap();
    assert!(csv.contains("person=reviewer-chen"), "{csv}");
    b.shot("by_person").await;
    b.close().await;
}

/// An assessor's correction without a reason is refused with the API's message next to the reason;
/// with one it is recorded, and the item shows the new value and the correction in its history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assessor_records_a_correction_and_sees_it() {
    let site = DemoSite::start().await;
    let me = site.api(Role::Assessor, "/api/v1/me").await;
    // A points item of one of the assessor's units that is still pending review in 2026Q4.
    let mut target = None;
    for unit in me["units"].as_array().unwrap() {
        let unit = unit.as_str().unwrap();
        let sheet = site
            .api(
                Role::Assessor,
                &format!("/api/v1/periods/2026Q4/units/{unit}"),
            )
            .await;
        if let Some(item) =
            sheet["items"].as_array().unwrap().iter().find(|i| {
                i["kind"]["kind"] == "points" && i["score"]["review"]["status"] == "pending"
            })
        {
            target = Some((unit.to_owned(), item.clone()));
            break;
        }
    }
    let (unit, item) = target.expect("a correctable item");
    let code = item["item"].as_str().unwrap();
    let current: f64 = item["score"]["value"]["points"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let new = if current >= 1.0 {
        current - 0.5
    } else {
        current + 0.5
    };
    let page = format!("/periods/2026Q4/units/{unit}/items/{code}");

    let mut b = Browser::open(&site, "correction").await;
    b.sign_in(site.token(Role::Assessor)).await;
    b.goto(&page).await;
    let before = site.server.log_len().await;
    b.fill("#correction-points", &new.to_string()).await;
    b.click("#correction-form button[type=submit]").await;
    let refusal = b
        .text("#correction-form .field-error[data-field=reason]")
        .await;
    assert_eq!(site.server.log_len().await, before, "nothing recorded");
    // The API's own message for the same request.
    let reply = site
        .server
        .post(
            &format!("/api/v1{page}/correction"),
            site.token(Role::Assessor),
            serde_json::json!({
                "previous": item["score"]["value"],
                "value": {"kind": "points", "points": new.to_string()},
                "reason": ""
            }),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    // The API's own message, in the page's language (the API writes both).
    assert_eq!(
        refusal,
        ledger::console::i18n::Lang::Zh.said(reply.json["errors"][0]["reason"].as_str().unwrap())
    );
    b.shot("refused").await;

    let reason = "复核原始记录后更正 (corrected after checking the original records)";
    b.fill("#correction-reason", reason).await;
    b.click("#correction-form button[type=submit]").await;
    b.wait_path("?done=correction").await;
    let shown = b.text("#current-value").await;
    assert!(shown.starts_with(&new.to_string()), "{shown} shows {new}");
    let last = b.text("#timeline li:last-child").await;
    assert!(last.contains(reason), "{last}");
    // Who, by name (the id is on hover).
    assert!(last.contains("张伟"), "{last}");
    assert_eq!(site.server.log_len().await, before + 1);
    b.shot("recorded").await;
    b.close().await;
}

/// A unit secretary sees their own unit only, and another unit's sheet is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_user_cannot_open_another_units_sheet() {
    let site = DemoSite::start().await;
    let me = site.api(Role::Unit, "/api/v1/me").await;
    let own = me["units"][0].as_str().unwrap().to_owned();
    let other = if own == "SH-NY" { "SH-CZ" } else { "SH-NY" };
    let mut b = Browser::open(&site, "unit_scope").await;
    b.sign_in(site.token(Role::Unit)).await;
    b.goto("/standings?period=2026Q3").await;
    let rows = b.all("#standings tbody tr").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].attr("data-unit").await.unwrap(), Some(own.clone()));
    assert_eq!(
        b.count("header nav a[href='/changes']").await,
        0,
        "no change log"
    );
    b.goto(&format!("/periods/2026Q3/units/{own}")).await;
    b.wait("#totals").await;
    b.goto(&format!("/periods/2026Q3/units/{other}")).await;
    let problem = b.wait("#problem").await;
    assert_eq!(
        problem.attr("data-status").await.unwrap().as_deref(),
        Some("403")
    );
    assert_eq!(b.count("#totals").await, 0);
    b.shot("refused").await;
    b.close().await;
}

/// An auditor runs a verification and checks an event's inclusion proof in the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_verifies_inclusion_in_the_browser() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "integrity").await;
    b.sign_in(site.token(Role::Auditor)).await;
    b.goto("/integrity").await;
    assert_eq!(b.text("#tree-size").await, site.head.to_string());
    b.click("#verify-now").await;
    let result = b.wait("#verification-result").await;
    assert_eq!(result.attr("class").await.unwrap().as_deref(), Some("ok"));
    b.fill("#position", "37").await;
    b.click("#check-inclusion").await;
    let out = b.wait("#inclusion-result[data-holds]").await;
    assert_eq!(
        out.attr("data-holds").await.unwrap().as_deref(),
        Some("true")
    );
    let root = b.text("#root").await;
    assert!(
        out.text().await.unwrap().ends_with(&root),
        "the browser's root is the signed one"
    );
    b.fill("#position", "999999").await;
    b.click("#check-inclusion").await;
    b.wait("#inclusion-result.bad").await;
    b.shot("inclusion").await;
    b.close().await;
}

/// English is one click away, and stays chosen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_switches_to_english() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "english").await;
    b.sign_in(site.token(Role::Reviewer)).await;
    b.goto("/rubrics").await;
    assert!(b.text("header nav").await.contains("评分细则"));
    b.click("#lang").await;
    b.wait("html[lang=en]").await;
    b.wait_path("/rubrics").await;
    assert!(b.path().await.starts_with("/rubrics"));
    assert!(b.text("header nav").await.contains("Rubric"));
    b.goto("/standings").await;
    assert!(b.text("main h1").await.starts_with("Standings"));
    // The rubric page shows the adjustment between version 1 and 2 highlighted.
    b.goto("/rubrics").await;
    assert!(b.count("#diff li.changed").await >= 1);
    b.shot("english").await;
    b.close().await;
}

/// The charts: a unit's scores across the two periods, and the units compared aspect by aspect;
/// the closed loop shows the demo's one overdue rectification first under its responsible person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_and_the_closed_loop_draw_what_the_api_says() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "charts").await;
    b.sign_in(site.token(Role::Admin)).await;
    b.goto("/charts?period=2026Q3").await;
    b.wait("#trend-chart").await;
    assert_eq!(
        b.count("#trend-chart circle.party").await,
        2,
        "one point per period"
    );
    let standings = site
        .api(Role::Admin, "/api/v1/periods/2026Q3/standings")
        .await;
    let units = standings["units"].as_array().unwrap().len();
    let aspects = standings["aspects"].as_array().unwrap().len();
    assert_eq!(b.count("#aspect-chart rect.bar").await, units * aspects);
    // The axis names each aspect by its title, as the standings' columns do, not by its code.
    let first = &standings["aspects"][0];
    let code = first["aspect"].as_str().unwrap();
    let label = b
        .text(&format!("#aspect-chart text[data-aspect='{code}']"))
        .await;
    assert_eq!(label, first["title"]["zh"].as_str().unwrap());
    b.shot("charts").await;

    b.goto("/rectifications").await;
    let overdue = b.all("tr.overdue").await;
    assert_eq!(overdue.len(), 1, "the demo has one overdue rectification");
    let api = site.api(Role::Admin, "/api/v1/rectifications").await;
    let late = api["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["overdue"] == true)
        .unwrap();
    assert_eq!(
        overdue[0]
            .attr("data-rectification")
            .await
            .unwrap()
            .as_deref(),
        late["rectification"].as_str()
    );
    b.shot("closed_loop").await;
    b.close().await;
}

/// The year's page on a phone (390 px wide): the page does not scroll sideways (the table scrolls
/// in its box), and the first columns show each unit's name, year figure and grade as the API has
/// them; dragging the slider back before the year's first period says there was none yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_years_result_reads_on_a_phone() {
    let site = DemoSite::start().await;
    let api = site.api(Role::Unit, "/api/v1/annual?year=2026").await;
    let mut b = Browser::open(&site, "annual_phone").await;
    b.client.set_window_size(390, 844).await.expect("resize");
    b.sign_in(site.token(Role::Admin)).await;
    b.goto("/annual").await;
    b.wait("#annual").await;
    let (page, window) = b.widths().await;
    assert!(window <= 390, "{window}");
    assert!(
        page <= window,
        "the page is {page} px wide in a {window} px window"
    );
    assert_eq!(b.count("#annual tbody tr").await, 8);
    b.shot("phone").await;

    // The unit secretary's own line.
    b.sign_in(site.token(Role::Unit)).await;
    b.goto("/annual?year=2026").await;
    let line = &api["units"][0];
    let row = format!("#annual tr[data-unit='{}']", line["unit"].as_str().unwrap());
    assert_eq!(
        b.text(&format!("{row} td[data-col=year]")).await,
        ledger::console::format::points(line["figure"].as_str().unwrap())
    );
    assert!(!b.text(&format!("{row} td.unit")).await.contains("SH-"));
    b.goto("/annual?year=2026&at=5").await;
    b.wait("#not-yet").await;
    b.shot("before").await;
    b.close().await;
}
