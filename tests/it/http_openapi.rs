//! The OpenAPI document is kept true: it is OpenAPI 3.1, it names exactly the routes the server
//! serves, and what the server sends matches the schemas it documents.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use hyper::Method;
use ledger::http::openapi::described;
use ledger::http::routes::operations;
use ledger::store::SqliteStore;
use serde_json::json;

use crate::http_lifecycle::published_period;
use crate::http_support::{Contract, Server, cast};

/// Every route of the route table is in the document and nothing else is; and the live server
/// routes every documented operation (it answers 401 without a token, never "no such route" or
/// 405), while an undocumented path or method gets a problem+json 404 or 405.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_names_exactly_the_served_routes() {
    let server = Server::start().await;
    let contract = Contract::fetch(&server).await;
    assert_eq!(contract.document["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = described(&contract.document)
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    let table: BTreeSet<(String, String)> = operations::<SqliteStore>()
        .iter()
        .map(|op| (op.method.to_string(), op.path.to_owned()))
        .collect();
    assert_eq!(documented, table);
    let ids: BTreeSet<&str> = operations::<SqliteStore>().iter().map(|op| op.id).collect();
    assert_eq!(ids.len(), table.len(), "operation ids are unique");

    for (method, template) in &documented {
        let path = template
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = server.call(method.clone(), &path, None, None).await;
        if template == "/api/v1/openapi.json" {
            assert_eq!(reply.status, 200);
        } else {
            assert_eq!(
                reply.status, 401,
                "{method} {path} must be routed: {}",
                reply.text
            );
        }
    }
    let unknown = server
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.assert_problem(), "route-not-found");
    let wrong = server
        .call(Method::DELETE, "/api/v1/units", None, None)
        .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.assert_problem(), "method-not-allowed");
    assert!(
        wrong
            .header("allow")
            .is_some_and(|a| a.contains("GET") && a.contains("POST"))
    );
    server.stop().await;
}

/// Real answers of every read route, on a ledger with appeals, rectifications, a rubric adjustment
/// and two periods, validate against the schemas of the document; and the validator does refuse a
/// body that does not fit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_match_the_documented_schemas() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let mut contract = Contract::fetch(&server).await;
    let due = (Utc::now() + Duration::days(3)).date_naive().to_string();
    let writes = [
        (
            "/api/v1/appeals",
            &cast.unit,
            json!({"appeal": "AP-1", "period": "2026Q1", "unit": "SH-01", "grounds": "整体复核"}),
        ),
        (
            "/api/v1/rectifications",
            &cast.reviewer,
            json!({"rectification": "RC-1", "period": "2026Q1", "unit": "SH-02", "item": "A1", "due_on": due, "finding": "材料不全", "origin": "deduction"}),
        ),
        (
            "/api/v1/rubrics/default/adjustments",
            &cast.admin,
            json!({
                "from_version": 1, "approver": "admin-1", "reason": "年中调整",
                "changes": [{"change": "repoint_item", "item": "A1", "kind": {"kind": "points", "max": "2.5"}},
                            {"change": "repoint_item", "item": "A2", "kind": {"kind": "points", "max": "2.5"}}]
            }),
        ),
        (
            "/api/v1/tokens",
            &cast.admin,
            json!({"person": "auditor-1", "role": "auditor", "expires_at": "2099-01-01T00:00:00Z"}),
        ),
    ];
    for (path, token, body) in writes {
        let reply = server.post(path, token, body).await;
        contract.check(&Method::POST, path, &reply);
        assert!(reply.status == 201, "{path}: {}", reply.text);
    }
    for path in [
        "/api/v1/units",
        "/api/v1/units/SH-01",
        "/api/v1/people",
        "/api/v1/people/assessor-1",
        "/api/v1/people/secretary/accountability",
        "/api/v1/tokens",
        "/api/v1/rubrics",
        "/api/v1/rubrics/default",
        "/api/v1/rubrics/default/versions",
        "/api/v1/rubrics/default/versions/2",
        "/api/v1/rubrics/default/diff?from=1&to=2",
        "/api/v1/rubrics/default/adjustments",
        "/api/v1/periods",
        "/api/v1/periods/2026Q1",
        "/api/v1/periods/2026Q1/standings",
        "/api/v1/periods/2026Q1/business-results",
        "/api/v1/periods/2026Q1/standings?at_position=40",
        "/api/v1/periods/2026Q1/units/SH-01",
        "/api/v1/periods/2026Q1/units/SH-01/history",
        "/api/v1/periods/2026Q1/units/SH-02/items/A1",
        "/api/v1/periods/2026Q1/units/SH-01/items/A2/history",
        "/api/v1/appeals",
        "/api/v1/appeals/AP-1",
        "/api/v1/rectifications?overdue=false",
        "/api/v1/rectifications/RC-1",
        "/api/v1/changes?kind=ScoreCorrected,RubricAdjusted",
        "/api/v1/events?after=10&limit=7",
    ] {
        let token = if path.starts_with("/api/v1/events") {
            &cast.auditor
        } else {
            &cast.admin
        };
        let reply = server.get(path, token).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        contract.check(&Method::GET, path, &reply);
        assert!(reply.header("ledger-position").is_some(), "{path}");
    }
    let diff = server
        .get("/api/v1/rubrics/default/diff?from=1&to=2", &cast.admin)
        .await;
    assert_eq!(
        diff.json["changes"].as_array().unwrap().len(),
        2,
        "{}",
        diff.text
    );

    // The validator is not a rubber stamp.
    let mut sheet = server
        .get("/api/v1/periods/2026Q1/units/SH-01", &cast.admin)
        .await;
    sheet.json["stage"] = json!(42);
    assert!(
        contract
            .verify(&Method::GET, "/api/v1/periods/2026Q1/units/SH-01", &sheet)
            .is_err()
    );
    server.stop().await;
}
