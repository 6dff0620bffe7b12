//! `ledger standings`, `ledger annual`, `ledger history` and `ledger changes` on the demo ledger:
//! output shapes, as-of reads, filters, and one-line refusals.

use crate::cli_support::{
    events, fails_with_one_line, json, ledger, milestone, ok, shared_demo, stdout,
};

/// `standings --csv` has a fixed header (aspects A–F among it) and one row per unit with ranks from
/// 1; `--json` is the read model's shape with eight units and six aspect rankings; the table names
/// the period and its stage.
#[test]
fn standings_csv_json_and_table_have_their_shape() {
    let demo = shared_demo();
    // For Excel by default: the byte-order mark and Chinese headers.
    let excel = stdout(ok(&ledger(
        &demo.path,
        &["standings", "--period", "2026Q3", "--csv"],
    )));
    assert!(
        excel.starts_with("\u{feff}考核周期,名次,单位,单位名称,A 组织建设,"),
        "{excel}"
    );
    let out = ledger(
        &demo.path,
        &[
            "standings",
            "--period",
            "2026Q3",
            "--csv",
            "--no-bom",
            "--lang",
            "en",
        ],
    );
    let text = stdout(ok(&out));
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "period,rank,unit,unit_name,aspect_A,aspect_B,aspect_C,aspect_D,aspect_E,aspect_F,base,bonus,deduction,party_score,business_score,combined,ranked_on,ranked_score,grade,grade_label,capped_by_veto,complete,as_of_position"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r.len() == 23 && r[0] == "2026Q3"));
    assert_eq!(rows[0][1], "1");
    assert!(rows.iter().any(|r| r[3] == "盛和城镇党支部"));

    let standings = json(&ledger(
        &demo.path,
        &["standings", "--period", "2026Q3", "--json"],
    ));
    assert_eq!(standings["period"], "2026Q3");
    assert_eq!(standings["stage"], "published");
    assert_eq!(standings["units"].as_array().unwrap().len(), 8);
    assert_eq!(standings["aspects"].as_array().unwrap().len(), 6);
    assert!(standings["units"][0]["score"]["combined"].is_string());

    let table = stdout(ok(&ledger(
        &demo.path,
        &["standings", "--period", "2026Q4"],
    )));
    assert!(
        table.contains("2026年第四季度") && table.contains("审核 review"),
        "{table}"
    );
    assert!(table.contains("第 2 版"), "{table}");
}

