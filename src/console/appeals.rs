//! Appeals (申诉): every appeal the role may see; a reviewer decides pending ones here (uphold with a
//! revised score, or dismiss), with the API's messages next to the fields on a refusal.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ledger_schemas::envelope::Role;
use maud::html;
use serde_json::{Value, json};

use super::client::{Failure, Session};
use super::format::seg;
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::sheet::{Entered, spread};
use crate::http::views::{AppealList, AppealStatusView, AppealView};

fn status(lang: Lang, s: AppealStatusView) -> &'static str {
    match s {
        AppealStatusView::Pending => super::i18n::appeal_pending(lang),
        AppealStatusView::Upheld => super::i18n::appeal_upheld(lang),
        AppealStatusView::Dismissed => super::i18n::appeal_dismissed(lang),
    }
}

/// `GET /appeals`.
pub async fn page(session: Session) -> Result<Response, Failure> {
    render(&session, None, None, StatusCode::OK).await
}

async fn render(
    session: &Session,
    appeal: Option<&str>,
    entered: Option<&Entered>,
    status_code: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let list: AppealList = session.get("/api/v1/appeals").await?;
    let people = super::names::people(session).await;
    let units = super::names::units(session).await?;
    let mine = |id: &str, name: &str| {
        entered
            .filter(|_| appeal == Some(id))
            .and_then(|e| e.fields.get(name).cloned())
            .unwrap_or_default()
    };
    let error = |id: &str, field: &str| {
        entered
            .filter(|_| appeal == Some(id))
            .and_then(|e| e.errors.get(field).cloned())
    };
    let body = html! {
        @if session.role() == Role::Unit {
            p { a.button #file-appeal href="/appeals/new" { (lang.t("提出申诉", "File an appeal")) } }
        }
        @if list.appeals.is_empty() {
            p.empty { (lang.t("没有申诉.", "No appeals.")) }
        }
        @for a in &list.appeals {
            @let id = a.appeal.as_str();
            section.appeal data-appeal=(id) {
                h2 { (units.show(a.unit.as_str())) @if let Some(i) = &a.item { " · " (i) } " · " (a.period) " · " span.status { (status(lang, a.status)) } small { " " (id) } }
                p { (lang.t("申诉人 ", "Filed by ")) (people.show(a.filed_by.as_str())) ": " (a.grounds) }
                (super::evidence::cited(lang, &a.files, &people))
                @if let Some(d) = &a.decision { p.decision { (lang.t("决定: ", "Decision: ")) (d) } }
                @if session.role() == Role::Reviewer && matches!(a.status, AppealStatusView::Pending) {
                    form.entry method="post" action={ "/appeals/" (seg(id)) "/decision" } data-ops="decideAppeal" novalidate {
                        @if let Some(e) = entered.filter(|e| appeal == Some(id) && !e.general.is_empty()) {
                            div.form-error role="alert" { @for m in &e.general { p { (m) } } }
                        }
                        label { (lang.t("结论", "Outcome"))
                            select name="outcome" {
                                option value="dismissed" { (lang.t("驳回", "dismiss")) }
                                option value="upheld" selected[mine(id, "outcome") == "upheld"] { (lang.t("申诉成立 (修订得分)", "uphold")) }
                            }
                        }
                        label { (lang.t("决定及理由 (必填)", "Decision and reasons (required)"))
                            textarea name="decision" rows="2" { (mine(id, "decision")) } }
                        @if let Some(m) = error(id, "decision") { p.field-error data-field="decision" { (m) } }
                        @if a.item.is_some() {
                            label { (lang.t("支持时的修订得分 (定量项填分值, 定性项填等级代码)", "Revised score when upheld (points, or a level code)"))
                                input name="revised" value=(mine(id, "revised")); }
                            @if let Some(m) = error(id, "revised").or_else(|| error(id, "value")) { p.field-error data-field="revised" { (m) } }
                        }
                        button type="submit" { (lang.t("提交决定", "Decide")) }
                    }
                }
            }
        }
    };
    let mut response = layout::page(session, Nav::Appeals, lang.t("申诉", "Appeals"), body);
    *response.status_mut() = status_code;
    Ok(response)
}

/// `POST /appeals/{appeal}/decision`.
pub async fn decide(
    session: Session,
    Path(appeal): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let fields: BTreeMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .map_err(|e| {
                Failure::bad_request(
                    lang,
                    "body",
                    format!("表单无法读取 (the form cannot be read): {e}"),
                )
            })?
            .into_iter()
            .collect();
    let get = |name: &str| {
        fields
            .get(name)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let mut request = json!({"outcome": get("outcome"), "decision": get("decision")});
    let revised = get("revised");
    if get("outcome") == "upheld" && !revised.is_empty() {
        let appealed: AppealView = session
            .get(&format!("/api/v1/appeals/{}", seg(&appeal)))
            .await?;
        if let Some(item) = appealed.item {
            // A number is points; anything else a ladder level.
            let value: Value = if revised.parse::<f64>().is_ok() {
                json!({"kind": "points", "points": revised})
            } else {
                json!({"kind": "level", "level": revised})
            };
            request["revised"] = json!({"item": item, "value": value});
        }
    }
    let uri = format!("/api/v1/appeals/{}/decision", seg(&appeal));
    match session.send(Method::POST, &uri, &request, None).await {
        Ok(()) => Ok(Redirect::to("/appeals").into_response()),
        Err(failure) if failure.status.is_client_error() => {
            let (errors, general) = spread(&failure, &["decision", "revised", "value", "outcome"]);
            let entered = Entered {
                action: "decision".into(),
                fields,
                errors,
                general,
            };
            render(&session, Some(&appeal), Some(&entered), failure.status).await
        }
        Err(failure) => Err(failure),
    }
}
