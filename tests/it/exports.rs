//! Exports as the office meets them (issue 16): formula-like text recorded as reasons, notes and
//! names never leaves the ledger as a formula, whichever CSV path exports it.

use serde_json::json;

use crate::cli_support::{ledger, ok, stdout};
use crate::http_lifecycle::{advance, open_period};
use crate::http_support::{Server, cast};

const PERIOD: &str = "/api/v1/periods/2026Q1";

/// Every cell a spreadsheet would read as a formula: one that starts (after spaces) with a formula
/// sign and is not a plain number.
fn executable_cells(text: &str) -> Vec<String> {
    let signs = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut bad = Vec::new();
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            let start = cell.trim_start_matches([' ', '\u{3000}', '\u{feff}']);
            let number = start.parse::<f64>().is_ok() && !start.contains(['e', 'E']);
            if start.starts_with(signs) && !number {
                bad.push(cell.to_owned());
            }
        }
    }
    bad
}

/// The table of payloads (OWASP's `=`, `+`, `-`, `@`, tab, CR, and the full-width signs) recorded as
/// a unit's name, people's names, score notes, correction reasons and rectification findings, then
/// exported through every CSV path (`ledger changes|history|standings|annual --csv`, the console's
/// `/changes.csv`) and every xlsx path (`ledger changes|history|standings --xlsx`, the console's
/// standings, sheet, item history, change log and closed loop downloads): every payload that the
/// text rules let in is in the files; in a CSV never as a cell that starts with a formula sign, in
/// a workbook always as a string cell, exactly as typed, and no cell is a formula.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formula_payloads_leave_no_csv_executable() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    open_period(&server, &cast).await;
    for to in ["self_assessment", "scoring"] {
        advance(&server, &cast.admin, to).await;
    }

    let mut recorded = Vec::new();
    let mut previous = "2".to_owned();
    let score = server
        .post(
            &format!("{PERIOD}/units/SH-01/items/A1/score"),
            &cast.assessor,
            json!({"value": {"kind": "points", "points": "2"}, "note": ledger::csv_out::FORMULA_PAYLOADS[0]}),
        )
        .await;
    assert_eq!(score.status, 200, "{}", score.text);
    for (n, payload) in ledger::csv_out::FORMULA_PAYLOADS.iter().enumerate() {
        // As a person's name: that person then corrects a score with the payload as the reason.
        let person = format!("fx-{n}");
        let named = server
            .post(
                "/api/v1/people",
                &cast.admin,
                json!({"person": person, "name": payload, "unit": "SH-01"}),
            )
            .await;
        let actor = if named.status == 201 {
            server
                .token(&person, ledger_schemas::Role::Assessor, &["SH-01", "SH-02"])
                .await
        } else {
            assert_eq!(named.status, 422, "{}", named.text);
            cast.assessor.clone()
        };
        let value = if previous == "2" { "1.5" } else { "2" };
        let corrected = server
            .post(
                &format!("{PERIOD}/units/SH-01/items/A1/correction"),
                &actor,
                json!({
                    "previous": {"kind": "points", "points": previous},
                    "value": {"kind": "points", "points": value},
                    "reason": payload
                }),
            )
            .await;
        if corrected.status == 200 {
            previous = value.to_owned();
            recorded.push(*payload);
        } else {
            assert_eq!(corrected.status, 422, "{payload:?}: {}", corrected.text);
        }
        if n == 0 {
            let renamed = server
                .put(
                    "/api/v1/units/SH-02",
                    &cast.admin,
                    json!({"name": payload, "reason": payload}),
                )
                .await;
            assert_eq!(renamed.status, 200, "{}", renamed.text);
        }
    }
    // The printable signs all pass the text rules; only control characters may be refused.
    assert!(recorded.len() >= 9, "{recorded:?}");
    // As rectification findings (the closed loop's export), raised on a deduction.
    let deducted = server
        .post(
            &format!("{PERIOD}/units/SH-02/items/A1/score"),
            &cast.assessor,
            json!({"value": {"kind": "points", "points": "1.5"}}),
        )
        .await;
    assert_eq!(deducted.status, 200, "{}", deducted.text);
    let mut findings = Vec::new();
    for (n, payload) in ledger::csv_out::FORMULA_PAYLOADS.iter().enumerate() {
        let raised = server
            .post(
                "/api/v1/rectifications",
                &cast.reviewer,
                json!({
                    "rectification": format!("ZG-{n}"),
                    "period": "2026Q1",
                    "unit": "SH-02",
                    "item": "A1",
                    "due_on": "2026-12-31",
                    "finding": payload,
                    "origin": "deduction"
                }),
            )
            .await;
        if raised.status == 201 {
            findings.push(*payload);
        } else {
            assert_eq!(raised.status, 422, "{payload:?}: {}", raised.text);
        }
    }
    assert!(findings.len() >= 9, "{findings:?}");

    let path = server.path().to_owned();
    let mut files = Vec::new();
    for args in [
        vec!["changes", "--limit", "0", "--csv"],
        vec![
            "changes", "--limit", "0", "--csv", "--no-bom", "--lang", "en",
        ],
        vec!["history", "--period", "2026Q1", "--unit", "SH-01", "--csv"],
        vec!["standings", "--period", "2026Q1", "--csv"],
        vec!["annual", "--periods", "2026Q1", "--csv"],
    ] {
        files.push((args.join(" "), stdout(ok(&ledger(&path, &args)))));
    }
    let cookie = format!("ledger_token={}", cast.auditor);
    let console = server
        .raw(
            hyper::Method::GET,
            "/changes.csv",
            &[("cookie", &cookie)],
            b"",
        )
        .await;
    assert_eq!(console.status, 200, "{}", console.text);
    files.push(("/changes.csv".into(), console.text));

    for (name, text) in &files {
        assert_eq!(executable_cells(text), Vec::<String>::new(), "{name}");
    }
    for payload in &recorded {
        let quoted = format!("'{payload}");
        for (name, text) in files
            .iter()
            .filter(|(n, _)| !n.starts_with("standings") && !n.starts_with("annual"))
        {
            let found = csv::Reader::from_reader(text.as_bytes())
                .records()
                .any(|r| r.unwrap().iter().any(|c| c == quoted));
            assert!(found, "{payload:?} not in {name}");
        }
    }
    // The standings and the year's result carry the unit's name.
    for (name, text) in &files[3..5] {
        assert!(
            text.contains(
                &format!("'{}", ledger::csv_out::FORMULA_PAYLOADS[0]).replace('"', "\"\"")
            ),
            "{name}: {text}"
        );
    }

    // Every xlsx path, CLI and console: no formula anywhere, every payload a string cell as typed.
    let dir = tempfile::tempdir().unwrap();
    let mut books = Vec::new();
    for (args, sheet) in [
        (vec!["changes", "--limit", "0"], "变更记录"),
        (
            vec!["history", "--period", "2026Q1", "--unit", "SH-01"],
            "变更历史",
        ),
        (vec!["standings", "--period", "2026Q1"], "排名"),
    ] {
        let file = dir.path().join(format!("{}.xlsx", args[0]));
        let mut all = args.clone();
        all.extend(["--xlsx", file.to_str().unwrap()]);
        ok(&ledger(&path, &all));
        books.push((args.join(" "), XlsxSheet::read(&file, sheet)));
    }
    for (uri, sheet) in [
        ("/changes.xlsx", "变更记录"),
        ("/standings.xlsx?period=2026Q1", "排名"),
        ("/periods/2026Q1/units/SH-01/sheet.xlsx", "评分表"),
        (
            "/periods/2026Q1/units/SH-01/items/A1/history.xlsx",
            "变更历史",
        ),
        ("/rectifications.xlsx", "整改闭环"),
    ] {
        let reply = server
            .raw(hyper::Method::GET, uri, &[("cookie", &cookie)], b"")
            .await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text);
        books.push((
            uri.to_owned(),
            XlsxSheet::of_bytes(dir.path(), &reply.bytes, sheet),
        ));
    }
    let strings = |book: &XlsxSheet| -> Vec<String> {
        book.rows
            .iter()
            .flatten()
            .filter_map(|c| match c {
                calamine::Data::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    };
    for (name, book) in &books {
        assert_eq!(book.formulas, 0, "{name}: a formula cell");
        let cells = strings(book);
        let expected: &[&str] = match name.as_str() {
            n if n.starts_with("standings") || n.starts_with("/standings") => {
                &ledger::csv_out::FORMULA_PAYLOADS[..1]
            }
            "/rectifications.xlsx" => &findings,
            n if n.contains("sheet.xlsx") => &[],
            _ => &recorded,
        };
        for payload in expected {
            assert!(
                cells.iter().any(|c| c == payload),
                "{payload:?} not in {name}"
            );
        }
    }
    server.stop().await;
}

/// One worksheet of an exported workbook, read back as a spreadsheet program would (calamine): the
/// title block (column A down to the first empty row), the header row, the data rows, how many
/// cells are formulas, and the package itself for the cells' number formats.
pub struct XlsxSheet {
    pub title: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<calamine::Data>>,
    pub formulas: usize,
    /// The row index (0-based) of the header.
    pub head: usize,
    file: std::path::PathBuf,
}

impl XlsxSheet {
    /// A downloaded workbook, kept in `dir` so its package can be opened again.
    pub fn of_bytes(dir: &std::path::Path, bytes: &[u8], name: &str) -> XlsxSheet {
        let file = dir.join(format!("{}.xlsx", dir.read_dir().unwrap().count()));
        std::fs::write(&file, bytes).unwrap();
        XlsxSheet::read(&file, name)
    }

    pub fn read(file: &std::path::Path, name: &str) -> XlsxSheet {
        use calamine::{DataType as _, Reader, Xlsx};

        let mut book: Xlsx<_> = calamine::open_workbook(file).unwrap();
        assert_eq!(book.sheet_names(), vec![name.to_owned()]);
        let range = book.worksheet_range(name).unwrap();
        let formulas = book
            .worksheet_formula(name)
            .map(|f| f.used_cells().filter(|(_, _, f)| !f.is_empty()).count())
            .unwrap_or(0);
        let all: Vec<Vec<calamine::Data>> = range.rows().map(<[_]>::to_vec).collect();
        let head = all
            .iter()
            .position(|r| r.iter().all(|c| c.is_empty()))
            .expect("an empty row after the title block")
            + 1;
        let text = |c: &calamine::Data| c.to_string();
        XlsxSheet {
            title: all[..head - 1].iter().map(|r| text(&r[0])).collect(),
            header: all[head].iter().map(text).collect(),
            rows: all[head + 1..].to_vec(),
            formulas,
            head,
            file: file.to_owned(),
        }
    }

    /// The title block's line that starts with `prefix`.
    pub fn line(&self, prefix: &str) -> &str {
        self.title
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in {:?}", self.title))
    }

    /// The index of the column headed `name`.
    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name:?} in {:?}", self.header))
    }

    /// The number format of data row `row`, column `col` (0-based): its `formatCode`, or
    /// `General`. Read from the package (the sheet's cell style → `cellXfs` → `numFmt`).
    pub fn number_format(&self, row: usize, col: usize) -> String {
        use std::io::Read;

        let mut zip = zip::ZipArchive::new(std::fs::File::open(&self.file).unwrap()).unwrap();
        let mut part = |name: &str| {
            let mut text = String::new();
            zip.by_name(name)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        };
        let sheet = part("xl/worksheets/sheet1.xml");
        let styles = part("xl/styles.xml");
        let attr = |tag: &str, name: &str| -> Option<String> {
            let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[start..start + tag[start..].find('"')?].to_owned())
        };
        let letters = {
            let (mut n, mut s) = (col + 1, String::new());
            while n > 0 {
                s.insert(0, (b'A' + ((n - 1) % 26) as u8) as char);
                n = (n - 1) / 26;
            }
            s
        };
        let reference = format!("<c r=\"{letters}{}\"", self.head + row + 2);
        let cell = &sheet[sheet.find(&reference).expect("the cell")..];
        let cell = &cell[..cell.find('>').unwrap()];
        let Some(style) = attr(cell, "s") else {
            return "General".into();
        };
        let xfs = &styles[styles.find("<cellXfs").unwrap()..];
        let xf = xfs
            .split("<xf ")
            .nth(style.parse::<usize>().unwrap() + 1)
            .unwrap();
        let id = attr(&format!(" {xf}"), "numFmtId").unwrap();
        let format = styles
            .split("<numFmt ")
            .skip(1)
            .find(|f| attr(&format!(" {f}"), "numFmtId").as_deref() == Some(id.as_str()))
            .and_then(|f| attr(&format!(" {f}"), "formatCode"));
        format.unwrap_or_else(|| match id.as_str() {
            "0" => "General".into(),
            "1" => "0".into(),
            "2" => "0.00".into(),
            other => format!("builtin {other}"),
        })
    }
}

