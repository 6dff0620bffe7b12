//! `GET /api/v1/todo` (待办 and 预警) over the demo ledger: what each role is shown, the same read as
//! of a past point, the due-soon horizon, and bad queries refused with a problem naming the field.

use hyper::Method;
use ledger_schemas::Role;
use serde_json::Value;

use crate::browser_support::DemoSite;

fn ids<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap())
        .collect()
}

/// Each role gets its own work: the reviewer the appeal awaiting decision, sheets awaiting review and
/// the overdue rectification; the responsible person only their own rectifications; a unit
/// secretary only its own unit's. Counts match the lists. As of 2026Q3's publication none of the
/// later work existed; a longer horizon brings the Q4 rectification into due-soon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todo_gives_each_role_its_due_work_now_and_as_of() {
    let site = DemoSite::start().await;
    let reviewer = site.api(Role::Reviewer, "/api/v1/todo").await;
    assert_eq!(ids(&reviewer["appeals"], "appeal"), ["AP-2026Q3-03"]);
    assert_eq!(ids(&reviewer["overdue"], "rectification"), ["ZG-2026Q3-02"]);
    assert!(reviewer["overdue"][0]["days_overdue"].as_i64().unwrap() > 0);
    assert!(
        !reviewer["awaiting_review"].as_array().unwrap().is_empty(),
        "2026Q4 is in review with sheets not approved: {reviewer}"
    );
    for (list, count) in [
        ("unscored", "unscored"),
        ("awaiting_review", "awaiting_review"),
        ("appeals", "appeals"),
        ("due_soon", "due_soon"),
        ("overdue", "overdue"),
        ("awaiting_verification", "awaiting_verification"),
    ] {
        assert_eq!(
            reviewer[list].as_array().unwrap().len() as u64,
            reviewer["counts"][count].as_u64().unwrap(),
            "{list}"
        );
    }
    // Names come with the answer.
    assert!(
        reviewer["unit_names"]["SH-WL-B1"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert!(
        reviewer["person_names"]["sec-sh-wl-b1"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );

    let responsible = site.api(Role::Responsible, "/api/v1/todo").await;
    assert_eq!(responsible["role"], "responsible");
    assert_eq!(
        ids(&responsible["overdue"], "rectification"),
        ["ZG-2026Q3-02"]
    );
    for empty in [
        "unscored",
        "awaiting_review",
        "appeals",
        "awaiting_verification",
    ] {
        assert_eq!(responsible["counts"][empty], 0, "{empty}: {responsible}");
    }

    // The demo's unit secretary (SH-CZ-B1) sees no other unit's appeal or rectification.
    let unit = site.api(Role::Unit, "/api/v1/todo").await;
    assert!(unit["appeals"].as_array().unwrap().is_empty(), "{unit}");
    assert!(unit["overdue"].as_array().unwrap().is_empty(), "{unit}");

    // The assessor sees only sheets of the units assigned to them.
    let me = site.api(Role::Assessor, "/api/v1/me").await;
    let mine: Vec<&str> = me["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    let assessor = site.api(Role::Assessor, "/api/v1/todo").await;
    for unit in ids(&assessor["unscored"], "unit") {
        assert!(mine.contains(&unit), "{unit} is not the assessor's");
    }
    assert_eq!(assessor["counts"]["appeals"], 0);

    // As of 2026Q3's publication: no appeal, no rectification yet.
    let life = site
        .api(Role::Reviewer, "/api/v1/periods/2026Q3/milestones")
        .await;
    let published = life["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "published")
        .unwrap()["position"]
        .as_u64()
        .unwrap();
    let then = site
        .api(
            Role::Reviewer,
            &format!("/api/v1/todo?at_position={published}"),
        )
        .await;
    assert_eq!(then["at_position"], published);
    assert_eq!(then["counts"]["appeals"], 0, "{then}");
    assert_eq!(then["counts"]["overdue"], 0, "{then}");

    // The Q4 rectification is due in 30 days: not within a week, within 40 days.
    let week = site
        .api(Role::Reviewer, "/api/v1/todo?horizon_days=7")
        .await;
    assert!(!ids(&week["due_soon"], "rectification").contains(&"ZG-2026Q4-01"));
    let forty = site
        .api(Role::Reviewer, "/api/v1/todo?horizon_days=40")
        .await;
    assert_eq!(ids(&forty["due_soon"], "rectification"), ["ZG-2026Q4-01"]);
}

/// Bad queries are refused with a 400 problem naming the field; no token is a 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todo_refuses_bad_queries() {
    let site = DemoSite::start().await;
    let token = site.token(Role::Reviewer).to_owned();
    for (query, field) in [
        ("horizon_days=-1", "query.horizon_days"),
        ("horizon_days=401", "query.horizon_days"),
        ("horizon_days=soon", "query.horizon_days"),
        ("as_of=yesterday", "query.as_of"),
        ("as_of=2026-01-01T00:00:00Z&at_position=3", "query.as_of"),
        ("colour=red", ""),
    ] {
        let reply = site
            .server
            .call(
                Method::GET,
                &format!("/api/v1/todo?{query}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text);
        reply.assert_problem();
        if !field.is_empty() {
            assert!(reply.text.contains(field), "{query}: {}", reply.text);
        }
    }
    let anonymous = site
        .server
        .call(Method::GET, "/api/v1/todo", None, None)
        .await;
    assert_eq!(anonymous.status, 401);
}
