//! Each role's day in the console, in a real Chromium over the demo ledger: one browser, one
//! period's life. The admin opens a period and moves it through its stages; the secretary records
//! a self-assessment; the assessor fills the whole sheet in the grid; the reviewer reviews the whole
//! sheet; the admin publishes; the secretary files an appeal and submits a rectification with
//! evidence; the reviewer decides the appeal, verifies one rectification and sends one back.
//! Every step is checked against the API; screenshots at 1440 and 390 px wide.

use ledger_schemas::Role;
use serde_json::{Value, json};

use crate::browser_support::{Browser, DemoSite};
use crate::console_work::raise;

/// Screenshots of the page at desktop and phone width.
async fn both_widths(b: &mut Browser, what: &str) {
    b.client.set_window_size(1440, 1000).await.expect("size");
    b.shot(&format!("{what}-1440")).await;
    b.client.set_window_size(390, 844).await.expect("size");
    b.shot(&format!("{what}-390")).await;
    b.client.set_window_size(1440, 1000).await.expect("size");
}

async fn set(b: &Browser, id: &str, value: &str) {
    b.client
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(value)],
        )
        .await
        .expect("set a field");
}

/// The admin moves 2027Q1 on to `to` with the row's button.
async fn advance(b: &Browser, site: &DemoSite, to: &str) {
    b.sign_in(site.token(Role::Admin)).await;
    b.goto("/admin/periods").await;
    b.click(&format!(
        "tr[data-period=\"2027Q1\"] button[data-to=\"{to}\"]"
    ))
    .await;
    b.wait_path("done=advance").await;
    let period = site.api(Role::Admin, "/api/v1/periods/2027Q1").await;
    assert_eq!(period["stage"], to);
}