/// A date cell as its local date and time, `2026-12-06 08:00:03` (Excel's serial date, read back).
pub fn date_cell(cell: &calamine::Data) -> String {
    let calamine::Data::DateTime(t) = cell else {
        panic!("not a date cell: {cell:?}");
    };
    let (y, mo, d, h, mi, s, _) = t.to_ymd_hms_milli();
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// The console's Excel downloads, read back: the standings (with the page's point read, the signed
/// checkpoint at or before it, the same for an auditor and a unit secretary), the change log with the
/// page's filters (times as date cells equal to the CSV's Beijing times), a unit's sheet (points as
/// numbers with two decimals), an item's history and the closed loop (due dates as date cells); in
/// English when English is chosen; every page links its download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_downloads_read_back_as_the_pages_show() {
    use calamine::Data;
    use ledger_schemas::Role;

    let site = crate::browser_support::DemoSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let get = async |role: Role, path: &str, en: bool| {
        let mut cookie = format!("ledger_token={}", site.token(role));
        if en {
            cookie.push_str("; ledger_lang=en");
        }
        let reply = site
            .server
            .raw(hyper::Method::GET, path, &[("cookie", &cookie)], b"")
            .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        reply
    };
    let checkpoints = site
        .server
        .get("/api/v1/audit/checkpoints", site.token(Role::Auditor))
        .await
        .json;

    // Standings at a past position, as the slider reads them.
    let at = site.head - 40;
    let reply = get(
        Role::Auditor,
        &format!("/standings.xlsx?period=2026Q4&at={at}"),
        false,
    )
    .await;
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let standings = XlsxSheet::of_bytes(dir.path(), &reply.bytes, "排名");
    let api = site
        .server
        .get(
            &format!("/api/v1/periods/2026Q4/standings?at_position={at}"),
            site.token(Role::Auditor),
        )
        .await
        .json;
    assert!(
        standings
            .line("截至记录序号")
            .starts_with(&format!("截至记录序号 {at} · ")),
        "{:?}",
        standings.title
    );
    let signed = checkpoints["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|c| c["tree_size"].as_u64().unwrap() <= at)
        .expect("the demo signs every 1000 events");
    assert_eq!(
        standings.line("已签名检查点"),
        format!(
            "已签名检查点: 大小 {} · 根哈希 {} (其后 {} 个事件尚未签名)",
            signed["tree_size"],
            signed["root"].as_str().unwrap(),
            at - signed["tree_size"].as_u64().unwrap()
        )
    );
    let units = api["units"].as_array().unwrap();
    assert_eq!(standings.rows.len(), units.len());
    let party = standings.column("党建得分");
    for (row, u) in standings.rows.iter().zip(units) {
        let want: f64 = u["score"]["party_score"].as_str().unwrap().parse().unwrap();
        assert_eq!(row[party], Data::Float(want));
    }
    assert_eq!(standings.number_format(0, party), "0.00");
    assert_eq!(standings.number_format(0, 1), "0");
    assert_eq!(standings.formulas, 0);
    // A unit secretary's workbook of the same point names the same signed checkpoint.
    let unit = XlsxSheet::of_bytes(
        dir.path(),
        &get(
            Role::Unit,
            &format!("/standings.xlsx?period=2026Q4&at={at}"),
            false,
        )
        .await
        .bytes,
        "排名",
    );
    assert_eq!(
        unit.line("已签名检查点"),
        standings.line("已签名检查点"),
        "{:?}",
        unit.title
    );
    let en = XlsxSheet::of_bytes(
        dir.path(),
        &get(Role::Auditor, "/standings.xlsx?period=2026Q4", true)
            .await
            .bytes,
        "Standings",
    );
    assert_eq!(en.header[..4], ["period", "rank", "unit", "unit_name"]);
    assert!(
        en.line("As of position").ends_with("(Beijing time)"),
        "{:?}",
        en.title
    );

    // The change log with the page's filter: the same rows as its CSV, times as date cells.
    let csv = get(Role::Auditor, "/changes.csv?person=reviewer-chen", false).await;
    let csv_rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.text.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    let changes = XlsxSheet::of_bytes(
        dir.path(),
        &get(Role::Auditor, "/changes.xlsx?person=reviewer-chen", false)
            .await
            .bytes,
        "变更记录",
    );
    assert_eq!(changes.rows.len(), csv_rows.len());
    assert_eq!(
        changes.header,
        ledger::csv_out::CHANGE_COLUMNS.map(|c| c.1).to_vec()
    );
    for (row, line) in changes.rows.iter().zip(&csv_rows) {
        assert_eq!(row[0], Data::Float(line[0].parse().unwrap()));
        assert_eq!(date_cell(&row[1]), &line[1]);
        assert_eq!(row[2], Data::String(line[2].to_owned()));
    }

    // The console's CSV speaks one language too.
    assert_one_language(
        "/changes.csv",
        &get(Role::Auditor, "/changes.csv", false).await.text,
        true,
    );
    assert_one_language(
        "/changes.csv en",
        &get(Role::Auditor, "/changes.csv", true).await.text,
        false,
    );

    // A sheet: points as numbers with two decimals.
    let sheet = XlsxSheet::of_bytes(
        dir.path(),
        &get(
            Role::Auditor,
            "/periods/2026Q3/units/SH-NY-B2/sheet.xlsx",
            false,
        )
        .await
        .bytes,
        "评分表",
    );
    assert_eq!(sheet.rows.len(), 33);
    let points = sheet.column("分数");
    let a1 = sheet
        .rows
        .iter()
        .position(|r| r[1] == Data::String("A1".into()))
        .unwrap();
    assert!(
        matches!(sheet.rows[a1][points], Data::Float(_)),
        "{:?}",
        sheet.rows[a1]
    );
    assert_eq!(sheet.number_format(a1, points), "0.00");

    // An item's history and the closed loop.
    let history = XlsxSheet::of_bytes(
        dir.path(),
        &get(
            Role::Auditor,
            "/periods/2026Q3/units/SH-NY-B2/items/F5/history.xlsx",
            false,
        )
        .await
        .bytes,
        "变更历史",
    );
    assert!(history.rows.len() >= 3, "{:?}", history.rows);
    // The item's own changes and the whole-sheet reviews that cover it, all on this unit.
    assert!(
        history
            .rows
            .iter()
            .all(|r| r[7] == Data::String("SH-NY-B2".into()))
            && history
                .rows
                .iter()
                .any(|r| r[9] == Data::String("F5".into())),
        "{:?}",
        history.rows
    );
    let rectifications = site
        .server
        .get("/api/v1/rectifications", site.token(Role::Auditor))
        .await
        .json;
    let closed_loop = XlsxSheet::of_bytes(
        dir.path(),
        &get(Role::Auditor, "/rectifications.xlsx", false)
            .await
            .bytes,
        "整改闭环",
    );
    let list = rectifications["rectifications"].as_array().unwrap();
    assert_eq!(closed_loop.rows.len(), list.len());
    let due = closed_loop.column("期限");
    for (row, r) in closed_loop.rows.iter().zip(list) {
        assert_eq!(
            date_cell(&row[due]),
            format!("{} 00:00:00", r["due_on"].as_str().unwrap())
        );
    }

    // A unit secretary, who may not list people, reads the responsible persons of their sheet by
    // name too (the names directory every role reads), beside their ids.
    let secretary_sheet = XlsxSheet::of_bytes(
        dir.path(),
        &get(
            Role::Unit,
            "/periods/2026Q3/units/SH-CZ-B1/sheet.xlsx",
            false,
        )
        .await
        .bytes,
        "评分表",
    );
    let cells: Vec<String> = secretary_sheet
        .rows
        .iter()
        .flatten()
        .map(|c| c.to_string())
        .collect();
    for name in ["杨帆 (党支部书记)", "罗静 (组织委员)"] {
        assert!(
            cells.iter().any(|c| c == name),
            "{name} not named in a secretary's sheet: {cells:?}"
        );
    }

    // Every page links its download.
    for (page, link) in [
        ("/standings?period=2026Q4", "/standings.xlsx?period=2026Q4"),
        (
            "/changes?person=reviewer-chen",
            "/changes.xlsx?person=reviewer-chen",
        ),
        (
            "/periods/2026Q3/units/SH-NY-B2",
            "/periods/2026Q3/units/SH-NY-B2/sheet.xlsx",
        ),
        (
            "/periods/2026Q3/units/SH-NY-B2/items/F5",
            "/periods/2026Q3/units/SH-NY-B2/items/F5/history.xlsx",
        ),
        ("/rectifications", "/rectifications.xlsx"),
    ] {
        let html = get(Role::Auditor, page, false).await.text;
        assert!(
            html.contains(&format!("href=\"{link}")),
            "{page} links {link}"
        );
    }
    site.server.stop().await;
}

/// Columns a zh file may fill with ASCII: ids, codes, names and what people typed (reasons,
/// notes, evidence), which are recorded as they were written.
const ZH_FREE_COLUMNS: [&str; 13] = [
    "单位",
    "操作人",
    "操作人姓名",
    "单位名称",
    "考核周期",
    "子项目",
    "大方面",
    "原因",
    "说明",
    "佐证材料",
    "等次代码",
    "评分细则",
    "否决所在周期",
];

/// Ids of the demo ledger that have neither a digit nor a hyphen (every other id or code has one):
/// the group unit `SH`, the rubric `default`, the responsible person `secretary`.
const DEMO_PLAIN_IDS: [&str; 3] = ["SH", "default", "secretary"];

/// Columns an en file words in English: the glossary's codes and words, never Chinese.
const EN_WORD_COLUMNS: [&str; 8] = [
    "event_type",
    "role",
    "source",
    "ranked_on",
    "capped_by_veto",
    "complete",
    "partial",
    "grade_label",
];

/// Asserts that a CSV export is for Excel in one language: the BOM; in zh, every header Chinese
/// and no English word in any other cell outside [`ZH_FREE_COLUMNS`] (an ASCII word is allowed only
/// as an id: with a digit or a hyphen, or one of [`DEMO_PLAIN_IDS`]); in en, no Chinese in
/// [`EN_WORD_COLUMNS`]; times on the business clock to the second.
pub fn assert_one_language(name: &str, text: &str, zh: bool) {
    let body = text
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("{name}: no BOM"));
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let chinese = |s: &str| s.chars().any(|c| ('\u{3000}'..='\u{9fff}').contains(&c));
    let english_word = |s: &str| -> Option<String> {
        s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .find(|t| {
                t.chars().filter(char::is_ascii_alphabetic).count() >= 2
                    && !t.contains(|c: char| c.is_ascii_digit() || c == '-')
                    && !DEMO_PLAIN_IDS.contains(t)
            })
            .map(str::to_owned)
    };
    if zh {
        for h in &header {
            assert!(
                chinese(h) && english_word(h).is_none(),
                "{name}: header {h:?}"
            );
        }
    } else {
        assert!(!header.iter().any(|h| chinese(h)), "{name}: {header:?}");
    }
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        for (h, cell) in header.iter().zip(record.iter()) {
            if zh && !ZH_FREE_COLUMNS.contains(&h.as_str()) {
                assert_eq!(english_word(cell), None, "{name}: {h} = {cell:?}");
            }
            if !zh && EN_WORD_COLUMNS.contains(&h.as_str()) {
                assert!(!chinese(cell), "{name}: {h} = {cell:?}");
            }
            if h.contains("时间") || h.ends_with("_at") {
                assert!(
                    chrono::NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M:%S").is_ok(),
                    "{name}: {h} = {cell:?} is not a business-clock time to the second"
                );
            }
        }
    }
    assert!(rows > 0, "{name}: no rows");
}

