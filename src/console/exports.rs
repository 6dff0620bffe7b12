//! The console's Excel downloads: the standings, a unit's sheet, an item's history, the change log
//! and the closed loop as .xlsx, each as its page shows it (the same point read, the same filters,
//! the same language), through the API with the signed-in person's token like every page.
//!
//! The title block names the signed checkpoint the read is covered by, for every role (the API's
//! `GET /api/v1/checkpoints/covering`, which every role reads).

use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::changes::ChangesForm;
use super::client::{Failure, Session};
use super::format::seg;
use super::i18n::Lang;
use super::sheet::SheetQuery;
use super::standings::{Point, StandingsQuery};
use crate::csv_out::Cell;
use crate::export_rows::Columns;
use crate::http::views::{
    CoveringCheckpoints, HistoryView, PeriodList, RectificationList, RubricVersionView, SheetView,
    StandingsView,
};
use crate::xlsx_out::{CheckpointMark, TitleBlock, Workbook};

/// The latest signed checkpoint at or before `position` (the signed prefix of what was read).
async fn checkpoint(session: &Session, position: u64) -> Result<CheckpointMark, String> {
    let lang = session.lang;
    let found: CoveringCheckpoints = session
        .get(&format!("/api/v1/checkpoints/covering?position={position}"))
        .await
        .map_err(|_| {
            lang.t(
                "无 (此账本不保存已签名的检查点)",
                "none (this ledger keeps no signed checkpoints)",
            )
            .to_owned()
        })?;
    found
        .at_or_before
        .map(|c| CheckpointMark {
            tree_size: c.tree_size,
            root_hex: c.root.to_string(),
        })
        .ok_or_else(|| {
            lang.t(
                "无 (所读记录之前没有已签名的检查点)",
                "none (no signed checkpoint at or before the point read)",
            )
            .to_owned()
        })
}

/// When the event at `position` was recorded, for the title block (the change log's newest row
/// at or before it says so without another API route).
fn time_of(
    changes: &[crate::http::views::ChangeEntryView],
    position: u64,
) -> Option<chrono::DateTime<chrono::Utc>> {
    changes
        .iter()
        .find(|c| c.position == position)
        .map(|c| c.recorded_at)
}

/// The workbook as a download named `file` (ASCII, with the position read at).
fn download(
    lang: Lang,
    file: &str,
    sheet: &str,
    title: &TitleBlock,
    columns: Columns,
    rows: &[Vec<Cell>],
) -> Result<Response, Failure> {
    let bytes = Workbook {
        sheet,
        lang,
        title,
        header: crate::xlsx_out::header(lang, columns),
        rows,
    }
    .to_bytes()
    .map_err(|e| Failure::internal(lang, e.to_string()))?;
    let mut headers = vec![
        (
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
        ),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ),
    ];
    if let Some((position, _)) = title.as_of {
        headers.push((
            header::HeaderName::from_static(crate::http::queries::POSITION_HEADER),
            position.to_string(),
        ));
    }
    let mut response = bytes.into_response();
    for (name, value) in headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

/// A file name made of ids: only the characters safe in a header's quoted string.
fn file_name(parts: &[&str]) -> String {
    parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `GET /standings.xlsx?period=&at=&time=`: the standings the page shows for the same query.
pub async fn standings(
    session: Session,
    Query(q): Query<StandingsQuery>,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let point = Point::asked(lang, q.at.as_deref(), q.time.as_deref())?;
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    let period =
        super::standings::choose_period(lang, &periods, q.period.as_deref())?.ok_or_else(|| {
            Failure::not_found(
                lang,
                "还没有考核周期 (there is no assessment period yet)".to_owned(),
            )
        })?;
    let mut uri = format!("/api/v1/periods/{}/standings", seg(period.period.as_str()));
    if let Some(q) = point.api_query() {
        uri = format!("{uri}?{q}");
    }
    let s: StandingsView = session.get(&uri).await?;
    let names = super::standings::unit_names(&session)
        .await?
        .into_iter()
        .map(|(u, n)| (u.to_string(), n))
        .collect();
    let (columns, rows) = crate::export_rows::standings(&s, &names, lang);
    let title = TitleBlock {
        title: format!("{} {}", s.name, lang.t("考核排名", "standings")),
        period: Some(format!(
            "{} ({}) · {}",
            s.period,
            s.name,
            super::i18n::stage(lang, s.stage)
        )),
        rubric: Some((s.rubric.to_string(), s.rubric_version)),
        as_of: Some((s.as_of, s.as_of_time)),
        checkpoint: Some(checkpoint(&session, s.as_of).await),
        made_at: Some(chrono::Utc::now()),
    };
    let file = file_name(&["standings", s.period.as_str(), "at", &s.as_of.to_string()]) + ".xlsx";
    download(
        lang,
        &file,
        lang.t("排名", "Standings"),
        &title,
        columns,
        &rows,
    )
}

/// `GET /periods/{period}/units/{unit}/sheet.xlsx?at=`: the sheet, now or as of a position.
pub async fn sheet(
    session: Session,
    Path((period, unit)): Path<(String, String)>,
    Query(q): Query<SheetQuery>,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let mut uri = format!("/api/v1/periods/{}/units/{}", seg(&period), seg(&unit));
    if let Some(at) = q.at.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        let at: u64 = at.parse().map_err(|_| {
            Failure::bad_request(
                lang,
                "at",
                format!(
                    "记录序号须为正整数, 实际为“{at}” (the record number must be a whole number, not {at:?})"
                ),
            )
        })?;
        uri.push_str(&format!("?at_position={at}"));
    }
    let (s, read_at): (SheetView, u64) = session.get_at(&uri).await?;
    let version: RubricVersionView = session
        .get(&format!(
            "/api/v1/rubrics/{}/versions/{}",
            seg(s.rubric.as_str()),
            s.rubric_version
        ))
        .await?;
    let units = super::standings::unit_names(&session).await?;
    let unit_name = units.get(&s.unit).cloned().unwrap_or_default();
    let (columns, rows) = crate::export_rows::sheet(
        &s,
        &version.definition,
        &super::names::people(&session).await.0,
        lang,
    );
    let title = TitleBlock {
        title: format!(
            "{} {} {}",
            s.unit,
            unit_name,
            lang.t("考核评分表", "score sheet")
        ),
        period: Some(format!(
            "{} · {}",
            s.period,
            super::i18n::stage(lang, s.stage)
        )),
        rubric: Some((s.rubric.to_string(), s.rubric_version)),
        as_of: Some((read_at, None)),
        checkpoint: Some(checkpoint(&session, read_at).await),
        made_at: Some(chrono::Utc::now()),
    };
    let file = file_name(&[
        "sheet",
        s.period.as_str(),
        s.unit.as_str(),
        "at",
        &read_at.to_string(),
    ]) + ".xlsx";
    download(
        lang,
        &file,
        lang.t("评分表", "Sheet"),
        &title,
        columns,
        &rows,
    )
}

