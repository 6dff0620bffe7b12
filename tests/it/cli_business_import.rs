//! `ledger import business`: a period's business results (经营业绩) from CSV or .xlsx, all rows or
//! none, recorded as the importing person with the file's SHA-256; and the period's template.

use std::path::Path;

use ledger::store::SqliteStore;
use ledger_schemas::{Envelope, Role};

use crate::cli_import::{
    IMPORTER, assert_row_errors, csv_as_workbook, filled_in, recorded_after, scoring_ledger,
};
use crate::cli_support::{events, fails_with_one_line, ledger, ok, stderr, stdout};
use crate::store_support::TempLedger;

/// Two units' results: SH-A by its code, SH-B by its registered name (乙党支部); a score with 分, a
/// veto, a source with a comma.
const GOOD: &str = "\
单位,得分,否决,依据
SH-A,86.5,否,2026年经营目标责任书 第三条
乙党支部,72分,是,\"责任书第五条, 安全事故一票否决\"
";

fn import_as(path: &Path, file: &Path, person: &str) -> std::process::Output {
    ledger(
        path,
        &[
            "import",
            "business",
            "--period",
            "2026Q1",
            "--as",
            person,
            file.to_str().unwrap(),
        ],
    )
}

fn write(temp: &TempLedger, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = temp.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The stored events after `before`, as recorded (actor, reason, payload with the file's hash).
fn stored_after(path: &Path, before: u64) -> Vec<Envelope> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use ledger::store::{Direction, EventStore, ReadFrom};
        let store = SqliteStore::open_existing(path).unwrap();
        let all = store
            .read_all(Direction::Forwards, ReadFrom::At(before + 1), 1000)
            .await
            .unwrap();
        store.close().await;
        all
    })
}

fn payload(e: &Envelope) -> serde_json::Value {
    serde_json::from_str(&e.payload).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    ledger::audit::bundle::sha256_hex(bytes)
}

/// The same business results saved as UTF-8, UTF-8 with a BOM, GBK, GB18030, typed with full-width
/// codes and digits, and as an .xlsx workbook (scores as number cells) record the same events: one
/// `BusinessResultRecorded` v2 a unit, as the importing assessor, each carrying the SHA-256 of the
/// bytes imported.
#[test]
fn business_results_in_every_encoding_record_the_same_events() {
    let full_width = GOOD
        .replace("SH-A,86.5", "ＳＨ－Ａ,８６．５")
        .replace(",72分,", ",７２分,");
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("utf-8", GOOD.as_bytes().to_vec()),
        (
            "utf-8 with BOM",
            [b"\xEF\xBB\xBF".as_slice(), GOOD.as_bytes()].concat(),
        ),
        ("gbk", encoding_rs::GBK.encode(GOOD).0.into_owned()),
        ("gb18030", encoding_rs::GB18030.encode(GOOD).0.into_owned()),
        ("full-width", full_width.into_bytes()),
        ("xlsx", csv_as_workbook(GOOD, "经营业绩", |_, _| None)),
    ];
    let mut first = None;
    for (name, bytes) in variants {
        let temp = scoring_ledger();
        let before = events(&temp.path);
        let file = write(
            &temp,
            if name == "xlsx" { "b.xlsx" } else { "b.csv" },
            &bytes,
        );
        let out = import_as(&temp.path, &file, IMPORTER);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(stdout(&out).contains("2 new results"), "{}", stdout(&out));
        let stored = stored_after(&temp.path, before);
        assert_eq!(stored.len(), 2, "{name}");
        for e in &stored {
            assert_eq!(
                (e.event_type.as_str(), e.schema_version),
                ("BusinessResultRecorded", 2)
            );
            assert_eq!(e.actor.person.as_str(), IMPORTER, "{name}");
            assert_eq!(e.actor.role, Role::Assessor);
            assert_eq!(payload(e)["file_sha256"], sha(&bytes), "{name}");
        }
        let recorded = recorded_after(&temp.path, before);
        match &first {
            None => first = Some(recorded),
            Some(expected) => assert_eq!(&recorded, expected, "{name}"),
        }
    }
    let first = first.unwrap();
    assert_eq!(
        first[1].1,
        serde_json::json!({"period": "2026Q1", "unit": "SH-B", "score": "72", "vetoed": true,
            "source": "责任书第五条, 安全事故一票否决"})
    );
    assert_eq!(first[0].1["score"], "86.5");
}