/// As of the moment 2026Q3 was published (by time or by position, the same answer), the appealed
/// unit's aspect C is one point lower than after the upheld appeal.
#[test]
fn standings_as_of_publication_differ_from_after_the_appeal() {
    let demo = shared_demo();
    let (time, position) = milestone(&demo.summary, "2026Q3 公示");
    let aspect_c = |args: &[&str]| {
        let mut all = vec!["standings", "--period", "2026Q3", "--json"];
        all.extend_from_slice(args);
        let s = json(&ledger(&demo.path, &all));
        let unit = s["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"] == "SH-CZ-B1")
            .unwrap()
            .clone();
        (
            s["as_of"].as_u64().unwrap(),
            unit["score"]["aspects"][2]["points"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap(),
        )
    };
    let by_time = aspect_c(&["--as-of", &time]);
    let by_position = aspect_c(&["--at-position", &position.to_string()]);
    // As `ledger demo` prints the milestone: Beijing time, to the microsecond.
    let instant = chrono::DateTime::parse_from_rfc3339(&time)
        .unwrap()
        .to_utc();
    let printed = ledger::app::clock::business_time_exact(instant);
    assert!(
        !printed.contains('Z') && !printed.contains('T'),
        "{printed}"
    );
    let by_printed = aspect_c(&["--as-of", &printed]);
    // As `ledger demo` prints it first: the milestone's date, the end of that day in Beijing.
    let date = demo.summary["milestones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["label"].as_str().unwrap().starts_with("2026Q3 公示"))
        .unwrap()["date"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_date = aspect_c(&["--as-of", &date]);
    let now = aspect_c(&[]);
    assert_eq!(by_time, by_position);
    assert_eq!(by_printed, by_position, "{printed}");
    assert_eq!(by_date, by_position, "{date}");
    assert_eq!(by_time.0, position);
    assert_eq!(now.1 - by_time.1, 1.0, "the appeal revised C1 from 3 to 4");
}

/// An unknown period is refused in one line naming it and the known periods; so is a period that
/// did not exist yet at the position asked, and an unreadable time.
#[test]
fn unknown_period_fails_with_one_line() {
    let demo = shared_demo();
    let reason = fails_with_one_line(&ledger(&demo.path, &["standings", "--period", "2099Q1"]));
    assert!(
        reason.contains("2099Q1") && reason.contains("2026Q3, 2026Q4"),
        "{reason}"
    );
    let (_, setup) = milestone(&demo.summary, "组织");
    let reason = fails_with_one_line(&ledger(
        &demo.path,
        &[
            "standings",
            "--period",
            "2026Q3",
            "--at-position",
            &setup.to_string(),
        ],
    ));
    assert!(reason.contains("2026Q3"), "{reason}");
    let out = ledger(
        &demo.path,
        &["standings", "--period", "2026Q3", "--as-of", "yesterday"],
    );
    assert!(!out.status.success());
}

/// The change log filtered by person holds only that person's changes; by type, exactly the one
/// upheld appeal; `--csv` has its header; an unknown type or unit is refused in one line.
#[test]
fn changes_filter_and_export() {
    let demo = shared_demo();
    let zhao = json(&ledger(
        &demo.path,
        &[
            "changes",
            "--person",
            "reviewer-zhao",
            "--limit",
            "0",
            "--json",
        ],
    ));
    let zhao = zhao.as_array().unwrap();
    assert!(zhao.len() >= 4);
    assert!(zhao.iter().all(|c| c["actor"] == "reviewer-zhao"));
    // Newest first.
    assert!(
        zhao.windows(2)
            .all(|w| w[0]["position"].as_u64() > w[1]["position"].as_u64())
    );

    let upheld = json(&ledger(
        &demo.path,
        &["changes", "--type", "AppealUpheld", "--json"],
    ));
    assert_eq!(upheld.as_array().unwrap().len(), 1);

    let limited = json(&ledger(&demo.path, &["changes", "--limit", "7", "--json"]));
    assert_eq!(limited.as_array().unwrap().len(), 7);

    let csv = stdout(ok(&ledger(
        &demo.path,
        &[
            "changes", "--unit", "SH-NY-B2", "--item", "F5", "--csv", "--no-bom", "--lang", "en",
        ],
    )));
    assert!(csv.starts_with(
        "position,recorded_at,event_type,actor,actor_name,role,period,unit,unit_name,item,aspect,rubric_version,summary,old,new,reason,note,evidence,source\n"
    ));
    // Beijing time to the second, the person's and the unit's names beside their ids.
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    let events: Vec<serde_json::Value> = json(&ledger(
        &demo.path,
        &["changes", "--unit", "SH-NY-B2", "--item", "F5", "--json"],
    ))
    .as_array()
    .unwrap()
    .clone();
    let first = chrono::DateTime::parse_from_rfc3339(events[0]["recorded_at"].as_str().unwrap())
        .unwrap()
        .to_utc();
    assert_eq!(&rows[0][1], ledger::app::clock::business_time(first));
    assert!(
        rows.iter().all(|r| !r[4].is_empty() && !r[8].is_empty()),
        "{csv}"
    );
    let excel = stdout(ok(&ledger(
        &demo.path,
        &["changes", "--unit", "SH-NY-B2", "--item", "F5", "--csv"],
    )));
    assert!(excel.starts_with("\u{feff}记录序号,记录时间,"), "{excel}");
    assert!(
        csv.contains("ScoreCorrected") && csv.contains("RectificationRaised"),
        "{csv}"
    );

    let reason = fails_with_one_line(&ledger(&demo.path, &["changes", "--type", "ScoreDeleted"]));
    assert!(reason.contains("ScoreDeleted"), "{reason}");
    let reason = fails_with_one_line(&ledger(&demo.path, &["changes", "--unit", "NO-SUCH"]));
    assert!(reason.contains("NO-SUCH"), "{reason}");
}

/// An item's history runs oldest first from the self-assessment to the appeal's revision, which is
/// recorded with the `appeal` source; the sheet's history includes the item's.
#[test]
fn history_shows_an_item_from_self_assessment_to_appeal() {
    let demo = shared_demo();
    let item = json(&ledger(
        &demo.path,
        &[
            "history", "--period", "2026Q3", "--unit", "SH-CZ-B1", "--item", "C1", "--json",
        ],
    ));
    let item = item.as_array().unwrap();
    assert_eq!(item[0]["event_type"], "SelfAssessmentRecorded");
    let last = item.last().unwrap();
    assert_eq!(last["event_type"], "ScoreCorrected");
    assert_eq!(last["source"], "appeal");
    let sheet = json(&ledger(
        &demo.path,
        &[
            "history", "--period", "2026Q3", "--unit", "SH-CZ-B1", "--json",
        ],
    ));
    assert!(sheet.as_array().unwrap().len() > item.len());
    let table = stdout(ok(&ledger(
        &demo.path,
        &[
            "history", "--period", "2026Q3", "--unit", "SH-CZ-B1", "--item", "C1",
        ],
    )));
    assert!(table.contains("3 分 → 4 分"), "{table}");
    let reason = fails_with_one_line(&ledger(
        &demo.path,
        &[
            "history", "--period", "2026Q3", "--unit", "SH", "--item", "C1",
        ],
    ));
    assert!(reason.contains("SH"), "{reason}");
}

/// `changes --csv --checkpoint-out FILE` reads the change log as of the latest signed checkpoint: it
/// refuses (in one line, naming `ledger audit checkpoint`) while the ledger has none; with a
/// checkpoint below the head, FILE holds exactly that checkpoint's note, verifiable with the
/// ledger's key, and the CSV holds exactly the rows of the full change log at or below its size.
/// Without `--csv` the option is refused by the argument parser.
#[test]
fn changes_csv_comes_with_the_checkpoint_it_was_read_at() {
    use ledger_schemas::checkpoint::Checkpoint;

    let dir = tempfile::tempdir().unwrap();
    let note_file = dir.path().join("changes.checkpoint");
    let note_arg = note_file.to_str().unwrap();
    let with_note = [
        "changes",
        "--limit",
        "0",
        "--csv",
        "--checkpoint-out",
        note_arg,
    ];

    // A ledger with events but no signed checkpoint: there is nothing to pin the file to.
    let unsigned = dir.path().join("unsigned.db");
    ok(&ledger(&unsigned, &["rubric", "load"]));
    let reason = fails_with_one_line(&ledger(&unsigned, &with_note));
    assert!(reason.contains("ledger audit checkpoint"), "{reason}");
    assert!(!note_file.exists());
    let refused = ledger(&unsigned, &["changes", "--checkpoint-out", note_arg]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "clap refuses it without --csv"
    );

    // The demo, signed at its head with its own key; then ten more events past that checkpoint.
    let path = dir.path().join("ledger.db");
    std::fs::copy(&shared_demo().path, &path).unwrap();
    std::fs::copy(
        ledger::audit::key_path(&shared_demo().path),
        ledger::audit::key_path(&path),
    )
    .unwrap();
    let key = ledger::audit::load_key(&path).unwrap();
    let size = shared_demo().summary["head"].as_u64().unwrap();
    for n in 0..3 {
        let person = format!("late-auditor-{n}");
        ok(&ledger(
            &path,
            &["token", "issue", "--person", &person, "--role", "auditor"],
        ));
    }
    assert!(events(&path) > size, "events past the checkpoint");

    let rows = |text: &str| -> Vec<csv::StringRecord> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect()
    };
    let at_checkpoint = rows(&stdout(ok(&ledger(&path, &with_note))));
    let everything = rows(&stdout(ok(&ledger(
        &path,
        &["changes", "--limit", "0", "--csv"],
    ))));
    let position = |r: &csv::StringRecord| r[0].parse::<u64>().unwrap();
    let expected: Vec<_> = everything
        .iter()
        .filter(|r| position(r) <= size)
        .cloned()
        .collect();
    assert!(expected.len() < everything.len(), "some rows are past it");
    assert!(!expected.is_empty());
    assert_eq!(at_checkpoint, expected);

    let note = std::fs::read_to_string(&note_file).unwrap();
    let checkpoint = Checkpoint::from_note(&note).unwrap();
    checkpoint.verify(&key.verifying_key()).unwrap();
    assert_eq!(checkpoint.tree_size(), size);
}

/// `ledger annual` on the demo: 2026Q3 is published and counts, 2026Q4 (in review) is listed but
/// does not, so each unit's year is its Q3 figure, in Q3's order; before Q3's publication nothing
/// counts; the table says what is not counted; a year or period that names nothing, or a span named
/// twice over, is refused.
#[test]
fn annual_counts_the_published_periods() {
    let demo = shared_demo();
    let year = json(&ledger(&demo.path, &["annual", "--year", "2026", "--json"]));
    assert_eq!(year["rule"]["kind"], "mean");
    let counted: Vec<(&str, bool)> = year["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap(),
                p["counted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(counted, [("2026Q3", true), ("2026Q4", false)]);
    assert_eq!(year["complete"], false);
    let q3 = json(&ledger(
        &demo.path,
        &["standings", "--period", "2026Q3", "--json"],
    ));
    let line = |u: &serde_json::Value, figure: &str| {
        (u["unit"].clone(), u["rank"].clone(), u[figure].clone())
    };
    let years: Vec<_> = year["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| line(u, "figure"))
        .collect();
    let quarter: Vec<_> = q3["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| line(u, "ranked_score"))
        .collect();
    assert_eq!(years, quarter);

    let csv = stdout(ok(&ledger(
        &demo.path,
        &[
            "annual",
            "--periods",
            "2026Q4,2026Q3",
            "--csv",
            "--no-bom",
            "--lang",
            "en",
        ],
    )));
    let excel = stdout(ok(&ledger(
        &demo.path,
        &["annual", "--periods", "2026Q4,2026Q3", "--csv"],
    )));
    assert!(excel.starts_with("\u{feff}年度,评分细则,"), "{excel}");
    let mut rows = csv.lines();
    assert_eq!(
        rows.next().unwrap(),
        "year,rubric,rule_version,rank,unit,unit_name,figure,grade,grade_label,capped_by_veto,vetoed_in,partial,period_2026Q3,period_2026Q4,complete,as_of_position"
    );
    assert_eq!(rows.count(), 8);

    let (_, scored) = milestone(&demo.summary, "2026Q3 考评完成");
    let before = json(&ledger(
        &demo.path,
        &[
            "annual",
            "--year",
            "2026",
            "--json",
            "--at-position",
            &scored.to_string(),
        ],
    ));
    assert_eq!(before["periods"].as_array().unwrap().len(), 1);
    assert!(
        before["units"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["figure"].is_null() && u["rank"].is_null())
    );

    let table = stdout(ok(&ledger(&demo.path, &["annual", "--year", "2026"])));
    assert!(
        table.contains("2026 年度考核") && table.contains("盛和城镇党支部"),
        "{table}"
    );
    assert!(
        table.contains("未计入") && table.contains("2026Q4"),
        "{table}"
    );

    let reason = fails_with_one_line(&ledger(&demo.path, &["annual", "--year", "2025"]));
    assert!(reason.contains("no period ends in 2025"), "{reason}");
    let reason = fails_with_one_line(&ledger(&demo.path, &["annual", "--periods", "2026Q9"]));
    assert!(reason.contains("there is no period 2026Q9"), "{reason}");
    let out = ledger(
        &demo.path,
        &["annual", "--year", "2026", "--periods", "2026Q3"],
    );
    assert!(!out.status.success());
}

/// An item's history shows its standing after the rubric move and its review after the sheet
/// review: in 2026Q4, C5 of SH-CZ-B1 (4 points, above version 2's maximum of 3) needs re-scoring
/// after the move, counts again after the correction, and is approved with its sheet.
#[test]
fn an_items_history_shows_the_move_that_made_it_re_scorable() {
    let demo = shared_demo();
    let history = json(&ledger(
        &demo.path,
        &[
            "history", "--period", "2026Q4", "--unit", "SH-CZ-B1", "--item", "C5", "--json",
        ],
    ));
    let steps: Vec<(String, String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["event_type"] != "SelfAssessmentRecorded")
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("—").to_owned();
            (s("event_type"), s("review"), s("standing"))
        })
        .collect();
    let step = |t: &str, r: &str, s: &str| (t.to_owned(), r.to_owned(), s.to_owned());
    assert_eq!(
        steps,
        [
            step("ScoreRecorded", "pending", "counting"),
            step("PeriodRubricChanged", "pending", "needs_rescoring"),
            step("ScoreCorrected", "pending", "counting"),
            step("SheetReviewed", "approved", "counting"),
        ]
    );
}

/// `standings --xlsx FILE` writes a workbook that reads back (calamine) as the standings: the title
/// block names the period, rubric version, the position read at in Beijing time and the signed
/// checkpoint at or before it; the header row is Chinese; ranks and figures are numbers (not text)
/// equal to the JSON's, with two decimals; names are text; no cell is a formula. An as-of read
/// writes that point's figures.
#[test]
fn standings_xlsx_reads_back_as_numbers_with_the_as_of_line() {
    use calamine::Data;

    use crate::exports::XlsxSheet;

    let demo = shared_demo();
    let dir = tempfile::tempdir().unwrap();
    let (_, position) = milestone(&demo.summary, "2026Q3 公示");
    let file = dir.path().join("standings.xlsx");
    let at = position.to_string();
    let args = [
        "standings",
        "--period",
        "2026Q3",
        "--at-position",
        &at,
        "--xlsx",
    ];
    let mut all = args.to_vec();
    all.push(file.to_str().unwrap());
    ok(&ledger(&demo.path, &all));
    let standings = json(&ledger(
        &demo.path,
        &[
            "standings",
            "--period",
            "2026Q3",
            "--at-position",
            &at,
            "--json",
        ],
    ));

    let sheet = XlsxSheet::read(&file, "排名");
    assert!(sheet.title[0].contains("考核排名"), "{:?}", sheet.title);
    assert!(sheet.line("考核周期: 2026Q3").contains("已公示"));
    assert!(sheet.line("评分细则").contains("default 第 1 版"));
    let as_of = sheet.line("截至记录序号");
    assert!(
        as_of.starts_with(&format!("截至记录序号 {position} · 2026-"))
            && as_of.ends_with("(北京时间)"),
        "{as_of}"
    );
    // The demo signs only its head: nothing at or before the point read.
    assert!(
        sheet.line("已签名检查点").contains("无"),
        "{:?}",
        sheet.title
    );
    assert_eq!(
        sheet.header[..5],
        ["考核周期", "名次", "单位", "单位名称", "A 组织建设"]
    );
    let units = standings["units"].as_array().unwrap();
    assert_eq!(sheet.rows.len(), units.len());
    let combined_col = sheet.column("综合得分");
    for (row, u) in sheet.rows.iter().zip(units) {
        assert_eq!(row[1], Data::Float(u["rank"].as_f64().unwrap()));
        assert_eq!(row[2], Data::String(u["unit"].as_str().unwrap().to_owned()));
        assert!(matches!(row[3], Data::String(_)));
        let combined: f64 = u["score"]["combined"].as_str().unwrap().parse().unwrap();
        assert_eq!(row[combined_col], Data::Float(combined));
    }
    assert_eq!(sheet.number_format(1, combined_col), "0.00");
    assert!(sheet.formulas == 0, "no formulas");
}
