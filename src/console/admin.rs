//! The assessment office's forms: periods (open, move a stage on, publish, reopen, move to a rubric
//! version), business results (a grid of a period's units; assessors enter them too), units,
//! people and their roles, tokens (the secret shown once, with a copy button), rubric adjustments.
//!
//! Each form posts here; the console sends the API's request and, on a refusal, shows the page again
//! with the API's messages next to the fields it names. A page's forms are told apart by a `form`
//! field (`open`, `advance:2026Q4`, …) so only the refused one shows its messages.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ledger_schemas::envelope::Role;
use ledger_schemas::values::{Points, Stage};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::client::{Failure, Session};
use super::format::seg;
use super::forms::{self, Form, field_error, general, kept};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::sheet::Entered;
use crate::http::views::{
    BusinessResultList, IssuedTokenView, PeriodList, PeriodView, PersonList, Recorded, RubricList,
    TokenList, UnitList,
};

#[derive(Debug, Default, serde::Deserialize)]
pub struct AdminQuery {
    #[serde(default)]
    pub done: Option<String>,
    #[serde(default)]
    pub rubric: Option<String>,
}

fn next_stage(stage: Stage) -> Option<Stage> {
    match stage {
        Stage::Opened => Some(Stage::SelfAssessment),
        Stage::SelfAssessment => Some(Stage::Scoring),
        Stage::Scoring => Some(Stage::Review),
        Stage::Review => Some(Stage::Published),
        Stage::Published => None,
    }
}

fn stage_code(stage: Stage) -> &'static str {
    match stage {
        Stage::Opened => "opened",
        Stage::SelfAssessment => "self_assessment",
        Stage::Scoring => "scoring",
        Stage::Review => "review",
        Stage::Published => "published",
    }
}

fn options(list: &[(String, String)], chosen: &str) -> Markup {
    html! {
        @for (value, label) in list {
            option value=(value) selected[chosen == value] { (label) }
        }
    }
}

fn role_options(lang: Lang) -> Vec<(String, String)> {
    [
        Role::Admin,
        Role::Assessor,
        Role::Reviewer,
        Role::Unit,
        Role::Auditor,
    ]
    .iter()
    .map(|r| {
        (
            r.as_str().to_owned(),
            super::i18n::role(lang, *r).to_owned(),
        )
    })
    .collect()
}

/// What a refused form of the page sent, or nothing.
type Refused<'a> = Option<&'a Entered>;

// ---- periods ----

/// `GET /admin/periods`.
pub async fn periods_page(
    session: Session,
    Query(q): Query<AdminQuery>,
) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Admin])?;
    periods_render(&session, None, q.done.as_deref(), StatusCode::OK).await
}

