//! The whole-sheet grid: every item of a unit's sheet on one page, one row an item.
//!
//! - an assessor enters scores (an unscored item) and corrections (a scored one, with its reason);
//! - a unit secretary enters the unit's self-assessment (自评) with notes and evidence references;
//! - a reviewer approves or rejects items one by one, and reviews the whole sheet (整表审核).
//!
//! One submit sends one API write per changed row, each its own event with its own reason, in
//! rubric order. A row the API refuses is shown again with the API's message on that row and what
//! was typed kept; the rows recorded before and after it stay recorded, and the page says how many
//! were. A row left as it was is not sent; a score cleared out is refused on its row (a recorded
//! score cannot be erased, only corrected), never silently dropped.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ledger_schemas::envelope::Role;
use ledger_schemas::rubric::{ItemKind, RubricDefinition};
use ledger_schemas::values::{Points, ScoreValue};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::client::{Failure, Session};
use super::format::{self, seg};
use super::forms::{self, Form};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::sheet::{Entered, value_json};
use crate::http::views::{ItemView, Recorded, ReviewState, RubricVersionView, SheetView};

/// The value fields of each kind, as the inputs name them.
/// (`none` is the bonus item's "no awards" box: an empty list is a value too.)
const VALUE_FIELDS: [&str; 6] = ["points", "level", "awards", "none", "cases", "vetoed"];

/// The row fields the API's messages may name.
const ROW_FIELDS: [&str; 9] = [
    "points", "level", "awards", "cases", "vetoed", "value", "reason", "note", "comment",
];

fn grid_uri(period: &str, unit: &str) -> String {
    format!("/periods/{}/units/{}/grid", seg(period), seg(unit))
}

