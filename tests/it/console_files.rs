//! Files from the console (issue 16): the score-sheet template an assessor downloads beside a
//! sheet, read back as a spreadsheet program would and imported with `ledger import scores`.

use calamine::{Data, Reader};
use hyper::Method;
use ledger_schemas::Role;

use crate::browser_support::DemoSite;
use crate::cli_support::{demo_copy, events, ledger, ok, stdout};

async fn get(site: &DemoSite, role: Role, path: &str) -> crate::http_support::Reply {
    let cookie = format!("ledger_token={}", site.token(role));
    site.server
        .raw(Method::GET, path, &[("cookie", &cookie)], b"")
        .await
}

/// An assessor's sheet page links the template of the sheet's rubric version for that unit; the
/// workbook has the 评分表 sheet with every item and the unit filled in, and, with the recorded
/// values typed back in, imports into a copy of the same ledger as the assessor, every row read as
/// exactly the value on record (so nothing new is recorded).
/// A unit secretary's sheet page has no link (they record no scores); an unknown rubric version is
/// a 404 page, not a workbook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assessor_downloads_the_template_and_it_imports_back() {
    let site = DemoSite::start().await;
    let me = site.api(Role::Assessor, "/api/v1/me").await;
    let unit = me["units"][0].as_str().unwrap().to_owned();
    let person = me["person"].as_str().unwrap().to_owned();
    let sheet_path = format!("/periods/2026Q4/units/{unit}");
    let sheet = get(&site, Role::Assessor, &sheet_path).await;
    assert_eq!(sheet.status, 200);
    let marker = "id=\"template-link\" href=\"";
    let start = sheet.text.find(marker).expect("a template link") + marker.len();
    let href = sheet.text[start..][..sheet.text[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(
        href.ends_with(&format!("template.xlsx?unit={unit}")),
        "{href}"
    );

    let file = get(&site, Role::Assessor, &href).await;
    assert_eq!(file.status, 200);
    assert_eq!(
        file.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(
        file.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")),
    );
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(file.bytes.to_vec())).unwrap();
    let rows: Vec<Vec<Data>> = book
        .worksheet_range("评分表")
        .unwrap()
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    assert_eq!(rows[0][0], Data::String("单位".into()));
    assert_eq!(rows.len(), 1 + 33);
    assert!(rows[1..].iter().all(|r| r[0] == Data::String(unit.clone())));

    // Type each points or ladder item's recorded value back in (a number, a level code): it reads
    // as exactly what is on record, so the import finds every row unchanged.
    let api_sheet = site
        .api(
            Role::Assessor,
            &format!("/api/v1/periods/2026Q4/units/{unit}"),
        )
        .await;
    let recorded: std::collections::HashMap<String, serde_json::Value> = api_sheet["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["score"].is_null())
        .map(|i| {
            (
                i["item"].as_str().unwrap().to_owned(),
                i["score"]["value"].clone(),
            )
        })
        .collect();
    let mut filled = rust_xlsxwriter::Workbook::new();
    let ws = filled.add_worksheet();
    ws.set_name("评分表").unwrap();
    let mut typed = 0u64;
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Data::String(s) => ws.write_string(r as u32, c as u16, s).map(|_| ()).unwrap(),
                Data::Float(n) => ws.write_number(r as u32, c as u16, *n).map(|_| ()).unwrap(),
                _ => {}
            }
        }
        let Some(value) = recorded.get(&row[1].to_string()) else {
            continue;
        };
        match value["kind"].as_str().unwrap() {
            "points" => {
                let points: f64 = value["points"].as_str().unwrap().parse().unwrap();
                ws.write_number(r as u32, 7, points).map(|_| ()).unwrap()
            }
            "level" => ws
                .write_string(r as u32, 7, value["level"].as_str().unwrap())
                .map(|_| ())
                .unwrap(),
            _ => continue,
        }
        typed += 1;
    }
    assert!(typed > 20, "{typed} items typed back");
    let (dir, path) = demo_copy();
    let xlsx = dir.path().join("filled.xlsx");
    std::fs::write(&xlsx, filled.save_to_buffer().unwrap()).unwrap();
    let before = events(&path);
    let out = ledger(
        &path,
        &[
            "import",
            "scores",
            "--period",
            "2026Q4",
            "--as",
            &person,
            xlsx.to_str().unwrap(),
        ],
    );
    ok(&out);
    assert!(
        stdout(&out).contains(&format!("0 new scores, 0 corrections, {typed} unchanged")),
        "{}",
        stdout(&out)
    );
    assert_eq!(events(&path), before);

    let own = site.api(Role::Unit, "/api/v1/me").await;
    let own_sheet = format!(
        "/periods/2026Q4/units/{}",
        own["units"][0].as_str().unwrap()
    );
    let unit_page = get(&site, Role::Unit, &own_sheet).await;
    assert_eq!(unit_page.status, 200);
    assert!(!unit_page.text.contains("template-link"));
    let missing = get(&site, Role::Assessor, "/rubrics/default/99/template.xlsx").await;
    assert_eq!(missing.status, 404);
}