/// Every CLI CSV export (`standings`, `annual`, `history`, `changes`) speaks one language: Chinese
/// headers and words by default (the event types, roles, sources, outcomes, summaries and values
/// of the glossary, no `2.5 分 2.5 points`), English words only with `--lang en`; all with the BOM
/// and business-clock times.
#[test]
fn every_cli_csv_speaks_one_language() {
    let demo = crate::cli_support::shared_demo();
    for args in [
        &["standings", "--period", "2026Q3", "--csv"][..],
        &["annual", "--periods", "2026Q4,2026Q3", "--csv"],
        &[
            "history", "--period", "2026Q3", "--unit", "SH-NY-B2", "--csv",
        ],
        &["changes", "--limit", "0", "--csv"],
    ] {
        let zh = stdout(ok(&ledger(&demo.path, args)));
        assert_one_language(&args.join(" "), &zh, true);
        if args[0] == "changes" {
            // A value in words of one language: `2.5 分`, never `2.5 分 2.5 points`.
            assert!(zh.contains(",2.5 分,"), "{zh}");
        }
        let mut english = args.to_vec();
        english.extend(["--lang", "en"]);
        let en = stdout(ok(&ledger(&demo.path, &english)));
        assert_one_language(&english.join(" "), &en, false);
    }
}
