//! Printing the console (issue 16): the standings print on one A4 landscape page without the
//! navigation or any control, under a title block and signature lines; the 公示 notice of a
//! published period. Printed through WebDriver's Print Page command, as a PDF.

use fantoccini::wd::{PrintConfiguration, PrintOrientation};
use ledger_schemas::Role;

use crate::browser_support::{Browser, DemoSite};

/// How many pages a PDF from Chromium has: its `/Type /Page` objects (not `/Type /Pages`).
fn pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

/// The link targets a PDF from Chromium carries (its `/URI` annotations, one per visible link).
fn uris(pdf: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pdf);
    text.split("/URI (")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(str::to_owned)
        .collect()
}

/// The links of the navigation and the page's controls, which paper must not carry.
fn chrome_links(uris: &[String]) -> Vec<&String> {
    uris.iter()
        .filter(|u| {
            [
                "/todo",
                "/work",
                "/mine",
                "/rubrics",
                "/charts",
                "/lang/",
                "/sign-out",
                "/changes",
            ]
            .iter()
            .any(|p| u.contains(p))
        })
        .collect()
}

async fn print(b: &Browser, orientation: PrintOrientation) -> Vec<u8> {
    let config = PrintConfiguration::builder()
        .orientation(orientation)
        .build()
        .expect("print configuration");
    b.client.print(config).await.expect("print")
}

/// The standings of the published period, with as many lines as twenty units (the demo's eight,
/// repeated in the page), print on exactly one A4 landscape page: its unit links are on it, the
/// navigation's and the controls' are not, and the print rules hide every control and the
/// navigation but not the table; the title block (hidden on screen) names the period,
/// the rubric version, the point read and when it was printed, and the signature lines name 考核办
/// and 审核人. The sheet prints without navigation too. The 公示 notice of the published period
/// reads as an office notice with the standings and the window for appeals (in English when
/// chosen); an unpublished period has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standings_print_on_one_landscape_page_without_navigation() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "print").await;
    b.sign_in(site.token(Role::Admin)).await;
    b.goto("/standings?period=2026Q3").await;
    b.wait("#standings").await;
    let head = b.wait("#print-head").await;
    assert!(!head.is_displayed().await.unwrap(), "paper only");
    let text_of = async |css: &str| -> String {
        b.client
            .execute(
                "return document.querySelector(arguments[0]).textContent;",
                vec![css.into()],
            )
            .await
            .expect("text")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let facts = text_of("#print-head").await;
    for expected in [
        "2026Q3",
        "打印时间",
        "北京时间",
        "评分细则",
        "截至",
        "检查点指纹",
    ] {
        assert!(facts.contains(expected), "{expected:?} in {facts}");
    }
    let signatures = text_of("#signatures").await;
    assert!(
        signatures.contains("考核办") && signatures.contains("审核人"),
        "{signatures}"
    );
    // Under the print rules, every control and the navigation are hidden, the table is not.
    let shown = b
        .client
        .execute(
            "const hide = [...document.styleSheets].flatMap(s => [...s.cssRules])
               .filter(r => r.media && [...r.media].includes('print'))
               .flatMap(r => [...r.cssRules])
               .filter(r => r.style && r.style.display === 'none')
               .map(r => r.selectorText);
             const hidden = el => hide.some(sel => el.closest(sel));
             const controls = [...document.querySelectorAll(
               'header.top, nav, form, button, input, select, textarea, #time-control')];
             return { controls: controls.length,
                      shown: controls.filter(el => !hidden(el)).map(el => el.outerHTML.slice(0, 80)),
                      table: hidden(document.querySelector('#standings')) };",
            vec![],
        )
        .await
        .expect("print rules");
    assert!(shown["controls"].as_u64().unwrap() > 5, "{shown}");
    assert_eq!(shown["shown"], serde_json::json!([]), "{shown}");
    assert_eq!(shown["table"], false, "{shown}");
    b.client.set_window_size(1440, 1000).await.expect("size");
    b.shot("standings-1440").await;
    b.client.set_window_size(390, 844).await.expect("size");
    b.shot("standings-390").await;
    b.client.set_window_size(1360, 1000).await.expect("size");

    // Twenty lines, as a period of twenty units would have.
    b.client
        .execute(
            "const body = document.querySelector('#standings tbody');
             const rows = [...body.rows];
             for (let i = 0; body.rows.length < 20; i++) body.appendChild(rows[i % rows.length].cloneNode(true));
             return body.rows.length;",
            vec![],
        )
        .await
        .expect("twenty lines");
    assert_eq!(b.count("#standings tbody tr").await, 20);
    let pdf = print(&b, PrintOrientation::Landscape).await;
    std::fs::write(
        crate::browser_support::screenshot_dir().join("print-standings.pdf"),
        &pdf,
    )
    .unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    assert_eq!(pages(&pdf), 1, "the standings of 20 units on one page");
    let links = uris(&pdf);
    assert!(
        links.iter().any(|u| u.contains("/periods/2026Q3/units/")),
        "the units' links are printed: {links:?}"
    );
    assert_eq!(chrome_links(&links), Vec::<&String>::new(), "no navigation");

    // A sheet: no navigation either, signature lines at its end.
    b.click("#standings tbody tr:first-child a").await;
    b.wait("#totals").await;
    b.wait("#signatures").await;
    let pdf = print(&b, PrintOrientation::Portrait).await;
    let links = uris(&pdf);
    assert!(
        links.iter().any(|u| u.contains("/items/")),
        "the items' links are printed: {links:?}"
    );
    assert_eq!(chrome_links(&links), Vec::<&String>::new(), "no navigation");

    // The 公示 notice.
    b.goto("/standings?period=2026Q3").await;
    b.click("#notice-link").await;
    b.wait("#notice").await;
    assert_eq!(
        b.text("main h1").await,
        "关于2026年第三季度党建考核结果的公示"
    );
    let window = b.text("#notice-window").await;
    assert!(
        window.contains("公示期为") && window.contains("申诉"),
        "{window}"
    );
    let api = site
        .api(Role::Admin, "/api/v1/periods/2026Q3/standings")
        .await;
    assert_eq!(
        b.count("#notice tbody tr").await,
        api["units"].as_array().unwrap().len()
    );
    b.client.set_window_size(1440, 1000).await.expect("size");
    b.shot("notice-1440").await;
    b.client.set_window_size(390, 844).await.expect("size");
    b.shot("notice-390").await;
    let pdf = print(&b, PrintOrientation::Portrait).await;
    assert_eq!(pages(&pdf), 1, "the notice on one page");

    // In English when chosen.
    b.click("#lang").await;
    b.wait("html[lang=en]").await;
    assert!(
        b.text("main h1")
            .await
            .starts_with("Notice of the party-building assessment results"),
        "{}",
        b.text("main h1").await
    );
    assert!(b.text("#notice-window").await.contains("appeal"));
    b.goto("/periods/2026Q4/notice").await;
    b.wait("#problem[data-status='404']").await;
    b.close().await;
}

