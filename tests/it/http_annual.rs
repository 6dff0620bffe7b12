//! The year's result over HTTP (`GET /api/v1/annual`): a year or named periods, as of any point,
//! only the units the caller may see, every answer as the OpenAPI document says, and bad queries
//! refused with the field at fault.

use hyper::Method;
use serde_json::{Value, json};

use crate::http_lifecycle::published_period;
use crate::http_support::{Contract, Server, cast};

/// (unit, rank, the figure named `figure`) of every line of an answer.
fn lines(reply: &Value, figure: &str) -> Vec<(String, Value, Value)> {
    reply["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().unwrap().to_owned(),
                u["rank"].clone(),
                u[figure].clone(),
            )
        })
        .collect()
}

fn units(reply: &Value) -> Vec<(String, Value, Value)> {
    lines(reply, "figure")
}

/// 2026Q1 published and 2026Q2 opened: the year counts Q1 only, ranks and figures as Q1's standings
/// show them, is not complete; before Q1's publication nothing counts; a unit sees its own line; the
/// same span named by its periods reads the same.
#[tokio::test]
async fn the_year_reads_as_of_any_point_for_whoever_may_see_it() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    let before_publication = {
        published_period(&server, &cast).await;
        server.log_len().await - 1
    };
    let reply = server
        .post(
            "/api/v1/periods",
            &cast.admin,
            json!({
                "period": "2026Q2", "name": "2026年第二季度", "cadence": "quarterly",
                "starts_on": "2026-04-01", "ends_on": "2026-06-30",
                "rubric": "default", "rubric_version": 1, "units": ["SH-01"]
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let mut contract = Contract::fetch(&server).await;

    let path = "/api/v1/annual?year=2026";
    let year = server.get(path, &cast.admin).await;
    contract.check(&Method::GET, path, &year);
    assert_eq!(year.status, 200, "{}", year.text);
    assert_eq!(year.json["year"], 2026);
    assert_eq!(year.json["rubric"], "default");
    assert_eq!(year.json["rule"], json!({"kind": "mean"}));
    assert_eq!(year.json["complete"], false);
    let periods: Vec<(&str, bool, &str)> = year.json["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap(),
                p["counted"].as_bool().unwrap(),
                p["slot"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(periods, [("2026Q1", true, "Q1"), ("2026Q2", false, "Q2")]);
    let standings = server
        .get("/api/v1/periods/2026Q1/standings", &cast.admin)
        .await;
    let expected = lines(&standings.json, "ranked_score");
    assert_eq!(units(&year.json), expected);
    assert_eq!(
        year.header("ledger-position"),
        Some(server.log_len().await.to_string().as_str())
    );

    let then = format!("/api/v1/annual?year=2026&at_position={before_publication}");
    let earlier = server.get(&then, &cast.auditor).await;
    contract.check(&Method::GET, &then, &earlier);
    assert_eq!(earlier.json["periods"][0]["counted"], false);
    assert!(
        units(&earlier.json)
            .iter()
            .all(|(_, rank, figure)| rank.is_null() && figure.is_null()),
        "{}",
        earlier.text
    );

    let own = server.get(path, &cast.unit).await;
    assert_eq!(
        units(&own.json)
            .into_iter()
            .map(|u| u.0)
            .collect::<Vec<_>>(),
        ["SH-01"]
    );

    let named = "/api/v1/annual?periods=2026Q2,%202026Q1";
    let by_periods = server.get(named, &cast.admin).await;
    contract.check(&Method::GET, named, &by_periods);
    assert_eq!(by_periods.json["year"], Value::Null);
    assert_eq!(by_periods.json["units"], year.json["units"]);
    assert_eq!(by_periods.json["periods"], year.json["periods"]);
    server.stop().await;
}

/// A query that names no span, both kinds of span, a bad period id, or a year, period or rubric
/// that names nothing is refused (400, like every query to fix) with the parameter at fault.
#[tokio::test]
async fn bad_annual_queries_are_refused_with_what_was_wrong() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let mut contract = Contract::fetch(&server).await;
    for (path, status, field, words) in [
        ("/api/v1/annual", 400, Some("query.year"), "year or periods"),
        (
            "/api/v1/annual?year=2026&periods=2026Q1",
            400,
            Some("query.year"),
            "year or periods",
        ),
        (
            "/api/v1/annual?periods=2026Q1,bad%20id",
            400,
            Some("query.periods"),
            "invalid period id",
        ),
        (
            "/api/v1/annual?periods=,",
            400,
            Some("query.periods"),
            "at least one period",
        ),
        (
            "/api/v1/annual?year=2025",
            400,
            Some("query.year"),
            "no period ends in 2025",
        ),
        ("/api/v1/annual?year=twenty", 400, None, "year"),
        (
            "/api/v1/annual?periods=2026Q1,2026Q9",
            400,
            Some("query.periods"),
            "there is no period 2026Q9",
        ),
        (
            "/api/v1/annual?year=2026&rubric=other",
            400,
            Some("query.rubric"),
            "no period of rubric other ends in 2026",
        ),
        (
            "/api/v1/annual?periods=2026Q1&rubric=other",
            400,
            Some("query.periods"),
            "uses rubric default, not other",
        ),
    ] {
        let reply = server.get(path, &cast.admin).await;
        contract.check(&Method::GET, path, &reply);
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        reply.assert_problem();
        assert!(reply.text.contains(words), "{path}: {}", reply.text);
        if let Some(field) = field {
            assert!(reply.text.contains(field), "{path}: {}", reply.text);
        }
    }
    server.stop().await;
}