async fn periods_render(
    session: &Session,
    entered: Refused<'_>,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    let rubrics: RubricList = session.get("/api/v1/rubrics").await?;
    let units: UnitList = session.get("/api/v1/units").await?;
    let latest = |p: &PeriodView| {
        rubrics
            .rubrics
            .iter()
            .find(|r| r.rubric == p.rubric)
            .map(|r| r.latest_version)
            .unwrap_or(p.rubric_version)
    };
    let rubric_list: Vec<(String, String)> = rubrics
        .rubrics
        .iter()
        .map(|r| {
            (
                r.rubric.to_string(),
                format!("{} (v{})", lang.text(&r.title), r.latest_version),
            )
        })
        .collect();
    let cadences = [
        (
            "quarterly".to_owned(),
            lang.t("季度", "quarterly").to_owned(),
        ),
        ("monthly".to_owned(), lang.t("月度", "monthly").to_owned()),
        ("annual".to_owned(), lang.t("年度", "annual").to_owned()),
    ];
    let chosen_units = entered
        .filter(|e| e.action == "open")
        .map(|e| e.fields.clone());
    let body = html! {
        (forms::done_note(lang, done))
        div.scroll {
            table #periods {
                thead { tr {
                    th { (lang.t("考核周期", "Period")) } th { (lang.t("阶段", "Stage")) }
                    th { (lang.t("细则版本", "Rubric version")) } th { (lang.t("办理", "Actions")) }
                } }
                tbody {
                    @for p in periods.periods.iter().rev() {
                        @let id = p.period.as_str();
                        @let rev = p.revision.map(|r| r.to_string()).unwrap_or_default();
                        tr data-period=(id) {
                            td { (p.name) br; small { (id) " · " (p.starts_on) " – " (p.ends_on) } }
                            td.stage { (super::i18n::stage(lang, p.stage)) @if p.reopenings > 0 { " · " (lang.t("重开 ", "reopened ")) (p.reopenings) } }
                            td { "v" (p.rubric_version) }
                            td.actions {
                                @if let Some(next) = next_stage(p.stage) {
                                    @let key = format!("advance:{id}");
                                    form.inline-entry method="post" action="/admin/periods" data-ops="advanceStage" {
                                        input type="hidden" name="form" value=(key);
                                        input type="hidden" name="period" value=(id);
                                        input type="hidden" name="revision" value=(rev);
                                        input type="hidden" name="to" value=(stage_code(next));
                                        (general(entered, &key))
                                        button type="submit" data-to=(stage_code(next)) {
                                            @if next == Stage::Published { (lang.t("公示", "Publish")) }
                                            @else { (lang.t("进入: ", "Move to: ")) (super::i18n::stage(lang, next)) }
                                        }
                                    }
                                }
                                @if p.stage == Stage::Published {
                                    @let key = format!("reopen:{id}");
                                    form.inline-entry method="post" action="/admin/periods" data-ops="reopenPeriod" novalidate {
                                        input type="hidden" name="form" value=(key);
                                        input type="hidden" name="period" value=(id);
                                        input type="hidden" name="revision" value=(rev);
                                        (general(entered, &key))
                                        select name="to" aria-label=(lang.t("重开到", "Reopen to")) {
                                            option value="review" { (super::i18n::stage(lang, Stage::Review)) }
                                            option value="scoring" selected[kept(entered, &key, "to") == "scoring"] { (super::i18n::stage(lang, Stage::Scoring)) }
                                        }
                                        input name="reason" placeholder=(lang.t("重开理由 (必填)", "Why (required)")) value=(kept(entered, &key, "reason"));
                                        (field_error(entered, &key, "reason"))
                                        button type="submit" { (lang.t("重开", "Reopen")) }
                                    }
                                } @else if latest(p) > p.rubric_version {
                                    @let key = format!("move:{id}");
                                    form.inline-entry method="post" action="/admin/periods" data-ops="movePeriodRubric" novalidate {
                                        input type="hidden" name="form" value=(key);
                                        input type="hidden" name="period" value=(id);
                                        input type="hidden" name="revision" value=(rev);
                                        (general(entered, &key))
                                        select name="to_version" aria-label=(lang.t("改用细则版本", "Move to version")) {
                                            @for v in (p.rubric_version + 1)..=latest(p) { option value=(v) { "v" (v) } }
                                        }
                                        input name="reason" placeholder=(lang.t("改版理由 (必填)", "Why (required)")) value=(kept(entered, &key, "reason"));
                                        (field_error(entered, &key, "reason"))
                                        (field_error(entered, &key, "to_version"))
                                        button type="submit" { (lang.t("改用新版细则", "Move to the version")) }
                                    }
                                }
                                a href={ "/periods/" (seg(id)) "/business" } { (lang.t("经营业绩", "Business results")) }
                            }
                        }
                    }
                }
            }
        }
        form.entry #open-form method="post" action="/admin/periods" data-ops="openPeriod" novalidate {
            h2 { (lang.t("开启考核周期", "Open a period")) }
            input type="hidden" name="form" value="open";
            (general(entered, "open"))
            label for="open-period" { (lang.t("周期代码 (如 2027Q1)", "Period code (e.g. 2027Q1)")) }
            input #open-period name="period" value=(kept(entered, "open", "period"));
            (field_error(entered, "open", "period"))
            label for="open-name" { (lang.t("名称", "Name")) }
            input #open-name name="name" value=(kept(entered, "open", "name"));
            (field_error(entered, "open", "name"))
            label for="open-cadence" { (lang.t("周期类型", "Cadence")) }
            select #open-cadence name="cadence" { (options(&cadences, &kept(entered, "open", "cadence"))) }
            label for="open-starts" { (lang.t("开始日期", "Starts on")) }
            input #open-starts type="date" name="starts_on" value=(kept(entered, "open", "starts_on"));
            (field_error(entered, "open", "starts_on"))
            label for="open-ends" { (lang.t("结束日期", "Ends on")) }
            input #open-ends type="date" name="ends_on" value=(kept(entered, "open", "ends_on"));
            (field_error(entered, "open", "ends_on"))
            label for="open-rubric" { (lang.t("评分细则", "Rubric")) }
            select #open-rubric name="rubric" { (options(&rubric_list, &kept(entered, "open", "rubric"))) }
            (field_error(entered, "open", "rubric"))
            label for="open-version" { (lang.t("细则版本 (不填为最新版)", "Rubric version (empty: the latest)")) }
            input #open-version name="rubric_version" inputmode="numeric" value=(kept(entered, "open", "rubric_version"));
            (field_error(entered, "open", "rubric_version"))
            fieldset #open-units {
                legend { (lang.t("参加考核的单位", "Units assessed")) }
                @for u in &units.units {
                    label.check {
                        input type="checkbox" name="units" value=(u.unit)
                            checked[chosen_units.as_ref().is_none_or(|f| f.get("units").is_some_and(|list| list.split(' ').any(|x| x == u.unit.as_str())))];
                        " " (u.name)
                    }
                }
            }
            (field_error(entered, "open", "units"))
            button type="submit" { (lang.t("开启", "Open")) }
        }
    };
    let mut response = layout::page(session, Nav::Work, lang.t("考核周期管理", "Periods"), body);
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /admin/periods`.
pub async fn periods_submit(session: Session, body: Bytes) -> Result<Response, Failure> {
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let key = form.get("form");
    let period = form.get("period");
    let revision = form.get("revision").parse::<u64>().ok();
    let at = format!("/api/v1/periods/{}", seg(&period));
    let (uri, request, if_match) = match key.split(':').next().unwrap_or("") {
        "open" => {
            let version: Value = match form.get("rubric_version") {
                v if v.is_empty() => {
                    let rubrics: RubricList = session.get("/api/v1/rubrics").await?;
                    rubrics
                        .rubrics
                        .iter()
                        .find(|r| r.rubric.as_str() == form.get("rubric"))
                        .map(|r| json!(r.latest_version))
                        .unwrap_or(Value::Null)
                }
                v => Value::String(v),
            };
            let request = json!({
                "period": period, "name": form.get("name"), "cadence": form.get("cadence"),
                "starts_on": form.get("starts_on"), "ends_on": form.get("ends_on"),
                "rubric": form.get("rubric"), "rubric_version": version, "units": form.all("units"),
            });
            ("/api/v1/periods".to_owned(), request, None)
        }
        "advance" => (
            format!("{at}/stage"),
            json!({"to": form.get("to")}),
            revision,
        ),
        "reopen" => (
            format!("{at}/reopening"),
            json!({"to": form.get("to"), "reason": form.get("reason")}),
            revision,
        ),
        "move" => (
            format!("{at}/rubric-version"),
            json!({"to_version": form.get("to_version"), "reason": form.get("reason")}),
            revision,
        ),
        other => {
            return Err(Failure::bad_request(
                lang,
                "form",
                format!(
                    "{} {other:?}",
                    lang.t("没有此表单:", "There is no such form:")
                ),
            ));
        }
    };
    match forms::send::<Recorded>(&session, Method::POST, &uri, &request, if_match).await? {
        Ok(_) => Ok(Redirect::to(&format!("/admin/periods?done={}", seg(&key))).into_response()),
        Err(failure) => {
            let mut fields = form.map();
            if !form.all("units").is_empty() {
                fields.insert("units".into(), form.all("units").join(" "));
            }
            let known = [
                "period",
                "name",
                "cadence",
                "starts_on",
                "ends_on",
                "rubric",
                "rubric_version",
                "units",
                "reason",
                "to_version",
            ];
            let entered = forms::refused(&failure, &key, fields, &known);
            periods_render(&session, Some(&entered), None, failure.status).await
        }
    }
}

// ---- business results ----

/// `GET /periods/{period}/business`: a period's business results, one row a unit.
pub async fn business_page(
    session: Session,
    Path(period): Path<String>,
    Query(q): Query<AdminQuery>,
) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Admin, Role::Assessor])?;
    business_render(
        &session,
        &period,
        &BTreeMap::new(),
        0,
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

async fn business_render(
    session: &Session,
    period: &str,
    refused: &BTreeMap<String, Entered>,
    recorded: usize,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let list: BusinessResultList = session
        .get(&format!("/api/v1/periods/{}/business-results", seg(period)))
        .await?;
    let names = super::standings::unit_names(session).await?;
    let mine =
        |u: &ledger_schemas::ids::UnitId| session.me.units.as_ref().is_none_or(|m| m.contains(u));
    let body = html! {
        (forms::done_note(lang, done))
        @if !refused.is_empty() {
            div.form-error #grid-summary role="alert" data-recorded=(recorded) data-refused=(refused.len()) {
                p { (lang.t("已记录 ", "Recorded: ")) (recorded) (lang.t(" 项; 未记录 ", "; not recorded: ")) (refused.len())
                    (lang.t(" 项, 原因见各行.", ", see the message on each row.")) }
            }
        }
        p.hint { (lang.t("经营业绩 0–100 分. 修改已录结果须写理由. 只提交有改动的行.", "Business results are 0–100. Changing a recorded result needs a reason. Only changed rows are sent.")) }
        p { a #business-import-link href=(super::import::business_import_href(period)) { (lang.t("从 Excel 或 CSV 文件导入", "Import from an Excel or CSV file")) } }
        form.grid #business-grid method="post" action={ "/periods/" (seg(period)) "/business" } data-ops="recordBusinessResult" novalidate {
            div.scroll {
                table.grid {
                    thead { tr {
                        th { (lang.t("单位", "Unit")) } th { (lang.t("得分", "Score")) } th { (lang.t("否决", "Vetoed")) }
                        th { (lang.t("依据 (如经营目标责任书条款)", "Source (e.g. the contract clause)")) } th { (lang.t("修改理由", "Reason for a change")) }
                    } }
                    tbody {
                        @for u in list.units.iter().filter(|u| mine(&u.unit)) {
                            @let id = u.unit.as_str();
                            @let e = refused.get(id);
                            @let val = |f: &str, now: String| e.and_then(|e| e.fields.get(f).cloned()).unwrap_or(now);
                            @let r = u.result.as_ref();
                            tr data-unit=(id) class=[e.map(|_| "refused")] {
                                td { (names.get(&u.unit).cloned().unwrap_or_else(|| id.to_owned())) }
                                td.entry {
                                    input.num name={ (id) "/score" } inputmode="decimal" size="6" aria-label=(lang.t("得分", "score"))
                                        value=(val("score", r.map(|r| r.score.to_string()).unwrap_or_default()));
                                    @if let Some(e) = e {
                                        @for m in &e.general { p.field-error data-field="row" { (m) } }
                                        @for (f, m) in &e.errors { p.field-error data-field=(f) { (m) } }
                                    }
                                }
                                td { input type="checkbox" name={ (id) "/vetoed" } value="true" aria-label=(lang.t("否决", "vetoed"))
                                        checked[e.map(|e| e.fields.contains_key("vetoed")).unwrap_or(r.is_some_and(|r| r.vetoed))]; }
                                td { input name={ (id) "/source" } aria-label=(lang.t("依据", "source")) value=(val("source", r.map(|r| r.source.clone()).unwrap_or_default())); }
                                td { @if r.is_some() { input name={ (id) "/reason" } aria-label=(lang.t("修改理由", "reason")) value=(val("reason", String::new())); } }
                            }
                        }
                    }
                }
            }
            button type="submit" { (lang.t("提交改动", "Submit the changes")) }
        }
    };
    let title = format!("{period} · {}", lang.t("经营业绩", "business results"));
    let mut response = layout::page(session, Nav::Work, &title, body);
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /periods/{period}/business`: one write per changed unit.
pub async fn business_submit(
    session: Session,
    Path(period): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let list: BusinessResultList = session
        .get(&format!(
            "/api/v1/periods/{}/business-results",
            seg(&period)
        ))
        .await?;
    let mut refused = BTreeMap::new();
    let mut recorded = 0;
    let mut status = None;
    for u in &list.units {
        let id = u.unit.as_str();
        let row = form.row(id);
        if row.is_empty() {
            continue;
        }
        let text = |f: &str| row.get(f).map(|s| s.trim().to_owned()).unwrap_or_default();
        let vetoed = text("vetoed") == "true";
        let score = text("score");
        let same = match &u.result {
            None => score.is_empty() && !vetoed && text("source").is_empty(),
            Some(r) => {
                score.parse::<Points>().ok() == Some(r.score)
                    && vetoed == r.vetoed
                    && text("source") == r.source
            }
        };
        if same {
            continue;
        }
        let reason = match text("reason") {
            r if r.is_empty() => Value::Null,
            r => Value::String(r),
        };
        let request =
            json!({"score": score, "vetoed": vetoed, "source": text("source"), "reason": reason});
        let uri = format!(
            "/api/v1/periods/{}/units/{}/business-result",
            seg(&period),
            seg(id)
        );
        match forms::send::<Recorded>(&session, Method::PUT, &uri, &request, None).await? {
            Ok(_) => recorded += 1,
            Err(failure) => {
                status.get_or_insert(failure.status);
                refused.insert(
                    id.to_owned(),
                    forms::refused(
                        &failure,
                        id,
                        row.clone(),
                        &["score", "vetoed", "source", "reason"],
                    ),
                );
            }
        }
    }
    match status {
        None => Ok(Redirect::to(&format!(
            "/periods/{}/business?done={recorded}",
            seg(&period)
        ))
        .into_response()),
        Some(status) => business_render(&session, &period, &refused, recorded, None, status).await,
    }
}