/// A `multipart/form-data` body as a browser sends the import form: the period and the file.
pub(crate) fn multipart(period: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----ledger-test-boundary-7d3";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"period\"\r\n\r\n{period}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post(
    site: &DemoSite,
    role: Role,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> crate::http_support::Reply {
    let cookie = format!("ledger_token={}", site.token(role));
    site.server
        .raw(
            Method::POST,
            path,
            &[("cookie", &cookie), ("content-type", content_type)],
            body,
        )
        .await
}

/// The value of the hidden input `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    html[start..][..html[start..].find('"').unwrap()].replace("&amp;", "&")
}

/// Upload → preview → confirm in the console: a file with bad rows is previewed with every error
/// at its row and column and records nothing; a good GBK CSV is previewed row by row (nothing
/// recorded yet), and the confirmation records exactly those rows as the signed-in assessor, with
/// source `import` and the file's SHA-256. A confirmation whose file was altered after the preview
/// is refused and records nothing; one replayed after the ledger moved on is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_previewed_then_confirmed_as_the_signed_in_assessor() {
    let site = DemoSite::start().await;
    let me = site.api(Role::Assessor, "/api/v1/me").await;
    let unit = me["units"][0].as_str().unwrap().to_owned();
    site.open_scoring_period(&[&unit]).await;
    let form = get(&site, Role::Assessor, "/import?period=2027Q1").await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains("data-ops=\"importScores\""));
    assert!(form.text.contains("template.xlsx"));
    let unit_form = get(&site, Role::Unit, "/import").await;
    assert_eq!(unit_form.status, 403, "{}", unit_form.text);

    let before = site.server.log_len().await;
    // Bad rows: an unknown item, a value over the maximum.
    let bad = format!("unit,item,value,note\n{unit},Z9,1,\n{unit},A1,99,\n");
    let (ct, body) = multipart("2027Q1", "bad.csv", bad.as_bytes());
    let preview = post(&site, Role::Assessor, "/import", &ct, &body).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(
        preview.text.contains("id=\"import-errors\""),
        "{}",
        preview.text
    );
    assert!(preview.text.contains("data-row=\"2\" data-column=\"B\""));
    assert!(preview.text.contains("data-row=\"3\" data-column=\"C\""));
    assert!(!preview.text.contains("confirm-form"));
    assert_eq!(site.server.log_len().await, before);

    // A good sheet as Excel saves it on Chinese Windows (GBK), with a Chinese note.
    let good = format!("单位,子项目,得分,说明\n{unit},A1,2,按期换届\n{unit},A2,2.5,\n");
    let gbk = encoding_rs::GBK.encode(&good).0.into_owned();
    let (ct, body) = multipart("2027Q1", "sheet.csv", &gbk);
    let preview = post(&site, Role::Assessor, "/import", &ct, &body).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(
        preview
            .text
            .contains("data-row=\"2\" data-action=\"record\"")
    );
    assert!(
        preview
            .text
            .contains("data-row=\"3\" data-action=\"record\"")
    );
    assert!(preview.text.contains("按期换届"));
    assert_eq!(
        site.server.log_len().await,
        before,
        "a preview records nothing"
    );
    let pairs = |content: &str| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("period", &hidden(&preview.text, "period"));
        s.append_pair("file_name", &hidden(&preview.text, "file_name"));
        s.append_pair("content", content);
        s.append_pair("plan", &hidden(&preview.text, "plan"));
        s.finish()
    };
    let confirm = async |content: &str| {
        post(
            &site,
            Role::Assessor,
            "/import/confirm",
            "application/x-www-form-urlencoded",
            pairs(content).as_bytes(),
        )
        .await
    };

    // The file altered after the preview (another value): refused, nothing recorded.
    let altered = encoding_rs::GBK
        .encode(&good.replace(",2.5,", ",3,"))
        .0
        .into_owned();
    let altered = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, altered);
    let refused = confirm(&altered).await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(site.server.log_len().await, before);

    let content = hidden(&preview.text, "content");
    let done = confirm(&content).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("data-recorded=\"2\""), "{}", done.text);
    assert_eq!(site.server.log_len().await, before + 2);
    let sha = ledger::audit::bundle::sha256_hex(&gbk);
    let history = site
        .api(
            Role::Admin,
            "/api/v1/changes?period=2027Q1&kind=ScoreRecorded&limit=10",
        )
        .await;
    let changes = history["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{history}");
    for c in changes {
        assert_eq!(c["actor"], me["person"], "{c}");
    }
    let events = site
        .api(Role::Auditor, &format!("/api/v1/events?after={before}"))
        .await;
    let recorded = events["events"].as_array().unwrap();
    assert_eq!(recorded.len(), 2, "{events}");
    for e in recorded {
        assert_eq!(e["actor"]["person"], me["person"]);
        let payload: serde_json::Value = if e["payload"].is_string() {
            serde_json::from_str(e["payload"].as_str().unwrap()).unwrap()
        } else {
            e["payload"].clone()
        };
        assert_eq!(payload["source"], "import", "{payload}");
        assert_eq!(payload["file_sha256"], sha.as_str(), "{payload}");
    }

    // The same confirmation again: the plan now finds the rows unchanged, so it is refused.
    let replay = confirm(&content).await;
    assert_eq!(replay.status, 409, "{}", replay.text);
    assert_eq!(site.server.log_len().await, before + 2);
}