/// `GET /periods/{period}/units/{unit}/items/{item}/history.xlsx`: the item's history, oldest first.
pub async fn item_history(
    session: Session,
    Path((period, unit, item)): Path<(String, String, String)>,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let history: HistoryView = session
        .get(&format!(
            "/api/v1/periods/{}/units/{}/items/{}/history",
            seg(&period),
            seg(&unit),
            seg(&item)
        ))
        .await?;
    let names = crate::csv_out::Names {
        people: super::names::people(&session).await.0,
        units: super::standings::unit_names(&session)
            .await?
            .into_iter()
            .map(|(u, n)| (u.to_string(), n))
            .collect(),
    };
    let rows: Vec<Vec<Cell>> = history
        .changes
        .iter()
        .map(|c| crate::csv_out::change_row(c, lang, &names))
        .collect();
    let at = history.at_position;
    let title = TitleBlock {
        title: format!(
            "{} {} {} {}",
            history.period,
            history.unit,
            item,
            lang.t("变更历史", "history")
        ),
        period: Some(history.period.to_string()),
        as_of: Some((at, time_of(&history.changes, at))),
        checkpoint: Some(checkpoint(&session, at).await),
        made_at: Some(chrono::Utc::now()),
        ..Default::default()
    };
    let file = file_name(&["history", &period, &unit, &item, "at", &at.to_string()]) + ".xlsx";
    download(
        lang,
        &file,
        lang.t("变更历史", "History"),
        &title,
        change_columns(),
        &rows,
    )
}

fn change_columns() -> Columns {
    crate::csv_out::CHANGE_COLUMNS
        .iter()
        .map(|(e, z)| ((*e).to_owned(), (*z).to_owned()))
        .collect()
}

/// `GET /changes.xlsx?…`: every change the page's filters match, read at one position.
pub async fn changes(session: Session, Query(f): Query<ChangesForm>) -> Result<Response, Failure> {
    let lang = session.lang;
    let (changes, at, names) = super::changes::all_changes(&session, &f).await?;
    let rows: Vec<Vec<Cell>> = changes
        .iter()
        .map(|c| crate::csv_out::change_row(c, lang, &names))
        .collect();
    let title = TitleBlock {
        title: lang.t("变更记录", "Change log").to_owned(),
        period: Some(f.period.trim().to_owned()).filter(|p| !p.is_empty()),
        as_of: Some((at, time_of(&changes, at))),
        checkpoint: Some(checkpoint(&session, at).await),
        made_at: Some(chrono::Utc::now()),
        ..Default::default()
    };
    let file = file_name(&["changes", "at", &at.to_string()]) + ".xlsx";
    download(
        lang,
        &file,
        lang.t("变更记录", "Changes"),
        &title,
        change_columns(),
        &rows,
    )
}

/// `GET /rectifications.xlsx`: the closed loop as the page lists it, overdue judged on the business
/// clock's today.
pub async fn closed_loop(session: Session) -> Result<Response, Failure> {
    let lang = session.lang;
    let (list, at): (RectificationList, u64) = session.get_at("/api/v1/rectifications").await?;
    let names = super::names::people(&session).await.0;
    let (columns, rows) = crate::export_rows::closed_loop(&list.rectifications, &names, lang);
    let title = TitleBlock {
        title: lang.t("整改闭环", "Closed loop").to_owned(),
        as_of: Some((at, None)),
        checkpoint: Some(checkpoint(&session, at).await),
        made_at: Some(chrono::Utc::now()),
        ..Default::default()
    };
    let file = file_name(&["rectifications", "at", &at.to_string()]) + ".xlsx";
    download(
        lang,
        &file,
        lang.t("整改闭环", "Closed loop"),
        &title,
        columns,
        &rows,
    )
}