// ---- units, people, roles ----

/// `GET /admin/people`.
pub async fn people_page(
    session: Session,
    Query(q): Query<AdminQuery>,
) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Admin])?;
    people_render(&session, None, q.done.as_deref(), StatusCode::OK).await
}

async fn people_render(
    session: &Session,
    entered: Refused<'_>,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let units: UnitList = session.get("/api/v1/units").await?;
    let people: PersonList = session.get("/api/v1/people").await?;
    let unit_list: Vec<(String, String)> = units
        .units
        .iter()
        .map(|u| (u.unit.to_string(), u.name.clone()))
        .collect();
    let unit_name = |id: &str| {
        unit_list
            .iter()
            .find(|(u, _)| u == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let person_list: Vec<(String, String)> = people
        .people
        .iter()
        .map(|p| (p.person.to_string(), p.name.clone()))
        .collect();
    let kinds = [
        ("branch".to_owned(), lang.t("党支部", "branch").to_owned()),
        ("company".to_owned(), lang.t("公司", "company").to_owned()),
    ];
    let roles = role_options(lang);
    let body = html! {
        (forms::done_note(lang, done))
        h2 { (lang.t("人员", "People")) }
        div.scroll {
            table #people {
                thead { tr { th { (lang.t("姓名", "Name")) } th { (lang.t("所属单位", "Unit")) } th { (lang.t("角色", "Roles")) } } }
                tbody {
                    @for p in &people.people {
                        tr data-person=(p.person) {
                            td { (p.name) br; small { (p.person) } }
                            td { @if let Some(u) = &p.unit { (unit_name(u.as_str())) } }
                            td { @for g in &p.roles {
                                span.tag { (super::i18n::role(lang, g.role))
                                    @if !g.units.is_empty() { ": " (g.units.iter().map(|u| unit_name(u.as_str())).collect::<Vec<_>>().join(lang.t("、", ", "))) } }
                            } }
                        }
                    }
                }
            }
        }
        div.forms {
            form.entry #person-form method="post" action="/admin/people" data-ops="registerPerson" novalidate {
                h2 { (lang.t("登记人员", "Register a person")) }
                input type="hidden" name="form" value="person";
                (general(entered, "person"))
                label for="person-id" { (lang.t("人员代码 (如 ", "Person code (e.g. ")) code { "zhang-wei" } ")" }
                input #person-id name="person" value=(kept(entered, "person", "person"));
                (field_error(entered, "person", "person"))
                label for="person-name" { (lang.t("姓名", "Name")) }
                input #person-name name="name" value=(kept(entered, "person", "name"));
                (field_error(entered, "person", "name"))
                label for="person-unit" { (lang.t("所属单位", "Unit")) }
                select #person-unit name="unit" { option value="" { "—" } (options(&unit_list, &kept(entered, "person", "unit"))) }
                button type="submit" { (lang.t("登记", "Register")) }
            }
            form.entry #grant-form method="post" action="/admin/people" data-ops="grantRole" novalidate {
                h2 { (lang.t("授予角色", "Grant a role")) }
                input type="hidden" name="form" value="grant";
                (general(entered, "grant"))
                label for="grant-person" { (lang.t("人员", "Person")) }
                select #grant-person name="person" { (options(&person_list, &kept(entered, "grant", "person"))) }
                label for="grant-role" { (lang.t("角色", "Role")) }
                select #grant-role name="role" { (options(&roles, &kept(entered, "grant", "role"))) }
                fieldset {
                    legend { (lang.t("负责的单位 (考评人员、单位填报人必选)", "Units covered (assessors and unit secretaries)")) }
                    @for (id, name) in &unit_list { label.check { input type="checkbox" name="units" value=(id); " " (name) } }
                }
                (field_error(entered, "grant", "units"))
                label for="grant-reason" { (lang.t("说明", "Note")) }
                input #grant-reason name="reason" value=(kept(entered, "grant", "reason"));
                button type="submit" { (lang.t("授予", "Grant")) }
            }
            form.entry #revoke-role-form method="post" action="/admin/people" data-ops="revokeRole" novalidate {
                h2 { (lang.t("撤销角色", "Revoke a role")) }
                input type="hidden" name="form" value="revoke";
                (general(entered, "revoke"))
                label for="revoke-person" { (lang.t("人员", "Person")) }
                select #revoke-person name="person" { (options(&person_list, &kept(entered, "revoke", "person"))) }
                label for="revoke-role" { (lang.t("角色", "Role")) }
                select #revoke-role name="role" { (options(&roles, &kept(entered, "revoke", "role"))) }
                label for="revoke-reason" { (lang.t("说明", "Note")) }
                input #revoke-reason name="reason" value=(kept(entered, "revoke", "reason"));
                button type="submit" { (lang.t("撤销", "Revoke")) }
            }
        }
        h2 { (lang.t("单位", "Units")) }
        div.forms {
            form.entry #unit-form method="post" action="/admin/people" data-ops="registerUnit" novalidate {
                h2 { (lang.t("登记单位", "Register a unit")) }
                input type="hidden" name="form" value="unit";
                (general(entered, "unit"))
                label for="unit-id" { (lang.t("单位代码 (如 SH-NY-B3)", "Unit code (e.g. SH-NY-B3)")) }
                input #unit-id name="unit" value=(kept(entered, "unit", "unit"));
                (field_error(entered, "unit", "unit"))
                label for="unit-name" { (lang.t("名称", "Name")) }
                input #unit-name name="name" value=(kept(entered, "unit", "name"));
                (field_error(entered, "unit", "name"))
                label for="unit-kind" { (lang.t("类型", "Kind")) }
                select #unit-kind name="kind" { (options(&kinds, &kept(entered, "unit", "kind"))) }
                label for="unit-parent" { (lang.t("上级单位", "Parent unit")) }
                select #unit-parent name="parent" { option value="" { "—" } (options(&unit_list, &kept(entered, "unit", "parent"))) }
                (field_error(entered, "unit", "parent"))
                button type="submit" { (lang.t("登记", "Register")) }
            }
            form.entry #rename-form method="post" action="/admin/people" data-ops="updateUnit" novalidate {
                h2 { (lang.t("修改单位", "Change a unit")) }
                input type="hidden" name="form" value="rename";
                (general(entered, "rename"))
                label for="rename-unit" { (lang.t("单位", "Unit")) }
                select #rename-unit name="unit" { (options(&unit_list, &kept(entered, "rename", "unit"))) }
                label for="rename-name" { (lang.t("新名称", "New name")) }
                input #rename-name name="name" value=(kept(entered, "rename", "name"));
                (field_error(entered, "rename", "name"))
                label for="rename-parent" { (lang.t("上级单位", "Parent unit")) }
                select #rename-parent name="parent" { option value="" { "—" } (options(&unit_list, &kept(entered, "rename", "parent"))) }
                (field_error(entered, "rename", "parent"))
                label for="rename-reason" { (lang.t("说明", "Note")) }
                input #rename-reason name="reason" value=(kept(entered, "rename", "reason"));
                button type="submit" { (lang.t("保存", "Save")) }
            }
        }
    };
    let mut response = layout::page(
        session,
        Nav::Work,
        lang.t("单位与人员", "Units and people"),
        body,
    );
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /admin/people`.
pub async fn people_submit(session: Session, body: Bytes) -> Result<Response, Failure> {
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let key = form.get("form");
    let person = seg(&form.get("person"));
    let role = seg(&form.get("role"));
    let (method, uri, request) = match key.as_str() {
        "person" => (
            Method::POST,
            "/api/v1/people".to_owned(),
            json!({"person": form.get("person"), "name": form.get("name"), "unit": form.opt("unit")}),
        ),
        "grant" => (
            Method::PUT,
            format!("/api/v1/people/{person}/roles/{role}"),
            json!({"units": form.all("units"), "reason": form.opt("reason")}),
        ),
        "revoke" => (
            Method::POST,
            format!("/api/v1/people/{person}/roles/{role}/revocation"),
            json!({"reason": form.opt("reason")}),
        ),
        "unit" => (
            Method::POST,
            "/api/v1/units".to_owned(),
            json!({"unit": form.get("unit"), "name": form.get("name"), "kind": form.get("kind"), "parent": form.opt("parent")}),
        ),
        "rename" => (
            Method::PUT,
            format!("/api/v1/units/{}", seg(&form.get("unit"))),
            json!({"name": form.get("name"), "parent": form.opt("parent"), "reason": form.opt("reason")}),
        ),
        other => {
            return Err(Failure::bad_request(
                lang,
                "form",
                format!(
                    "{} {other:?}",
                    lang.t("没有此表单:", "There is no such form:")
                ),
            ));
        }
    };
    match forms::send::<Recorded>(&session, method, &uri, &request, None).await? {
        Ok(_) => Ok(Redirect::to(&format!("/admin/people?done={key}")).into_response()),
        Err(failure) => {
            let known = [
                "person", "name", "unit", "units", "kind", "parent", "reason", "role",
            ];
            let entered = forms::refused(&failure, &key, form.map(), &known);
            people_render(&session, Some(&entered), None, failure.status).await
        }
    }
}

// ---- tokens ----

/// `GET /admin/tokens`.
pub async fn tokens_page(
    session: Session,
    Query(q): Query<AdminQuery>,
) -> Result<Response, Failure> {
    // The auditor reads the list (the API lets it); only the admin gets the forms.
    forms::only(&session, &[Role::Admin, Role::Auditor])?;
    tokens_render(&session, None, None, q.done.as_deref(), StatusCode::OK).await
}

async fn tokens_render(
    session: &Session,
    entered: Refused<'_>,
    issued: Option<&IssuedTokenView>,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let tokens: TokenList = session.get("/api/v1/tokens").await?;
    let people: PersonList = session.get("/api/v1/people").await?;
    let name = |id: &str| {
        people
            .people
            .iter()
            .find(|p| p.person.as_str() == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let person_list: Vec<(String, String)> = people
        .people
        .iter()
        .map(|p| (p.person.to_string(), p.name.clone()))
        .collect();
    let body = html! {
        (forms::done_note(lang, done))
        @if let Some(t) = issued {
            section.issued #issued {
                h2 { (lang.t("新令牌 (只显示这一次, 请立即复制并交给本人)", "New token (shown this once: copy it now and hand it over)")) }
                p { (name(t.person.as_str())) " · " (super::i18n::role(lang, t.role)) }
                p { code #new-token { (t.bearer) } " " button type="button" data-copy="new-token" { (lang.t("复制", "Copy")) } }
            }
        }
        div.scroll {
            table #tokens {
                thead { tr { th { (lang.t("人员", "Person")) } th { (lang.t("角色", "Role")) } th { (lang.t("有效期至", "Expires")) } th { (lang.t("状态", "Status")) } } }
                tbody {
                    @for t in &tokens.tokens {
                        tr data-token=(t.token) {
                            td { (name(t.person.as_str())) }
                            td { (super::i18n::role(lang, t.role)) }
                            td { @if let Some(e) = &t.expires_at { (super::format::time(e)) } @else { (lang.t("长期", "never")) } }
                            td {
                                @if t.revoked { (lang.t("已撤销", "revoked")) }
                                @else if session.role() == Role::Admin {
                                    form.inline method="post" action="/admin/tokens" data-ops="revokeToken" {
                                        input type="hidden" name="form" value="revoke";
                                        input type="hidden" name="token" value=(t.token);
                                        button type="submit" { (lang.t("撤销", "Revoke")) }
                                    }
                                } @else { (lang.t("有效", "valid")) }
                            }
                        }
                    }
                }
            }
        }
        (general(entered, "revoke"))
        @if session.role() == Role::Admin {
            form.entry #token-form method="post" action="/admin/tokens" data-ops="issueToken" novalidate {
                h2 { (lang.t("发放令牌", "Issue a token")) }
                input type="hidden" name="form" value="issue";
                (general(entered, "issue"))
                label for="token-person" { (lang.t("人员", "Person")) }
                select #token-person name="person" { (options(&person_list, &kept(entered, "issue", "person"))) }
                (field_error(entered, "issue", "person"))
                label for="token-role" { (lang.t("角色 (须为本人已有角色)", "Role (one the person holds)")) }
                select #token-role name="role" { (options(&role_options(lang), &kept(entered, "issue", "role"))) }
                (field_error(entered, "issue", "role"))
                label for="token-expires" { (lang.t("有效期至 (北京时间, 不填为长期)", "Expires (Beijing time; empty: never)")) }
                (super::format::time_field(lang, "token-expires", "expires_at", Some(&kept(entered, "issue", "expires_at"))))
                (field_error(entered, "issue", "expires_at"))
                button type="submit" { (lang.t("发放", "Issue")) }
            }
        }
    };
    let mut response = layout::page(session, Nav::Work, lang.t("访问令牌", "Tokens"), body);
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /admin/tokens`: issue (the page shows the secret once, never redirected to) or revoke.
pub async fn tokens_submit(session: Session, body: Bytes) -> Result<Response, Failure> {
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let key = form.get("form");
    match key.as_str() {
        "issue" => {
            let expires = match form.get("expires_at") {
                e if e.is_empty() => Value::Null,
                e => match super::format::parse_time_input(&e) {
                    Some(t) => json!(t.to_rfc3339()),
                    // Sent as typed, so the API names the field and says why.
                    None => Value::String(e),
                },
            };
            let request = json!({"person": form.get("person"), "role": form.get("role"), "expires_at": expires});
            match forms::send::<IssuedTokenView>(
                &session,
                Method::POST,
                "/api/v1/tokens",
                &request,
                None,
            )
            .await?
            {
                Ok(issued) => {
                    tokens_render(&session, None, Some(&issued), None, StatusCode::CREATED).await
                }
                Err(failure) => {
                    let entered = forms::refused(
                        &failure,
                        "issue",
                        form.map(),
                        &["person", "role", "expires_at"],
                    );
                    tokens_render(&session, Some(&entered), None, None, failure.status).await
                }
            }
        }
        "revoke" => {
            let uri = format!("/api/v1/tokens/{}/revocation", seg(&form.get("token")));
            match forms::send::<Recorded>(&session, Method::POST, &uri, &json!({}), None).await? {
                Ok(_) => Ok(Redirect::to("/admin/tokens?done=revoke").into_response()),
                Err(failure) => {
                    let entered = forms::refused(&failure, "revoke", form.map(), &[]);
                    tokens_render(&session, Some(&entered), None, None, failure.status).await
                }
            }
        }
        other => Err(Failure::bad_request(
            lang,
            "form",
            format!(
                "{} {other:?}",
                lang.t("没有此表单:", "There is no such form:")
            ),
        )),
    }
}

