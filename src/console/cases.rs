//! Appeals filed and rectifications worked, in the console: a unit secretary files an appeal
//! (申诉); an assessor or a reviewer raises a rectification (整改); the responsible side submits it
//! with evidence references; a reviewer verifies it (销号) or sends it back with a comment and,
//! if need be, a new due date. Deciding an appeal stays on the appeals page ([`super::appeals`]).
//!
//! Pickers list names (periods, units, items), and the record's id is made here
//! ([`super::forms::new_id`]): nobody types an id.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ledger_schemas::envelope::Role;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Console;
use super::client::{Failure, Session};
use super::format::seg;
use super::forms::{self, Form, field_error, general, kept};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::sheet::Entered;
use crate::http::views::{
    PeriodList, PeriodView, Recorded, RectificationStatusView, RectificationView, RubricVersionView,
};

#[derive(Debug, Default, serde::Deserialize)]
pub struct CaseQuery {
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

/// What a new-record form offers: the periods, the chosen one, its units (those the caller may
/// act for) and items, by name.
struct Choices {
    periods: PeriodList,
    period: PeriodView,
    units: Vec<(String, String)>,
    items: Vec<(String, String)>,
}

async fn choices(session: &Session, asked: Option<&str>) -> Result<Option<Choices>, Failure> {
    let lang = session.lang;
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    let Some(period) = super::standings::choose_period(lang, &periods, asked)?.cloned() else {
        return Ok(None);
    };
    let names = super::standings::unit_names(session).await?;
    let units = period
        .units
        .iter()
        .filter(|u| {
            session
                .me
                .units
                .as_ref()
                .is_none_or(|mine| mine.contains(u))
        })
        .map(|u| {
            let name = names.get(u).cloned().unwrap_or_else(|| u.to_string());
            (u.to_string(), name)
        })
        .collect();
    let version: RubricVersionView = session
        .get(&format!(
            "/api/v1/rubrics/{}/versions/{}",
            seg(period.rubric.as_str()),
            period.rubric_version
        ))
        .await?;
    let items = version
        .definition
        .aspects
        .iter()
        .flat_map(|a| a.items.iter())
        .map(|i| {
            (
                i.code.to_string(),
                format!("{} {}", i.code, lang.text(&i.title)),
            )
        })
        .collect();
    Ok(Some(Choices {
        periods,
        period,
        units,
        items,
    }))
}

/// The period chooser above a new-record form (a GET form: choosing shows the period's units and items).
fn period_chooser(lang: Lang, action: &str, c: &Choices) -> Markup {
    html! {
        form.controls method="get" action=(action) {
            label { (lang.t("考核周期 ", "Period "))
                select name="period" data-autosubmit {
                    @for p in &c.periods.periods {
                        option value=(p.period) selected[p.period == c.period.period] { (p.name) " (" (super::i18n::stage(lang, p.stage)) ")" }
                    }
                }
            }
            noscript { button type="submit" { (lang.t("选择", "Choose")) } }
        }
    }
}

fn select(
    name: &str,
    id: &str,
    options: &[(String, String)],
    chosen: &str,
    blank: Option<&str>,
) -> Markup {
    html! {
        select id=(id) name=(name) {
            @if let Some(b) = blank { option value="" { (b) } }
            @for (value, label) in options {
                option value=(value) selected[chosen == value] { (label) }
            }
        }
    }
}

// ---- appeals ----

/// `GET /appeals/new?period=`: a unit secretary files an appeal.
pub async fn appeal_page(
    session: Session,
    Query(q): Query<CaseQuery>,
) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Unit])?;
    appeal_render(&session, q.period.as_deref(), None, StatusCode::OK).await
}

