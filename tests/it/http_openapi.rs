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
use crate::http_support::{Contract, Server, cast, scoring_period};

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

/// Validates requests against the document: path, query and header parameters (with their
/// serialisation: an exploded object parameter, a comma-separated list) and the JSON body, with
/// format assertions on (`date-time`, `date`).
struct Requests {
    document: serde_json::Value,
    compiler: boon::Compiler,
    schemas: boon::Schemas,
}

impl Requests {
    fn new(document: serde_json::Value) -> Self {
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler.enable_format_assertions();
        compiler
            .add_resource("urn:requests", document.clone())
            .unwrap();
        Self {
            document,
            compiler,
            schemas: boon::Schemas::new(),
        }
    }

    fn validate(&mut self, pointer: &str, value: &serde_json::Value) -> Result<(), String> {
        let index = self
            .compiler
            .compile(&format!("urn:requests#{pointer}"), &mut self.schemas)
            .map_err(|e| format!("{pointer}: {e:#}"))?;
        self.schemas
            .validate(value, index)
            .map_err(|e| format!("{pointer}: {e}"))
    }

    /// Whether the document calls the request valid, and if not, why.
    fn check(
        &mut self,
        contract: &Contract,
        method: &Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let template = contract
            .template(method, path)
            .ok_or("undocumented route")?;
        let key = method.as_str().to_ascii_lowercase();
        let base = format!(
            "/paths/{}/{key}",
            template.replace('~', "~0").replace('/', "~1")
        );
        let operation = self.document["paths"][&template][&key].clone();
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let mut used = BTreeSet::new();
        // A text as the schema's type reads it: a number where it wants one, else the text.
        let typed = |schema: &serde_json::Value, raw: &str| match schema["type"].as_str() {
            Some("integer" | "number") => serde_json::from_str::<serde_json::Value>(raw)
                .ok()
                .filter(serde_json::Value::is_number)
                .unwrap_or_else(|| json!(raw)),
            Some("boolean") => match raw {
                "true" => json!(true),
                "false" => json!(false),
                other => json!(other),
            },
            _ => json!(raw),
        };
        for (i, parameter) in parameters.iter().enumerate() {
            let name = parameter["name"].as_str().unwrap();
            let schema = &parameter["schema"];
            let value = match parameter["in"].as_str().unwrap() {
                "path" => {
                    let at = template.split('/').position(|s| s == format!("{{{name}}}"));
                    let segment = at
                        .and_then(|at| path.split('/').nth(at))
                        .unwrap_or_default();
                    let decoded = percent_decode(segment);
                    Some(typed(schema, &decoded))
                }
                "header" => headers
                    .iter()
                    .find(|(h, _)| h.eq_ignore_ascii_case(name))
                    .map(|(_, v)| json!(v)),
                "query" if schema["type"] == "object" => {
                    let mut object = serde_json::Map::new();
                    for (k, v) in &pairs {
                        if let Some(property) = schema["properties"].get(k) {
                            used.insert(k.clone());
                            object.insert(k.clone(), typed(property, v));
                        }
                    }
                    (!object.is_empty()).then_some(serde_json::Value::Object(object))
                }
                "query" => pairs.iter().find(|(k, _)| k == name).map(|(_, v)| {
                    used.insert(name.to_owned());
                    if schema["type"] == "array" {
                        json!(
                            v.split(',')
                                .map(|item| typed(&schema["items"], item))
                                .collect::<Vec<_>>()
                        )
                    } else {
                        typed(schema, v)
                    }
                }),
                other => panic!("a parameter in {other}"),
            };
            match value {
                Some(value) => self.validate(&format!("{base}/parameters/{i}/schema"), &value)?,
                None if parameter["required"] == true => {
                    return Err(format!("{name} is required"));
                }
                None => {}
            }
        }
        if let Some((k, _)) = pairs.iter().find(|(k, _)| !used.contains(k)) {
            return Err(format!("undocumented query parameter {k}"));
        }
        if let Some(body) = body {
            self.validate(
                &format!("{base}/requestBody/content/application~1json/schema"),
                body,
            )?;
        }
        Ok(())
    }
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// What a row of the agreement table holds: what, who, method, path and query, headers, body, and
/// whether the document calls the request valid.
type AgreementCase<'a> = (
    &'a str,
    &'a String,
    Method,
    String,
    Vec<(&'a str, &'a str)>,
    Option<serde_json::Value>,
    bool,
);

