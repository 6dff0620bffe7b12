//! `ledger import ...`: a rubric file, and score sheets from CSV, all rows or none.

use std::path::Path;
use std::process::Command as Process;
use std::sync::Arc;

use ledger::app::{Clock, Ledger};
use ledger::store::SqliteStore;
use ledger_projections::domain::Command;
use ledger_projections::rubric;
use ledger_schemas::values::{Cadence, Stage, UnitKind};
use ledger_schemas::{Actor, Role};

use crate::cli_support::{events, fails_with_one_line, json, ledger, ok, stderr, stdout};
use crate::store_support::{TempLedger, temp_ledger};

/// A ledger with the default rubric, units SH-A and SH-B in period 2026Q1 (in scoring) and SH-C
/// outside it, built through the application service.
pub(crate) fn scoring_ledger() -> TempLedger {
    let temp = temp_ledger();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(&temp.path).unwrap());
        let app = Ledger::open(store.clone(), Clock::System).await.unwrap();
        let system = Actor::system();
        let run = |command: Command| app.execute(system.clone(), command);
        for (unit, name) in [
            ("SH-A", "甲党支部"),
            ("SH-B", "乙党支部"),
            ("SH-C", "丙党支部"),
        ] {
            run(Command::RegisterUnit {
                unit: unit.parse().unwrap(),
                name: name.into(),
                kind: UnitKind::Branch,
                parent: None,
            })
            .await
            .unwrap();
        }
        run(Command::DefineRubric {
            rubric: "default".parse().unwrap(),
            definition: rubric::default_template(),
        })
        .await
        .unwrap();
        run(Command::OpenPeriod {
            period: "2026Q1".parse().unwrap(),
            name: "2026年第一季度".into(),
            cadence: Cadence::Quarterly,
            starts_on: "2026-01-01".parse().unwrap(),
            ends_on: "2026-03-31".parse().unwrap(),
            rubric: "default".parse().unwrap(),
            rubric_version: 1,
            units: vec!["SH-A".parse().unwrap(), "SH-B".parse().unwrap()],
        })
        .await
        .unwrap();
        // The importing assessor (both units), and an auditor who may not record scores.
        for (person, name, role, units) in [
            (IMPORTER, "王考评", Role::Assessor, vec!["SH-A", "SH-B"]),
            ("auditor-li", "李审计", Role::Auditor, vec![]),
        ] {
            run(Command::RegisterPerson {
                person: person.parse().unwrap(),
                name: name.into(),
                unit: None,
            })
            .await
            .unwrap();
            run(Command::GrantAccess {
                person: person.parse().unwrap(),
                role,
                units: units.iter().map(|u| u.parse().unwrap()).collect(),
                reason: None,
            })
            .await
            .unwrap();
        }
        for to in [Stage::SelfAssessment, Stage::Scoring] {
            run(Command::AdvanceStage {
                period: "2026Q1".parse().unwrap(),
                to,
                expected_revision: None,
            })
            .await
            .unwrap();
        }
        store.close().await;
    });
    temp
}