fn api_sheet(period: &str, unit: &str) -> String {
    format!("/api/v1/periods/{}/units/{}", seg(period), seg(unit))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct GridQuery {
    #[serde(default)]
    pub done: Option<String>,
}

/// What the page shows after a submit: the rows refused (by item code) and how many were recorded.
#[derive(Default)]
struct Outcome {
    rows: BTreeMap<String, Entered>,
    sheet: Option<Entered>,
    /// Messages about rows the sheet does not have.
    stray: Vec<String>,
    recorded: usize,
}

/// `GET /periods/{period}/units/{unit}/grid`.
pub async fn page(
    session: Session,
    Path((period, unit)): Path<(String, String)>,
    Query(q): Query<GridQuery>,
) -> Result<Response, Failure> {
    let outcome = Outcome::default();
    render(
        &session,
        &period,
        &unit,
        &outcome,
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    session: &Session,
    period: &str,
    unit: &str,
    outcome: &Outcome,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let sheet: SheetView = session.get(&api_sheet(period, unit)).await?;
    let people = super::names::people(session).await;
    let version: RubricVersionView = session
        .get(&format!(
            "/api/v1/rubrics/{}/versions/{}",
            seg(sheet.rubric.as_str()),
            sheet.rubric_version
        ))
        .await?;
    let def = version.definition;
    let names = super::standings::unit_names(session).await?;
    let unit_name = names
        .get(&sheet.unit)
        .cloned()
        .unwrap_or_else(|| unit.to_owned());
    let role = session.role();
    let revision = sheet.revision.map(|r| r.to_string()).unwrap_or_default();
    let refused = outcome.rows.len() + outcome.stray.len();
    let (ops, hint) = match role {
        Role::Assessor => (
            "recordScore correctScore",
            lang.t(
                "填写或修改得分; 修改已录得分须写更正理由. 只提交有改动的行, 每行记为一条记录. ",
                "Enter or change scores; changing a recorded score needs a reason. Only changed rows are sent, each as its own record. ",
            ),
        ),
        Role::Unit => (
            "recordSelfAssessment",
            lang.t(
                "填写本单位自评及佐证材料 (每行一项). 只提交有改动的行.",
                "Enter the unit's self-assessment and evidence references (one a line). Only changed rows are sent.",
            ),
        ),
        Role::Reviewer => (
            "reviewItem",
            lang.t(
                "逐项选择通过或退回 (退回须写意见); 整表审核在页末.",
                "Approve or reject items one by one (a rejection needs a comment); the whole-sheet review is at the end.",
            ),
        ),
        _ => ("", ""),
    };
    let body = html! {
        p.meta {
            a href={ "/periods/" (seg(period)) "/units/" (seg(unit)) } { (unit_name) " · " (lang.t("评分表", "score sheet")) }
            " · " (sheet.period) " · " (super::i18n::stage(lang, sheet.stage))
        }
        (forms::done_note(lang, done))
        @if outcome.recorded > 0 || refused > 0 {
            div.form-error #grid-summary role="alert" data-recorded=(outcome.recorded) data-refused=(refused) {
                p { (lang.t("已记录 ", "Recorded: ")) (outcome.recorded) (lang.t(" 项; 未记录 ", "; not recorded: ")) (refused)
                    (lang.t(" 项, 原因见各行.", ", see the message on each row.")) }
                @for m in &outcome.stray { p { (m) } }
            }
        }
        @if ops.is_empty() {
            p.empty { (lang.t("此角色在评分表上没有可办理的事项.", "This role has nothing to enter on a sheet.")) }
        } @else {
            p.hint { (hint)
                @if role == Role::Assessor {
                    kbd { "Tab" } (lang.t(" 键到下一格, 回车键到下一行.", " moves to the next field, Enter to the next row."))
                }
                @if role == Role::Reviewer { " " a href="#sheet-review" { (lang.t("转到整表审核", "Go to the whole-sheet review")) } } }
            form.grid #grid method="post" action=(grid_uri(period, unit)) data-ops=(ops) novalidate {
                input type="hidden" name="revision" value=(revision);
                div.scroll {
                    table.grid {
                        thead { tr {
                            th { (lang.t("编号", "Item")) } th { (lang.t("考评项目", "Title")) } th { (lang.t("分值", "Worth")) }
                            @match role {
                                Role::Assessor => { th { (lang.t("自评", "Self")) } th { (lang.t("得分", "Score")) } th { (lang.t("更正理由", "Reason for a change")) } }
                                Role::Unit => { th { (lang.t("得分", "Score")) } th { (lang.t("自评", "Self-assessment")) } th { (lang.t("说明", "Note")) } th { (lang.t("佐证材料", "Evidence")) } }
                                _ => { th { (lang.t("得分", "Score")) } th { (lang.t("审核", "Review")) } th { (lang.t("结论", "Decision")) } th { (lang.t("意见", "Comment")) } }
                            }
                        } }
                        tbody {
                            @for item in &sheet.items {
                                (row(lang, role, item, &def, outcome.rows.get(item.item.as_str())))
                            }
                        }
                    }
                }
                button type="submit" { (lang.t("提交改动", "Submit the changes")) }
            }
        }
        @if role == Role::Reviewer {
            (sheet_review(lang, period, unit, &revision, &sheet, &people, outcome.sheet.as_ref()))
        }
    };
    let mut response = layout::page(
        session,
        Nav::Sheet,
        &format!("{unit_name} · {}", lang.t("整表录入", "whole sheet")),
        body,
    );
    *response.status_mut() = status;
    Ok(response)
}

