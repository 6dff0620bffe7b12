//! The authorisation matrix: every route × every role, and no token, a revoked token, malformed
//! headers. Each call gets the status its gate allows or refuses; a refused write records nothing;
//! every answer matches the OpenAPI document. Read scope (a unit or an assessor reading another
//! unit's records) is refused too.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use ledger::http::auth::Gate;
use ledger::http::routes::operations;
use ledger::store::SqliteStore;
use ledger_schemas::Role;
use serde_json::{Value, json};

use crate::http_lifecycle::published_period;
use crate::http_support::{Contract, Server, cast};

/// A concrete call for every route template: the path to call (`{self}` is the caller) and the body
/// an admitted caller sends, chosen so that an admitted role passes the domain's scope checks too.
fn fixtures() -> BTreeMap<(&'static str, &'static str), (String, Option<Value>)> {
    let due = (Utc::now() + Duration::days(10)).date_naive().to_string();
    let score = json!({"value": {"kind": "points", "points": "1"}});
    let mut f = BTreeMap::new();
    let mut add =
        |method: &'static str, template: &'static str, path: &str, body: Option<Value>| {
            f.insert((method, template), (path.to_owned(), body));
        };
    add("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", None);
    // A score sheet file (base64 CSV); the matrix's period is published, so an admitted assessor's
    // import is refused by stage, after the gate let it through.
    add(
        "POST",
        "/api/v1/periods/{period}/score-imports",
        "/api/v1/periods/2026Q1/score-imports",
        Some(
            json!({"file_name": "sheet.csv", "content": "dW5pdCxpdGVtLHZhbHVlClNILTAxLEExLDEK", "dry_run": true}),
        ),
    );
    // Business results as a file: the same, refused by stage for an admitted admin or assessor.
    add(
        "POST",
        "/api/v1/periods/{period}/business-result-imports",
        "/api/v1/periods/2026Q1/business-result-imports",
        Some(
            json!({"file_name": "business.csv", "content": "dW5pdCxzY29yZSxzb3VyY2UKU0gtMDEsODAs6LSj5Lu75LmmCg==", "dry_run": true}),
        ),
    );
    // The checkpoint fingerprints printouts name: every role.
    add(
        "GET",
        "/api/v1/checkpoints/covering",
        "/api/v1/checkpoints/covering?position=1",
        None,
    );
    add("GET", "/api/v1/me", "/api/v1/me", None);
    // Evidence: a JSON body is no upload (415 once admitted); a digest no record cites (404).
    add(
        "POST",
        "/api/v1/evidence",
        "/api/v1/evidence",
        Some(json!({})),
    );
    add(
        "GET",
        "/api/v1/evidence/{sha256}",
        &format!("/api/v1/evidence/{}", "ab".repeat(32)),
        None,
    );
    add("GET", "/api/v1/units", "/api/v1/units", None);
    add(
        "POST",
        "/api/v1/units",
        "/api/v1/units",
        Some(json!({"unit": "MX-1", "name": "矩阵单位", "kind": "company"})),
    );
    add("GET", "/api/v1/units/{unit}", "/api/v1/units/SH-01", None);
    add(
        "PUT",
        "/api/v1/units/{unit}",
        "/api/v1/units/SH-02",
        Some(json!({"name": "上海二支部(更名)", "reason": "更名"})),
    );
    add("GET", "/api/v1/people", "/api/v1/people", None);
    add("GET", "/api/v1/people/names", "/api/v1/people/names", None);
    add(
        "POST",
        "/api/v1/people",
        "/api/v1/people",
        Some(json!({"person": "matrix-dummy", "name": "矩阵"})),
    );
    add(
        "GET",
        "/api/v1/people/{person}",
        "/api/v1/people/{self}",
        None,
    );
    add(
        "PUT",
        "/api/v1/people/{person}/roles/{role}",
        "/api/v1/people/matrix-dummy/roles/auditor",
        Some(json!({})),
    );
    add(
        "POST",
        "/api/v1/people/{person}/roles/{role}/revocation",
        "/api/v1/people/matrix-dummy/roles/auditor/revocation",
        Some(json!({"reason": "测试"})),
    );
    add(
        "GET",
        "/api/v1/people/{person}/accountability",
        "/api/v1/people/{self}/accountability",
        None,
    );
    add("GET", "/api/v1/todo", "/api/v1/todo?horizon_days=30", None);
    add("GET", "/api/v1/tokens", "/api/v1/tokens", None);
    add(
        "POST",
        "/api/v1/tokens",
        "/api/v1/tokens",
        Some(json!({"person": "matrix-dummy", "role": "auditor"})),
    );
    add(
        "POST",
        "/api/v1/tokens/{token}/revocation",
        "/api/v1/tokens/tok-none/revocation",
        Some(json!({})),
    );
    add("GET", "/api/v1/rubrics", "/api/v1/rubrics", None);
    add(
        "POST",
        "/api/v1/rubrics",
        "/api/v1/rubrics",
        Some(json!({
            "rubric": "matrix",
            "definition": serde_json::from_str::<Value>(ledger_projections::rubric::DEFAULT_TEMPLATE_JSON).unwrap()
        })),
    );
    add(
        "GET",
        "/api/v1/rubrics/{rubric}",
        "/api/v1/rubrics/default",
        None,
    );
    add(
        "GET",
        "/api/v1/rubrics/{rubric}/versions",
        "/api/v1/rubrics/default/versions",
        None,
    );
    add(
        "GET",
        "/api/v1/rubrics/{rubric}/versions/{version}",
        "/api/v1/rubrics/default/versions/1",
        None,
    );
    add(
        "GET",
        "/api/v1/rubrics/{rubric}/diff",
        "/api/v1/rubrics/default/diff?from=1&to=1",
        None,
    );
    add(
        "GET",
        "/api/v1/rubrics/{rubric}/adjustments",
        "/api/v1/rubrics/default/adjustments",
        None,
    );
    add(
        "POST",
        "/api/v1/rubrics/{rubric}/adjustments",
        "/api/v1/rubrics/matrix/adjustments",
        Some(json!({
            "from_version": 1, "approver": "admin-1", "reason": "矩阵调整",
            "changes": [{"change": "retitle_item", "item": "A1", "title": {"zh": "支部设置", "en": "Branch set-up"}}]
        })),
    );
    add("GET", "/api/v1/periods", "/api/v1/periods", None);
    add(
        "POST",
        "/api/v1/periods",
        "/api/v1/periods",
        Some(json!({
            "period": "2026Q2", "name": "第二季度", "cadence": "quarterly", "starts_on": "2026-04-01",
            "ends_on": "2026-06-30", "rubric": "default", "rubric_version": 1, "units": ["SH-01"]
        })),
    );
    add(
        "GET",
        "/api/v1/periods/{period}",
        "/api/v1/periods/2026Q1",
        None,
    );
    add(
        "GET",
        "/api/v1/periods/{period}/milestones",
        "/api/v1/periods/2026Q1/milestones",
        None,
    );
    add(
        "POST",
        "/api/v1/periods/{period}/stage",
        "/api/v1/periods/2026Q2/stage",
        Some(json!({"to": "self_assessment"})),
    );
    add(
        "POST",
        "/api/v1/periods/{period}/reopening",
        "/api/v1/periods/2026Q2/reopening",
        Some(json!({"to": "scoring", "reason": "测试"})),
    );
    add(
        "POST",
        "/api/v1/periods/{period}/rubric-version",
        "/api/v1/periods/2026Q2/rubric-version",
        Some(json!({"to_version": 2, "reason": "测试"})),
    );
    add(
        "GET",
        "/api/v1/periods/{period}/business-results",
        "/api/v1/periods/2026Q1/business-results",
        None,
    );
    add(
        "GET",
        "/api/v1/periods/{period}/standings",
        "/api/v1/periods/2026Q1/standings",
        None,
    );
    add("GET", "/api/v1/annual", "/api/v1/annual?year=2026", None);
    add(
        "GET",
        "/api/v1/periods/{period}/units/{unit}",
        "/api/v1/periods/2026Q1/units/SH-01",
        None,
    );
    add(
        "GET",
        "/api/v1/periods/{period}/units/{unit}/history",
        "/api/v1/periods/2026Q1/units/SH-01/history",
        None,
    );
    add(
        "POST",
        "/api/v1/periods/{period}/units/{unit}/review",
        "/api/v1/periods/2026Q1/units/SH-01/review",
        Some(json!({"decision": "approved"})),
    );
    add(
        "PUT",
        "/api/v1/periods/{period}/units/{unit}/business-result",
        "/api/v1/periods/2026Q1/units/SH-01/business-result",
        Some(json!({"score": 80, "source": "责任书", "reason": "复核"})),
    );
    add(
        "GET",
        "/api/v1/periods/{period}/units/{unit}/items/{item}",
        "/api/v1/periods/2026Q1/units/SH-01/items/A1",
        None,
    );
    add(
        "GET",
        "/api/v1/periods/{period}/units/{unit}/items/{item}/history",
        "/api/v1/periods/2026Q1/units/SH-01/items/A1/history",
        None,
    );
    add(
        "POST",
        "/api/v1/periods/{period}/units/{unit}/items/{item}/self-assessment",
        "/api/v1/periods/2026Q1/units/SH-01/items/A1/self-assessment",
        Some(score.clone()),
    );
    add(
        "POST",
        "/api/v1/periods/{period}/units/{unit}/items/{item}/score",
        "/api/v1/periods/2026Q1/units/SH-01/items/A1/score",
        Some(score.clone()),
    );
    add(
        "POST",
        "/api/v1/periods/{period}/units/{unit}/items/{item}/correction",
        "/api/v1/periods/2026Q1/units/SH-01/items/A1/correction",
        Some(json!({
            "previous": {"kind": "points", "points": "2"}, "value": {"kind": "points", "points": "1"}, "reason": "测试"
        })),
    );
    add(
        "POST",
        "/api/v1/periods/{period}/units/{unit}/items/{item}/review",
        "/api/v1/periods/2026Q1/units/SH-01/items/A1/review",
        Some(json!({"decision": "rejected", "comment": "测试"})),
    );
    add("GET", "/api/v1/appeals", "/api/v1/appeals", None);
    add(
        "POST",
        "/api/v1/appeals",
        "/api/v1/appeals",
        Some(
            json!({"appeal": "AP-M", "period": "2026Q1", "unit": "SH-01", "item": "A3", "grounds": "测试"}),
        ),
    );
    add(
        "GET",
        "/api/v1/appeals/{appeal}",
        "/api/v1/appeals/AP-M",
        None,
    );
    add(
        "POST",
        "/api/v1/appeals/{appeal}/decision",
        "/api/v1/appeals/AP-M/decision",
        Some(json!({"outcome": "dismissed", "decision": "理由不足"})),
    );
    add(
        "GET",
        "/api/v1/rectifications",
        "/api/v1/rectifications",
        None,
    );
    add(
        "POST",
        "/api/v1/rectifications",
        "/api/v1/rectifications",
        Some(json!({
            "rectification": "RC-M", "period": "2026Q1", "unit": "SH-01", "item": "F5",
            "due_on": due, "finding": "测试", "origin": "deduction"
        })),
    );
    add(
        "GET",
        "/api/v1/rectifications/{rectification}",
        "/api/v1/rectifications/RC-M",
        None,
    );
    add(
        "POST",
        "/api/v1/rectifications/{rectification}/submission",
        "/api/v1/rectifications/RC-none/submission",
        Some(json!({"note": "测试"})),
    );
    add(
        "POST",
        "/api/v1/rectifications/{rectification}/verification",
        "/api/v1/rectifications/RC-none/verification",
        Some(json!({})),
    );
    add(
        "POST",
        "/api/v1/rectifications/{rectification}/send-back",
        "/api/v1/rectifications/RC-none/send-back",
        Some(json!({"comment": "测试"})),
    );
    add(
        "GET",
        "/api/v1/changes",
        "/api/v1/changes?person=assessor-1",
        None,
    );
    add("GET", "/api/v1/events", "/api/v1/events?limit=5", None);
    // No checkpoint is signed in the matrix's ledger: an admitted auditor gets a 404 problem, which
    // is past authorisation all the same (`audit_http` proves the answers themselves).
    add(
        "GET",
        "/api/v1/audit/checkpoints",
        "/api/v1/audit/checkpoints",
        None,
    );
    add(
        "GET",
        "/api/v1/audit/proofs/inclusion",
        "/api/v1/audit/proofs/inclusion?position=1",
        None,
    );
    // No verification has run when the matrix asks: an admitted auditor gets a 404 problem; the
    // POST runs one (it records nothing in the ledger).
    add(
        "GET",
        "/api/v1/audit/verification",
        "/api/v1/audit/verification",
        None,
    );
    add(
        "POST",
        "/api/v1/audit/verification",
        "/api/v1/audit/verification",
        Some(json!({})),
    );
    add(
        "GET",
        "/api/v1/audit/proofs/consistency",
        "/api/v1/audit/proofs/consistency?old=1&new=2",
        None,
    );
    f
}