fn write(temp: &TempLedger, name: &str, text: &str) -> std::path::PathBuf {
    let path = temp.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The assessor every import in these tests is recorded as.
pub(crate) const IMPORTER: &str = "assessor-wang";

fn import_scores(ledger_path: &Path, file: &Path) -> std::process::Output {
    import_as(ledger_path, file, IMPORTER)
}

fn import_as(ledger_path: &Path, file: &Path, person: &str) -> std::process::Output {
    ledger(
        ledger_path,
        &[
            "import",
            "scores",
            "--period",
            "2026Q1",
            "--as",
            person,
            file.to_str().unwrap(),
        ],
    )
}

/// Every value form an office writes: points with and without 分, ladder codes and Chinese labels,
/// awards, cases, a veto; a quoted note with a comma; several evidence references.
const GOOD: &str = "\
unit,item,value,note,evidence
SH-A,A1,2,\"按期换届, 不扣分\",换届批复.pdf; 选举结果.pdf
SH-A,A2,2.5分,少开1次支委会,会议记录.pdf
SH-A,A3,3,,
SH-A,A4,1.5,,
SH-A,B1,4,,
SH-A,B2,好,,
SH-A,B3,较好,,
SH-A,B4,good,,
SH-A,B5,一般,,
SH-A,C1,4,,
SH-A,C2,fairly_good,,
SH-A,C3,4,,
SH-A,C4,3.5,,
SH-A,C5,4,,
SH-A,D1,3,,
SH-A,D2,3,,
SH-A,D3,差,,
SH-A,D4,3,,
SH-A,D5,2.5,,
SH-A,E1,3,,
SH-A,E2,3,,
SH-A,E3,2,,
SH-A,E4,好,,
SH-A,E5,3,,
SH-A,F1,好,,
SH-A,F2,4,,
SH-A,F3,较好,,
SH-A,F4,4,,
SH-A,F5,3.5,,
SH-A,G1,经营利润超目标:1；党建品牌:0.5,,
SH-A,G2,市级表彰:1,,
SH-A,G3,1起,通报批评1起,通报.pdf
SH-A,G4,否,,
SH-B,A1,1.5,,
SH-B,B2,一般,,
SH-B,G4,no,,
";

/// A good CSV records every row (as `import` scores, all of SH-A's sheet complete); importing the
/// same file again records nothing; a changed value without a reason is refused naming its row and
/// column, and with a reason it is recorded as a correction.
#[test]
fn a_good_csv_records_every_row_once() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let file = write(&temp, "good.csv", GOOD);
    let out = import_scores(&temp.path, &file);
    assert!(stdout(ok(&out)).contains("36"), "{}", stdout(&out));
    assert_eq!(events(&temp.path), before + 36);

    let recorded = json(&ledger(
        &temp.path,
        &[
            "changes",
            "--type",
            "ScoreRecorded",
            "--limit",
            "0",
            "--json",
        ],
    ));
    let recorded = recorded.as_array().unwrap();
    assert_eq!(recorded.len(), 36);
    assert!(recorded.iter().all(|c| c["source"] == "import"));
    let a1 = recorded
        .iter()
        .find(|c| c["unit"] == "SH-A" && c["item"] == "A1")
        .unwrap();
    assert_eq!(a1["note"], "按期换届, 不扣分");
    assert_eq!(
        a1["evidence"],
        serde_json::json!(["换届批复.pdf", "选举结果.pdf"])
    );

    let standings = json(&ledger(
        &temp.path,
        &["standings", "--period", "2026Q1", "--json"],
    ));
    let sh_a = standings["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "SH-A")
        .unwrap();
    assert_eq!(sh_a["score"]["complete"], true);

    // Again: nothing new.
    ok(&import_scores(&temp.path, &file));
    assert_eq!(events(&temp.path), before + 36);

    let changed = write(&temp, "changed.csv", "unit,item,value\nSH-A,A1,1\n");
    let out = import_scores(&temp.path, &changed);
    fails_with_one_line(&out);
    assert!(
        stderr(&out).contains("第 2 行 C 列 value"),
        "{}",
        stderr(&out)
    );
    assert_eq!(events(&temp.path), before + 36);

    let corrected = write(
        &temp,
        "corrected.csv",
        "单位,子项目,得分,更正原因\nSH-A,A1,1,\"复核: 委员缺额未增补, 扣1分\"\n",
    );
    ok(&import_scores(&temp.path, &corrected));
    assert_eq!(events(&temp.path), before + 37);
    let corrections = json(&ledger(
        &temp.path,
        &["changes", "--type", "ScoreCorrected", "--json"],
    ));
    assert_eq!(corrections[0]["reason"], "复核: 委员缺额未增补, 扣1分");
    assert_eq!(corrections[0]["source"], "import");
}

/// A CSV with an unknown unit, an unknown item, points out of range, a level not on the ladder, a row
/// with the wrong number of columns, a unit outside the period, a bad veto and a repeated row reports
/// each bad row with its row number and column, and records nothing, not even its good row.
#[test]
fn a_bad_csv_reports_every_bad_row_and_records_nothing() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let file = write(
        &temp,
        "bad.csv",
        "\
unit,item,value,note,evidence
SH-B,A1,2,fine,
SH-X,A2,2,,
SH-B,Z9,2,,
SH-B,A3,3.5,,
SH-B,B2,优秀,,
SH-B,A4,1
SH-C,A4,1,,
SH-B,G4,maybe,,
SH-B,A1,1,,
",
    );
    let out = import_scores(&temp.path, &file);
    let reason = fails_with_one_line(&out);
    assert!(reason.contains("nothing was recorded"), "{reason}");
    assert!(reason.contains("8 bad rows"), "{reason}");
    let err = stderr(&out);
    for expected in [
        "第 3 行 A 列 unit",
        "第 4 行 B 列 item",
        "第 5 行 C 列 value",
        "第 6 行 C 列 value",
        "第 7 行 (row 7)",
        "第 8 行 A 列 unit",
        "第 9 行 C 列 value",
        "第 10 行 B 列 item",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(
        err.contains("SH-X") && err.contains("Z9") && err.contains("3.5"),
        "{err}"
    );
    assert!(err.contains("has 3 columns, the header has 5"), "{err}");
    assert!(
        !err.lines().any(|l| l.starts_with("第 2 行")),
        "row 2 is good:\n{err}"
    );
    assert_eq!(events(&temp.path), before);
}

/// Text the ledger does not record (a bidirectional override, an escape sequence, a line break in
/// an evidence reference, a note longer than 4,000 characters) is refused row by row, naming the
/// column and the character, and nothing is recorded: an import is held to the text rules as the
/// API is.
#[test]
fn text_that_breaks_the_rules_is_refused_row_by_row() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let long = "注".repeat(4001);
    let file = write(
        &temp,
        "text.csv",
        &format!(
            "unit,item,value,note,evidence\n\
SH-A,A1,2,按期换届,换届批复.pdf\n\
SH-A,A2,2,少开\u{202E}1次,\n\
SH-A,A3,2,\u{1b}[2J,\n\
SH-A,A4,1,,\"会议记录\r第二页\"\n\
SH-B,A1,2,{long},\n"
        ),
    );
    let out = import_scores(&temp.path, &file);
    let reason = fails_with_one_line(&out);
    assert!(reason.contains("4 bad rows"), "{reason}");
    let err = stderr(&out);
    for expected in [
        "第 3 行 D 列 note",
        "U+202E RIGHT-TO-LEFT OVERRIDE",
        "第 4 行 D 列 note",
        "U+001B ESCAPE",
        "第 5 行 E 列 evidence",
        "U+000D CARRIAGE RETURN",
        "第 6 行 D 列 note",
        "longer than 4000 characters",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert_eq!(events(&temp.path), before);
}

/// An unknown period, a file without the required columns, and a period not in scoring are refused
/// with a one-line reason, recording nothing.
#[test]
fn import_refuses_an_unknown_period_or_header_in_one_line() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let file = write(&temp, "good.csv", GOOD);
    let out = ledger(
        &temp.path,
        &[
            "import",
            "scores",
            "--period",
            "2099Q9",
            "--as",
            IMPORTER,
            file.to_str().unwrap(),
        ],
    );
    let reason = fails_with_one_line(&out);
    assert!(
        reason.contains("2099Q9") && reason.contains("2026Q1"),
        "{reason}"
    );

    let headless = write(&temp, "headless.csv", "SH-A,A1,2\n");
    let reason = fails_with_one_line(&import_scores(&temp.path, &headless));
    assert!(reason.contains("row 1"), "{reason}");
    assert_eq!(events(&temp.path), before);
}