/// The whole-sheet review form (reviewers).
fn sheet_review(
    lang: Lang,
    period: &str,
    unit: &str,
    revision: &str,
    sheet: &SheetView,
    people: &super::names::Names,
    entered: Option<&Entered>,
) -> Markup {
    let key = "sheet";
    html! {
        form.entry #sheet-review method="post" action={ "/periods/" (seg(period)) "/units/" (seg(unit)) "/sheet-review" } data-ops="reviewSheet" novalidate {
            h2 { (lang.t("整表审核", "Review the whole sheet")) }
            @if let Some(last) = &sheet.last_review {
                p.meta { (lang.t("上次: ", "Last: ")) (people.show(last.by.as_str())) " · " (review_word(lang, last.decision)) @if !last.comment.is_empty() { " — " (last.comment) } }
            }
            input type="hidden" name="revision" value=(revision);
            (forms::general(entered, key))
            label for="sheet-decision" { (lang.t("审核结论", "Decision")) }
            select #sheet-decision name="decision" {
                option value="approved" { (lang.t("通过", "approve")) }
                option value="rejected" selected[forms::kept(entered, key, "decision") == "rejected"] { (lang.t("退回", "reject")) }
            }
            (forms::field_error(entered, key, "decision"))
            label for="sheet-comment" { (lang.t("审核意见 (退回时必填)", "Comment (required to reject)")) }
            textarea #sheet-comment name="comment" rows="2" { (forms::kept(entered, key, "comment")) }
            (forms::field_error(entered, key, "comment"))
            button type="submit" { (lang.t("提交整表审核", "Submit the sheet review")) }
        }
    }
}

fn review_word(lang: Lang, d: ledger_schemas::values::ReviewDecision) -> &'static str {
    match d {
        ledger_schemas::values::ReviewDecision::Approved => lang.t("通过", "approved"),
        ledger_schemas::values::ReviewDecision::Rejected => lang.t("退回", "rejected"),
    }
}

fn review_label(lang: Lang, state: ReviewState) -> &'static str {
    match state {
        ReviewState::Pending => lang.t("待审核", "pending"),
        ReviewState::Approved => lang.t("已通过", "approved"),
        ReviewState::Rejected => lang.t("已退回", "rejected"),
    }
}

/// The text each value input shows for a recorded value.
fn prefill(value: &ScoreValue) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    match value {
        ScoreValue::Points { points } => {
            m.insert("points", points.to_string());
        }
        ScoreValue::Level { level } => {
            m.insert("level", level.to_string());
        }
        ScoreValue::Awards { awards } => {
            let text = awards
                .iter()
                .map(|a| format!("{} | {}", a.title, a.points))
                .collect::<Vec<_>>()
                .join("\n");
            if awards.is_empty() {
                m.insert("none", "true".to_owned());
            }
            m.insert("awards", text);
        }
        ScoreValue::Cases { cases } => {
            m.insert("cases", cases.to_string());
        }
        ScoreValue::Veto { vetoed } => {
            m.insert("vetoed", vetoed.to_string());
        }
    }
    m
}

/// Whether a row's value inputs still say what is recorded (points compared as numbers, `2.50` is `2.5`).
fn unchanged(recorded: Option<&ScoreValue>, row: &BTreeMap<String, String>) -> bool {
    let given = |f: &str| row.get(f).map(|s| s.trim().to_owned()).unwrap_or_default();
    let Some(recorded) = recorded else {
        return VALUE_FIELDS.iter().all(|f| given(f).is_empty());
    };
    prefill(recorded).iter().all(|(field, shown)| {
        let now = given(field);
        match (*field, now.parse::<Points>(), shown.parse::<Points>()) {
            ("points", Ok(a), Ok(b)) => a == b,
            ("awards", _, _) => super::sheet::lines(&now) == super::sheet::lines(shown),
            // An unticked box is not sent at all.
            ("none", _, _) => now == *shown,
            _ => &now == shown,
        }
    })
}