/// A file with an unknown unit, a score over 100, a veto that is not yes/no, a repeated unit, a
/// unit outside the period, an unreadable score with an empty source and a row with an extra cell
/// reports each bad row at its row and column, and records nothing, not even its good row; an
/// unknown extra column is refused in one line.
#[test]
fn a_bad_business_file_reports_every_bad_row_and_records_nothing() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let file = write(
        &temp,
        "bad.csv",
        "\
unit,score,vetoed,source
SH-A,80,否,责任书
SH-X,80,否,责任书
SH-B,101,否,责任书
SH-B,80,maybe,责任书
SH-A,70,否,责任书
SH-C,80,否,责任书
SH-B,abc,否,
SH-B,80,否,责任书,多余
"
        .as_bytes(),
    );
    let out = import_as(&temp.path, &file, IMPORTER);
    let reason = fails_with_one_line(&out);
    assert!(reason.contains("nothing was recorded"), "{reason}");
    assert!(reason.contains("7 bad rows"), "{reason}");
    let err = stderr(&out);
    assert_row_errors(
        &err,
        &[
            ("第 3 行 A 列 unit", "SH-X"),
            ("第 4 行 B 列 score", "not between 0 and 100"),
            ("第 5 行 C 列 vetoed", "maybe"),
            ("第 6 行 A 列 unit", "duplicates row 2"),
            ("第 7 行 A 列 unit", "not assessed in period 2026Q1"),
            ("第 8 行 B 列 score", "abc"),
            ("第 8 行 D 列 source", "source is empty"),
            ("第 9 行 (row 9)", "has 5 columns, the header has 4"),
        ],
    );
    assert!(!err.lines().any(|l| l.starts_with("第 2 行")), "{err}");

    let extra = write(
        &temp,
        "extra.csv",
        "unit,score,vetoed,source,备用\nSH-A,80,否,责任书,x\n".as_bytes(),
    );
    let reason = fails_with_one_line(&import_as(&temp.path, &extra, IMPORTER));
    assert!(reason.contains("unknown columns E “备用”"), "{reason}");
    assert_eq!(events(&temp.path), before);
}

/// Workbooks: a formula, merged cells and a cell right of the header are named at their row and
/// column; a workbook without a sheet named 经营业绩 is refused in one line; nothing is recorded.
#[test]
fn bad_business_workbooks_are_refused_cell_by_cell() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let sheet = "unit,score,vetoed,source\nSH-A,80,否,责任书\nSH-B,70,否,责任书\n";
    let bad = csv_as_workbook(sheet, "经营业绩", |ws, at| match at {
        (1, 1) => ws.write_formula(1, 1, "=40*2").map(|_| ()).ok(),
        (1, 3) => {
            ws.merge_range(1, 3, 2, 3, "责任书", &rust_xlsxwriter::Format::new())
                .unwrap();
            ws.write_string(1, 5, "多余").map(|_| ()).ok()
        }
        (2, 3) => Some(()),
        _ => None,
    });
    let file = write(&temp, "bad.xlsx", &bad);
    let out = import_as(&temp.path, &file, IMPORTER);
    fails_with_one_line(&out);
    let err = stderr(&out);
    assert_row_errors(
        &err,
        &[
            ("第 2 行 B 列 score", "formula =40*2"),
            ("第 2 行 D 列 source", "merged cells D2:D3"),
            ("第 2 行 F 列", "header has no column"),
        ],
    );
    let wrong_sheet = write(
        &temp,
        "sheet1.xlsx",
        &csv_as_workbook(sheet, "Sheet1", |_, _| None),
    );
    let reason = fails_with_one_line(&import_as(&temp.path, &wrong_sheet, IMPORTER));
    assert!(
        reason.contains("经营业绩") && reason.contains("Sheet1"),
        "{reason}"
    );
    assert_eq!(events(&temp.path), before);
}