async fn appeal_render(
    session: &Session,
    period: Option<&str>,
    entered: Option<&Entered>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let c = choices(session, period).await?;
    let key = "appeal";
    let body = html! {
        @match &c {
            None => { p.empty { (lang.t("还没有考核周期.", "There is no assessment period yet.")) } }
            Some(c) => {
                (period_chooser(lang, "/appeals/new", c))
                form.entry #appeal-form method="post" action="/appeals/new" enctype="multipart/form-data" data-ops="fileAppeal" novalidate {
                    h2 { (lang.t("提出申诉", "File an appeal")) }
                    input type="hidden" name="period" value=(c.period.period);
                    (general(entered, key))
                    label for="appeal-unit" { (lang.t("单位", "Unit")) }
                    (select("unit", "appeal-unit", &c.units, &kept(entered, key, "unit"), None))
                    (field_error(entered, key, "unit"))
                    label for="appeal-item" { (lang.t("申诉的子项目", "Item appealed against")) }
                    (select("item", "appeal-item", &c.items, &kept(entered, key, "item"), Some(lang.t("整张评分表", "the whole sheet"))))
                    (field_error(entered, key, "item"))
                    label for="appeal-grounds" { (lang.t("申诉理由 (必填)", "Grounds (required)")) }
                    textarea #appeal-grounds name="grounds" rows="3" { (kept(entered, key, "grounds")) }
                    (field_error(entered, key, "grounds"))
                    label for="appeal-evidence" { (lang.t("佐证材料 (每行一项, 如文件编号或存放处)", "Evidence (one reference a line, e.g. a file number or where it is kept)")) }
                    textarea #appeal-evidence name="evidence" rows="2" { (kept(entered, key, "evidence")) }
                    (field_error(entered, key, "evidence"))
                    (super::evidence::field(lang, entered, key, "appeal-files"))
                    button type="submit" { (lang.t("提交申诉", "File the appeal")) }
                }
            }
        }
    };
    let mut response = layout::page(
        session,
        Nav::Appeals,
        lang.t("提出申诉", "File an appeal"),
        body,
    );
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /appeals/new`.
pub async fn file_appeal(
    State(console): State<Console>,
    session: Session,
    request: Request,
) -> Result<Response, Failure> {
    let mut posted = super::evidence::read(&session, console.evidence, request).await?;
    let form = posted.form.clone();
    let request = json!({
        "files": posted.files(),
        "appeal": forms::new_id("AP", &form.get("period"), &form.get("unit")),
        "period": form.get("period"),
        "unit": form.get("unit"),
        "item": form.opt("item"),
        "grounds": form.get("grounds"),
        "evidence": form.lines("evidence"),
    });
    match posted
        .send::<Recorded>(&session, Method::POST, "/api/v1/appeals", &request, None)
        .await?
    {
        Ok(_) => Ok(Redirect::to("/appeals?done=filed").into_response()),
        Err(failure) => {
            let known = ["unit", "item", "grounds", "evidence", "period", "files"];
            let entered = forms::refused(&failure, "appeal", posted.fields(), &known);
            let period = form.get("period");
            appeal_render(&session, Some(&period), Some(&entered), failure.status).await
        }
    }
}

// ---- rectifications ----

/// `GET /rectifications/new?period=`: an assessor or a reviewer raises a rectification.
pub async fn raise_page(session: Session, Query(q): Query<CaseQuery>) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Assessor, Role::Reviewer])?;
    raise_render(&session, q.period.as_deref(), None, StatusCode::OK).await
}

async fn raise_render(
    session: &Session,
    period: Option<&str>,
    entered: Option<&Entered>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let c = choices(session, period).await?;
    let key = "raise";
    let origins = [
        (
            "deduction".to_owned(),
            lang.t("扣分项", "a deduction").to_owned(),
        ),
        (
            "review".to_owned(),
            lang.t("审核发现", "a review finding").to_owned(),
        ),
    ];
    let body = html! {
        @match &c {
            None => { p.empty { (lang.t("还没有考核周期.", "There is no assessment period yet.")) } }
            Some(c) => {
                (period_chooser(lang, "/rectifications/new", c))
                form.entry #raise-form method="post" action="/rectifications/new" data-ops="raiseRectification" novalidate {
                    h2 { (lang.t("下达整改", "Raise a rectification")) }
                    input type="hidden" name="period" value=(c.period.period);
                    (general(entered, key))
                    label for="raise-unit" { (lang.t("单位", "Unit")) }
                    (select("unit", "raise-unit", &c.units, &kept(entered, key, "unit"), None))
                    (field_error(entered, key, "unit"))
                    label for="raise-item" { (lang.t("子项目", "Item")) }
                    (select("item", "raise-item", &c.items, &kept(entered, key, "item"), None))
                    (field_error(entered, key, "item"))
                    label for="raise-origin" { (lang.t("来源", "Origin")) }
                    (select("origin", "raise-origin", &origins, &kept(entered, key, "origin"), None))
                    label for="raise-due" { (lang.t("整改期限", "Due on")) }
                    input #raise-due type="date" name="due_on" value=(kept(entered, key, "due_on"));
                    (field_error(entered, key, "due_on"))
                    label for="raise-finding" { (lang.t("发现的问题 (必填)", "Finding (required)")) }
                    textarea #raise-finding name="finding" rows="3" { (kept(entered, key, "finding")) }
                    (field_error(entered, key, "finding"))
                    button type="submit" { (lang.t("下达", "Raise")) }
                }
            }
        }
    };
    let mut response = layout::page(
        session,
        Nav::ClosedLoop,
        lang.t("下达整改", "Raise a rectification"),
        body,
    );
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /rectifications/new`.
pub async fn raise(session: Session, body: Bytes) -> Result<Response, Failure> {
    let form = Form::parse(session.lang, &body)?;
    let id = forms::new_id("RECT", &form.get("period"), &form.get("unit"));
    let request = json!({
        "rectification": id,
        "period": form.get("period"),
        "unit": form.get("unit"),
        "item": form.get("item"),
        "due_on": form.get("due_on"),
        "finding": form.get("finding"),
        "origin": form.get("origin"),
    });
    match forms::send::<Recorded>(
        &session,
        Method::POST,
        "/api/v1/rectifications",
        &request,
        None,
    )
    .await?
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/rectifications/{}?done=raised", seg(&id))).into_response())
        }
        Err(failure) => {
            let known = ["unit", "item", "due_on", "finding", "origin", "period"];
            let entered = forms::refused(&failure, "raise", form.map(), &known);
            let period = form.get("period");
            raise_render(&session, Some(&period), Some(&entered), failure.status).await
        }
    }
}

