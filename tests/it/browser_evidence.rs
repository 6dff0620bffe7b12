//! Evidence files in a real browser (issue 18): a unit secretary submits a rectification with two
//! files chosen in the form's file field (a PNG sign-in sheet and a PDF of minutes); a reviewer
//! opens the rectification and both files: the picture renders, the PDF answers as a PDF with the
//! same bytes. Screenshots at 1440 and 390 px.

use ledger::evidence::sniff::samples;
use ledger_schemas::Role;
use serde_json::Value;

use crate::browser_support::{Browser, DemoSite};
use crate::console_work::raise;

/// The secretary uploads two files with the submission; the reviewer sees them, with the
/// uploader's name, and opens them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secretary_submits_files_and_a_reviewer_opens_them() {
    let site = DemoSite::start().await;
    let me = site.api(Role::Unit, "/api/v1/me").await;
    let unit = me["units"][0]
        .as_str()
        .expect("the secretary's unit")
        .to_owned();
    let secretary = me["name"].as_str().unwrap_or_default().to_owned();
    raise(&site, "RECT-FILES", &unit, "F5").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let png = dir.path().join("签到表.png");
    let pdf = dir.path().join("支部会议纪要.pdf");
    std::fs::write(&png, samples::PNG).unwrap();
    std::fs::write(&pdf, samples::pdf()).unwrap();

    let mut b = Browser::open(&site, "evidence_submit").await;
    b.client.set_window_size(1440, 1000).await.expect("resize");
    b.sign_in(site.token(Role::Unit)).await;
    b.goto("/rectifications/RECT-FILES").await;
    b.fill("#submit-note", "已补齐签到表和会议纪要").await;
    let field = b.wait("#submit-files").await;
    // ChromeDriver takes several files for a `multiple` input as lines of one value.
    field
        .send_keys(&format!("{}\n{}", png.display(), pdf.display()))
        .await
        .expect("choose files");
    assert_eq!(
        b.count("#submit-form ul.dropped li").await,
        2,
        "the chosen files are listed"
    );
    b.shot("chosen").await;
    b.click("#submit-form button[type=submit]").await;
    b.wait_path("done=submission").await;
    b.wait("#rect-files li.file").await;
    b.close().await;

    let view = site
        .api(Role::Reviewer, "/api/v1/rectifications/RECT-FILES")
        .await;
    let files = view["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 2, "{view}");
    assert_eq!(files[0]["name"], "签到表.png");
    assert_eq!(files[1]["media_type"], "application/pdf");

    let mut b = Browser::open(&site, "evidence_review").await;
    b.client.set_window_size(1440, 1000).await.expect("resize");
    b.sign_in(site.token(Role::Reviewer)).await;
    b.goto("/rectifications/RECT-FILES").await;
    b.wait("#rect-files img.thumb").await;
    // The uploader by name, never by a bare id.
    let meta = b.text("#rect-files li.file .file-meta").await;
    assert!(
        !secretary.is_empty() && meta.contains(&secretary),
        "{meta:?} names {secretary:?}"
    );
    // The picture renders: the browser decoded the served bytes.
    let mut width = 0;
    for _ in 0..50 {
        width = b
            .client
            .execute(
                "const i = document.querySelector('#rect-files img.thumb'); return i.complete ? i.naturalWidth : 0;",
                vec![],
            )
            .await
            .expect("naturalWidth")
            .as_u64()
            .unwrap_or(0);
        if width > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(width, 1, "the 1×1 PNG renders");
    // The PDF's link answers a PDF, the very bytes uploaded, inline.
    let answer = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const a = document.querySelector(\"#rect-files li[data-media-type='application/pdf'] a.file-name\");
             fetch(a.href).then(r => r.arrayBuffer().then(body => done([
                 r.status, r.headers.get('content-type'), r.headers.get('content-disposition'),
                 a.target, Array.from(new Uint8Array(body))])));",
            vec![],
        )
        .await
        .expect("fetch the PDF");
    assert_eq!(answer[0], 200, "{answer:?}");
    assert_eq!(answer[1], "application/pdf");
    assert!(
        answer[2].as_str().is_some_and(|d| d.starts_with("inline;")),
        "{:?}",
        answer[2]
    );
    assert_eq!(answer[3], "_blank", "a PDF opens in its own tab");
    let bytes: Vec<u8> = answer[4]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .map(|b| b as u8)
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(bytes, samples::pdf(), "the same bytes");
    b.shot("review-1440").await;
    b.client.set_window_size(390, 844).await.expect("resize");
    b.goto("/rectifications/RECT-FILES").await;
    b.wait("#rect-files img.thumb").await;
    let (page, window) = b.widths().await;
    assert!(
        page <= window,
        "the page is {page} px wide in a {window} px window"
    );
    b.shot("review-390").await;
    b.close().await;
}
