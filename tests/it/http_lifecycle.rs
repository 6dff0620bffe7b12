//! The whole assessment lifecycle through HTTP, over a real socket: units, people and the rubric, a
//! period from opening to publication (self-assessment, scores, a correction, business results,
//! reviews), an appeal, the closed loop of a rectification, and the read side (standings as of a past
//! time, histories, the change log filtered by person, accountability).

use chrono::{Duration, TimeZone, Utc};
use hyper::Method;
use ledger::app::Clock;
use ledger::app::clock::business_date;
use serde_json::{Value, json};

use crate::http_support::{Cast, Server, base_values, cast};

const PERIOD: &str = "/api/v1/periods/2026Q1";

/// Moves the period one stage forwards, guarded by the ETag it answers with.
pub async fn advance(server: &Server, admin: &str, to: &str) {
    let period = server.get(PERIOD, admin).await;
    assert_eq!(period.status, 200, "{}", period.text);
    let etag = period
        .header("etag")
        .expect("a period has an ETag")
        .to_owned();
    let reply = server
        .call_with(
            Method::POST,
            &format!("{PERIOD}/stage"),
            Some(admin),
            Some(&json!({"to": to})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(reply.status, 200, "advance to {to}: {}", reply.text);
    assert_ne!(reply.header("etag"), Some(etag.as_str()));
}

/// Opens 2026Q1 over both units against version 1 of the default rubric.
pub async fn open_period(server: &Server, cast: &Cast) {
    let reply = server
        .post(
            "/api/v1/periods",
            &cast.admin,
            json!({
                "period": "2026Q1", "name": "2026年第一季度", "cadence": "quarterly",
                "starts_on": "2026-01-01", "ends_on": "2026-03-31",
                "rubric": "default", "rubric_version": 1, "units": ["SH-01", "SH-02"]
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("location"), Some(PERIOD));
}

/// Opens 2026Q1 over both units and takes it to publication: a self-assessment, every base item
/// scored (points as strings and as numbers), one correction, business results, both sheets approved.
pub async fn published_period(server: &Server, cast: &Cast) {
    open_period(server, cast).await;
    advance(server, &cast.admin, "self_assessment").await;
    let reply = server
        .post(
            &format!("{PERIOD}/units/SH-01/items/A1/self-assessment"),
            &cast.unit,
            json!({"value": {"kind": "points", "points": "2"}, "note": "按期换届", "evidence": ["换届批复.pdf"]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    advance(server, &cast.admin, "scoring").await;
    for unit in ["SH-01", "SH-02"] {
        for (n, (item, value)) in base_values().into_iter().enumerate() {
            // SH-02 loses half a point on A1: a deduction to rectify. Every other item of SH-02 is
            // sent as a JSON number, to show both forms are accepted.
            let value = match (unit, item.as_str()) {
                ("SH-02", "A1") => json!({"kind": "points", "points": 1.5}),
                ("SH-02", _) if n % 2 == 0 && value["kind"] == "points" => {
                    let points: f64 = value["points"].as_str().unwrap().parse().unwrap();
                    json!({"kind": "points", "points": points})
                }
                _ => value,
            };
            let reply = server
                .post(
                    &format!("{PERIOD}/units/{unit}/items/{item}/score"),
                    &cast.assessor,
                    json!({"value": value, "note": "现场检查", "evidence": [format!("{unit}/{item}.pdf")]}),
                )
                .await;
            assert_eq!(reply.status, 200, "{unit} {item}: {}", reply.text);
        }
    }
    let reply = server
        .post(
            &format!("{PERIOD}/units/SH-01/items/A2/correction"),
            &cast.assessor,
            json!({
                "previous": {"kind": "points", "points": "3"},
                "value": {"kind": "points", "points": "2.5"},
                "reason": "少开一次支委会 one committee meeting missed"
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    for (unit, score) in [("SH-01", json!("88")), ("SH-02", json!(92.5))] {
        let reply = server
            .put(
                &format!("{PERIOD}/units/{unit}/business-result"),
                &cast.admin,
                json!({"score": score, "source": "经营目标责任书 第3条"}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    advance(server, &cast.admin, "review").await;
    for unit in ["SH-01", "SH-02"] {
        let reply = server
            .post(
                &format!("{PERIOD}/units/{unit}/review"),
                &cast.reviewer,
                json!({"decision": "approved", "comment": "同意"}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    advance(server, &cast.admin, "published").await;
}

fn party_score(standings: &Value, unit: &str) -> String {
    standings["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == unit)
        .map(|u| u["score"]["party_score"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The lifecycle end to end: after publication the unit appeals and the reviewer upholds it with a
/// revised score; a deduction is rectified (raised, submitted by the unit, verified); histories,
/// standings, the sheet and accountability all show the result, and the log holds every step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_lifecycle_runs_through_http() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;

    let sheet = server
        .get(&format!("{PERIOD}/units/SH-01"), &cast.unit)
        .await;
    assert_eq!(sheet.status, 200, "{}", sheet.text);
    assert_eq!(sheet.json["stage"], "published");
    assert_eq!(sheet.json["score"]["complete"], true);
    let a1 = sheet.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == "A1")
        .unwrap();
    assert_eq!(a1["self_assessment"]["value"]["points"], "2");
    assert_eq!(a1["score"]["review"]["status"], "approved");

    // The unit appeals the corrected A2; the reviewer upholds it, restoring 3 points.
    let reply = server
        .post(
            "/api/v1/appeals",
            &cast.unit,
            json!({"appeal": "AP-1", "period": "2026Q1", "unit": "SH-01", "item": "A2",
                   "grounds": "支委会记录齐全 the minutes are complete", "evidence": ["minutes.pdf"]}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let reply = server
        .post(
            "/api/v1/appeals/AP-1/decision",
            &cast.reviewer,
            json!({"outcome": "upheld", "decision": "记录齐全, 恢复满分",
                   "revised": {"item": "A2", "value": {"kind": "points", "points": "3"}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let appeal = server.get("/api/v1/appeals/AP-1", &cast.unit).await;
    assert_eq!(appeal.json["status"], "upheld", "{}", appeal.text);
    let item = server
        .get(&format!("{PERIOD}/units/SH-01/items/A2"), &cast.unit)
        .await;
    assert_eq!(item.json["score"]["value"]["points"], "3", "{}", item.text);
    assert_eq!(item.json["score"]["source"], "appeal");

    // The closed loop on SH-02's deduction on A1.
    let due = (Utc::now() + Duration::days(30)).date_naive().to_string();
    let reply = server
        .post(
            "/api/v1/rectifications",
            &cast.reviewer,
            json!({"rectification": "RC-1", "period": "2026Q1", "unit": "SH-02", "item": "A1",
                   "due_on": due, "finding": "换届材料不全", "origin": "deduction"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let reply = server
        .post(
            "/api/v1/rectifications/RC-1/submission",
            &cast.other_unit,
            json!({"note": "已补齐", "evidence": ["补充材料.pdf"]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reply = server
        .post(
            "/api/v1/rectifications/RC-1/verification",
            &cast.reviewer,
            json!({"comment": "材料齐全"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let rectification = server
        .get("/api/v1/rectifications/RC-1", &cast.other_unit)
        .await;
    assert_eq!(
        rectification.json["status"], "closed",
        "{}",
        rectification.text
    );
    let responsible = rectification.json["responsible"]
        .as_str()
        .unwrap()
        .to_owned();
    let accountability = server
        .get(
            &format!("/api/v1/people/{responsible}/accountability"),
            &cast.admin,
        )
        .await;
    assert_eq!(accountability.status, 200, "{}", accountability.text);
    assert_eq!(accountability.json["closed"][0]["rectification"], "RC-1");
    assert!(!accountability.json["items"].as_array().unwrap().is_empty());

    // The item's history tells the whole story, oldest first.
    let history = server
        .get(
            &format!("{PERIOD}/units/SH-01/items/A2/history"),
            &cast.auditor,
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    let types: Vec<&str> = history.json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event_type"].as_str().unwrap())
        .collect();
    for expected in [
        "ScoreRecorded",
        "ScoreCorrected",
        "SheetReviewed",
        "AppealFiled",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    let correction = history.json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["event_type"] == "ScoreCorrected")
        .unwrap();
    assert_eq!(correction["actor"], "assessor-1");
    assert!(correction["reason"].as_str().unwrap().contains("missed"));

    let standings = server
        .get(&format!("{PERIOD}/standings"), &cast.reviewer)
        .await;
    assert_eq!(standings.status, 200, "{}", standings.text);
    assert_eq!(standings.json["units"].as_array().unwrap().len(), 2);
    assert_eq!(standings.json["units"][0]["rank"], 1);
    // A unit sees its own line only, with its rank among all.
    let own = server.get(&format!("{PERIOD}/standings"), &cast.unit).await;
    assert_eq!(own.json["units"].as_array().unwrap().len(), 1);
    assert_eq!(own.json["units"][0]["unit"], "SH-01");

    // The raw log is complete and chained: every event is there, in order.
    let head = server.log_len().await;
    let mut after = 0;
    let mut seen = 0;
    loop {
        let page = server
            .get(
                &format!("/api/v1/events?after={after}&limit=50"),
                &cast.auditor,
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        for event in page.json["events"].as_array().unwrap() {
            seen += 1;
            assert_eq!(event["position"], seen);
        }
        match page.json["next"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, head);
    server.stop().await;
}

/// Standings as of a past time: the standings asked for as of the moment of publication show the
/// published figures, although an upheld appeal has changed them since; `at_position` gives the same
/// answer, and the current standings show the revision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standings_as_of_a_past_time_show_what_stood_then() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let published = server
        .get(&format!("{PERIOD}/standings"), &cast.admin)
        .await;
    let position: u64 = published
        .header("ledger-position")
        .unwrap()
        .parse()
        .unwrap();
    let before = party_score(&published.json, "SH-01");
    // recorded_at has microsecond resolution: make sure the appeal is recorded strictly later.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let moment = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let reply = server
        .post(
            "/api/v1/appeals",
            &cast.unit,
            json!({"appeal": "AP-1", "period": "2026Q1", "unit": "SH-01", "item": "A2", "grounds": "记录齐全"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let reply = server
        .post(
            "/api/v1/appeals/AP-1/decision",
            &cast.reviewer,
            json!({"outcome": "upheld", "decision": "恢复满分",
                   "revised": {"item": "A2", "value": {"kind": "points", "points": 3}}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);

    let now = server
        .get(&format!("{PERIOD}/standings"), &cast.admin)
        .await;
    let after = party_score(&now.json, "SH-01");
    assert_ne!(before, after, "the appeal changes SH-01's score");

    let as_of = moment.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let then = server
        .get(&format!("{PERIOD}/standings?as_of={as_of}"), &cast.admin)
        .await;
    assert_eq!(then.status, 200, "{}", then.text);
    assert_eq!(party_score(&then.json, "SH-01"), before);
    assert_eq!(
        then.header("ledger-position").unwrap(),
        position.to_string()
    );
    assert_eq!(then.json, published.json);
    let by_position = server
        .get(
            &format!("{PERIOD}/standings?at_position={position}"),
            &cast.admin,
        )
        .await;
    assert_eq!(by_position.json, published.json);
    // An offset written with an unescaped `+` (decoded as a space) is still understood.
    let beijing = moment
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    let offset = server
        .get(&format!("{PERIOD}/standings?as_of={beijing}"), &cast.admin)
        .await;
    assert_eq!(offset.json, published.json, "{}", offset.text);
    server.stop().await;
}

/// The change log filtered by person: every change it lists was recorded by that person, it lists
/// all of them (paging through), and other filters narrow further.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_log_filters_by_person() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let expected = 2 * base_values().len() + 1; // every score, and the correction
    let mut seen = Vec::new();
    let mut path = "/api/v1/changes?person=assessor-1&limit=20".to_owned();
    loop {
        let page = server.get(&path, &cast.auditor).await;
        assert_eq!(page.status, 200, "{}", page.text);
        for change in page.json["changes"].as_array().unwrap() {
            assert_eq!(change["actor"], "assessor-1");
            assert_eq!(change["role"], "assessor");
            seen.push(change["position"].as_u64().unwrap());
        }
        match page.json["next"].as_u64() {
            Some(next) => {
                path = format!("/api/v1/changes?person=assessor-1&limit=20&before={next}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), expected);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");

    let corrections = server
        .get(
            "/api/v1/changes?person=assessor-1&kind=ScoreCorrected&unit=SH-01",
            &cast.auditor,
        )
        .await;
    let changes = corrections.json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{}", corrections.text);
    assert_eq!(changes[0]["item"], "A2");
    assert_eq!(changes[0]["old_value"]["points"], "3");
    assert_eq!(changes[0]["new_value"]["points"], "2.5");

    let nobody = server
        .get("/api/v1/changes?person=nobody", &cast.auditor)
        .await;
    assert_eq!(nobody.json["changes"].as_array().unwrap().len(), 0);
    server.stop().await;
}

/// Overdue as of a past point is judged on that point's day, not today's: a rectification due the
/// day after it was raised is open at the position of its raising, also when the ledger is read
/// three days later, when it is overdue now. The same holds for the rectification itself and for
/// the list of overdue rectifications.
#[tokio::test]
async fn overdue_as_of_a_past_point_is_judged_on_that_day() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    // Due the day after (UTC) the decision's day: never before the business date of its raising.
    let due = (Utc::now() + Duration::days(1)).date_naive();
    let reply = server
        .post(
            "/api/v1/rectifications",
            &cast.reviewer,
            json!({"rectification": "RC-1", "period": "2026Q1", "unit": "SH-02", "item": "A1",
                   "due_on": due.to_string(), "finding": "换届材料不全", "origin": "deduction"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let raised_at = server.log_len().await;
    let later = Utc::now() + Duration::days(3);
    let server = server.restart_with(Clock::Fixed(later)).await;

    let responsible = server
        .get("/api/v1/rectifications/RC-1", &cast.admin)
        .await
        .json["responsible"]
        .as_str()
        .unwrap()
        .to_owned();
    let accountability = format!("/api/v1/people/{responsible}/accountability");
    let then = server
        .get(
            &format!("{accountability}?at_position={raised_at}"),
            &cast.admin,
        )
        .await;
    assert_eq!(then.status, 200, "{}", then.text);
    assert_eq!(
        then.json["open"][0]["rectification"], "RC-1",
        "{}",
        then.text
    );
    assert_eq!(then.json["open"][0]["days_overdue"], 0);
    assert!(then.json["overdue"].as_array().unwrap().is_empty());
    let today_then = then.json["today"].as_str().unwrap().to_owned();
    assert!(today_then <= due.to_string(), "{today_then} after {due}");

    let now = server.get(&accountability, &cast.admin).await;
    assert_eq!(now.json["today"], business_date(later).to_string());
    assert_eq!(
        now.json["overdue"][0]["rectification"], "RC-1",
        "{}",
        now.text
    );
    assert_eq!(
        now.json["overdue"][0]["days_overdue"],
        (business_date(later) - due).num_days()
    );

    let one = server
        .get(
            &format!("/api/v1/rectifications/RC-1?at_position={raised_at}"),
            &cast.admin,
        )
        .await;
    assert_eq!(one.json["overdue"], false, "{}", one.text);
    let listed = server
        .get(
            &format!("/api/v1/rectifications?overdue=true&at_position={raised_at}"),
            &cast.admin,
        )
        .await;
    assert!(listed.json["rectifications"].as_array().unwrap().is_empty());
    let listed = server
        .get("/api/v1/rectifications?overdue=true", &cast.admin)
        .await;
    assert_eq!(listed.json["rectifications"][0]["rectification"], "RC-1");
    server.stop().await;
}

/// The date line (issue 16): at 2026-12-06T01:00+08:00, which is 17:00 UTC on the 5th, "today" is 6
/// December on both sides. The write side refuses a due date of 5 December as past, and a
/// rectification due 5 December (raised two days before) is overdue by one day.
#[tokio::test]
async fn today_is_the_beijing_date_on_both_sides() {
    let raised = Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap();
    let server = Server::start_with(Clock::Fixed(raised)).await;
    let cast = cast(&server).await;
    published_period(&server, &cast).await;
    let raise = |id: &'static str| {
        json!({"rectification": id, "period": "2026Q1", "unit": "SH-02", "item": "A1",
               "due_on": "2026-12-05", "finding": "换届材料不全", "origin": "deduction"})
    };
    let reply = server
        .post("/api/v1/rectifications", &cast.reviewer, raise("RC-1"))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);

    let one_am = Utc.with_ymd_and_hms(2026, 12, 5, 17, 0, 0).unwrap();
    let server = server.restart_with(Clock::Fixed(one_am)).await;
    let late = server
        .post("/api/v1/rectifications", &cast.reviewer, raise("RC-2"))
        .await;
    assert_eq!(late.status, 422, "{}", late.text);
    assert!(late.text.contains("2026-12-06"), "{}", late.text);

    let responsible = server
        .get("/api/v1/rectifications/RC-1", &cast.admin)
        .await
        .json["responsible"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = server
        .get(
            &format!("/api/v1/people/{responsible}/accountability"),
            &cast.admin,
        )
        .await;
    assert_eq!(now.json["today"], "2026-12-06", "{}", now.text);
    assert_eq!(
        now.json["overdue"][0]["rectification"], "RC-1",
        "{}",
        now.text
    );
    assert_eq!(now.json["overdue"][0]["days_overdue"], 1, "{}", now.text);
    server.stop().await;
}