/// The value inputs of one row, named `{item}/{field}`.
fn value_cell(
    lang: Lang,
    code: &str,
    kind: &ItemKind,
    def: &RubricDefinition,
    recorded: Option<&ScoreValue>,
    entered: Option<&Entered>,
) -> Markup {
    let shown = recorded.map(prefill).unwrap_or_default();
    let value = |f: &str| -> String {
        entered
            .and_then(|e| e.fields.get(f).cloned())
            .or_else(|| shown.get(f).cloned())
            .unwrap_or_default()
    };
    let name = |f: &str| format!("{code}/{f}");
    html! {
        @match kind {
            ItemKind::Points { max } => {
                input.num name=(name("points")) inputmode="decimal" size="5" value=(value("points"))
                    aria-label={ (code) " " (lang.t("得分", "points")) " 0–" (max) };
            }
            ItemKind::Ladder { .. } => {
                select name=(name("level")) aria-label={ (code) " " (lang.t("评价等级", "level")) } {
                    @if recorded.is_none() { option value="" { "—" } }
                    @for step in &def.ladder {
                        option value=(step.level) selected[value("level") == step.level.as_str()] { (lang.text(&step.label)) }
                    }
                }
            }
            ItemKind::Bonus { .. } => {
                textarea name=(name("awards")) rows="1" cols="18" placeholder=(lang.t("名称 | 分值", "title | points"))
                    aria-label={ (code) " " (lang.t("加分事项", "awards")) } { (value("awards")) }
                label.check { input type="checkbox" name=(name("none")) value="true" checked[value("none") == "true"]; " " (lang.t("无加分事项", "no awards")) }
            }
            ItemKind::Deduction { .. } => {
                input.num name=(name("cases")) inputmode="numeric" size="4" value=(value("cases"))
                    aria-label={ (code) " " (lang.t("扣分起数", "cases")) };
            }
            ItemKind::Veto => {
                select name=(name("vetoed")) aria-label={ (code) " " (lang.t("否决", "veto")) } {
                    @if recorded.is_none() { option value="" { "—" } }
                    option value="false" selected[value("vetoed") == "false"] { (lang.t("否", "no")) }
                    option value="true" selected[value("vetoed") == "true"] { (lang.t("是", "yes")) }
                }
            }
        }
    }
}

/// The row's messages: the API's, by field, and those naming no field.
fn row_errors(entered: Option<&Entered>) -> Markup {
    html! {
        @if let Some(e) = entered {
            @for m in &e.general { p.field-error data-field="row" { (m) } }
            @for (field, m) in &e.errors { p.field-error data-field=(field) { (m) } }
        }
    }
}

fn row(
    lang: Lang,
    role: Role,
    item: &ItemView,
    def: &RubricDefinition,
    entered: Option<&Entered>,
) -> Markup {
    let code = item.item.as_str();
    let score = item.score.as_ref();
    let own = item.self_assessment.as_ref();
    let show = |v: Option<&ScoreValue>| v.map(|v| format::value(lang, v, &def.ladder));
    let kept = |f: &str| entered.and_then(|e| e.fields.get(f).cloned());
    html! {
        tr data-item=(code) class=[entered.map(|_| "refused")] {
            td { (code) }
            td.title { @if let Some(t) = &item.title { (lang.text(t)) } }
            td { @if let Some(k) = &item.kind { (format::kind(lang, k)) } }
            @match (role, &item.kind) {
                (_, None) => {
                    td colspan="4" { (show(score.map(|s| &s.value)).unwrap_or_else(|| "—".into())) " · " (lang.t("已不在细则中", "no longer in the rubric")) }
                }
                (Role::Assessor, Some(kind)) => {
                    td { (show(own.map(|o| &o.value)).unwrap_or_default()) }
                    td.entry {
                        @if let Some(s) = score {
                            input type="hidden" name={ (code) "/was" } value=(serde_json::to_string(&s.value).unwrap_or_default());
                        }
                        (value_cell(lang, code, kind, def, score.map(|s| &s.value), entered))
                        (row_errors(entered))
                    }
                    td { @if score.is_some() {
                        input name={ (code) "/reason" } value=(kept("reason").unwrap_or_default())
                            aria-label={ (code) " " (lang.t("更正理由", "reason")) };
                    } }
                }
                (Role::Unit, Some(kind)) => {
                    td { (show(score.map(|s| &s.value)).unwrap_or_else(|| "—".into())) }
                    td.entry {
                        (value_cell(lang, code, kind, def, own.map(|o| &o.value), entered))
                        (row_errors(entered))
                    }
                    td { input name={ (code) "/note" } value=(kept("note").or_else(|| own.map(|o| o.note.clone())).unwrap_or_default())
                        aria-label={ (code) " " (lang.t("说明", "note")) }; }
                    td { textarea name={ (code) "/evidence" } rows="1" cols="16" aria-label={ (code) " " (lang.t("佐证材料", "evidence")) } {
                        (kept("evidence").or_else(|| own.map(|o| o.evidence.join("\n"))).unwrap_or_default()) } }
                }
                (_, Some(_)) => {
                    td { (show(score.map(|s| &s.value)).unwrap_or_else(|| "—".into())) }
                    td { @if let Some(s) = score { (review_label(lang, s.review.status)) } }
                    td.entry { @if score.is_some() {
                        @let chosen = kept("decision").unwrap_or_default();
                        select name={ (code) "/decision" } aria-label={ (code) " " (lang.t("审核结论", "decision")) } {
                            option value="" { "—" }
                            option value="approved" selected[chosen == "approved"] { (lang.t("通过", "approve")) }
                            option value="rejected" selected[chosen == "rejected"] { (lang.t("退回", "reject")) }
                        }
                        (row_errors(entered))
                    } }
                    td { @if score.is_some() {
                        input name={ (code) "/comment" } value=(kept("comment").unwrap_or_default())
                            aria-label={ (code) " " (lang.t("审核意见", "comment")) };
                    } }
                }
            }
        }
    }
}

