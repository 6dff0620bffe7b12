//! Figures as the office reads them: right-aligned, with the rubric's two decimals (8.50, 17.75,
//! 19.00), in tables that sort by a click or the keyboard.

use hyper::Method;
use ledger_schemas::Role;

use crate::browser_support::DemoSite;

async fn page(site: &DemoSite, role: Role, path: &str) -> String {
    let cookie = format!("ledger_token={}", site.token(role));
    let reply = site
        .server
        .raw(Method::GET, path, &[("cookie", &cookie)], b"")
        .await;
    assert_eq!(reply.status, 200, "{path}");
    reply.text
}

/// The text of every element whose opening tag contains `marker`, up to its closing `</td>` or
/// `</dd>` (tags inside taken out).
fn cells(html: &str, marker: &str) -> Vec<String> {
    html.split(marker)
        .skip(1)
        .map(|rest| {
            let rest = &rest[rest.find('>').map_or(0, |i| i + 1)..];
            let end = ["</td>", "</dd>"]
                .iter()
                .filter_map(|close| rest.find(close))
                .min()
                .unwrap_or(rest.len());
            let mut text = String::new();
            let mut inside = false;
            for c in rest[..end].chars() {
                match c {
                    '<' => inside = true,
                    '>' => inside = false,
                    c if !inside => text.push(c),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

/// A figure with exactly two decimals: `-`? digits `.` two digits.
fn two_places(figure: &str) -> bool {
    let figure = figure.trim().strip_prefix('-').unwrap_or(figure.trim());
    figure.split_once('.').is_some_and(|(w, f)| {
        !w.is_empty()
            && w.bytes().all(|b| b.is_ascii_digit())
            && f.len() == 2
            && f.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The standings of the published period: every figure column (the aspects, base, bonus,
/// deduction, party, business, combined) is right-aligned and shows two decimals, whatever the API
/// wrote (`8.5`, `19`); the table sorts (keyboard included, in `console.js`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_are_right_aligned_with_the_rubrics_decimals() {
    let site = DemoSite::start().await;
    let html = page(&site, Role::Auditor, "/standings?period=2026Q3").await;
    assert!(
        html.contains("table class=\"standings sortable\""),
        "sortable"
    );
    let api = site
        .api(Role::Auditor, "/api/v1/periods/2026Q3/standings")
        .await;
    let aspects = api["units"][0]["score"]["aspects"]
        .as_array()
        .unwrap()
        .len();
    // Columns: rank, 已评 n/m, the aspects, base, bonus, deduction, party, business, combined.
    let mut seen = 0;
    let mut uneven_in_api = 0;
    for col in 2..2 + aspects + 6 {
        let marker = format!("class=\"num\" data-col=\"{col}\"");
        for figure in cells(&html, &marker) {
            let figure = figure.split('→').next().unwrap().trim().to_owned();
            if figure == "—" {
                continue;
            }
            assert!(two_places(&figure), "column {col}: {figure:?}");
            seen += 1;
        }
    }
    for unit in api["units"].as_array().unwrap() {
        for a in unit["score"]["aspects"].as_array().unwrap() {
            if !two_places(a["points"].as_str().unwrap()) {
                uneven_in_api += 1;
            }
        }
    }
    assert!(seen >= 8 * (aspects + 4), "{seen} figures checked");
    assert!(
        uneven_in_api > 0,
        "the API writes some figures short (8.5, 19): the page pads them"
    );
    // Every heading of a figure column is right-aligned like its figures.
    let heads = html
        .split("<thead>")
        .nth(1)
        .unwrap()
        .split("</thead>")
        .next()
        .unwrap();
    assert_eq!(
        heads.matches("<th class=\"num\"").count(),
        aspects + 2 + 6,
        "{heads}"
    );

    // The foot of the table: the mean of each figure over the complete sheets.
    let foot = html
        .split("<tfoot>")
        .nth(1)
        .unwrap()
        .split("</tfoot>")
        .next()
        .unwrap();
    let means = cells(foot, "<td class=\"num\"");
    assert_eq!(means.len(), aspects + 6, "{foot}");
    let combined: Vec<&str> = api["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["score"]["complete"] == true)
        .map(|u| u["score"]["combined"].as_str().unwrap())
        .collect();
    assert!(!combined.is_empty());
    assert_eq!(
        means.last().unwrap(),
        &ledger::console::format::mean(&combined).unwrap(),
        "the combined scores' mean"
    );
    for m in &means {
        assert!(m == "—" || two_places(m), "{m:?}");
    }

    // A sheet's totals and an item's points likewise.
    let unit = api["units"][0]["unit"].as_str().unwrap();
    let sheet = page(
        &site,
        Role::Auditor,
        &format!("/periods/2026Q3/units/{unit}"),
    )
    .await;
    let totals = cells(&sheet, "<dd class=\"num\"");
    assert_eq!(totals.len(), 6, "{totals:?}");
    for total in totals {
        for figure in total.split(" / ") {
            assert!(figure == "—" || two_places(figure), "{total:?}");
        }
    }
    assert!(
        sheet.contains(" 分<") || sheet.contains(" 分 "),
        "points in words"
    );
    for value in cells(&sheet, "<td class=\"value\"") {
        if let Some(points) = value.strip_suffix(" 分") {
            assert!(two_places(points), "{value:?}");
        }
    }
}