// ---- rubric adjustments ----

/// What the changes field looks like (the shape of `RubricChange`).
const CHANGES_EXAMPLE: &str = "[{\"change\": \"retitle_aspect\", \"aspect\": \"A\", \"title\": {\"zh\": \"…\", \"en\": \"…\"}}]";

/// `GET /admin/rubric?rubric=`.
pub async fn rubric_page(
    session: Session,
    Query(q): Query<AdminQuery>,
) -> Result<Response, Failure> {
    forms::only(&session, &[Role::Admin])?;
    rubric_render(
        &session,
        q.rubric.as_deref(),
        None,
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

async fn rubric_render(
    session: &Session,
    asked: Option<&str>,
    entered: Refused<'_>,
    done: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let rubrics: RubricList = session.get("/api/v1/rubrics").await?;
    let people: PersonList = session.get("/api/v1/people").await?;
    let chosen = asked
        .and_then(|a| rubrics.rubrics.iter().find(|r| r.rubric.as_str() == a))
        .or_else(|| rubrics.rubrics.first());
    let person_list: Vec<(String, String)> = people
        .people
        .iter()
        .map(|p| (p.person.to_string(), p.name.clone()))
        .collect();
    let key = "adjust";
    let body = html! {
        (forms::done_note(lang, done))
        @match chosen {
            None => { p.empty { (lang.t("还没有评分细则.", "There is no rubric yet.")) } }
            Some(r) => {
                p.meta { (lang.text(&r.title)) " · " (lang.t("最新版本 ", "latest version ")) "v" (r.latest_version)
                    " · " a href={ "/rubrics?rubric=" (seg(r.rubric.as_str())) } { (lang.t("查看细则", "Read the rubric")) } }
                form.entry #adjust-form method="post" action="/admin/rubric" data-ops="adjustRubric" novalidate {
                    h2 { (lang.t("调整评分细则 (生成新版本)", "Adjust the rubric (makes a new version)")) }
                    input type="hidden" name="rubric" value=(r.rubric);
                    input type="hidden" name="from_version" value=(r.latest_version);
                    (general(entered, key))
                    label for="adjust-changes" { (lang.t("调整内容 (格式同细则调整文件), 例如:", "Changes (as in a rubric adjustment file), e.g.:")) }
                    p.hint { code { (CHANGES_EXAMPLE) } }
                    textarea #adjust-changes name="changes" rows="8" { (kept(entered, key, "changes")) }
                    (field_error(entered, key, "changes"))
                    label for="adjust-approver" { (lang.t("批准人", "Approved by")) }
                    select #adjust-approver name="approver" { (options(&person_list, &kept(entered, key, "approver"))) }
                    (field_error(entered, key, "approver"))
                    label for="adjust-reason" { (lang.t("调整理由 (必填)", "Reason (required)")) }
                    textarea #adjust-reason name="reason" rows="2" { (kept(entered, key, "reason")) }
                    (field_error(entered, key, "reason"))
                    button type="submit" { (lang.t("保存调整", "Save the adjustment")) }
                }
            }
        }
    };
    let mut response = layout::page(
        session,
        Nav::Work,
        lang.t("细则调整", "Rubric adjustments"),
        body,
    );
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /admin/rubric`.
pub async fn rubric_submit(session: Session, body: Bytes) -> Result<Response, Failure> {
    let lang = session.lang;
    let form = Form::parse(lang, &body)?;
    let rubric = form.get("rubric");
    let changes: Value = match serde_json::from_str(&form.get("changes")) {
        Ok(v) => v,
        Err(e) => {
            // Not JSON at all: said at the field, nothing sent.
            let mut entered = Entered {
                action: "adjust".into(),
                fields: form.map(),
                ..Entered::default()
            };
            entered.errors.insert(
                "changes".into(),
                format!(
                    "{}: {e}",
                    lang.t(
                        "调整内容格式有误, 请对照示例",
                        "The changes are not in the file's format; compare with the example"
                    )
                ),
            );
            return rubric_render(
                &session,
                Some(&rubric),
                Some(&entered),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let request = json!({"from_version": form.get("from_version"), "changes": changes,
                         "approver": form.get("approver"), "reason": form.get("reason")});
    let uri = format!("/api/v1/rubrics/{}/adjustments", seg(&rubric));
    match forms::send::<Value>(&session, Method::POST, &uri, &request, None).await? {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/rubric?rubric={}&done=adjust",
            seg(&rubric)
        ))
        .into_response()),
        Err(failure) => {
            let known = ["changes", "approver", "reason", "from_version"];
            let entered = forms::refused(&failure, "adjust", form.map(), &known);
            rubric_render(
                &session,
                Some(&rubric),
                Some(&entered),
                None,
                failure.status,
            )
            .await
        }
    }
}
