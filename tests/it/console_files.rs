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