/// One write a row asks for: where to post it and its body.
fn row_write(
    lang: Lang,
    role: Role,
    item: &ItemView,
    row: &BTreeMap<String, String>,
) -> Option<Result<(String, Value), String>> {
    let kind = item.kind.as_ref()?;
    let text = |f: &str| row.get(f).map(|s| s.trim().to_owned()).unwrap_or_default();
    match role {
        Role::Assessor => {
            let recorded = item.score.as_ref().map(|s| &s.value);
            if unchanged(recorded, row) {
                return None;
            }
            let Some(recorded) = recorded else {
                return Some(Ok((
                    "score".into(),
                    json!({"value": value_json(kind, row), "note": "", "evidence": []}),
                )));
            };
            if VALUE_FIELDS.iter().all(|f| text(f).is_empty()) {
                return Some(Err(lang
                    .t(
                        "已录得分不能清空, 只能更正为新的分值",
                        "A recorded score cannot be erased, only corrected to a new value",
                    )
                    .to_owned()));
            }
            // The value the page showed: a correction of anything else is refused as stale.
            let previous = serde_json::from_str::<Value>(&text("was"))
                .unwrap_or_else(|_| serde_json::to_value(recorded).unwrap_or(Value::Null));
            Some(Ok((
                "correction".into(),
                json!({"previous": previous, "value": value_json(kind, row), "reason": text("reason"),
                       "note": "", "evidence": []}),
            )))
        }
        Role::Unit => {
            let own = item.self_assessment.as_ref();
            let note = text("note");
            let evidence = super::sheet::lines(&text("evidence"));
            let same_text = own.map(|o| (o.note.as_str(), &o.evidence))
                == Some((note.as_str(), &evidence))
                || (own.is_none() && note.is_empty() && evidence.is_empty());
            if unchanged(own.map(|o| &o.value), row) && same_text {
                return None;
            }
            Some(Ok((
                "self-assessment".into(),
                json!({"value": value_json(kind, row), "note": note, "evidence": evidence}),
            )))
        }
        Role::Reviewer => {
            let decision = text("decision");
            if decision.is_empty() {
                return None;
            }
            Some(Ok((
                "review".into(),
                json!({"decision": decision, "comment": text("comment")}),
            )))
        }
        _ => None,
    }
}

/// The sheet stream's revision after a write.
fn revision_after(recorded: &Recorded, period: &str, unit: &str) -> Option<u64> {
    let stream = format!("sheet-{period}~{unit}");
    recorded
        .streams
        .iter()
        .find(|s| s.stream == stream)
        .map(|s| s.revision)
}

