//! The console as a workplace, over plain HTTP: the route walk (every API write has a console form
//! for every role the API admits, or a reasoned place on the API-only list), the whole-sheet grid
//! (one event per changed row, a refusal on its row, nothing dropped), and a token shown once.

use std::collections::BTreeSet;

use hyper::Method;
use ledger::console::forms::{API_ONLY, PLACES};
use ledger::http::auth::Gate;
use ledger::http::routes::{Kind, operations};
use ledger::store::SqliteStore;
use ledger_schemas::Role;
use serde_json::{Value, json};

use crate::browser_support::DemoSite;
use crate::http_support::Reply;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

async fn page(site: &DemoSite, role: Role, path: &str) -> Reply {
    let cookie = format!("ledger_token={}", site.token(role));
    site.server
        .raw(Method::GET, path, &[("cookie", &cookie)], b"")
        .await
}

async fn form(site: &DemoSite, role: Role, path: &str, pairs: &[(&str, &str)]) -> Reply {
    let cookie = format!("ledger_token={}", site.token(role));
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    site.server
        .raw(
            Method::POST,
            path,
            &[("cookie", &cookie), FORM],
            s.finish().as_bytes(),
        )
        .await
}

/// The operation ids the forms of a page name in `data-ops`.
fn ops_on(html: &str) -> BTreeSet<String> {
    html.split("data-ops=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .flat_map(|ops| ops.split_whitespace().map(str::to_owned))
        .collect()
}

/// Raises a rectification on `unit`'s `item` in 2026Q4 (in review), as the reviewer, from a
/// rejected review of the item (the rule: a rectification follows a rejection or a deduction).
pub async fn raise(site: &DemoSite, id: &str, unit: &str, item: &str) {
    let rejected = site
        .server
        .post(
            &format!("/api/v1/periods/2026Q4/units/{unit}/items/{item}/review"),
            site.token(Role::Reviewer),
            json!({"decision": "rejected", "comment": "记录不全 (incomplete records)"}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    let due = (chrono::Utc::now() + chrono::Duration::days(20))
        .date_naive()
        .to_string();
    let raised = site
        .server
        .post(
            "/api/v1/rectifications",
            site.token(Role::Reviewer),
            json!({"rectification": id, "period": "2026Q4", "unit": unit, "item": item,
                   "due_on": due, "finding": "支部记录不全 (the branch records are incomplete)", "origin": "review"}),
        )
        .await;
    assert_eq!(raised.status, 201, "{}", raised.text);
}

/// The unit a role's token covers (the secretary's unit for roles that cover every unit or none).
async fn unit_of(site: &DemoSite, role: Role) -> String {
    let me = site.api(role, "/api/v1/me").await;
    let secretary = site.api(Role::Unit, "/api/v1/me").await;
    // A responsible person covers no unit (an empty list): the secretary's unit stands in.
    let units = me["units"]
        .as_array()
        .filter(|units| !units.is_empty())
        .or(secretary["units"].as_array());
    units.unwrap()[0].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_write_has_a_console_form_for_every_role_it_admits() {
    let site = DemoSite::start().await;
    let unit = unit_of(&site, Role::Unit).await;
    // The states the forms need: an appeal awaiting decision, an open and a submitted rectification.
    let filed = site
        .server
        .post(
            "/api/v1/appeals",
            site.token(Role::Unit),
            json!({"appeal": "AP-WALK", "period": "2026Q3", "unit": unit, "grounds": "复核 (please check)"}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    // On F5, whose responsible person (纪检委员) holds the demo's responsible token: the submit
    // form must be open to them too.
    raise(&site, "RECT-OPEN", &unit, "F5").await;
    raise(&site, "RECT-SUBMITTED", &unit, "A3").await;
    let submitted = site
        .server
        .post(
            "/api/v1/rectifications/RECT-SUBMITTED/submission",
            site.token(Role::Unit),
            json!({"note": "已补齐 (completed)", "evidence": ["档案 2026-17"]}),
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);

    // A rubric version newer than the running period's, so the period may move to it.
    let rubrics = site.api(Role::Admin, "/api/v1/rubrics").await;
    let rubric = &rubrics["rubrics"][0];
    let admin = site.api(Role::Admin, "/api/v1/me").await;
    let adjusted = site
        .server
        .post(
            &format!("/api/v1/rubrics/{}/adjustments", rubric["rubric"].as_str().unwrap()),
            site.token(Role::Admin),
            json!({"from_version": rubric["latest_version"], "approver": admin["person"],
                   "reason": "措辞调整 (wording)",
                   "changes": [{"change": "retitle_aspect", "aspect": "A", "title": {"zh": "组织建设", "en": "Organisation"}}]}),
        )
        .await;
    assert_eq!(adjusted.status, 201, "{}", adjusted.text);

    let writes: Vec<_> = operations::<SqliteStore>()
        .into_iter()
        .filter(|op| op.kind == Kind::Write)
        .collect();
    let ids: BTreeSet<&str> = writes.iter().map(|op| op.id).collect();
    for (id, _) in PLACES.iter().chain(API_ONLY) {
        assert!(
            ids.contains(id),
            "{id} is listed but is no write of the API"
        );
    }
    let mut checked = 0;
    for op in &writes {
        let place = PLACES.iter().find(|(id, _)| *id == op.id);
        let api_only = API_ONLY.iter().any(|(id, _)| *id == op.id);
        assert!(
            place.is_some() != api_only,
            "{} {} ({}) needs a console form listed in console::forms::PLACES, or a reason on API_ONLY — one of them",
            op.method,
            op.path,
            op.id
        );
        let Some((_, template)) = place else { continue };
        let Gate::Roles(roles) = op.gate else {
            panic!("{}: a write open to anyone", op.id)
        };
        for &role in roles {
            let rectification = if op.id == "submitRectification" {
                "RECT-OPEN"
            } else {
                "RECT-SUBMITTED"
            };
            let path = template
                .replace("{period}", "2026Q4")
                .replace("{unit}", &unit_of(&site, role).await)
                .replace("{rectification}", rectification);
            let reply = page(&site, role, &path).await;
            assert_eq!(reply.status, 200, "{} as {role:?}: {path}", op.id);
            assert!(
                ops_on(&reply.text).contains(op.id),
                "{} is allowed to {role:?} but {path} has no form for it (forms there: {:?})",
                op.id,
                ops_on(&reply.text)
            );
            checked += 1;
        }
        // A role the API refuses finds no form for the write there (a 403 page, or none of it).
        for role in [
            Role::Admin,
            Role::Assessor,
            Role::Reviewer,
            Role::Unit,
            Role::Auditor,
        ] {
            if roles.contains(&role) {
                continue;
            }
            let path = template
                .replace("{period}", "2026Q4")
                .replace("{unit}", &unit_of(&site, role).await)
                .replace("{rectification}", "RECT-SUBMITTED");
            let reply = page(&site, role, &path).await;
            assert!(
                !ops_on(&reply.text).contains(op.id),
                "{} is refused to {role:?} but {path} offers a form for it",
                op.id
            );
        }
    }
    assert!(
        checked >= 30,
        "only {checked} (operation, role) pairs walked"
    );
    // A role the API refuses sees no form for it (the auditor writes nothing but verifications).
    let auditor = page(&site, Role::Auditor, "/rectifications/RECT-OPEN").await;
    assert!(
        ops_on(&auditor.text).is_empty(),
        "{:?}",
        ops_on(&auditor.text)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grid_records_each_changed_row_and_shows_a_refusal_on_its_row() {
    let site = DemoSite::start().await;
    let admin = site.token(Role::Admin);
    let unit = unit_of(&site, Role::Assessor).await;
    let opened = site
        .server
        .post(
            "/api/v1/periods",
            admin,
            json!({"period": "2027Q1", "name": "2027年第一季度", "cadence": "quarterly",
                "starts_on": "2027-01-01", "ends_on": "2027-03-31", "rubric": "default",
                "rubric_version": 2, "units": [unit]}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.text);
    for to in ["self_assessment", "scoring"] {
        let moved = site
            .server
            .post("/api/v1/periods/2027Q1/stage", admin, json!({"to": to}))
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
    }
    let sheet = site
        .api(
            Role::Assessor,
            &format!("/api/v1/periods/2027Q1/units/{unit}"),
        )
        .await;
    let points: Vec<(String, String)> = sheet["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"]["kind"] == "points")
        .map(|i| {
            (
                i["item"].as_str().unwrap().to_owned(),
                i["kind"]["max"].as_str().unwrap().to_owned(),
            )
        })
        .take(3)
        .collect();
    let grid = format!("/periods/2027Q1/units/{unit}/grid");
    let shown = page(&site, Role::Assessor, &grid).await;
    assert_eq!(shown.status, 200);
    assert!(
        shown
            .text
            .contains(&format!("name=\"{}/points\"", points[0].0))
    );

    // Row 1 fine, row 2 above its maximum, row 3 fine: two events, the refusal on row 2.
    let before = site.server.log_len().await;
    let too_many = format!("{}", points[1].1.parse::<f64>().unwrap() + 1.0);
    let names: Vec<String> = points.iter().map(|(c, _)| format!("{c}/points")).collect();
    let refused = form(
        &site,
        Role::Assessor,
        &grid,
        &[
            (names[0].as_str(), "1"),
            (names[1].as_str(), too_many.as_str()),
            (names[2].as_str(), "0.5"),
            ("ZZ9/points", "1"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        site.server.log_len().await,
        before + 2,
        "rows 1 and 3 recorded"
    );
    let row2 = refused
        .text
        .split(&format!("data-item=\"{}\"", points[1].0))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap();
    assert!(row2.contains("class=\"field-error\""), "{row2}");
    assert!(
        row2.contains(&format!("value=\"{too_many}\"")),
        "typed value kept: {row2}"
    );
    assert!(refused.text.contains("data-recorded=\"2\""), "summary");
    assert!(
        refused.text.contains("ZZ9"),
        "a row the sheet lacks is named, not dropped"
    );
    let after = site
        .api(
            Role::Assessor,
            &format!("/api/v1/periods/2027Q1/units/{unit}"),
        )
        .await;
    let value_of = |code: &str| {
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item"] == code)
            .unwrap()["score"]
            .clone()
    };
    assert_eq!(value_of(&points[0].0)["value"]["points"], "1");
    assert_eq!(value_of(&points[1].0), Value::Null);

    // Unchanged rows are not sent; a correction without a reason is refused at the row, with one.
    let before = site.server.log_len().await;
    let same = form(&site, Role::Assessor, &grid, &[(names[0].as_str(), "1.00")]).await;
    assert_eq!(same.status, 303, "{}", same.text);
    assert_eq!(
        site.server.log_len().await,
        before,
        "nothing changed, nothing sent"
    );
    let was = serde_json::to_string(&json!({"kind": "points", "points": "1"})).unwrap();
    let was_name = format!("{}/was", points[0].0);
    let reason_name = format!("{}/reason", points[0].0);
    let no_reason = form(
        &site,
        Role::Assessor,
        &grid,
        &[
            (names[0].as_str(), "1.5"),
            (was_name.as_str(), was.as_str()),
        ],
    )
    .await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.text);
    assert!(
        no_reason.text.contains("data-field=\"reason\""),
        "{}",
        no_reason.text
    );
    assert_eq!(site.server.log_len().await, before);
    let corrected = form(
        &site,
        Role::Assessor,
        &grid,
        &[
            (names[0].as_str(), "1.5"),
            (was_name.as_str(), was.as_str()),
            (reason_name.as_str(), "复核后更正 (corrected on checking)"),
        ],
    )
    .await;
    assert_eq!(corrected.status, 303, "{}", corrected.text);
    assert_eq!(site.server.log_len().await, before + 1);
    // Clearing a recorded score is refused on its row, not taken as "unchanged".
    let cleared = form(&site, Role::Assessor, &grid, &[(names[0].as_str(), "")]).await;
    assert_eq!(cleared.status, 422);
    assert_eq!(site.server.log_len().await, before + 1);

    // A garbled body is refused with a message, nothing recorded.
    let cookie = format!("ledger_token={}", site.token(Role::Assessor));
    let garbled = site
        .server
        .raw(
            Method::POST,
            &grid,
            &[("cookie", &cookie), FORM],
            b"\xff\xfe=%zz",
        )
        .await;
    assert_eq!(garbled.status, 422, "{}", garbled.text);
    assert_eq!(site.server.log_len().await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_shown_once_and_admin_forms_show_the_apis_messages() {
    let site = DemoSite::start().await;
    let issued = form(
        &site,
        Role::Admin,
        "/admin/tokens",
        &[
            ("form", "issue"),
            ("person", "assessor-zhang"),
            ("role", "assessor"),
        ],
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let bearer = issued
        .text
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap()
        .to_owned();
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    let me = site
        .server
        .call(Method::GET, "/api/v1/me", Some(&bearer), None)
        .await;
    assert_eq!(me.status, 200, "the shown token works: {}", me.text);
    let again = page(&site, Role::Admin, "/admin/tokens").await;
    assert!(!again.text.contains(&bearer), "shown only once");

    // A role the person does not hold: the API's message, at the field or above the form.
    let before = site.server.log_len().await;
    let wrong = form(
        &site,
        Role::Admin,
        "/admin/tokens",
        &[
            ("form", "issue"),
            ("person", "assessor-zhang"),
            ("role", "auditor"),
        ],
    )
    .await;
    assert!(
        wrong.status == 422 || wrong.status == 409,
        "{}",
        wrong.status
    );
    assert!(wrong.text.contains("form-error") || wrong.text.contains("field-error"));
    assert_eq!(site.server.log_len().await, before);

    // Opening a period without a name or dates: the API names each field, next to it.
    let refused = form(
        &site,
        Role::Admin,
        "/admin/periods",
        &[
            ("form", "open"),
            ("period", "2027Q2"),
            ("name", ""),
            ("cadence", "quarterly"),
            ("starts_on", "2027-04-01"),
            ("ends_on", "2027-06-30"),
            ("rubric", "default"),
            ("units", "SH-CZ-B1"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused.text.contains("data-field=\"name\""),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("value=\"2027Q2\""),
        "typed values kept"
    );
    assert_eq!(site.server.log_len().await, before);
    // A form the page does not have is refused, not guessed at.
    let unknown = form(&site, Role::Admin, "/admin/periods", &[("form", "explode")]).await;
    assert_eq!(unknown.status, 400);
    // A role the API refuses gets the API's refusal, not a form that pretends.
    let not_admin = form(
        &site,
        Role::Unit,
        "/admin/people",
        &[
            ("form", "unit"),
            ("unit", "X-1"),
            ("name", "某单位"),
            ("kind", "branch"),
        ],
    )
    .await;
    assert_eq!(not_admin.status, 403, "{}", not_admin.text);
    assert_eq!(site.server.log_len().await, before);
}