/// `ledger import --ledger FILE rubric FILE` loads a rubric file like `rubric load --file`, with the
/// ledger option before the subcommand.
#[test]
fn import_rubric_loads_a_rubric_file() {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    let file = write(&temp, "rubric.json", rubric::DEFAULT_TEMPLATE_JSON);
    let out = Process::new(env!("CARGO_BIN_EXE_ledger"))
        .args(["import", "--ledger"])
        .arg(&temp.path)
        .args(["rubric"])
        .arg(&file)
        .env_remove("LEDGER_PATH")
        .output()
        .unwrap();
    assert!(stdout(ok(&out)).contains("33"), "{}", stdout(&out));
    assert_eq!(events(&temp.path), 1);
    let broken = write(&temp, "broken.json", "{\"title\": ");
    fails_with_one_line(&ledger(
        &temp.path,
        &[
            "import",
            "rubric",
            "--rubric",
            "other",
            broken.to_str().unwrap(),
        ],
    ));
    assert_eq!(events(&temp.path), 1);
}

/// An import is recorded as the person who imported it (`--as`), never `system`: every event names
/// that assessor, keeps the source `import` and carries the SHA-256 of the file's bytes. Without
/// `--as` the parser refuses; a person the ledger does not know, or one who does not hold the
/// assessor role, is refused in one line naming them, and nothing is recorded.
#[test]
fn an_import_names_the_importing_person_and_the_files_hash() {
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let file = write(&temp, "good.csv", GOOD);

    let unnamed = ledger(
        &temp.path,
        &[
            "import",
            "scores",
            "--period",
            "2026Q1",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(unnamed.status.code(), Some(2), "{}", stderr(&unnamed));
    assert!(stderr(&unnamed).contains("--as"), "{}", stderr(&unnamed));
    for (person, says) in [("nobody", "nobody"), ("auditor-li", "auditor")] {
        let reason = fails_with_one_line(&import_as(&temp.path, &file, person));
        assert!(reason.contains(person) && reason.contains(says), "{reason}");
    }
    assert_eq!(events(&temp.path), before);

    ok(&import_scores(&temp.path, &file));
    let corrected = write(
        &temp,
        "corrected.csv",
        "unit,item,value,reason\nSH-A,A1,1.5,复核扣分\n",
    );
    ok(&import_scores(&temp.path, &corrected));
    let hash = |path: &Path| ledger::audit::bundle::sha256_hex(&std::fs::read(path).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let imported = rt.block_on(async {
        use ledger::store::{Direction, EventStore, ReadFrom};
        let store = SqliteStore::open_existing(&temp.path).unwrap();
        let all = store
            .read_all(Direction::Forwards, ReadFrom::At(before + 1), 1000)
            .await
            .unwrap();
        store.close().await;
        all
    });
    assert_eq!(imported.len(), 37);
    let payload = |e: &ledger_schemas::Envelope| -> serde_json::Value {
        serde_json::from_str(&e.payload).unwrap()
    };
    for e in &imported {
        assert_eq!(e.actor.person.as_str(), IMPORTER, "{}", e.event_type);
        assert_eq!(e.actor.role, Role::Assessor);
        assert_eq!(payload(e)["source"], "import");
    }
    let (records, corrections): (Vec<_>, Vec<_>) = imported
        .iter()
        .partition(|e| e.event_type == "ScoreRecorded");
    assert_eq!((records.len(), corrections.len()), (36, 1));
    assert!(
        records
            .iter()
            .all(|e| payload(e)["file_sha256"] == hash(&file))
    );
    assert_eq!(corrections[0].event_type, "ScoreCorrected");
    assert_eq!(payload(corrections[0])["file_sha256"], hash(&corrected));
    assert_ne!(hash(&file), hash(&corrected));
}

/// The events an import recorded after `before`, as (type, payload without the file's hash): what
/// the sheet said, whatever bytes carried it.
pub(crate) fn recorded_after(path: &Path, before: u64) -> Vec<(String, serde_json::Value)> {
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
        all.into_iter()
            .map(|e| {
                let mut payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
                payload.as_object_mut().unwrap().remove("file_sha256");
                (e.event_type, payload)
            })
            .collect()
    })
}

/// The same sheet saved as UTF-8, UTF-8 with a BOM, GBK, GB18030 and UTF-16 with a BOM (what Excel
/// writes), typed with full-width digits and letters, and as an .xlsx workbook (points as number
/// cells), records the same events; bytes that are none of these encodings are refused in one line
/// naming the line, and nothing is recorded.
#[test]
fn the_same_sheet_in_every_encoding_records_the_same_events() {
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(GOOD.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let full_width: String = GOOD
        .lines()
        .enumerate()
        .map(|(n, line)| {
            let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
            if n > 0 {
                // Unit, item and value as an IME types them: full-width letters, digits and signs.
                for cell in cells.iter_mut().take(3) {
                    *cell = cell
                        .chars()
                        .map(|c| match c {
                            '!'..='~' if c != ':' => char::from_u32(c as u32 + 0xfee0).unwrap(),
                            _ => c,
                        })
                        .collect();
                }
            }
            cells.join(",") + "\n"
        })
        .collect();
    assert!(
        full_width.contains("ＳＨ－Ａ,Ａ２,２．５分"),
        "{full_width}"
    );
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("utf-8", GOOD.as_bytes().to_vec()),
        (
            "utf-8 with BOM",
            [b"\xEF\xBB\xBF".as_slice(), GOOD.as_bytes()].concat(),
        ),
        ("gbk", encoding_rs::GBK.encode(GOOD).0.into_owned()),
        ("gb18030", encoding_rs::GB18030.encode(GOOD).0.into_owned()),
        ("utf-16 with BOM", utf16),
        ("full-width", full_width.into_bytes()),
        ("xlsx", csv_as_workbook(GOOD, "评分表", |_, _| None)),
    ];
    let mut first: Option<Vec<(String, serde_json::Value)>> = None;
    for (name, bytes) in variants {
        let temp = scoring_ledger();
        let before = events(&temp.path);
        let file = temp.dir.path().join(if name == "xlsx" {
            "sheet.xlsx"
        } else {
            "sheet.csv"
        });
        std::fs::write(&file, &bytes).unwrap();
        let out = import_scores(&temp.path, &file);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let recorded = recorded_after(&temp.path, before);
        assert_eq!(recorded.len(), 36, "{name}");
        match &first {
            None => first = Some(recorded),
            Some(expected) => assert_eq!(&recorded, expected, "{name}"),
        }
    }
    assert!(
        first
            .unwrap()
            .iter()
            .any(|(_, p)| p["note"] == "按期换届, 不扣分"),
        "the Chinese text survived"
    );

    let temp = scoring_ledger();
    let before = events(&temp.path);
    let mut broken = GOOD.as_bytes().to_vec();
    let third_line = broken
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .unwrap()
        .0;
    broken.splice(third_line + 1..third_line + 1, [0xff, 0xff, 0xff]);
    let file = temp.dir.path().join("broken.csv");
    std::fs::write(&file, &broken).unwrap();
    let reason = fails_with_one_line(&import_scores(&temp.path, &file));
    assert!(
        reason.contains("UTF-8") && reason.contains("line 3"),
        "{reason}"
    );
    // Neither UTF-8 nor GB18030 from the first line on.
    std::fs::write(&file, b"unit,item,value\nSH-A,A1,\xff\n").unwrap();
    let reason = fails_with_one_line(&import_scores(&temp.path, &file));
    assert!(
        reason.contains("GBK") && reason.contains("line 2"),
        "{reason}"
    );
    assert_eq!(events(&temp.path), before);
}

/// `csv` (plain, comma-separated, no quoted commas) as an .xlsx workbook with one sheet named
/// `sheet`: a cell that reads as a decimal becomes a number cell, the rest text; `touch(row, col)`
/// may write a cell its own way instead (0-based, the header is row 0) and return `Some(())`.
pub(crate) fn csv_as_workbook(
    csv: &str,
    sheet: &str,
    mut touch: impl FnMut(&mut rust_xlsxwriter::Worksheet, (u32, u16)) -> Option<()>,
) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes());
    for (r, record) in reader.records().enumerate() {
        for (c, cell) in record.unwrap().iter().enumerate() {
            let at = (r as u32, c as u16);
            if touch(ws, at).is_some() || cell.is_empty() {
                continue;
            }
            match cell.parse::<f64>() {
                Ok(n) if r > 0 => ws.write_number(at.0, at.1, n).unwrap(),
                _ => ws.write_string(at.0, at.1, cell).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

/// Workbooks the import cannot read as the office meant them are refused, every bad cell named by
/// its row and column (merged cells, a formula, a date where a value is expected, a number where
/// an item code is expected, a cell right of the header), or in one line for the workbook as a
/// whole (no sheet named 评分表, an unknown extra column, a file that is not a workbook); nothing
/// is recorded by any of them.
#[test]
fn bad_workbooks_are_refused_cell_by_cell_and_record_nothing() {
    const SHEET: &str = "\
unit,item,value,note,evidence
SH-A,A1,2,,
SH-A,A2,2,,
SH-A,A3,3,,
SH-A,A4,1.5,,
SH-B,A1,1.5,,
";
    let temp = scoring_ledger();
    let before = events(&temp.path);
    let file = temp.dir.path().join("sheet.xlsx");
    let bad = csv_as_workbook(SHEET, "评分表", |ws, at| {
        let fmt = rust_xlsxwriter::Format::new();
        match at {
            // Row 2, column C: a formula.
            (1, 2) => ws.write_formula(1, 2, "=1+1").map(|_| ()).ok(),
            // Row 3, column C: a date where a value is expected.
            (2, 2) => ws
                .write_datetime_with_format(
                    2,
                    2,
                    rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 2).unwrap(),
                    &fmt.clone().set_num_format("yyyy-mm-dd"),
                )
                .map(|_| ())
                .ok(),
            // Row 4, column B: an item code typed as a number.
            (3, 1) => ws.write_number(3, 1, 3.0).map(|_| ()).ok(),
            // Rows 5-6, column D: merged, and row 5 holds a cell right of the header.
            (4, 3) => {
                ws.merge_range(4, 3, 5, 3, "同上", &fmt).unwrap();
                ws.write_string(4, 6, "多余").map(|_| ()).ok()
            }
            (5, 3) => Some(()),
            _ => None,
        }
    });
    std::fs::write(&file, &bad).unwrap();
    let out = import_scores(&temp.path, &file);
    let reason = fails_with_one_line(&out);
    assert!(reason.contains("nothing was recorded"), "{reason}");
    let err = stderr(&out);
    assert_row_errors(
        &err,
        &[
            ("第 2 行 C 列 value", "formula"),
            ("第 3 行 C 列 value", "date"),
            ("第 4 行 B 列 item", "number"),
            ("第 5 行 D 列 note", "merged cells D5:D6"),
            ("第 5 行 G 列", "header has no column"),
        ],
    );
    assert!(
        !err.lines().any(|l| l.starts_with("第 6 行")),
        "row 6 is good:\n{err}"
    );

    // Refused as a whole, in one line.
    for (bytes, expected) in [
        (csv_as_workbook(SHEET, "Sheet1", |_, _| None), "Sheet1"),
        (
            csv_as_workbook(
                &SHEET.replace("evidence", "evidence,备用"),
                "评分表",
                |_, _| None,
            ),
            "unknown columns F “备用”",
        ),
        (SHEET.as_bytes().to_vec(), "not a valid .xlsx workbook"),
        (
            b"PK\x03\x04 not really a zip".to_vec(),
            "not a valid .xlsx workbook",
        ),
    ] {
        std::fs::write(&file, &bytes).unwrap();
        let reason = fails_with_one_line(&import_scores(&temp.path, &file));
        assert!(reason.contains(expected), "{expected:?} in {reason}");
    }
    assert_eq!(events(&temp.path), before);
}

/// The template of the rubric's version lists every item with its aspect, title and maximum and
/// empty value columns; filled in (all but three rows left blank) it imports back, recording the
/// filled rows only, and an unknown version or unit is refused in one line.
#[test]
fn the_xlsx_template_fills_in_and_imports_back() {
    use calamine::{Data, Reader};
    let temp = scoring_ledger();
    let template = temp.dir.path().join("template.xlsx");
    let path = template.to_str().unwrap();
    ok(&ledger(
        &temp.path,
        &["rubric", "template", "--xlsx", path, "--unit", "SH-A"],
    ));
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&template).unwrap();
    let range = book.worksheet_range("评分表").unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(
        header,
        [
            "单位",
            "子项目",
            "考核方面",
            "考评项目",
            "考评内容",
            "满分",
            "责任人",
            "得分",
            "说明",
            "佐证材料",
            "更正原因"
        ]
    );
    assert_eq!(rows.len(), 1 + 33, "one row per item of the default rubric");
    assert_eq!(rows[1][0], Data::String("SH-A".into()));
    assert_eq!(rows[1][1], Data::String("A1".into()));
    assert!(matches!(rows[1][5], Data::Float(_)), "{:?}", rows[1][5]);
    assert!(rows[1..].iter().all(|r| r.len() < 8 || r[7] == Data::Empty));

    // Fill the value column from GOOD's rows for SH-A, leaving G2-G4 blank.
    let values: std::collections::HashMap<String, String> = GOOD
        .lines()
        .skip(1)
        .filter_map(|l| l.strip_prefix("SH-A,"))
        .filter_map(|l| {
            let mut cells = l.split(',');
            Some((cells.next()?.to_owned(), cells.next()?.to_owned()))
        })
        .collect();
    let filled = filled_in("评分表", &rows, |ws| {
        for (r, row) in rows.iter().enumerate().skip(1) {
            let item = row[1].to_string();
            if !["G2", "G3", "G4"].contains(&item.as_str()) {
                ws.write_string(r as u32, 7, &values[&item]).unwrap();
            }
        }
    });
    let filled_path = temp.dir.path().join("filled.xlsx");
    std::fs::write(&filled_path, filled).unwrap();
    let before = events(&temp.path);
    let out = ok(&import_scores(&temp.path, &filled_path)).clone();
    assert!(stdout(&out).contains("30 new scores"), "{}", stdout(&out));
    let recorded = recorded_after(&temp.path, before);
    assert_eq!(recorded.len(), 30);
    assert!(
        recorded
            .iter()
            .all(|(_, p)| p["unit"] == "SH-A" && p["source"] == "import")
    );

    for (args, expected) in [
        (vec!["--version", "9"], "has no version 9"),
        (vec!["--unit", "SH-X"], "no unit SH-X"),
        (vec!["--rubric", "other"], "no rubric other"),
    ] {
        let mut all = vec!["rubric", "template", "--xlsx", path];
        all.extend(args);
        let reason = fails_with_one_line(&ledger(&temp.path, &all));
        assert!(reason.contains(expected), "{expected:?} in {reason}");
    }
}

/// Every `(row and column, words)` is on some line of a refused import's standard error: a line
/// that starts with the place and contains the words.
pub(crate) fn assert_row_errors(err: &str, expected: &[(&str, &str)]) {
    for (at, what) in expected {
        assert!(
            err.lines().any(|l| l.starts_with(at) && l.contains(what)),
            "missing {at:?} … {what:?} in:\n{err}"
        );
    }
}

/// A template's cells as read back (`rows`, text and numbers) written into a new workbook with one
/// sheet named `sheet`, then `fill` types into it what a person would: the template filled in.
pub(crate) fn filled_in(
    sheet: &str,
    rows: &[Vec<calamine::Data>],
    fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet),
) -> Vec<u8> {
    use calamine::Data;
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Data::String(s) => ws.write_string(r, c, s).map(|_| ()).unwrap(),
                Data::Float(n) => ws.write_number(r, c, *n).map(|_| ()).unwrap(),
                _ => {}
            }
        }
    }
    fill(ws);
    book.save_to_buffer().unwrap()
}