fn items(sheet: &Value) -> Vec<Value> {
    sheet["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_does_its_days_work_in_the_console() {
    let site = DemoSite::start().await;
    let secretary = site.api(Role::Unit, "/api/v1/me").await;
    let unit = secretary["units"][0].as_str().unwrap().to_owned();
    raise(&site, "RECT-DAY-1", &unit, "A1").await;
    raise(&site, "RECT-DAY-2", &unit, "A3").await;
    let submitted = site
        .server
        .post(
            "/api/v1/rectifications/RECT-DAY-2/submission",
            site.token(Role::Unit),
            json!({"note": "已整改 (done)", "evidence": ["整改报告 2026-31"]}),
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    let mut b = Browser::open(&site, "workday").await;

    // The admin opens a period: a missing name is refused at the field, then it opens.
    b.sign_in(site.token(Role::Admin)).await;
    b.goto("/work").await;
    b.click("a[href=\"/admin/periods\"]").await;
    b.fill("#open-period", "2027Q1").await;
    set(&b, "open-starts", "2027-01-01").await;
    set(&b, "open-ends", "2027-03-31").await;
    b.client
        .execute(
            "for (const c of document.querySelectorAll('#open-units input')) c.checked = c.value === arguments[0];",
            vec![json!(unit)],
        )
        .await
        .expect("choose the unit");
    b.click("#open-form button[type=submit]").await;
    let refusal = b.text("#open-form .field-error[data-field=name]").await;
    assert!(!refusal.is_empty());
    assert_eq!(
        b.wait("#open-period")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("2027Q1"),
        "what was typed stays"
    );
    both_widths(&mut b, "admin-refused").await;
    b.fill("#open-name", "2027年第一季度").await;
    b.click("#open-form button[type=submit]").await;
    b.wait_path("done=open").await;
    let opened = site.api(Role::Admin, "/api/v1/periods/2027Q1").await;
    assert_eq!(opened["units"], json!([unit]));
    b.click("tr[data-period=\"2027Q1\"] button[data-to=\"self_assessment\"]")
        .await;
    b.wait_path("done=advance").await;
    both_widths(&mut b, "admin-periods").await;

    // The secretary records a self-assessment with evidence.
    b.sign_in(site.token(Role::Unit)).await;
    b.goto("/work").await;
    let grid = format!("/periods/2027Q1/units/{unit}/grid");
    b.click(&format!("a[href=\"{grid}\"]")).await;
    let sheet = site
        .api(Role::Unit, &format!("/api/v1/periods/2027Q1/units/{unit}"))
        .await;
    let first = items(&sheet)
        .into_iter()
        .find(|i| i["kind"]["kind"] == "points")
        .unwrap();
    let code = first["item"].as_str().unwrap().to_owned();
    b.fill(&format!("[name=\"{code}/points\"]"), "1").await;
    b.fill(
        &format!("[name=\"{code}/note\"]"),
        "按计划完成 (done as planned)",
    )
    .await;
    b.fill(&format!("[name=\"{code}/evidence\"]"), "会议记录 2027-01")
        .await;
    both_widths(&mut b, "secretary-grid").await;
    b.click("#grid button[type=submit]").await;
    b.wait_path("done=1").await;
    let item = site
        .api(
            Role::Unit,
            &format!("/api/v1/periods/2027Q1/units/{unit}/items/{code}"),
        )
        .await;
    assert_eq!(
        item["self_assessment"]["evidence"],
        json!(["会议记录 2027-01"])
    );

    advance(&b, &site, "scoring").await;

    // The assessor fills the whole sheet: every item, one page, Enter goes down a column.
    b.sign_in(site.token(Role::Assessor)).await;
    b.goto(&grid).await;
    let all = items(&sheet);
    let points: Vec<String> = all
        .iter()
        .filter(|i| i["kind"]["kind"] == "points")
        .map(|i| i["item"].as_str().unwrap().to_owned())
        .collect();
    b.click(&format!("[name=\"{}/points\"]", points[0])).await;
    b.wait(&format!("[name=\"{}/points\"]", points[0]))
        .await
        .send_keys("\u{E007}")
        .await
        .expect("Enter");
    let focused = b
        .client
        .execute("return document.activeElement.name;", vec![])
        .await
        .unwrap();
    assert_eq!(
        focused,
        json!(format!("{}/points", points[1])),
        "Enter goes to the next row"
    );
    for i in &all {
        let code = i["item"].as_str().unwrap();
        let kind = &i["kind"];
        match kind["kind"].as_str().unwrap() {
            "points" => {
                b.fill(
                    &format!("[name=\"{code}/points\"]"),
                    kind["max"].as_str().unwrap(),
                )
                .await
            }
            "ladder" => b
                .wait(&format!("[name=\"{code}/level\"]"))
                .await
                .select_by_index(1)
                .await
                .expect("a level"),
            "bonus" => b.click(&format!("[name=\"{code}/none\"]")).await,
            "deduction" => b.fill(&format!("[name=\"{code}/cases\"]"), "0").await,
            "veto" => b
                .wait(&format!("[name=\"{code}/vetoed\"]"))
                .await
                .select_by_value("false")
                .await
                .expect("no veto"),
            other => panic!("a kind the grid does not know: {other}"),
        }
    }
    both_widths(&mut b, "assessor-grid").await;
    let before = site.server.log_len().await;
    b.click("#grid button[type=submit]").await;
    b.wait_path(&format!("done={}", all.len())).await;
    assert_eq!(
        site.server.log_len().await,
        before + all.len() as u64,
        "one event per item"
    );
    let scored = site
        .api(
            Role::Assessor,
            &format!("/api/v1/periods/2027Q1/units/{unit}"),
        )
        .await;
    assert!(items(&scored).iter().all(|i| !i["score"].is_null()));
    both_widths(&mut b, "assessor-done").await;

    advance(&b, &site, "review").await;

    // The reviewer reviews the whole sheet: a rejection without a comment is refused at the field.
    b.sign_in(site.token(Role::Reviewer)).await;
    b.goto(&grid).await;
    b.wait("#sheet-decision")
        .await
        .select_by_value("rejected")
        .await
        .unwrap();
    b.click("#sheet-review button[type=submit]").await;
    b.wait("#sheet-review .field-error[data-field=comment]")
        .await;
    b.wait("#sheet-decision")
        .await
        .select_by_value("approved")
        .await
        .unwrap();
    b.fill("#sheet-comment", "材料齐全 (complete)").await;
    b.click("#sheet-review button[type=submit]").await;
    b.wait_path("done=sheet-review").await;
    let reviewed = site
        .api(
            Role::Reviewer,
            &format!("/api/v1/periods/2027Q1/units/{unit}"),
        )
        .await;
    assert!(
        items(&reviewed)
            .iter()
            .all(|i| i["score"]["review"]["status"] == "approved")
    );
    both_widths(&mut b, "reviewer-sheet").await;

    advance(&b, &site, "published").await;
    both_widths(&mut b, "admin-published").await;

    // The secretary files an appeal and submits a rectification with evidence.
    b.sign_in(site.token(Role::Unit)).await;
    b.goto("/appeals").await;
    b.click("#file-appeal").await;
    b.wait("#appeal-item")
        .await
        .select_by_index(1)
        .await
        .unwrap();
    b.fill(
        "#appeal-grounds",
        "该项材料已按时报送 (the records were sent on time)",
    )
    .await;
    b.fill("#appeal-evidence", "收文登记 2027-03-02").await;
    both_widths(&mut b, "secretary-appeal").await;
    b.click("#appeal-form button[type=submit]").await;
    b.wait_path("done=filed").await;
    let appeals = site.api(Role::Reviewer, "/api/v1/appeals").await;
    let appeal = appeals["appeals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["period"] == "2027Q1")
        .expect("the appeal")
        .clone();
    assert_eq!(appeal["status"], "pending");
    b.goto("/rectifications").await;
    b.click("a[href=\"/rectifications/RECT-DAY-1\"]").await;
    b.fill(
        "#submit-note",
        "已补开支委会并完善记录 (the meeting was held and recorded)",
    )
    .await;
    b.fill("#submit-evidence", "会议纪要 2027-02\n签到表 2027-02")
        .await;
    b.click("#submit-form button[type=submit]").await;
    b.wait_path("done=submission").await;
    let rect = site
        .api(Role::Unit, "/api/v1/rectifications/RECT-DAY-1")
        .await;
    assert_eq!(rect["status"], "submitted");
    assert_eq!(
        rect["evidence"],
        json!(["会议纪要 2027-02", "签到表 2027-02"])
    );
    both_widths(&mut b, "secretary-rectification").await;

    // The reviewer decides the appeal, verifies one rectification and sends the other back.
    b.sign_in(site.token(Role::Reviewer)).await;
    b.goto("/appeals").await;
    let id = appeal["appeal"].as_str().unwrap();
    let section = format!("section[data-appeal=\"{id}\"]");
    b.fill(
        &format!("{section} textarea[name=decision]"),
        "经核实, 不予支持 (checked: dismissed)",
    )
    .await;
    b.click(&format!("{section} button[type=submit]")).await;
    // The page comes back to /appeals: wait for the decision to show there.
    b.wait(&format!("{section} p.decision")).await;
    let decided = site
        .api(Role::Reviewer, &format!("/api/v1/appeals/{id}"))
        .await;
    assert_eq!(decided["status"], "dismissed");
    b.goto("/rectifications/RECT-DAY-1").await;
    b.fill("#verify-comment", "核实无误 (checked)").await;
    b.click("#verify-form button[type=submit]").await;
    b.wait_path("done=verification").await;
    b.goto("/rectifications/RECT-DAY-2").await;
    b.fill(
        "#send-back-comment",
        "缺少签到表 (the sign-in sheet is missing)",
    )
    .await;
    b.click("#send-back-form button[type=submit]").await;
    b.wait_path("done=send-back").await;
    both_widths(&mut b, "reviewer-rectification").await;
    let one = site
        .api(Role::Reviewer, "/api/v1/rectifications/RECT-DAY-1")
        .await;
    let two = site
        .api(Role::Reviewer, "/api/v1/rectifications/RECT-DAY-2")
        .await;
    assert_eq!(
        (one["status"].as_str(), two["status"].as_str()),
        (Some("closed"), Some("open"))
    );
    assert_eq!(two["sent_back"], 1);
    b.close().await;
}