/// `POST /periods/{period}/units/{unit}/grid`: one write per changed row.
pub async fn submit(
    session: Session,
    Path((period, unit)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let api = api_sheet(&period, &unit);
    let sheet: SheetView = session.get(&api).await?;
    let mut revision = form.get("revision").parse::<u64>().ok();
    let mut outcome = Outcome::default();
    let mut first_status = None;
    for item in &sheet.items {
        let code = item.item.as_str();
        let row = form.row(code);
        if row.is_empty() {
            continue;
        }
        let refusal = |message: String| Entered {
            action: code.to_owned(),
            fields: row.clone(),
            errors: BTreeMap::new(),
            general: vec![message],
        };
        let (action, body) = match row_write(lang, session.role(), item, &row) {
            None => continue,
            Some(Err(message)) => {
                outcome.rows.insert(code.to_owned(), refusal(message));
                first_status.get_or_insert(StatusCode::UNPROCESSABLE_ENTITY);
                continue;
            }
            Some(Ok(write)) => write,
        };
        let uri = format!("{api}/items/{}/{action}", seg(code));
        match forms::send::<Recorded>(&session, Method::POST, &uri, &body, revision).await? {
            Ok(recorded) => {
                outcome.recorded += 1;
                revision = revision_after(&recorded, &period, &unit).or(revision);
            }
            Err(failure) => {
                first_status.get_or_insert(failure.status);
                outcome.rows.insert(
                    code.to_owned(),
                    forms::refused(&failure, code, row, &ROW_FIELDS),
                );
            }
        }
    }
    // A row the form sent for an item the sheet does not have, or a field no row has, is named,
    // not dropped.
    let mut stray: Vec<String> = form
        .map()
        .keys()
        .filter(|k| k.as_str() != "revision")
        .map(|k| {
            k.split_once('/')
                .map(|(code, _)| code)
                .unwrap_or(k)
                .to_owned()
        })
        .filter(|code| !sheet.items.iter().any(|i| i.item.as_str() == code.as_str()))
        .collect();
    stray.dedup();
    for code in stray {
        first_status.get_or_insert(StatusCode::UNPROCESSABLE_ENTITY);
        outcome.stray.push(format!(
            "{} {code}",
            lang.t(
                "评分表上没有此项, 未记录:",
                "The sheet has no such item, not recorded:"
            )
        ));
    }
    match first_status {
        None => Ok(Redirect::to(&format!(
            "{}?done={}",
            grid_uri(&period, &unit),
            outcome.recorded
        ))
        .into_response()),
        Some(status) => render(&session, &period, &unit, &outcome, None, status).await,
    }
}

/// `POST /periods/{period}/units/{unit}/sheet-review`: the reviewer's whole-sheet review.
pub async fn review(
    session: Session,
    Path((period, unit)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let revision = form.get("revision").parse::<u64>().ok();
    let request = json!({"decision": form.get("decision"), "comment": form.get("comment")});
    let uri = format!("{}/review", api_sheet(&period, &unit));
    match forms::send::<Recorded>(&session, Method::POST, &uri, &request, revision).await? {
        Ok(_) => Ok(
            Redirect::to(&format!("{}?done=sheet-review", grid_uri(&period, &unit)))
                .into_response(),
        ),
        Err(failure) => {
            let outcome = Outcome {
                sheet: Some(forms::refused(
                    &failure,
                    "sheet",
                    form.map(),
                    &["decision", "comment"],
                )),
                ..Outcome::default()
            };
            render(&session, &period, &unit, &outcome, None, failure.status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_row_is_changed_only_when_its_value_is() {
        let points = ScoreValue::Points {
            points: "2.5".parse().unwrap(),
        };
        assert!(unchanged(Some(&points), &row(&[("points", "2.50")])));
        assert!(unchanged(Some(&points), &row(&[("points", " 2.5 ")])));
        assert!(!unchanged(Some(&points), &row(&[("points", "3")])));
        assert!(!unchanged(Some(&points), &row(&[("points", "")])));
        assert!(unchanged(None, &row(&[("points", ""), ("reason", "x")])));
        assert!(!unchanged(None, &row(&[("level", "good")])));
        let veto = ScoreValue::Veto { vetoed: false };
        assert!(unchanged(Some(&veto), &row(&[("vetoed", "false")])));
        assert!(!unchanged(Some(&veto), &row(&[("vetoed", "true")])));
    }
}