/// The page's width against the window's: a page that scrolls sideways is wider than its window.
async fn widths(b: &Browser) -> (u64, u64) {
    let w = b
        .client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("widths");
    (w[0].as_u64().unwrap(), w[1].as_u64().unwrap())
}

/// The business-results import in Chromium, as an admin: the page linked from the business
/// results, a CSV chosen in the file field and previewed row by row (a new result and a
/// replacement with its reason), and a bad file previewed with its errors; at 1440 and at 390 px
/// (no page wider than the phone), with screenshots of each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_business_import_previews_in_the_browser_at_desk_and_phone_widths() {
    let site = DemoSite::start().await;
    let mut b = Browser::open(&site, "business-import").await;
    b.sign_in(site.token(Role::Admin)).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("经营业绩.csv");
    std::fs::write(
        &good,
        encoding_rs::GBK
            .encode(
                "单位,得分,否决,依据,原因\n\
                 SH-NY-B2,88.5,否,2026年经营目标责任书 第三条,年度审计后调整\n\
                 SH-WL-B1,91,否,2026年经营目标责任书 第三条,年度审计后调整\n",
            )
            .0,
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "unit,score,vetoed,source\nSH-NY-B2,101,maybe,\nSH-NOPE,80,否,责任书\n",
    )
    .unwrap();
    for (width, height) in [(1440, 900), (390, 844)] {
        b.client
            .set_window_size(width, height)
            .await
            .expect("resize");
        b.goto("/periods/2026Q4/business").await;
        b.click("#business-import-link").await;
        b.wait("#import-form").await;
        b.shot(&format!("form-{width}")).await;
        assert!(widths(&b).await.0 <= width as u64);

        for (file, what) in [(&good, "preview"), (&bad, "errors")] {
            b.goto("/periods/2026Q4/business/import").await;
            let input = b.wait("#file").await;
            input
                .send_keys(file.to_str().unwrap())
                .await
                .expect("choose the file");
            b.click("#import-form button[type=submit]").await;
            if what == "preview" {
                b.wait("#preview").await;
                assert_eq!(b.count("#preview tbody tr").await, 2);
                assert!(b.text("#import-counts").await.contains("将新录入"));
                b.wait("#confirm-form").await;
            } else {
                b.wait("#import-errors").await;
                assert_eq!(b.count("#import-errors li").await, 4);
            }
            b.shot(&format!("{what}-{width}")).await;
            let (page, window) = widths(&b).await;
            assert!(page <= window, "{what} at {width}: {page} > {window}");
        }
    }
    b.close().await;
}