/// The document and the server agree on what is valid, for a request of each class of mismatch a
/// schema-driven generator (schemathesis, tests/README.md) found: a request the document calls
/// valid is never refused as malformed (400, or 422 `invalid-request`), and one it calls invalid
/// is refused. Before, the document had no `format: date-time`, no bounds on `limit` or on integers,
/// no patterns for `If-Match` and `Idempotency-Key`, no text rules, and `as_of` with `at_position`,
/// a whole number written `1.0`, points `" 1"` and `0.07` as a number were each wrong one way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_the_server_agree_on_what_is_valid() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    scoring_period(&server, &cast).await;
    let contract = Contract::fetch(&server).await;
    let mut requests = Requests::new(contract.document.clone());
    let item = |i: &str| format!("/api/v1/periods/2026Q1/units/SH-01/items/{i}/score");
    let points = |p: serde_json::Value| json!({"value": {"kind": "points", "points": p}});
    let period = |name: &str, version: serde_json::Value, units: serde_json::Value| {
        json!({"period": format!("P-{}", name.chars().count()), "name": name, "cadence": "annual",
               "starts_on": "2026-01-01", "ends_on": "2026-12-31", "rubric": "default",
               "rubric_version": version, "units": units})
    };
    let (get, post, put) = (Method::GET, Method::POST, Method::PUT);
    #[rustfmt::skip]
    let cases: Vec<AgreementCase> = vec![
        // ---- as_of and at_position: one, the other, not both; times are RFC 3339 ----
        ("at a time", &cast.admin, get.clone(), "/api/v1/appeals?as_of=2026-01-01T00:00:00Z".into(), vec![], None, true),
        ("at an offset time", &cast.admin, get.clone(), "/api/v1/units?as_of=2026-01-01T08:00:00.5%2B08:00".into(), vec![], None, true),
        ("at a position", &cast.admin, get.clone(), "/api/v1/appeals?at_position=3".into(), vec![], None, true),
        ("both points", &cast.admin, get.clone(), "/api/v1/appeals?as_of=2026-01-01T00:00:00Z&at_position=3".into(), vec![], None, false),
        ("a time that is not one", &cast.admin, get.clone(), "/api/v1/appeals?as_of=%5D".into(), vec![], None, false),
        ("a change-log bound that is not a time", &cast.admin, get.clone(), "/api/v1/changes?from=M".into(), vec![], None, false),
        // ---- integers within their types, pages within their bounds, known event kinds ----
        ("a position past u64", &cast.admin, get.clone(), "/api/v1/units?at_position=184467440737095516150".into(), vec![], None, false),
        ("the largest position", &cast.admin, get.clone(), "/api/v1/units?at_position=18446744073709551615".into(), vec![], None, true),
        ("a version past u32", &cast.admin, get.clone(), "/api/v1/rubrics/default/versions/4294967296".into(), vec![], None, false),
        ("a diff version past u32", &cast.admin, get.clone(), "/api/v1/rubrics/default/diff?from=1&to=4294967296".into(), vec![], None, false),
        ("a page of 1,000", &cast.admin, get.clone(), "/api/v1/changes?limit=1000".into(), vec![], None, true),
        ("a page of 1,001", &cast.admin, get.clone(), "/api/v1/changes?limit=1001".into(), vec![], None, false),
        ("a page of 0", &cast.auditor, get.clone(), "/api/v1/events?limit=0".into(), vec![], None, false),
        ("known kinds", &cast.admin, get.clone(), "/api/v1/changes?kind=ScoreRecorded,ScoreCorrected".into(), vec![], None, true),
        ("an unknown kind", &cast.admin, get.clone(), "/api/v1/changes?kind=Nope".into(), vec![], None, false),
        // ---- headers ----
        ("a strong If-Match", &cast.assessor, post.clone(), item("A1"), vec![("if-match", "\"0\"")], Some(points(json!("1"))), true),
        ("an If-Match that is no ETag", &cast.assessor, post.clone(), item("A1"), vec![("if-match", "yesterday")], Some(points(json!("1"))), false),
        ("a visible Idempotency-Key", &cast.assessor, post.clone(), item("A3"), vec![("idempotency-key", "k-1")], Some(points(json!("1"))), true),
        ("an Idempotency-Key with a space", &cast.assessor, post.clone(), item("A3"), vec![("idempotency-key", "k 1")], Some(points(json!("1"))), false),
        // ---- points: strings of the documented shape, numbers in hundredths ----
        ("points as the number 2.25", &cast.assessor, post.clone(), item("C5"), vec![], Some(points(json!(2.25))), true),
        ("points with a space", &cast.assessor, post.clone(), item("C1"), vec![], Some(points(json!(" 1"))), false),
        ("points in thousandths", &cast.assessor, post.clone(), item("C1"), vec![], Some(points(json!(1.005))), false),
        ("a business score with many places", &cast.admin, put.clone(), "/api/v1/periods/2026Q1/units/SH-01/business-result".into(), vec![], Some(json!({"score": 88954.8293580651, "source": "责任书"})), false),
        ("cases written 0.0", &cast.assessor, post.clone(), item("G3"), vec![], Some(json!({"value": {"kind": "cases", "cases": 0.0}})), true),
        // ---- whole numbers as JSON Schema counts them; lists that must not be empty ----
        ("a rubric version written 1.0", &cast.admin, post.clone(), "/api/v1/periods".into(), vec![], Some(period("二〇二六年度", json!(1.0), json!(["SH-01"]))), true),
        ("a rubric version past u32", &cast.admin, post.clone(), "/api/v1/periods".into(), vec![], Some(period("年度", json!(4294967296u64), json!(["SH-01"]))), false),
        ("no units", &cast.admin, post.clone(), "/api/v1/periods".into(), vec![], Some(period("空", json!(1), json!([]))), false),
        ("a unit twice", &cast.admin, post.clone(), "/api/v1/periods".into(), vec![], Some(period("重复", json!(1), json!(["SH-01", "SH-01"]))), false),
        // ---- text ----
        ("a name of 200 characters", &cast.admin, post.clone(), "/api/v1/units".into(), vec![], Some(json!({"unit": "L200", "name": "名".repeat(200), "kind": "branch"})), true),
        ("a name of 201 characters", &cast.admin, post.clone(), "/api/v1/units".into(), vec![], Some(json!({"unit": "L201", "name": "名".repeat(201), "kind": "branch"})), false),
        ("a blank name", &cast.admin, post.clone(), "/api/v1/units".into(), vec![], Some(json!({"unit": "BL", "name": " \u{3000}", "kind": "branch"})), false),
        ("a name with an override", &cast.admin, post.clone(), "/api/v1/units".into(), vec![], Some(json!({"unit": "BD", "name": "a\u{202e}b", "kind": "branch"})), false),
        ("a note of two lines (CR LF)", &cast.assessor, post.clone(), item("B1"), vec![], Some(json!({"value": {"kind": "points", "points": "1"}, "note": "第一行\r\n第二行\t完"})), true),
        ("a note with a lone CR", &cast.assessor, post.clone(), item("C3"), vec![], Some(json!({"value": {"kind": "points", "points": "1"}, "note": "a\rb"})), false),
        // ---- conditions between fields the document states ----
        ("a rejection without a comment", &cast.reviewer, post.clone(), "/api/v1/periods/2026Q1/units/SH-01/items/A1/review".into(), vec![], Some(json!({"decision": "rejected", "comment": " "})), false),
        ("a dismissal with a revision", &cast.reviewer, post.clone(), "/api/v1/appeals/AP-9/decision".into(), vec![], Some(json!({"outcome": "dismissed", "decision": "维持", "revised": {"item": "A1", "value": {"kind": "points", "points": "1"}}})), false),
    ];
    for (what, token, method, path, headers, body, documented) in cases {
        let verdict = requests.check(&contract, &method, &path, &headers, body.as_ref());
        assert_eq!(
            verdict.is_ok(),
            documented,
            "{what}: the document says {verdict:?}"
        );
        let mut all = headers.clone();
        let bearer = format!("Bearer {token}");
        all.push(("authorization", &bearer));
        let reply = match &body {
            Some(body) => {
                all.push(("content-type", "application/json"));
                server
                    .raw(
                        method.clone(),
                        &path,
                        &all,
                        &serde_json::to_vec(body).unwrap(),
                    )
                    .await
            }
            None => server.raw(method.clone(), &path, &all, b"").await,
        };
        assert!(reply.status < 500, "{what}: {}", reply.text);
        let malformed = reply.status == 400
            || reply.status == 415
            || (reply.status == 422 && reply.json["code"] == "invalid-request");
        if documented {
            assert!(
                !malformed,
                "{what}: the document admits it, the server refused it: {}",
                reply.text
            );
        } else {
            assert!(
                (400..500).contains(&reply.status),
                "{what}: the document refuses it, the server answered {}: {}",
                reply.status,
                reply.text
            );
        }
    }
    server.stop().await;
}