/// The text of the element with `id` up to its closing `</span>`, tags removed.
fn span_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}"));
    let end = start + html[start..].find("</span>").unwrap();
    let mut text = String::new();
    let mut in_tag = true;
    for c in html[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Business results as a file in the console, for the roles that record them: the business-results
/// page links the import page, where a unit secretary is refused; a file with an unknown unit and a
/// score over 100 is previewed with both errors at their row and column and records nothing; the
/// period's template (its units listed), filled in and uploaded, is previewed and then recorded as
/// the signed-in admin with the workbook's SHA-256; a GBK CSV that replaces the result with a
/// 原因 is previewed as a replacement and recorded with that reason; a confirmation whose file was
/// altered after its preview is refused and records nothing. Through the API itself, a bad file
/// sent for recording is 422 with every row error, and a recording naming another plan is 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_results_upload_is_previewed_then_confirmed_as_the_signed_in_person() {
    let site = DemoSite::start().await;
    let assessor = site.api(Role::Assessor, "/api/v1/me").await;
    let unit = assessor["units"][0].as_str().unwrap().to_owned();
    site.open_scoring_period(&[&unit]).await;
    let admin = site.api(Role::Admin, "/api/v1/me").await;

    let business = get(&site, Role::Admin, "/periods/2027Q1/business").await;
    assert!(
        business
            .text
            .contains("id=\"business-import-link\" href=\"/periods/2027Q1/business/import\""),
        "{}",
        business.text
    );
    for role in [Role::Admin, Role::Assessor] {
        let page = get(&site, role, "/periods/2027Q1/business/import").await;
        assert_eq!(page.status, 200, "{role}: {}", page.text);
        assert!(page.text.contains("data-ops=\"importBusinessResults\""));
        assert!(page.text.contains("/periods/2027Q1/business/template.xlsx"));
    }
    let refused = get(&site, Role::Unit, "/periods/2027Q1/business/import").await;
    assert_eq!(refused.status, 403);

    let path = "/periods/2027Q1/business/import";
    let before = site.server.log_len().await;
    let bad = format!("unit,score,vetoed,source\nSH-NOPE,80,否,责任书\n{unit},101,否,责任书\n");
    let (ct, body) = multipart("2027Q1", "bad.csv", bad.as_bytes());
    let preview = post(&site, Role::Admin, path, &ct, &body).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(preview.text.contains("data-row=\"2\" data-column=\"A\""));
    assert!(preview.text.contains("data-row=\"3\" data-column=\"B\""));
    assert!(preview.text.contains("不在 0–100 之间"), "{}", preview.text);
    assert!(!preview.text.contains("confirm-form"));
    assert_eq!(site.server.log_len().await, before);

    // The template, filled in as the office would: a number, 否, the source.
    let template = get(&site, Role::Admin, "/periods/2027Q1/business/template.xlsx").await;
    assert_eq!(template.status, 200);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(template.bytes.to_vec())).unwrap();
    let rows: Vec<Vec<Data>> = book
        .worksheet_range("经营业绩")
        .unwrap()
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], Data::String(unit.clone()));
    let xlsx = crate::cli_import::filled_in("经营业绩", &rows, |ws| {
        ws.write_number(1, 2, 88.5).unwrap();
        ws.write_string(1, 3, "否").unwrap();
        ws.write_string(1, 4, "2027年经营目标责任书 第三条")
            .unwrap();
    });
    let (ct, body) = multipart("2027Q1", "business.xlsx", &xlsx);
    let preview = post(&site, Role::Admin, path, &ct, &body).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert!(
        preview
            .text
            .contains("data-row=\"2\" data-action=\"record\""),
        "{}",
        preview.text
    );
    assert_eq!(
        site.server.log_len().await,
        before,
        "a preview records nothing"
    );
    let confirm = async |preview: &str, content: &str| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("period", &hidden(preview, "period"));
        s.append_pair("file_name", &hidden(preview, "file_name"));
        s.append_pair("content", content);
        s.append_pair("plan", &hidden(preview, "plan"));
        post(
            &site,
            Role::Admin,
            "/periods/2027Q1/business/import/confirm",
            "application/x-www-form-urlencoded",
            s.finish().as_bytes(),
        )
        .await
    };
    let done = confirm(&preview.text, &hidden(&preview.text, "content")).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("data-recorded=\"1\""), "{}", done.text);
    assert_eq!(site.server.log_len().await, before + 1);

    // A replacement from a GBK CSV, with its reason in 原因.
    let replace = format!("单位,得分,否决,依据,原因\n{unit},90,否,责任书复核,年度审计后调整\n");
    let gbk = encoding_rs::GBK.encode(&replace).0.into_owned();
    let (ct, body) = multipart("2027Q1", "replace.csv", &gbk);
    let preview = post(&site, Role::Admin, path, &ct, &body).await;
    assert!(
        preview
            .text
            .contains("data-row=\"2\" data-action=\"replace\""),
        "{}",
        preview.text
    );
    let altered = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        encoding_rs::GBK.encode(&replace.replace(",90,", ",91,")).0,
    );
    assert_eq!(confirm(&preview.text, &altered).await.status, 409);
    assert_eq!(site.server.log_len().await, before + 1);
    let done = confirm(&preview.text, &hidden(&preview.text, "content")).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(site.server.log_len().await, before + 2);

    let events = site
        .api(Role::Auditor, &format!("/api/v1/events?after={before}"))
        .await;
    let recorded = events["events"].as_array().unwrap();
    assert_eq!(recorded.len(), 2, "{events}");
    let payload = |e: &serde_json::Value| -> serde_json::Value {
        if e["payload"].is_string() {
            serde_json::from_str(e["payload"].as_str().unwrap()).unwrap()
        } else {
            e["payload"].clone()
        }
    };
    for e in recorded {
        assert_eq!(e["event_type"], "BusinessResultRecorded");
        assert_eq!(e["schema_version"], 2);
        assert_eq!(e["actor"]["person"], admin["person"]);
    }
    let sha = ledger::audit::bundle::sha256_hex;
    assert_eq!(payload(&recorded[0])["file_sha256"], sha(&xlsx).as_str());

    // The API's own contract: a bad file recorded outright is 422 with every row error; a
    // recording that names another plan than the file makes now is 409; neither records.
    let api = "/api/v1/periods/2027Q1/business-result-imports";
    let b64 = |text: &str| {
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text.as_bytes())
    };
    let admin_token = site.token(Role::Admin);
    let refused = site
        .server
        .post(
            api,
            admin_token,
            serde_json::json!({"file_name": "bad.csv", "content": b64(&bad)}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("import_refused"), "{}", refused.text);
    assert!(refused.text.contains("content.row[3]"), "{}", refused.text);
    // Exactly what is on record now: a plan of one unchanged row, not the plan named.
    let good = format!("unit,score,source\n{unit},90,责任书复核\n");
    let stale = site
        .server
        .post(
            api,
            admin_token,
            serde_json::json!({"file_name": "good.csv", "content": b64(&good), "expected_plan": "0".repeat(64)}),
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert_eq!(site.server.log_len().await, before + 2);
    assert_eq!(payload(&recorded[0])["score"], "88.5");
    assert_eq!(payload(&recorded[1])["file_sha256"], sha(&gbk).as_str());
    assert_eq!(recorded[1]["reason"], "年度审计后调整");
}

/// Every role's printout names the checkpoint an auditor's does: a unit secretary's printed
/// standings and sheet, read at the same point as an auditor's, carry the same fingerprint, that
/// of the first signed checkpoint covering the point (from the auditors' own list), and no page
/// says the fingerprint is for auditors only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_prints_the_same_checkpoint_fingerprint() {
    let site = DemoSite::start().await;
    let at = site.head - 40;
    let checkpoints = site.api(Role::Auditor, "/api/v1/audit/checkpoints").await;
    let covering = checkpoints["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["tree_size"].as_u64().unwrap() >= at)
        .min_by_key(|c| c["tree_size"].as_u64().unwrap())
        .expect("the demo signs checkpoints");
    let root = covering["root"].as_str().unwrap();
    let expected = format!(
        "检查点指纹: {} (已签名, 覆盖记录 1–{})",
        &root[..16],
        covering["tree_size"]
    );
    let own = site.api(Role::Unit, "/api/v1/me").await;
    let own_unit = own["units"][0].as_str().unwrap().to_owned();
    for path in [
        format!("/standings?period=2026Q4&at={at}"),
        format!("/periods/2026Q4/units/{own_unit}?at={at}"),
    ] {
        for role in [Role::Auditor, Role::Unit] {
            let page = get(&site, role, &path).await;
            assert_eq!(page.status, 200, "{role} {path}");
            assert_eq!(
                span_text(&page.text, "fingerprint"),
                expected,
                "{role} {path}"
            );
            assert!(!page.text.contains("仅审计人员"), "{role} {path}");
        }
    }
    // The API every role reads for it, in the OpenAPI document's shape.
    let reply = site
        .api(
            Role::Unit,
            &format!("/api/v1/checkpoints/covering?position={at}"),
        )
        .await;
    assert_eq!(reply["covering"]["root"], root);
    assert!(reply["at_or_before"]["tree_size"].as_u64().unwrap() <= at);
}