/// Every route × every role, no token, a revoked token and malformed headers: admitted callers get
/// past authorisation (no 401 or 403), everyone else is refused with 401 (no valid token) or 403
/// (the role may not), refused writes leave the log as it was, and every answer matches the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_its_roles() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let mut contract = Contract::fetch(&server).await;

    let revoked = server.token("gone-1", Role::Admin, &[]).await;
    let token_id = revoked.split('~').next().unwrap().to_owned();
    let reply = server
        .post(
            &format!("/api/v1/tokens/{token_id}/revocation"),
            &cast.admin,
            json!({"reason": "离职"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let callers: Vec<(Option<Role>, &str, String)> = vec![
        (Some(Role::Admin), "admin-1", cast.admin.clone()),
        (Some(Role::Assessor), "assessor-1", cast.assessor.clone()),
        (Some(Role::Reviewer), "reviewer-1", cast.reviewer.clone()),
        (Some(Role::Auditor), "auditor-1", cast.auditor.clone()),
        (Some(Role::Unit), "sec-01", cast.unit.clone()),
        (
            Some(Role::Responsible),
            "discipline-committee",
            cast.responsible.clone(),
        ),
    ];
    // Authorization headers that authenticate no one.
    let refused_headers: Vec<(&str, String)> = vec![
        ("no token", String::new()),
        ("revoked token", format!("Bearer {revoked}")),
        ("not bearer", format!("Basic {}", cast.admin)),
        ("bearer without token", "Bearer".to_owned()),
        ("garbage token", "Bearer not-a-token".to_owned()),
        (
            "unknown token",
            format!("Bearer tok-unknown~{}", "0".repeat(64)),
        ),
        (
            "wrong secret",
            format!(
                "Bearer {}~{}",
                cast.admin.split('~').next().unwrap(),
                "f".repeat(64)
            ),
        ),
    ];

    let fixtures = fixtures();
    let ops = operations::<SqliteStore>();
    assert_eq!(fixtures.len(), ops.len(), "every route needs a fixture");
    let mut calls = 0;
    for op in &ops {
        let key = (op.method.as_str(), op.path);
        let (path, body) = fixtures
            .get(&key)
            .unwrap_or_else(|| panic!("no fixture for {} {}", op.method, op.path));
        for (role, person, token) in &callers {
            let path = path.replace("{self}", person);
            let before = server.log_len().await;
            let reply = server
                .call(op.method.clone(), &path, Some(token), body.as_ref())
                .await;
            calls += 1;
            contract.check(&op.method, &path, &reply);
            let role = role.expect("a role");
            if op.gate.admits(role) {
                assert!(
                    reply.status != 401 && reply.status != 403,
                    "{role} must be admitted to {} {path}: {} {}",
                    op.method,
                    reply.status,
                    reply.text
                );
            } else {
                assert_eq!(
                    reply.status, 403,
                    "{role} must be refused {} {path}: {}",
                    op.method, reply.text
                );
                assert_eq!(reply.assert_problem(), "forbidden");
                assert_eq!(
                    server.log_len().await,
                    before,
                    "a refused write recorded something"
                );
            }
        }
        for (what, header) in &refused_headers {
            let path = path.replace("{self}", "admin-1");
            let before = server.log_len().await;
            let headers: Vec<(&str, &str)> = if header.is_empty() {
                Vec::new()
            } else {
                vec![("authorization", header.as_str())]
            };
            let reply = server
                .call_with(op.method.clone(), &path, None, body.as_ref(), &headers)
                .await;
            calls += 1;
            contract.check(&op.method, &path, &reply);
            if op.gate == Gate::Public {
                assert_eq!(reply.status, 200, "{what}: {path}");
                continue;
            }
            assert_eq!(
                reply.status, 401,
                "{what} on {} {path}: {}",
                op.method, reply.text
            );
            reply.assert_problem();
            assert!(
                reply
                    .header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer"))
            );
            assert_eq!(
                server.log_len().await,
                before,
                "{what}: an unauthenticated write recorded something"
            );
        }
    }
    assert!(calls >= ops.len() * 13);
    server.stop().await;
}

/// Read scope: a unit reads only its own unit's sheet, items, histories, appeals and rectifications,
/// an assessor only the units assigned to them; accountability is one's own unless the role sees
/// everything. Refusals are 403 problems.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_and_assessors_read_only_their_own_units() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let narrow = server.token("assessor-2", Role::Assessor, &["SH-01"]).await;
    for path in [
        "/api/v1/periods/2026Q1/units/SH-02",
        "/api/v1/periods/2026Q1/units/SH-02/items/A1",
        "/api/v1/periods/2026Q1/units/SH-02/history",
        "/api/v1/periods/2026Q1/units/SH-02/items/A1/history",
        "/api/v1/units/SH-02",
        "/api/v1/people/sec-02/accountability",
    ] {
        for token in [&cast.unit, &narrow] {
            let reply = server.get(path, token).await;
            assert_eq!(reply.status, 403, "{path}: {}", reply.text);
            assert_eq!(reply.assert_problem(), "forbidden");
        }
        let reply = server.get(path, &cast.auditor).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    let own = server
        .get("/api/v1/periods/2026Q1/units/SH-01", &cast.unit)
        .await;
    assert_eq!(own.status, 200);
    let units = server.get("/api/v1/units", &cast.unit).await;
    let listed: Vec<&str> = units.json["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["SH-01"]);
    // An assessor may not score a unit outside their assignment: the domain refuses, nothing recorded.
    let before = server.log_len().await;
    let reply = server
        .post(
            "/api/v1/periods/2026Q1/units/SH-02/items/A1/correction",
            &narrow,
            json!({"previous": {"kind": "points", "points": "1.5"}, "value": {"kind": "points", "points": "2"}, "reason": "x"}),
        )
        .await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    assert_eq!(server.log_len().await, before);
    server.stop().await;
}
