//! Evidence files over the API (issue 18): upload, cite, read back; the limits and checks, each
//! refusal recording and storing nothing; who may fetch a file and how it is served.

use hyper::Method;
use ledger::evidence::sniff::samples;
use ledger::http::ServeOptions;
use ledger::http::evidence::EvidenceLimits;
use serde_json::{Value, json};

use crate::http_support::{Cast, Reply, Server, base_values, cast, scoring_period};

/// A multipart body of file parts `(file name, bytes)`; its content type.
pub fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "evidence-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `POST /api/v1/evidence` with these files.
pub async fn upload(server: &Server, token: &str, files: &[(&str, &[u8])]) -> Reply {
    let (content_type, body) = multipart(files);
    let bearer = format!("Bearer {token}");
    server
        .raw(
            Method::POST,
            "/api/v1/evidence",
            &[("authorization", &bearer), ("content-type", &content_type)],
            &body,
        )
        .await
}

/// How many files the evidence folder beside the ledger holds.
fn stored(server: &Server) -> usize {
    let mut root = server.path().as_os_str().to_owned();
    root.push(".evidence/sha256");
    let Ok(dirs) = std::fs::read_dir(std::path::PathBuf::from(root)) else {
        return 0;
    };
    dirs.flatten()
        .map(|d| std::fs::read_dir(d.path()).map_or(0, |f| f.count()))
        .sum()
}