/// An import is recorded as `--as`, never `system`: without it the parser refuses; a person the
/// ledger does not know, or one holding no role that records business results, is refused naming
/// them. Replacing a recorded result needs a reason, which the file gives in its 原因 column: a
/// changed row without one is refused at that column, with one it is recorded with that reason
/// and the new file's hash; an unchanged row is left alone; a dry run records nothing.
#[test]
fn a_business_import_names_the_importer_and_a_replacement_needs_a_reason() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let file = write(&temp, "good.csv", GOOD.as_bytes());
    let unnamed = ledger(
        &temp.path,
        &[
            "import",
            "business",
            "--period",
            "2026Q1",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(unnamed.status.code(), Some(2), "{}", stderr(&unnamed));
    assert!(stderr(&unnamed).contains("--as"), "{}", stderr(&unnamed));
    for (person, says) in [("nobody", "no person nobody"), ("auditor-li", "auditor")] {
        let reason = fails_with_one_line(&import_as(&temp.path, &file, person));
        assert!(reason.contains(person) && reason.contains(says), "{reason}");
    }
    assert_eq!(events(&temp.path), before);

    ok(&import_as(&temp.path, &file, IMPORTER));
    assert_eq!(events(&temp.path), before + 2);

    let changed = "单位,得分,否决,依据,原因\n\
SH-A,90,否,责任书复核,\n\
SH-B,72,是,\"责任书第五条, 安全事故一票否决\",\n";
    let no_reason = write(&temp, "changed.csv", changed.as_bytes());
    let out = import_as(&temp.path, &no_reason, IMPORTER);
    fails_with_one_line(&out);
    assert!(
        stderr(&out)
            .lines()
            .any(|l| l.starts_with("第 2 行 E 列 原因") && l.contains("needs a reason")),
        "{}",
        stderr(&out)
    );
    assert_eq!(events(&temp.path), before + 2);

    let with_reason = changed.replace("责任书复核,\n", "责任书复核,年度审计后调整\n");
    let replaced = write(&temp, "replaced.csv", with_reason.as_bytes());
    let dry = ledger(
        &temp.path,
        &[
            "import",
            "business",
            "--period",
            "2026Q1",
            "--as",
            IMPORTER,
            "--dry-run",
            replaced.to_str().unwrap(),
        ],
    );
    assert!(stdout(ok(&dry)).contains("1 replaced"), "{}", stdout(&dry));
    assert_eq!(events(&temp.path), before + 2);
    let out = import_as(&temp.path, &replaced, IMPORTER);
    assert!(
        stdout(ok(&out)).contains("0 new results, 1 replaced, 1 unchanged"),
        "{}",
        stdout(&out)
    );

    let stored = stored_after(&temp.path, before);
    assert_eq!(stored.len(), 3);
    for e in &stored {
        assert_eq!(e.actor.person.as_str(), IMPORTER);
        assert_ne!(e.actor.role, Role::System);
    }
    assert_eq!(payload(&stored[0])["file_sha256"], sha(GOOD.as_bytes()));
    let last = &stored[2];
    assert_eq!(last.reason.as_deref(), Some("年度审计后调整"));
    assert_eq!(payload(last)["score"], "90");
    assert_eq!(payload(last)["file_sha256"], sha(with_reason.as_bytes()));
    // The same file again: nothing new.
    ok(&import_as(&temp.path, &replaced, IMPORTER));
    assert_eq!(events(&temp.path), before + 3);
}

/// `ledger import business-template` lists the period's units (code and name) under the import's
/// Chinese headers; filled in for one unit (the other left blank) it imports back, recording that
/// unit only. An unknown period is refused in one line.
#[test]
fn the_business_template_lists_the_units_and_imports_back() {
    use calamine::{Data, Reader};
    let temp = scoring_ledger();
    let template = temp.dir.path().join("business.xlsx");
    let args = |period: &'static str| {
        [
            "import",
            "business-template",
            "--period",
            period,
            "--xlsx",
            template.to_str().unwrap(),
        ]
        .map(str::to_owned)
    };
    let run = |period| {
        let a = args(period);
        ledger(
            &temp.path,
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    ok(&run("2026Q1"));
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&template).unwrap();
    let rows: Vec<Vec<Data>> = book
        .worksheet_range("经营业绩")
        .unwrap()
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(header, ["单位", "单位名称", "得分", "否决", "依据", "原因"]);
    let units: Vec<(String, String)> = rows[1..]
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    assert_eq!(
        units,
        [
            ("SH-A".to_owned(), "甲党支部".to_owned()),
            ("SH-B".to_owned(), "乙党支部".to_owned())
        ]
    );

    let filled = filled_in("经营业绩", &rows, |ws| {
        ws.write_number(1, 2, 91.25).unwrap();
        ws.write_string(1, 3, "否").unwrap();
        ws.write_string(1, 4, "经营目标责任书 第二条").unwrap();
    });
    let filled_path = write(&temp, "filled.xlsx", &filled);
    let before = events(&temp.path);
    let out = import_as(&temp.path, &filled_path, IMPORTER);
    assert!(
        stdout(ok(&out)).contains("1 new results"),
        "{}",
        stdout(&out)
    );
    let recorded = recorded_after(&temp.path, before);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].1["unit"], "SH-A");
    assert_eq!(recorded[0].1["score"], "91.25");

    let reason = fails_with_one_line(&run("2099Q9"));
    assert!(reason.contains("no period 2099Q9"), "{reason}");
}
