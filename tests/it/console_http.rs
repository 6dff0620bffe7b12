//! The web console over plain HTTP (no browser): sessions, bad input, the entry forms' refusals, the
//! CSV export, and the two API reads the console added (`/api/v1/me`, the verification).

use hyper::Method;
use ledger_schemas::Role;

use crate::browser_support::DemoSite;
use crate::http_support::Reply;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn cookie(site: &DemoSite, role: Role) -> String {
    format!("ledger_token={}", site.token(role))
}

async fn page(site: &DemoSite, role: Role, path: &str) -> Reply {
    let cookie = cookie(site, role);
    site.server
        .raw(Method::GET, path, &[("cookie", &cookie)], b"")
        .await
}

async fn form(site: &DemoSite, role: Role, path: &str, body: &str) -> Reply {
    let cookie = cookie(site, role);
    site.server
        .raw(
            Method::POST,
            path,
            &[("cookie", &cookie), FORM],
            body.as_bytes(),
        )
        .await
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The message an HTML page shows next to `field`.
fn field_error(html: &str, field: &str) -> Option<String> {
    let marker = format!("class=\"field-error\" data-field=\"{field}\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('<')? + start;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_session_and_sign_in_keeps_the_token_http_only() {
    let site = DemoSite::start().await;
    let s = &site.server;
    let root = s.raw(Method::GET, "/", &[], b"").await;
    assert_eq!((root.status, root.header("location")), (303, Some("/todo")));
    let anonymous = s
        .raw(Method::GET, "/standings?period=2026Q3", &[], b"")
        .await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.header("location"),
        Some("/sign-in?next=%2Fstandings%3Fperiod%3D2026Q3")
    );

    let wrong = s
        .raw(
            Method::POST,
            "/sign-in",
            &[FORM],
            encode(&[("token", "tok-x~00"), ("next", "/changes")]).as_bytes(),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        field_error(&wrong.text, "token").is_some(),
        "{}",
        wrong.text
    );
    let empty = s.raw(Method::POST, "/sign-in", &[FORM], b"token=").await;
    assert_eq!(empty.status, 422);
    let garbage = s
        .raw(Method::POST, "/sign-in", &[FORM], b"\xff\xfe=%zz")
        .await;
    assert!(garbage.status < 500, "{}", garbage.status);

    let token = site.token(Role::Auditor);
    let ok = s
        .raw(
            Method::POST,
            "/sign-in",
            &[FORM],
            encode(&[("token", token), ("next", "/changes")]).as_bytes(),
        )
        .await;
    assert_eq!((ok.status, ok.header("location")), (303, Some("/changes")));
    let set = ok.header("set-cookie").unwrap();
    assert!(set.starts_with(&format!("ledger_token={token};")), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP on loopback: {set}");
    let proxied = s
        .raw(
            Method::POST,
            "/sign-in",
            &[FORM, ("x-forwarded-proto", "https")],
            encode(&[("token", token)]).as_bytes(),
        )
        .await;
    assert!(proxied.header("set-cookie").unwrap().ends_with("; Secure"));
    // Never an open redirect.
    let away = s
        .raw(
            Method::POST,
            "/sign-in",
            &[FORM],
            encode(&[("token", token), ("next", "//evil.example/")]).as_bytes(),
        )
        .await;
    assert_eq!(away.header("location"), Some("/todo"));

    // A cookie whose token no longer works sends the visitor back to sign in, and clears it.
    let stale = s
        .raw(
            Method::GET,
            "/changes",
            &[("cookie", "ledger_token=tok-gone~0000")],
            b"",
        )
        .await;
    assert_eq!(stale.status, 303);
    assert!(stale.header("location").unwrap().contains("expired=1"));
    assert!(stale.header("set-cookie").unwrap().contains("Max-Age=0"));

    let out = s.raw(Method::POST, "/sign-out", &[], b"").await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_page_that_says_what_is_wrong_and_records_nothing() {
    let site = DemoSite::start().await;
    let before = site.server.log_len().await;
    for (path, status, words) in [
        ("/standings?at=abc", 400, "记录序号须为正整数"),
        ("/standings?time=yesterday", 400, "不是有效的时间"),
        ("/standings?period=NOPE", 404, "NOPE"),
        ("/changes?from=2026-13-40T99:00", 400, "不是有效的时间"),
        ("/changes?kind=Nonsense", 400, "Nonsense"),
        ("/periods/2026Q3/units/NOPE", 404, "NOPE"),
        ("/periods/2026Q3/units/SH-CZ/items/Z9", 404, "Z9"),
        ("/rubrics?rubric=nope", 404, "nope"),
    ] {
        let reply = page(&site, Role::Admin, path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        assert!(
            reply.text.contains("id=\"problem\""),
            "{path}: {}",
            reply.text
        );
        assert!(
            reply.text.contains(words),
            "{path} names {words}: {}",
            reply.text
        );
    }
    // Forms: unreadable, an unknown action, a value that is no number.
    let item = "/periods/2026Q4/units/SH-CZ-B2/items/A1";
    // Lenient form decoding keeps "%zz" as it is: the request then lacks the value it corrects, and
    // the API's refusal is shown above the form.
    let unreadable = form(
        &site,
        Role::Assessor,
        &format!("{item}/correction"),
        "%zz=%zz&",
    )
    .await;
    assert_eq!(unreadable.status, 422, "{}", unreadable.text);
    assert!(
        unreadable
            .text
            .contains("class=\"form-error\" role=\"alert\""),
        "{}",
        unreadable.text
    );
    let unknown = form(&site, Role::Assessor, &format!("{item}/erase"), "reason=x").await;
    assert_eq!(unknown.status, 400, "{}", unknown.text);
    let sheet = site
        .api(
            Role::Assessor,
            "/api/v1/periods/2026Q4/units/SH-CZ-B2/items/A1",
        )
        .await;
    let previous = serde_json::to_string(&sheet["score"]["value"]).unwrap();
    let nan = form(
        &site,
        Role::Assessor,
        &format!("{item}/correction"),
        &encode(&[
            ("points", "lots"),
            ("reason", "复核"),
            ("previous", &previous),
        ]),
    )
    .await;
    assert_eq!(nan.status, 422, "{}", nan.text);
    let message = field_error(&nan.text, "points").expect("a message next to the points");
    assert!(message.contains("lots"), "{message}");
    let too_many = form(
        &site,
        Role::Assessor,
        &format!("{item}/correction"),
        &encode(&[
            ("points", "99"),
            ("reason", "复核"),
            ("previous", &previous),
        ]),
    )
    .await;
    assert_eq!(too_many.status, 422, "{}", too_many.text);
    assert!(
        field_error(&too_many.text, "points")
            .unwrap()
            .contains("99")
    );
    assert_eq!(site.server.log_len().await, before, "nothing recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_and_an_appeal_decision_show_the_apis_messages_next_to_the_field() {
    let site = DemoSite::start().await;
    let item = "/periods/2026Q4/units/SH-CZ-B2/items/A1";
    let rejected = form(
        &site,
        Role::Reviewer,
        &format!("{item}/review"),
        "decision=rejected&comment=",
    )
    .await;
    assert_eq!(rejected.status, 422, "{}", rejected.text);
    let api = site
        .server
        .post(
            &format!("/api/v1{item}/review"),
            site.token(Role::Reviewer),
            serde_json::json!({"decision": "rejected", "comment": ""}),
        )
        .await;
    assert_eq!(api.status, 422);
    assert_eq!(
        field_error(&rejected.text, "comment").as_deref(),
        api.json["errors"][0]["reason"].as_str()
    );
    let approved = form(
        &site,
        Role::Reviewer,
        &format!("{item}/review"),
        "decision=approved",
    )
    .await;
    assert_eq!(approved.status, 303, "{}", approved.text);
    let now = site.api(Role::Reviewer, &format!("/api/v1{item}")).await;
    assert_eq!(now["score"]["review"]["status"], "approved");

    // An appeal filed by the unit, decided in the console by a reviewer.
    let me = site.api(Role::Unit, "/api/v1/me").await;
    let unit = me["units"][0].as_str().unwrap();
    let filed = site
        .server
        .post(
            "/api/v1/appeals",
            site.token(Role::Unit),
            serde_json::json!({"appeal": "AP-CONSOLE", "period": "2026Q3", "unit": unit, "item": "A1",
                               "grounds": "学习记录漏计 (study records were missed)"}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    let listed = page(&site, Role::Reviewer, "/appeals").await;
    assert!(
        listed.text.contains("/appeals/AP-CONSOLE/decision"),
        "a form for the pending appeal"
    );
    let blank = form(
        &site,
        Role::Reviewer,
        "/appeals/AP-CONSOLE/decision",
        "outcome=dismissed&decision=",
    )
    .await;
    assert_eq!(blank.status, 422, "{}", blank.text);
    // The API refuses a blank decision while reading the request (a `Reason` cannot be blank): the
    // message says so next to the field, in the page's language.
    let said = field_error(&blank.text, "decision").unwrap();
    assert!(
        said.contains("不能为空") && !said.contains("must not"),
        "{said}"
    );
    let decided = form(
        &site,
        Role::Reviewer,
        "/appeals/AP-CONSOLE/decision",
        &encode(&[
            ("outcome", "dismissed"),
            (
                "decision",
                "记录齐全, 维持原分 (records complete: score stands)",
            ),
        ]),
    )
    .await;
    assert_eq!(decided.status, 303, "{}", decided.text);
    let appeal = site.api(Role::Reviewer, "/api/v1/appeals/AP-CONSOLE").await;
    assert_eq!(appeal["status"], "dismissed");
    // Upheld with a revised score: the console finds the appeal's item and sends the revision.
    let filed = site
        .server
        .post(
            "/api/v1/appeals",
            site.token(Role::Unit),
            serde_json::json!({"appeal": "AP-UPHELD", "period": "2026Q3", "unit": unit, "item": "A1",
                               "grounds": "学习记录已补齐 (the study records are complete)"}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    let upheld = form(
        &site,
        Role::Reviewer,
        "/appeals/AP-UPHELD/decision",
        &encode(&[
            ("outcome", "upheld"),
            ("decision", "核实后支持 (upheld after checking)"),
            ("revised", "2"),
        ]),
    )
    .await;
    assert_eq!(upheld.status, 303, "{}", upheld.text);
    let item = site
        .api(
            Role::Reviewer,
            &format!("/api/v1/periods/2026Q3/units/{unit}/items/A1"),
        )
        .await;
    assert_eq!(item["score"]["value"]["points"], "2");
    assert_eq!(item["score"]["source"], "appeal");
    // An assessor sees the appeal but no form.
    let assessor = page(&site, Role::Assessor, "/appeals").await;
    assert!(!assessor.text.contains("/decision\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_log_exports_every_matching_change_as_csv() {
    let site = DemoSite::start().await;
    let reply = page(&site, Role::Auditor, "/changes.csv?person=reviewer-chen").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    let at = reply
        .header("ledger-position")
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_eq!(at, site.server.log_len().await);
    assert!(
        reply
            .header("content-disposition")
            .unwrap()
            .contains(&format!("changes-at-{at}.csv"))
    );
    // For Excel: the byte-order mark, Chinese headers, Beijing time to the second, names.
    assert!(reply.text.starts_with('\u{feff}'), "no BOM");
    let mut reader = csv::Reader::from_reader(reply.text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let zh: Vec<&str> = ledger::csv_out::CHANGE_COLUMNS
        .iter()
        .map(|c| c.1)
        .collect();
    assert_eq!(header, zh);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let first_time = api_time_in_beijing(&site, &rows[0][0]).await;
    assert_eq!(&rows[0][1], first_time, "recorded_at in Beijing time");
    assert!(rows.iter().all(|r| !r[4].is_empty()), "actor names");
    // Plain UTF-8 for scripts, English headers when English is chosen.
    let plain = site
        .server
        .raw(
            Method::GET,
            "/changes.csv?person=reviewer-chen&plain=1",
            &[(
                "cookie",
                &format!("{}; ledger_lang=en", cookie(&site, Role::Auditor)),
            )],
            b"",
        )
        .await;
    assert!(
        plain.text.starts_with("position,recorded_at,"),
        "{}",
        &plain.text[..80]
    );
    let api = site
        .api(
            Role::Auditor,
            "/api/v1/changes?person=reviewer-chen&limit=1000",
        )
        .await;
    let expected: Vec<String> = api["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["position"].to_string())
        .collect();
    let got: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(got, expected);
    assert!(rows.iter().all(|r| &r[3] == "reviewer-chen"));
    // A unit secretary may not read the change log, in the browser either.
    let refused = page(&site, Role::Unit, "/changes.csv").await;
    assert_eq!(refused.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_names_the_caller_and_a_verification_is_run_and_kept() {
    let site = DemoSite::start().await;
    let unit = site.api(Role::Unit, "/api/v1/me").await;
    assert_eq!(unit["role"], "unit");
    assert_eq!(unit["units"].as_array().unwrap().len(), 1);
    let admin = site.api(Role::Admin, "/api/v1/me").await;
    assert_eq!(admin["role"], "admin");
    assert!(admin["units"].is_null());
    assert!(admin["name"].as_str().is_some_and(|n| !n.is_empty()));

    let auditor = site.token(Role::Auditor);
    let none = site.server.get("/api/v1/audit/verification", auditor).await;
    assert_eq!(none.status, 404);
    let before = site.server.log_len().await;
    let run = site
        .server
        .post("/api/v1/audit/verification", auditor, serde_json::json!({}))
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    assert_eq!(run.json["intact"], true);
    assert_eq!(run.json["verified"].as_u64(), Some(before));
    assert_eq!(
        run.json["checkpoints_checked"].as_u64(),
        Some(1 + before / 1000)
    );
    assert_eq!(
        site.server.log_len().await,
        before,
        "a verification records nothing"
    );
    let kept = site.server.get("/api/v1/audit/verification", auditor).await;
    assert_eq!(kept.json["verified_at"], run.json["verified_at"]);
}

/// On a new period, an assessor records first scores through the forms: a points item and a ladder
/// item (whose form offers the rubric's levels); the sheet then shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assessor_records_first_scores_through_the_forms() {
    let site = DemoSite::start().await;
    let admin = site.token(Role::Admin);
    let me = site.api(Role::Assessor, "/api/v1/me").await;
    let unit = me["units"][0].as_str().unwrap().to_owned();
    let opened = site
        .server
        .post(
            "/api/v1/periods",
            admin,
            serde_json::json!({"period": "2027Q1", "name": "2027年第一季度", "cadence": "quarterly",
                "starts_on": "2027-01-01", "ends_on": "2027-03-31", "rubric": "default",
                "rubric_version": 2, "units": [unit]}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.text);
    for to in ["self_assessment", "scoring"] {
        let moved = site
            .server
            .post(
                "/api/v1/periods/2027Q1/stage",
                admin,
                serde_json::json!({"to": to}),
            )
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
    }
    let sheet = site
        .api(
            Role::Assessor,
            &format!("/api/v1/periods/2027Q1/units/{unit}"),
        )
        .await;
    let items = sheet["items"].as_array().unwrap();
    let of_kind = |kind: &str| {
        items
            .iter()
            .find(|i| i["kind"]["kind"] == kind)
            .map(|i| i["item"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (points, ladder) = (of_kind("points"), of_kind("ladder"));

    let page_of = |item: &str| format!("/periods/2027Q1/units/{unit}/items/{item}");
    let form_page = page(&site, Role::Assessor, &page_of(&points)).await;
    assert!(
        form_page.text.contains("id=\"score-form\""),
        "a score form, not a correction"
    );
    assert!(!form_page.text.contains("id=\"correction-form\""));
    let before = site.server.log_len().await;
    let recorded = form(
        &site,
        Role::Assessor,
        &format!("{}/score", page_of(&points)),
        &encode(&[
            ("points", "1.5"),
            ("note", "按标准评分"),
            ("evidence", "a.pdf\nb.pdf"),
        ]),
    )
    .await;
    assert_eq!(recorded.status, 303, "{}", recorded.text);
    let ladder_page = page(&site, Role::Assessor, &page_of(&ladder)).await;
    assert!(
        ladder_page.text.contains("name=\"level\""),
        "the ladder's levels"
    );
    let level = site
        .api(Role::Assessor, "/api/v1/rubrics/default/versions/2")
        .await["definition"]["ladder"][1]["level"]
        .as_str()
        .unwrap()
        .to_owned();
    let recorded = form(
        &site,
        Role::Assessor,
        &format!("{}/score", page_of(&ladder)),
        &encode(&[("level", &level)]),
    )
    .await;
    assert_eq!(recorded.status, 303, "{}", recorded.text);
    assert_eq!(site.server.log_len().await, before + 2);
    let scored = site
        .api(
            Role::Assessor,
            &format!("/api/v1/periods/2027Q1/units/{unit}/items/{points}"),
        )
        .await;
    assert_eq!(scored["score"]["value"]["points"], "1.5");
    assert_eq!(scored["score"]["authors"][0], me["person"]);
    let sheet_page = page(
        &site,
        Role::Assessor,
        &format!("/periods/2027Q1/units/{unit}"),
    )
    .await;
    assert!(
        sheet_page.text.contains("1.50 分"),
        "the sheet shows the score"
    );
    // A reviewer gets no score form.
    let reviewer = page(&site, Role::Reviewer, &page_of(&points)).await;
    assert!(!reviewer.text.contains("id=\"score-form\""));
    assert!(reviewer.text.contains("id=\"review-form\""));
}

/// Time travel reaches the sheets: the standings' unit links carry the point, and the sheet as of
/// it shows the value an item had before its correction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sheet_can_be_read_as_it_stood_before_a_correction() {
    let site = DemoSite::start().await;
    let changes = site
        .api(
            Role::Auditor,
            "/api/v1/changes?kind=ScoreCorrected&period=2026Q3&limit=1000",
        )
        .await;
    let correction = changes["changes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let before = correction["position"].as_u64().unwrap() - 1;
    let (unit, item) = (
        correction["unit"].as_str().unwrap(),
        correction["item"].as_str().unwrap(),
    );
    let standings = page(
        &site,
        Role::Auditor,
        &format!("/standings?period=2026Q3&at={before}"),
    )
    .await;
    assert!(
        standings
            .text
            .contains(&format!("/periods/2026Q3/units/{unit}?at={before}")),
        "the unit links carry the point"
    );
    let sheet = page(
        &site,
        Role::Auditor,
        &format!("/periods/2026Q3/units/{unit}?at={before}"),
    )
    .await;
    assert_eq!(sheet.status, 200, "{}", sheet.text);
    assert!(sheet.text.contains(&format!("data-position=\"{before}\"")));
    // Shown with the rubric's two decimals.
    let old = ledger::console::format::points(correction["old_value"]["points"].as_str().unwrap());
    let new = ledger::console::format::points(correction["new_value"]["points"].as_str().unwrap());
    let row_of = |html: &str| {
        let start = html.find(&format!("data-item=\"{item}\"")).unwrap();
        let end = html[start..].find("</tr>").unwrap() + start;
        html[start..end].to_owned()
    };
    assert!(
        row_of(&sheet.text).contains(&format!("{old} 分")),
        "{}",
        row_of(&sheet.text)
    );
    let now = page(
        &site,
        Role::Auditor,
        &format!("/periods/2026Q3/units/{unit}"),
    )
    .await;
    assert!(
        row_of(&now.text).contains(&format!("{new} 分")),
        "{}",
        row_of(&now.text)
    );
    let bad = page(
        &site,
        Role::Auditor,
        &format!("/periods/2026Q3/units/{unit}?at=soon"),
    )
    .await;
    assert_eq!(bad.status, 400);
}

/// With more units than the aspect comparison draws, it draws the first ranks and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aspect_comparison_draws_the_first_twelve_units() {
    let site = DemoSite::start().await;
    let admin = site.token(Role::Admin);
    let mut units: Vec<String> = Vec::new();
    for n in 0..13 {
        let unit = format!("EXTRA-{n:02}");
        let reply = site
            .server
            .post(
                "/api/v1/units",
                admin,
                serde_json::json!({"unit": unit, "name": format!("新增支部 {n}"), "kind": "branch", "parent": "SH"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        units.push(unit);
    }
    let opened = site
        .server
        .post(
            "/api/v1/periods",
            admin,
            serde_json::json!({"period": "2027Q2", "name": "2027年第二季度", "cadence": "quarterly",
                "starts_on": "2027-04-01", "ends_on": "2027-06-30", "rubric": "default",
                "rubric_version": 2, "units": units}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.text);
    let charts = page(&site, Role::Admin, "/charts?period=2027Q2").await;
    assert_eq!(charts.status, 200, "{}", charts.text);
    assert!(charts.text.contains("id=\"compared-note\""));
    let standings = site
        .api(Role::Admin, "/api/v1/periods/2027Q2/standings")
        .await;
    let aspects = standings["aspects"].as_array().unwrap().len();
    assert_eq!(charts.text.matches("class=\"bar\"").count(), 12 * aspects);
    // The demo's period of eight units is drawn whole, without the note.
    let demo = page(&site, Role::Admin, "/charts?period=2026Q3").await;
    assert!(!demo.text.contains("id=\"compared-note\""));
}

/// The standings say when their last event was recorded, now and as of a past position, to every
/// role (the console's time control shows it without reading the change log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standings_carry_the_time_of_their_last_event() {
    let site = DemoSite::start().await;
    let events = site
        .api(Role::Auditor, "/api/v1/events?after=99&limit=1")
        .await;
    let event = &events["events"][0];
    assert_eq!(event["position"], 100);
    let then = site
        .api(
            Role::Unit,
            "/api/v1/periods/2026Q3/standings?at_position=100",
        )
        .await;
    assert_eq!(then["as_of"], 100);
    let parse =
        |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(parse(&then["as_of_time"]), parse(&event["recorded_at"]));
    let now = site
        .api(Role::Unit, "/api/v1/periods/2026Q3/standings")
        .await;
    let head = site.server.log_len().await;
    assert_eq!(now["as_of"], head);
    let last = site
        .api(
            Role::Auditor,
            &format!("/api/v1/events?after={}&limit=1", head - 1),
        )
        .await;
    assert_eq!(
        parse(&now["as_of_time"]),
        parse(&last["events"][0]["recorded_at"])
    );
    // The unit secretary's time control is filled in too.
    let page = page(&site, Role::Unit, "/standings?period=2026Q3&at=100").await;
    let shown = then["as_of_time"].as_str().map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .with_timezone(&ledger::console::format::beijing())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    });
    assert!(page.text.contains(&shown.unwrap()), "{}", page.text);
    // A time printed as `ledger demo` prints its milestones (Beijing time, to the microsecond),
    // typed into the time control, reads the same point as the command line's `--as-of`.
    let printed = ledger::app::clock::business_time_exact(parse(&event["recorded_at"]).to_utc());
    let typed = page_at(&site, &printed).await;
    assert!(
        typed.contains("data-position=\"100\""),
        "{printed}: {typed}"
    );
}

async fn page_at(site: &DemoSite, time: &str) -> String {
    let path = format!(
        "/standings?{}",
        encode(&[("period", "2026Q3"), ("time", time)])
    );
    let reply = page(site, Role::Unit, &path).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.text
}

/// The year's page shows every unit by name in the API's order with its year figure and grade, says
/// that the period in review is not counted yet, reads as of a past position (before any period of
/// the year: it says so), and refuses a year that is not a number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_years_page_shows_the_apis_result_by_name() {
    let site = DemoSite::start().await;
    let api = site.api(Role::Admin, "/api/v1/annual?year=2026").await;
    let units = site.api(Role::Admin, "/api/v1/units").await;
    let name_of = |id: &str| {
        units["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == id)
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let shown = page(&site, Role::Admin, "/annual").await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    let html = &shown.text;
    assert!(html.contains("年度考核 · 2026"), "{html}");
    assert!(html.contains("id=\"provisional\""), "{html}");
    let mut at = 0;
    for u in api["units"].as_array().unwrap() {
        let row = format!("data-unit=\"{}\"", u["unit"].as_str().unwrap());
        let found = html[at..]
            .find(&row)
            .expect("every unit, in the API's order")
            + at;
        let figure = format!(">{}<", u["figure"].as_str().unwrap());
        let line_end = html[found..].find("</tr>").unwrap() + found;
        let line = &html[found..line_end];
        assert!(
            line.contains(&name_of(u["unit"].as_str().unwrap())),
            "{line}"
        );
        assert!(line.contains(&figure), "{line}");
        at = line_end;
    }

    let english = site
        .server
        .raw(
            Method::GET,
            "/annual?year=2026",
            &[(
                "cookie",
                &format!("{}; ledger_lang=en", cookie(&site, Role::Unit)),
            )],
            b"",
        )
        .await;
    assert_eq!(english.status, 200);
    assert!(
        english.text.contains("mean of the periods"),
        "{}",
        english.text
    );
    assert_eq!(
        english.text.matches("<tr data-unit=").count(),
        1,
        "a unit sees its own"
    );

    let early = page(&site, Role::Admin, "/annual?year=2026&at=5").await;
    assert_eq!(early.status, 200, "{}", early.text);
    assert!(early.text.contains("id=\"not-yet\""), "{}", early.text);

    let bad = page(&site, Role::Admin, "/annual?year=twenty").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("twenty"), "{}", bad.text);
}

/// Every way of leaving the site through the console's redirect targets stays on it: `back=` of the
/// language switch (no sign-in needed) and `next=` of the sign-in form, with a backslash, a tab, two
/// slashes, their percent-encoded forms, and a CR/LF (which gave a plain-text 500). Each lands on a
/// path of this site; the sign-in form does not carry such a target either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_targets_stay_on_the_site() {
    let site = DemoSite::start().await;
    let s = &site.server;
    let token = site.token(Role::Auditor);
    for back in [
        "/\\evil.example",
        "/\t/evil.example",
        "//evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "/x\r\nSet-Cookie: ledger_token=stolen",
        "/x\nLocation: //evil.example",
    ] {
        let query = encode(&[("back", back)]);
        for path in [format!("/lang/en?{query}"), format!("/lang/zh?{query}")] {
            let reply = s.raw(Method::GET, &path, &[], b"").await;
            assert_eq!(reply.status, 303, "{back:?}: {}", reply.text);
            assert_eq!(reply.header("location"), Some("/"), "{back:?}");
        }
        let signed_in = s
            .raw(
                Method::POST,
                "/sign-in",
                &[FORM],
                encode(&[("token", token), ("next", back)]).as_bytes(),
            )
            .await;
        assert_eq!(signed_in.status, 303, "{back:?}: {}", signed_in.text);
        assert_eq!(signed_in.header("location"), Some("/todo"), "{back:?}");
        let form_page = s
            .raw(
                Method::GET,
                &format!("/sign-in?{}", encode(&[("next", back)])),
                &[],
                b"",
            )
            .await;
        assert_eq!(form_page.status, 200);
        assert!(
            form_page.text.contains("name=\"next\" value=\"/todo\""),
            "{back:?}"
        );
    }
    // Encoded by hand, as a link would carry them.
    for raw in [
        "/lang/en?back=%2F%5Cevil.example",
        "/lang/en?back=%2F%09%2Fevil.example",
        "/lang/en?back=%2F%2Fevil.example",
        "/lang/en?back=/%0D%0ASet-Cookie:%20a=b",
        "/lang/en?back=%E2%80%AE",
    ] {
        let reply = s.raw(Method::GET, raw, &[], b"").await;
        assert_eq!(
            (reply.status, reply.header("location")),
            (303, Some("/")),
            "{raw}"
        );
    }
    // A target on this site is kept.
    let home = s
        .raw(
            Method::GET,
            "/lang/en?back=%2Fstandings%3Fperiod%3D2026Q3",
            &[],
            b"",
        )
        .await;
    assert_eq!(home.header("location"), Some("/standings?period=2026Q3"));
}

/// A console form sent from another site is refused with 403 before anything is decided, whether
/// the browser says so with `Sec-Fetch-Site` or only with `Origin` or `Referer`; the same form from
/// this site's own page is recorded. Every console page carries the security headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_forms_from_another_site_are_refused_and_pages_carry_security_headers() {
    let site = DemoSite::start().await;
    let s = &site.server;
    let cookie = cookie(&site, Role::Reviewer);
    let review = "/periods/2026Q4/units/SH-CZ-B2/items/A1/review";
    let here = format!("http://{}", s.addr);
    let before = s.log_len().await;
    for (name, value) in [
        ("origin", "http://evil.example".to_owned()),
        ("origin", "null".to_owned()),
        ("referer", "http://evil.example/phish".to_owned()),
        ("sec-fetch-site", "cross-site".to_owned()),
        ("sec-fetch-site", "same-site".to_owned()),
    ] {
        let refused = s
            .raw(
                Method::POST,
                review,
                &[("cookie", &cookie), FORM, (name, &value)],
                b"decision=approved",
            )
            .await;
        assert_eq!(refused.status, 403, "{name}: {value}: {}", refused.text);
        assert!(
            refused.text.contains("data-code=\"cross-origin\""),
            "{}",
            refused.text
        );
        assert_eq!(
            s.log_len().await,
            before,
            "{name}: {value}: nothing recorded"
        );
    }
    // Signing in and out from another site is refused too (no login CSRF).
    let token = site.token(Role::Reviewer);
    let login = s
        .raw(
            Method::POST,
            "/sign-in",
            &[FORM, ("origin", "http://evil.example")],
            encode(&[("token", token)]).as_bytes(),
        )
        .await;
    assert_eq!(login.status, 403);
    assert!(login.header("set-cookie").is_none());

    let accepted = s
        .raw(
            Method::POST,
            review,
            &[
                ("cookie", &cookie),
                FORM,
                ("origin", &here),
                ("sec-fetch-site", "same-origin"),
            ],
            b"decision=approved",
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.text);
    assert_eq!(
        s.log_len().await,
        before + 1,
        "the same form from this site is recorded"
    );

    for (path, with_cookie) in [
        ("/sign-in", false),
        ("/standings?period=2026Q3", true),
        ("/periods/2026Q3/units/NOPE", true),
        ("/lang/en?back=/", false),
    ] {
        let mut headers = vec![];
        if with_cookie {
            headers.push(("cookie", cookie.as_str()));
        }
        let reply = s.raw(Method::GET, path, &headers, b"").await;
        let csp = reply.header("content-security-policy").unwrap_or_default();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp:?}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp:?}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("same-origin"),
            "{path}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        // The strict policy holds because no page has an inline script, style or handler.
        for inline in ["<script>", " onchange=", " onclick=", " style=", "<style"] {
            assert!(!reply.text.contains(inline), "{path}: {inline}");
        }
    }
}

/// Served with `--https` (TLS at a proxy in front, or one day here), every cookie the console sets
/// is `Secure`, whatever the request says; without it, only a request forwarded as HTTPS gets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_when_the_site_is_served_over_https() {
    let server = crate::http_support::Server::start_with_options(ledger::http::ServeOptions {
        https: true,
        ..Default::default()
    })
    .await;
    let token = server.token("admin-1", Role::Admin, &[]).await;
    let signed_in = server
        .raw(
            Method::POST,
            "/sign-in",
            &[FORM],
            encode(&[("token", &token)]).as_bytes(),
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    for reply in [
        signed_in,
        server.raw(Method::GET, "/lang/en?back=/", &[], b"").await,
        server.raw(Method::POST, "/sign-out", &[], b"").await,
    ] {
        let set = reply.header("set-cookie").unwrap();
        assert!(set.ends_with("; Secure"), "{set}");
    }
    server.stop().await;
}

/// Completeness before grades (issue 15): a newly opened period shows no rank and no grade for
/// sheets with nothing scored (not "rank 1, 较差"), with 已评 0/29 and a note that ranks are among
/// complete sheets only; 2026Q3, complete, shows final ranks and grades.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newly_opened_period_shows_no_grade_and_no_rank() {
    let site = DemoSite::start().await;
    let admin = site.token(Role::Admin).to_owned();
    let opened = site
        .server
        .post(
            "/api/v1/periods",
            &admin,
            serde_json::json!({
                "period": "2027Q1", "name": "2027年第一季度", "cadence": "quarterly",
                "starts_on": "2027-01-01", "ends_on": "2027-03-31", "rubric": "default",
                "rubric_version": 2, "units": ["SH-CZ", "SH-NY"]
            }),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.text);
    let fresh = page(&site, Role::Admin, "/standings?period=2027Q1").await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert!(fresh.text.contains("data-complete=\"0\""), "{}", fresh.text);
    for grade in ["优秀", "良好", "一般", "较差"] {
        assert!(
            !fresh.text.contains(&format!(">{grade}<")),
            "no grade before anything is scored: {grade}"
        );
    }
    assert!(
        !fresh.text.contains("data-col=\"0\" data-sort=\"1\">1<"),
        "no rank 1"
    );
    assert!(fresh.text.contains(">0/29<"), "已评 0/29");
    let done = page(&site, Role::Admin, "/standings?period=2026Q3").await;
    assert!(done.text.contains("data-complete=\"8\" data-units=\"8\""));
    assert!(
        done.text.contains("data-col=\"0\" data-sort=\"1\">1<"),
        "ranked"
    );
}

/// The recorded time of the event at `position` (from the API, RFC 3339) as Beijing time.
async fn api_time_in_beijing(site: &DemoSite, position: &str) -> String {
    let after = position.parse::<u64>().unwrap() - 1;
    let events = site
        .api(
            Role::Auditor,
            &format!("/api/v1/events?after={after}&limit=1"),
        )
        .await;
    let t =
        chrono::DateTime::parse_from_rfc3339(events["events"][0]["recorded_at"].as_str().unwrap())
            .unwrap();
    ledger::app::clock::business_time(t.to_utc())
}