fn rect_status(lang: Lang, r: &RectificationView) -> &'static str {
    match (r.status, r.overdue) {
        (RectificationStatusView::Closed, _) => lang.t("已销号", "closed"),
        (_, true) => lang.t("已逾期", "overdue"),
        (RectificationStatusView::Submitted, _) => lang.t("已提交待验证", "submitted"),
        (RectificationStatusView::Open, _) => lang.t("整改中", "open"),
    }
}

/// `GET /rectifications/{rectification}`: one rectification and the forms open to the role.
pub async fn rectification_page(
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, Failure> {
    rectification_render(&session, &id, None, q.done.as_deref(), StatusCode::OK).await
}

async fn rectification_render(
    session: &Session,
    id: &str,
    entered: Option<&Entered>,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let r: RectificationView = session
        .get(&format!("/api/v1/rectifications/{}", seg(id)))
        .await?;
    let people = super::names::people(session).await;
    let names = super::standings::unit_names(session).await?;
    let unit_name = names
        .get(&r.unit)
        .cloned()
        .unwrap_or_else(|| r.unit.to_string());
    let role = session.role();
    let base = format!("/rectifications/{}", seg(id));
    let may_submit =
        !matches!(role, Role::Auditor) && matches!(r.status, RectificationStatusView::Open);
    let may_check =
        role == Role::Reviewer && matches!(r.status, RectificationStatusView::Submitted);
    let body = html! {
        (forms::done_note(lang, done))
        dl.item-facts #rectification data-status=(format!("{:?}", r.status).to_lowercase()) {
            dt { (lang.t("单位", "Unit")) } dd { (unit_name) }
            dt { (lang.t("子项目", "Item")) } dd { a href={ "/periods/" (seg(r.period.as_str())) "/units/" (seg(r.unit.as_str())) "/items/" (seg(r.item.as_str())) } { (r.period) " · " (r.item) } }
            dt { (lang.t("发现的问题", "Finding")) } dd { (r.finding) }
            dt { (lang.t("责任人", "Responsible")) } dd { (people.show(r.responsible.as_str())) }
            dt { (lang.t("整改期限", "Due on")) } dd { (r.due_on) }
            dt { (lang.t("状态", "Status")) } dd #rect-status { (rect_status(lang, &r)) @if r.sent_back > 0 { " · " (lang.t("退回 ", "sent back ")) (r.sent_back) } }
            @if !r.evidence.is_empty() {
                dt { (lang.t("佐证材料", "Evidence")) } dd { @for e in &r.evidence { span.evidence { (e) } " " } }
            }
            @if !r.files.is_empty() {
                dt { (lang.t("佐证文件", "Evidence files")) } dd #rect-files { (super::evidence::cited(lang, &r.files, &people)) }
            }
        }
        @if may_submit {
            form.entry #submit-form method="post" action={ (base) "/submission" } enctype="multipart/form-data" data-ops="submitRectification" novalidate {
                h2 { (lang.t("提交整改结果", "Submit the rectification")) }
                (general(entered, "submission"))
                label for="submit-note" { (lang.t("整改情况 (必填)", "What was done (required)")) }
                textarea #submit-note name="note" rows="3" { (kept(entered, "submission", "note")) }
                (field_error(entered, "submission", "note"))
                label for="submit-evidence" { (lang.t("佐证材料 (每行一项, 如文件编号或存放处)", "Evidence (one reference a line, e.g. a file number or where it is kept)")) }
                textarea #submit-evidence name="evidence" rows="3" { (kept(entered, "submission", "evidence")) }
                (field_error(entered, "submission", "evidence"))
                (super::evidence::field(lang, entered, "submission", "submit-files"))
                button type="submit" { (lang.t("提交", "Submit")) }
            }
        }
        @if may_check {
            form.entry #verify-form method="post" action={ (base) "/verification" } data-ops="verifyRectification" novalidate {
                h2 { (lang.t("验证销号", "Verify and close")) }
                (general(entered, "verification"))
                label for="verify-comment" { (lang.t("验证意见", "Comment")) }
                textarea #verify-comment name="comment" rows="2" { (kept(entered, "verification", "comment")) }
                (field_error(entered, "verification", "comment"))
                button type="submit" { (lang.t("验证通过并销号", "Verify and close")) }
            }
            form.entry #send-back-form method="post" action={ (base) "/send-back" } data-ops="sendBackRectification" novalidate {
                h2 { (lang.t("退回重新整改", "Send back")) }
                (general(entered, "send-back"))
                label for="send-back-comment" { (lang.t("退回理由 (必填)", "Why (required)")) }
                textarea #send-back-comment name="comment" rows="2" { (kept(entered, "send-back", "comment")) }
                (field_error(entered, "send-back", "comment"))
                label for="send-back-due" { (lang.t("新的整改期限 (可不填)", "New due date (optional)")) }
                input #send-back-due type="date" name="due_on" value=(kept(entered, "send-back", "due_on"));
                (field_error(entered, "send-back", "due_on"))
                button type="submit" { (lang.t("退回", "Send back")) }
            }
        }
    };
    let title = format!("{} · {}", lang.t("整改", "Rectification"), r.item);
    let mut response = layout::page(session, Nav::ClosedLoop, &title, body);
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /rectifications/{rectification}/{submission|verification|send-back}`.
pub async fn act(
    State(console): State<Console>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
    request: Request,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let mut posted = super::evidence::read(&session, console.evidence, request).await?;
    let form = posted.form.clone();
    let request: Value = match action.as_str() {
        "submission" => json!({
            "note": form.get("note"),
            "evidence": form.lines("evidence"),
            "files": posted.files(),
        }),
        "verification" => json!({"comment": form.get("comment")}),
        "send-back" => json!({"comment": form.get("comment"), "due_on": form.opt("due_on")}),
        other => {
            return Err(Failure::not_found(
                lang,
                format!(
                    "{} {other}",
                    lang.t("没有此操作:", "There is no such action:")
                ),
            ));
        }
    };
    let uri = format!("/api/v1/rectifications/{}/{action}", seg(&id));
    match posted
        .send::<Recorded>(&session, Method::POST, &uri, &request, None)
        .await?
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/rectifications/{}?done={action}", seg(&id))).into_response(),
        ),
        Err(failure) => {
            let known = ["note", "evidence", "comment", "due_on", "files"];
            let fields: BTreeMap<String, String> = posted.fields();
            let entered = forms::refused(&failure, &action, fields, &known);
            rectification_render(&session, &id, Some(&entered), None, failure.status).await
        }
    }
}