/// A scoring period and an open rectification RC-1 on SH-01's item A1, which SH-01's secretary
/// submits.
async fn with_rectification(server: &Server) -> Cast {
    let cast = cast(server).await;
    scoring_period(server, &cast).await;
    // A deduction on A1, which the rectification follows up.
    let reply = server
        .post(
            "/api/v1/periods/2026Q1/units/SH-01/items/A1/score",
            &cast.assessor,
            json!({"value": {"kind": "points", "points": "1.5"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let due = (chrono::Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    let reply = server
        .post(
            "/api/v1/rectifications",
            &cast.reviewer,
            json!({"rectification": "RC-1", "period": "2026Q1", "unit": "SH-01", "item": "A1",
                   "due_on": due, "finding": "签到表缺失", "origin": "deduction"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    cast
}

fn sha(reply: &Reply, i: usize) -> String {
    reply.json["files"][i]["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Upload → cite → read back: the digests are the SHA-256 of the bytes, the same bytes uploaded
/// twice are stored once, a file is served to nobody until a record cites it, then byte for byte
/// to the unit's secretary and the reviewer (inline for images and PDF, as an attachment for text,
/// with the name in RFC 6266 form, `nosniff` and a sandbox), never to another unit's secretary;
/// the record's view names the files, their sizes and types from the bytes, and the uploader.
#[tokio::test]
async fn files_are_uploaded_cited_and_read_back_byte_for_byte() {
    let server = Server::start().await;
    let cast = with_rectification(&server).await;
    let pdf = samples::pdf();
    let text = "整改说明: 已补签到表\n".as_bytes();
    let up = upload(
        &server,
        &cast.unit,
        &[
            ("C:\\扫描\\签到表.png", samples::PNG),
            ("会议纪要.pdf", &pdf),
            ("说明.txt", text),
        ],
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let digests = [samples::PNG, &pdf[..], text].map(|b| ledger::evidence::digest(b).to_hex());
    for (i, (digest, (media, name))) in digests
        .iter()
        .zip([
            ("image/png", "签到表.png"),
            ("application/pdf", "会议纪要.pdf"),
            ("text/plain", "说明.txt"),
        ])
        .enumerate()
    {
        assert_eq!(sha(&up, i), *digest);
        assert_eq!(up.json["files"][i]["media_type"], media);
        assert_eq!(up.json["files"][i]["name"], name, "the path is dropped");
        assert_eq!(up.json["files"][i]["created"], true);
    }
    assert_eq!(stored(&server), 3);
    let again = upload(&server, &cast.assessor, &[("copy.png", samples::PNG)]).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(sha(&again, 0), digests[0]);
    assert_eq!(again.json["files"][0]["created"], false);
    assert_eq!(stored(&server), 3, "the same bytes are stored once");

    // Not cited yet: nobody gets it, not even the uploader.
    let uncited = server
        .get(&format!("/api/v1/evidence/{}", digests[0]), &cast.unit)
        .await;
    assert_eq!(uncited.status, 404, "{}", uncited.text);

    let files: Vec<Value> = digests
        .iter()
        .zip(["签到表.png", "会议纪要.pdf", "说明.txt"])
        .map(|(d, n)| json!({"sha256": d, "name": n}))
        .collect();
    let reply = server
        .post(
            "/api/v1/rectifications/RC-1/submission",
            &cast.unit,
            json!({"note": "已补齐签到表", "files": files}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let view = server.get("/api/v1/rectifications/RC-1", &cast.admin).await;
    let cited = &view.json["files"];
    assert_eq!(cited.as_array().map(Vec::len), Some(3), "{}", view.text);
    assert_eq!(cited[1]["media_type"], "application/pdf");
    assert_eq!(cited[1]["size"], pdf.len());
    assert_eq!(cited[0]["uploaded_by"], "sec-01");
    assert_eq!(cited[0]["url"], format!("/api/v1/evidence/{}", digests[0]));

    for (i, bytes) in [samples::PNG, &pdf[..], text].into_iter().enumerate() {
        let got = server
            .get(&format!("/api/v1/evidence/{}", digests[i]), &cast.unit)
            .await;
        assert_eq!(got.status, 200, "{}", got.text);
        assert_eq!(&got.bytes[..], bytes, "byte for byte");
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
        assert!(
            got.header("content-security-policy")
                .is_some_and(|c| c.starts_with("sandbox")),
            "{:?}",
            got.headers
        );
    }
    let png = server
        .get(&format!("/api/v1/evidence/{}", digests[0]), &cast.reviewer)
        .await;
    assert_eq!(png.status, 200, "the reviewer reads every unit's files");
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(
        png.header("content-disposition"),
        Some("inline; filename=\"___.png\"; filename*=UTF-8''%E7%AD%BE%E5%88%B0%E8%A1%A8.png")
    );
    let txt = server
        .get(&format!("/api/v1/evidence/{}", digests[2]), &cast.unit)
        .await;
    assert_eq!(
        txt.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        txt.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;")),
        "text is downloaded, never rendered"
    );
    let other = server
        .get(
            &format!("/api/v1/evidence/{}", digests[0]),
            &cast.other_unit,
        )
        .await;
    assert_eq!(other.status, 403, "{}", other.text);
    other.assert_problem();
    // A responsible person reads the files of the rectifications they answer for, and no others.
    let answering = server
        .token("org-committee", ledger_schemas::Role::Responsible, &[])
        .await;
    let theirs = server
        .get(&format!("/api/v1/evidence/{}", digests[0]), &answering)
        .await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    let not_theirs = server
        .get(
            &format!("/api/v1/evidence/{}", digests[0]),
            &cast.responsible,
        )
        .await;
    assert_eq!(not_theirs.status, 403, "{}", not_theirs.text);

    // A score citing a file: the item's history names it and its uploader by name.
    let (code, value) = base_values()
        .into_iter()
        .find(|(code, _)| code != "A1")
        .expect("another item");
    let item = format!("/api/v1/periods/2026Q1/units/SH-01/items/{code}");
    let reply = server
        .post(
            &format!("{item}/score"),
            &cast.assessor,
            json!({"value": value, "files": [{"sha256": digests[1], "name": "会议纪要.pdf"}]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let history = server.get(&format!("{item}/history"), &cast.unit).await;
    let changes = history.json["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let scored = changes
        .iter()
        .find(|c| !c["files"].as_array().is_none_or(Vec::is_empty))
        .expect("the score's change cites the file");
    assert_eq!(scored["files"][0]["uploaded_by"], "assessor-1");
    assert_eq!(scored["files"][0]["sha256"], digests[1]);
    assert!(
        scored["files"][0]["uploaded_by_name"].is_string(),
        "{scored}"
    );
    let item = server.get(&item, &cast.unit).await;
    assert_eq!(item.json["score"]["files"][0]["name"], "会议纪要.pdf");
    server.stop().await;
}

/// A scan of several MiB is uploaded over a real connection: the edge, which reads every body
/// before any route, gives a multipart body room for the evidence limit (it once stopped every
/// upload above the 1 MiB a JSON body may have); past the limit the upload names the file, and a
/// body past the limit and the room for the form's other fields is refused at the edge.
#[tokio::test]
async fn a_scan_of_several_mib_is_stored_and_the_limits_still_hold() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    let mut scan = samples::pdf();
    scan.resize(3 << 20, b' ');
    let up = upload(&server, &cast.unit, &[("扫描件.pdf", &scan)]).await;
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(sha(&up, 0), ledger::evidence::digest(&scan).to_hex());
    assert_eq!(up.json["files"][0]["size"], 3 << 20);
    assert_eq!(stored(&server), 1);

    let small = Server::start_with_options(ServeOptions {
        evidence: EvidenceLimits {
            max_file: 2 << 20,
            max_request: 2 << 20,
        },
        ..ServeOptions::default()
    })
    .await;
    let cast = crate::http_support::cast(&small).await;
    scan.truncate(5 << 19);
    let over = upload(&small, &cast.unit, &[("扫描件.pdf", &scan)]).await;
    assert_eq!(over.status, 413, "{}", over.text);
    assert_eq!(over.json["code"], "evidence-too-large", "{}", over.text);
    scan.resize(4 << 20, b' ');
    let far_over = upload(&small, &cast.unit, &[("扫描件.pdf", &scan)]).await;
    assert_eq!(far_over.status, 413, "{}", far_over.text);
    assert_eq!(
        far_over.json["code"], "payload-too-large",
        "{}",
        far_over.text
    );
    assert_eq!(stored(&small), 0);
}

/// Every refusal is a problem naming the file and the limit or type, and leaves the log and the
/// store as they were: too large (per file and per request), a type not accepted, a type disguised
/// by its name, an empty file, a broken or absent multipart body; and at citing: an unknown digest,
/// too many files, a name claiming another type than the stored bytes.
#[tokio::test]
async fn refusals_record_and_store_nothing() {
    let limits = EvidenceLimits {
        max_file: 1024,
        max_request: 1500,
    };
    let server = Server::start_with_options(ServeOptions {
        evidence: limits,
        ..ServeOptions::default()
    })
    .await;
    let cast = with_rectification(&server).await;
    let before = server.log_len().await;
    let big = "纪".repeat(400); // 1,200 bytes of text
    let half = "a".repeat(900);
    // What is sent, and the status, problem code and a word the detail must name.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a [u8])>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "too large",
            vec![("大文件.txt", big.as_bytes())],
            413,
            "evidence-too-large",
            "大文件.txt",
        ),
        (
            "too large together",
            vec![("a.txt", half.as_bytes()), ("b.txt", half.as_bytes())],
            413,
            "evidence-too-large",
            "b.txt",
        ),
        (
            "wrong type",
            vec![("tool.bin", b"MZ\x90\x00\x03\x00\x00\x00")],
            415,
            "evidence-type-not-allowed",
            "tool.bin",
        ),
        (
            "wrong extension",
            vec![("签到表.exe", samples::PNG)],
            415,
            "evidence-type-not-allowed",
            ".exe",
        ),
        (
            "disguised",
            vec![("纪要.pdf", samples::PNG)],
            415,
            "evidence-type-mismatch",
            "纪要.pdf",
        ),
        (
            "empty",
            vec![("空.pdf", b"")],
            422,
            "evidence-empty",
            "空.pdf",
        ),
        (
            "one good, one bad",
            vec![("ok.png", samples::PNG), ("bad.pdf", samples::PNG)],
            415,
            "evidence-type-mismatch",
            "bad.pdf",
        ),
    ];
    for (what, files, status, code, named) in cases {
        let reply = upload(&server, &cast.unit, &files).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text);
        assert_eq!(reply.assert_problem(), code, "{what}");
        assert!(
            reply.json["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(named),
            "{what}: {}",
            reply.text
        );
    }
    let bearer = format!("Bearer {}", cast.unit);
    for (what, content_type, body) in [
        ("no closing boundary", "multipart/form-data; boundary=XyZ", &b"--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nabc"[..]),
        ("no boundary", "multipart/form-data", &b"abc"[..]),
    ] {
        let reply = server
            .raw(Method::POST, "/api/v1/evidence", &[("authorization", &bearer), ("content-type", content_type)], body)
            .await;
        assert_eq!(reply.status, 400, "{what}: {}", reply.text);
        assert_eq!(reply.assert_problem(), "broken-multipart", "{what}");
    }
    let json_body = server.post("/api/v1/evidence", &cast.unit, json!({})).await;
    assert_eq!(json_body.status, 415, "{}", json_body.text);
    let none = upload(&server, &cast.unit, &[]).await;
    assert_eq!(none.status, 422, "{}", none.text);
    assert_eq!(stored(&server), 0, "a refused upload stores nothing");

    // Citing.
    let up = upload(&server, &cast.unit, &[("签到表.png", samples::PNG)]).await;
    assert_eq!(up.status, 201, "{}", up.text);
    let png = sha(&up, 0);
    let unknown = ledger::evidence::digest(b"never uploaded").to_hex();
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"sha256": png, "name": "a.png"}))
        .collect();
    for (what, files, status, code) in [
        (
            "unknown digest",
            json!([{"sha256": unknown, "name": "x.pdf"}]),
            422,
            "evidence-not-found",
        ),
        ("too many files", Value::Array(many), 422, "too-many-files"),
        (
            "name claims another type",
            json!([{"sha256": png, "name": "纪要.pdf"}]),
            415,
            "evidence-type-mismatch",
        ),
        (
            "not a digest",
            json!([{"sha256": "abc", "name": "x.pdf"}]),
            422,
            "",
        ),
    ] {
        let reply = server
            .post(
                "/api/v1/rectifications/RC-1/submission",
                &cast.unit,
                json!({"note": "已补齐", "files": files}),
            )
            .await;
        assert_eq!(reply.status, status, "{what}: {}", reply.text);
        let got = reply.assert_problem();
        if !code.is_empty() {
            assert_eq!(got, code, "{what}");
        }
    }
    assert_eq!(
        server.log_len().await,
        before,
        "no refusal recorded anything"
    );
    server.stop().await;
}

/// The OpenAPI document describes both endpoints: the multipart upload and the file's bytes.
#[tokio::test]
async fn the_document_describes_upload_and_download() {
    let server = Server::start().await;
    let doc = server
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let upload = &doc.json["paths"]["/api/v1/evidence"]["post"];
    assert_eq!(upload["operationId"], "uploadEvidence");
    assert!(
        upload["requestBody"]["content"]["multipart/form-data"].is_object(),
        "{upload}"
    );
    let download = &doc.json["paths"]["/api/v1/evidence/{sha256}"]["get"];
    assert_eq!(download["operationId"], "getEvidence");
    assert!(
        download["responses"]["200"]["content"]["application/pdf"].is_object(),
        "{download}"
    );
    server.stop().await;
}

/// A console form as a browser posts it: multipart, with the cookies of a person reading `lang`.
async fn console_post(
    server: &Server,
    lang: &str,
    token: &str,
    path: &str,
    text: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Reply {
    let boundary = "console-form-boundary-Qx81";
    let mut body = Vec::new();
    for (name, value) in text {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let cookie = format!("ledger_lang={lang}; ledger_token={token}");
    let content_type = format!("multipart/form-data; boundary={boundary}");
    server
        .raw(
            Method::POST,
            path,
            &[
                ("cookie", &cookie),
                ("content-type", &content_type),
                ("origin", &server.url("")),
            ],
            &body,
        )
        .await
}

/// The console's forms upload through the API: a refused file is shown at the file field, naming
/// the file, and nothing is recorded or stored; a file uploaded with a form refused for another
/// field is kept (its digest in the form), so the next post cites it without uploading again.
#[tokio::test]
async fn console_forms_upload_and_show_refusals_at_the_field() {
    let server = Server::start().await;
    let cast = with_rectification(&server).await;
    let before = server.log_len().await;
    let path = "/rectifications/RC-1/submission";
    let disguised = console_post(
        &server,
        "zh",
        &cast.unit,
        path,
        &[("note", "已补齐")],
        &[("纪要.pdf", samples::PNG)],
    )
    .await;
    assert_eq!(disguised.status, 415, "{}", disguised.text);
    let at_field = disguised
        .text
        .split("data-field=\"files\"")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default();
    assert!(
        at_field.contains("纪要.pdf") && at_field.contains("image/png"),
        "{}",
        disguised.text
    );
    assert!(
        !at_field.contains("the name of"),
        "one language on the page: {at_field}"
    );
    let english = console_post(
        &server,
        "en",
        &cast.unit,
        path,
        &[("note", "done")],
        &[("纪要.pdf", samples::PNG)],
    )
    .await;
    let at_field = english
        .text
        .split("data-field=\"files\"")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default();
    assert!(
        at_field.contains("the name of file 1 says application/pdf"),
        "{at_field}"
    );
    assert!(
        !at_field.contains("文件"),
        "one language on the page: {at_field}"
    );
    assert_eq!((server.log_len().await, stored(&server)), (before, 0));

    // A correction without its reason: refused, but the uploaded file is kept for the next post.
    let correction = "/periods/2026Q1/units/SH-01/items/A1/correction";
    let previous = json!({"kind": "points", "points": "1.5"}).to_string();
    let no_reason = [
        ("previous", previous.as_str()),
        ("points", "2"),
        ("reason", ""),
    ];
    let refused = console_post(
        &server,
        "zh",
        &cast.assessor,
        correction,
        &no_reason,
        &[("签到表.png", samples::PNG)],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!((server.log_len().await, stored(&server)), (before, 1));
    let digest = ledger::evidence::digest(samples::PNG).to_hex();
    assert!(
        refused.text.contains("name=\"kept_files\"") && refused.text.contains(&digest),
        "{}",
        refused.text
    );
    let kept = json!([{"sha256": digest, "name": "签到表.png"}]).to_string();
    let done = console_post(
        &server,
        "zh",
        &cast.assessor,
        correction,
        &[
            ("previous", &previous),
            ("points", "2"),
            ("reason", "复核后更正"),
            ("kept_files", &kept),
        ],
        &[],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.text);
    let item = server
        .get("/api/v1/periods/2026Q1/units/SH-01/items/A1", &cast.unit)
        .await;
    assert_eq!(
        item.json["score"]["files"][0]["sha256"], digest,
        "{}",
        item.text
    );
    assert_eq!(item.json["score"]["files"][0]["uploaded_by"], "assessor-1");
    // The console serves the cited file to the signed-in secretary, with the API's headers.
    let cookie = format!("ledger_token={}", cast.unit);
    let file = server
        .raw(
            Method::GET,
            &format!("/evidence/{digest}"),
            &[("cookie", &cookie)],
            b"",
        )
        .await;
    assert_eq!(file.status, 200, "{}", file.text);
    assert_eq!(&file.bytes[..], samples::PNG);
    assert!(
        file.header("content-security-policy")
            .is_some_and(|c| c.starts_with("sandbox"))
    );
    server.stop().await;
}
