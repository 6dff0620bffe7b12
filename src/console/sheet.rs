//! A unit's score sheet, an item's history as a timeline, and the entry forms for assessors
//! (score, correction with its mandatory reason) and reviewers (review).
//!
//! A form posts here; the console turns it into the API's JSON body, sends it with the revision the
//! page was read at (`If-Match`), and on a refusal shows the page again with the API's messages next
//! to the fields it names (`value.points` → the points field, `reason` → the reason field).

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ledger_schemas::envelope::Role;
use ledger_schemas::rubric::{ItemKind, RubricDefinition};
use ledger_schemas::values::ScoreValue;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::client::{Failure, Session};
use super::format::{self, seg};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::standings::{Point, time_control};
use crate::http::views::{
    HistoryView, ItemView, MilestonesView, PeriodView, ReviewAtTimeView, ReviewState,
    RubricVersionView, SheetView,
};

/// The rubric version a sheet is scored against.
pub(super) async fn definition(
    session: &Session,
    rubric: &str,
    version: u32,
) -> Result<RubricDefinition, Failure> {
    let v: RubricVersionView = session
        .get(&format!(
            "/api/v1/rubrics/{}/versions/{version}",
            seg(rubric)
        ))
        .await?;
    Ok(v.definition)
}

fn sheet_uri(period: &str, unit: &str) -> String {
    format!("/periods/{}/units/{}", seg(period), seg(unit))
}

pub(crate) fn review_label(lang: Lang, state: ReviewState) -> &'static str {
    match state {
        ReviewState::Pending => lang.t("待审核", "pending"),
        ReviewState::Approved => lang.t("已通过", "approved"),
        ReviewState::Rejected => lang.t("已退回", "rejected"),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SheetQuery {
    /// A log position: the sheet as it stood after that event (the standings' time travel links here).
    #[serde(default)]
    pub at: Option<String>,
    /// A time typed in the time control (Beijing time).
    #[serde(default)]
    pub time: Option<String>,
}

/// `GET /periods/{period}/units/{unit}?at=&time=`: the sheet now, or as it stood at a point, with
/// the standings' time control (the period's milestones, 按公示时).
pub async fn sheet_page(
    session: Session,
    Path((period, unit)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<SheetQuery>,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let point = Point::asked(lang, q.at.as_deref(), q.time.as_deref())?;
    let base = format!("/api/v1/periods/{}/units/{}", seg(&period), seg(&unit));
    let (now, head): (SheetView, u64) = session.get_at(&base).await?;
    let life: MilestonesView = session
        .get(&format!("/api/v1/periods/{}/milestones", seg(&period)))
        .await?;
    let time_value = q
        .time
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(str::to_owned);
    let (sheet, read_at, at) = match point.api_query() {
        None => (now, head, None),
        Some(query) => match session
            .get_at::<SheetView>(&format!("{base}?{query}"))
            .await
        {
            Ok((then, read_at)) => (then, read_at, Some(read_at)),
            // Before the period was opened there was no sheet: say so, as the standings do, and
            // keep the time control so the reader can move on.
            Err(f) if f.status == axum::http::StatusCode::NOT_FOUND => {
                let title = format!("{} · {}", unit, lang.t("评分表", "score sheet"));
                let body = html! {
                    (time_control(
                        lang,
                        &sheet_uri(&period, &unit),
                        &[],
                        head,
                        match point {
                            Point::Position(at) => at,
                            _ => 0,
                        },
                        time_value,
                        Some(sheet_uri(&period, &unit)),
                        Some(&life),
                    ))
                    p.as-of #not-yet { (lang.t("所选时点该考核周期尚未开启.", "The period had not been opened yet at the point chosen.")) }
                };
                return Ok(layout::page(&session, Nav::Sheet, &title, body));
            }
            Err(f) => return Err(f),
        },
    };
    let def = definition(&session, sheet.rubric.as_str(), sheet.rubric_version).await?;
    let people = super::names::people(&session).await;
    let names = super::standings::unit_names(&session).await?;
    let unit_name = names
        .get(&sheet.unit)
        .cloned()
        .unwrap_or_else(|| unit.clone());
    let items: BTreeMap<_, _> = sheet.items.iter().map(|i| (i.item.clone(), i)).collect();
    let title = format!("{unit_name} · {}", lang.t("评分表", "score sheet"));
    let printed = super::print::title_block(
        &session,
        &title,
        super::print::Printed {
            period: Some((sheet.period.as_str(), sheet.period.as_str())),
            as_of: Some((read_at, None)),
            rubric: Some((sheet.rubric.as_str(), sheet.rubric_version)),
        },
    )
    .await;
    let body = html! {
        (printed)
        p.meta {
            (lang.t("考核周期 ", "Period ")) (sheet.period) " · " (super::i18n::stage(lang, sheet.stage))
            " · " (lang.t("细则版本 ", "rubric version ")) (sheet.rubric_version)
        }
        p { a.button #xlsx href={ (sheet_uri(&period, &unit)) "/sheet.xlsx" @if let Some(at) = at { "?at=" (at) } } { (lang.t("导出 Excel", "Export Excel")) } }
        @if at.is_none() && matches!(session.role(), Role::Assessor | Role::Unit | Role::Reviewer) {
            p { a.button #to-grid href={ (sheet_uri(&period, &unit)) "/grid" } { (lang.t("整表录入", "Whole sheet")) } }
        }
        @if at.is_none() && session.role() == Role::Assessor {
            p.print-hide { a #template-link href=(super::import::template_href(sheet.rubric.as_str(), sheet.rubric_version, Some(sheet.unit.as_str()))) { (lang.t("下载评分表模板 (Excel)", "Download the score-sheet template (Excel)")) }
                " · " a #import-link href={ "/import?period=" (seg(sheet.period.as_str())) } { (lang.t("导入评分表", "Import a score sheet")) } }
        }
        (time_control(
            lang,
            &sheet_uri(&period, &unit),
            &[],
            head,
            read_at,
            time_value,
            at.map(|_| sheet_uri(&period, &unit)),
            Some(&life),
        ))
        @if at.is_some() {
            p.as-of #sheet-as-of data-position=(read_at) {
                (lang.t("显示截至记录序号 ", "As it stood at record ")) strong { (read_at) }
                " · " a href=(sheet_uri(&period, &unit)) { (lang.t("回到现在", "Back to now")) }
            }
        }
        @if let Some(score) = &sheet.score {
            dl.totals #totals {
                dt { (lang.t("基础分", "Base")) } dd.num { (format::points(&score.base.0)) " / " (format::points(&score.base_max.0)) }
                dt { (lang.t("加分", "Bonus")) } dd.num { (format::points(&score.bonus.0)) }
                dt { (lang.t("扣分", "Deduction")) } dd.num { (format::points(&score.deduction.0)) }
                dt { (lang.t("党建得分", "Party score")) } dd.num #party-score { (format::points(&score.party_score.0)) }
                dt { (lang.t("经营得分", "Business score")) } dd.num { (score.business_score.as_ref().map_or_else(|| "—".to_owned(), |f| format::points(&f.0))) }
                dt { (lang.t("综合得分", "Combined")) } dd.num #combined { (score.combined.as_ref().map_or_else(|| "—".to_owned(), |f| format::points(&f.0))) }
                dt { (lang.t("等级", "Grade")) } dd #grade data-grade=(score.grade) {
                    @let label = def.grade_bands.iter().find(|b| b.grade == score.grade).map(|b| lang.text(&b.label));
                    @if !score.complete { span.tag { (lang.t("暂定", "provisional")) } " " }
                    (label.unwrap_or_else(|| score.grade.to_string()))
                }
            }
        }
        @for aspect in &def.aspects {
            @let points = sheet.score.as_ref().and_then(|s| s.aspects.iter().find(|a| a.aspect == aspect.code));
            h2.aspect {
                (aspect.code) " " (lang.text(&aspect.title))
                @if let Some(p) = points { span.points { " " (format::points(&p.points.0)) " / " (format::points(&p.max.to_string())) } }
            }
            table.sheet {
                thead { tr {
                    th { (lang.t("编号", "Item")) } th { (lang.t("考评项目", "Title")) }
                    th { (lang.t("分值", "Worth")) } th { (lang.t("责任人", "Responsible")) }
                    th { (lang.t("得分", "Score")) } th { (lang.t("审核", "Review")) }
                    th { (lang.t("自评", "Self-assessment")) } th { (lang.t("佐证", "Evidence")) }
                } }
                tbody {
                    @for item in &aspect.items {
                        @let view = items.get(&item.code);
                        @let score = view.and_then(|v| v.score.as_ref());
                        tr data-item=(item.code) {
                            td { a href={ (sheet_uri(&period, &unit)) "/items/" (seg(item.code.as_str())) } { (item.code) } }
                            td { (lang.text(&item.title)) }
                            td { (format::kind(lang, &item.kind))
                                @if matches!(item.kind, ItemKind::Ladder { .. }) {
                                    br; small.ladder { @for step in &def.ladder { (lang.text(&step.label)) " " (step.percent) "% " } }
                                }
                            }
                            td { (people.show(item.responsible.as_str())) }
                            td.value { @if let Some(s) = score { (format::value(lang, &s.value, &def.ladder)) } @else { "—" } }
                            td { @if let Some(s) = score { (review_label(lang, s.review.status)) } }
                            td { @if let Some(own) = view.and_then(|v| v.self_assessment.as_ref()) { (format::value(lang, &own.value, &def.ladder)) } }
                            td {
                                @if let Some(own) = view.and_then(|v| v.self_assessment.as_ref()) { @for e in &own.evidence { span.evidence { (e) } " " } (super::evidence::cited(lang, &own.files, &people)) }
                                @if let Some(s) = score { (super::evidence::cited(lang, &s.files, &people)) }
                            }
                        }
                    }
                }
            }
        }
        (super::print::signatures(lang))
    };
    Ok(layout::page(&session, Nav::Sheet, &title, body))
}

/// What a form sent, and the API's messages by form field, to show a refused form again.
#[derive(Debug, Default)]
pub struct Entered {
    pub action: String,
    pub fields: BTreeMap<String, String>,
    pub errors: BTreeMap<String, String>,
    /// Messages that name no field of the form.
    pub general: Vec<String>,
}

impl Entered {
    fn value(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// The form field an API error names: `value.points` → `points`, `evidence[2]` → `evidence`.
pub fn form_field(api_field: &str) -> String {
    let field = api_field.strip_prefix("value.").unwrap_or(api_field);
    let field = field.strip_prefix("revised.value.").unwrap_or(field);
    field.split(['.', '[']).next().unwrap_or(field).to_owned()
}

/// The API's problem spread over a form's fields; what names no field is general.
pub fn spread(failure: &Failure, known: &[&str]) -> (BTreeMap<String, String>, Vec<String>) {
    let mut errors = BTreeMap::new();
    let mut general = Vec::new();
    for e in &failure.problem.errors {
        let field = form_field(&e.field);
        if known.contains(&field.as_str()) {
            errors.insert(field, e.reason.clone());
        } else {
            general.push(e.reason.clone());
        }
    }
    if errors.is_empty() && general.is_empty() {
        general.push(format!(
            "{} — {}",
            failure.problem.title, failure.problem.detail
        ));
    } else if !general.is_empty() || errors.is_empty() {
        general.insert(0, failure.problem.title.clone());
    }
    (errors, general)
}

/// `GET /periods/{period}/units/{unit}/items/{item}`.
/// `GET /periods/{period}/units/{unit}/items/{item}?at=&time=`: the item and its history now, or
/// as they stood at a point (read only), with the standings' time control.
pub async fn item_page(
    session: Session,
    Path((period, unit, item)): Path<(String, String, String)>,
    axum::extract::Query(q): axum::extract::Query<SheetQuery>,
) -> Result<Response, Failure> {
    let point = Point::asked(session.lang, q.at.as_deref(), q.time.as_deref())?;
    let time = q.time.as_deref().filter(|t| !t.trim().is_empty());
    let item_at = ItemAt {
        period: &period,
        unit: &unit,
        item: &item,
        point: &point,
        time,
    };
    render_item(&session, &item_at, None, StatusCode::OK).await
}

/// Which item a page shows, and when.
struct ItemAt<'a> {
    period: &'a str,
    unit: &'a str,
    item: &'a str,
    point: &'a Point,
    /// The time typed, kept in its field.
    time: Option<&'a str>,
}

async fn render_item(
    session: &Session,
    at: &ItemAt<'_>,
    entered: Option<&Entered>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let (period, unit, item) = (at.period, at.unit, at.item);
    let lang = session.lang;
    let api = format!(
        "/api/v1/periods/{}/units/{}/items/{}",
        seg(period),
        seg(unit),
        seg(item)
    );
    let (now, head): (ItemView, u64) = session.get_at(&api).await?;
    let (view, past) = match at.point.api_query() {
        None => (now, None),
        Some(query) => {
            let (then, read_at): (ItemView, u64) =
                session.get_at(&format!("{api}?{query}")).await?;
            (then, Some(read_at))
        }
    };
    let history: HistoryView = match past {
        None => session.get(&format!("{api}/history")).await?,
        Some(p) => {
            session
                .get(&format!("{api}/history?at_position={p}"))
                .await?
        }
    };
    let life: MilestonesView = session
        .get(&format!("/api/v1/periods/{}/milestones", seg(period)))
        .await?;
    let here = format!("{}/items/{}", sheet_uri(period, unit), seg(item));
    // The period names the rubric version the item is scored against (the sheet would too, with
    // all 33 items).
    let scored_on: PeriodView = session
        .get(&format!("/api/v1/periods/{}", seg(period)))
        .await?;
    let def = definition(session, scored_on.rubric.as_str(), scored_on.rubric_version).await?;
    let people = super::names::people(session).await;
    let names = super::standings::unit_names(session).await?;
    let unit_name = names
        .get(&view.unit)
        .cloned()
        .unwrap_or_else(|| unit.to_owned());
    let rubric_item = ledger_projections::rubric::find_item(&def, &view.item).map(|(_, i)| i);
    let title = view
        .title
        .as_ref()
        .map(|t| lang.text(t))
        .unwrap_or_default();
    let printed = super::print::title_block(
        session,
        &format!("{unit_name} · {} {title}", view.item),
        super::print::Printed {
            period: Some((scored_on.name.as_str(), period)),
            as_of: None,
            rubric: Some((scored_on.rubric.as_str(), scored_on.rubric_version)),
        },
    )
    .await;
    let body = html! {
        (printed)
        p.meta {
            a href=(sheet_uri(period, unit)) { (unit_name) " · " (lang.t("评分表", "score sheet")) }
            " · " (period)
        }
        @if let Some(i) = rubric_item {
            dl.item-facts {
                dt { (lang.t("考评内容", "Content")) } dd { (i.content) }
                dt { (lang.t("评分标准", "Standard")) } dd { (i.standard) }
                dt { (lang.t("分值", "Worth")) } dd { (format::kind(lang, &i.kind)) }
                dt { (lang.t("责任人", "Responsible")) } dd { (people.show(i.responsible.as_str())) }
            }
        }
        (time_control(
            lang,
            &here,
            &[],
            head,
            past.unwrap_or(head),
            at.time.map(str::to_owned),
            past.map(|_| here.clone()),
            Some(&life),
        ))
        @if let Some(p) = past {
            p.as-of #item-as-of data-position=(p) {
                (lang.t("显示截至记录序号 ", "As it stood at record ")) strong { (p) }
                " · " a href=(here) { (lang.t("回到现在", "Back to now")) }
            }
        }
        section.current #current {
            h2 { @if past.is_some() { (lang.t("当时得分", "Score then")) } @else { (lang.t("当前得分", "Current score")) } }
            @if let Some(s) = &view.score {
                p {
                    strong #current-value { (format::value(lang, &s.value, &def.ladder)) }
                    " · " (format::source(lang, s.source)) " · " (lang.t("录入人 ", "by ")) (people.show(s.last_by.as_str()))
                    " · " span #review-state { (review_label(lang, s.review.status)) }
                    @if let Some(c) = &s.review.comment { " — " (c) }
                }
                (super::evidence::cited(lang, &s.files, &people))
            } @else {
                p #current-value { (lang.t("尚未评分", "Not scored yet")) }
            }
            @if let Some(own) = &view.self_assessment {
                p #self-assessment { (lang.t("自评: ", "Self-assessment: ")) (format::value(lang, &own.value, &def.ladder)) " · " (people.show(own.by.as_str())) }
                (super::evidence::cited(lang, &own.files, &people))
            }
        }
        // Nothing is entered into the past.
        @if past.is_none() { (forms(session, &view, &def, entered)) }
        section {
            h2 { (lang.t("变更历史", "History")) }
            p { a.button #xlsx href={ "/periods/" (seg(period)) "/units/" (seg(unit)) "/items/" (seg(item)) "/history.xlsx" } { (lang.t("导出 Excel", "Export Excel")) } }
            (timeline(lang, &history, &def, &people))
        }
    };
    let mut response = layout::page(session, Nav::Sheet, &format!("{} {title}", view.item), body);
    *response.status_mut() = status;
    Ok(response)
}

/// An item's history, oldest first.
pub fn timeline(
    lang: Lang,
    history: &HistoryView,
    def: &RubricDefinition,
    people: &super::names::Names,
) -> Markup {
    html! {
        @if history.changes.is_empty() {
            p.empty { (lang.t("没有记录.", "Nothing recorded.")) }
        } @else {
            ol.timeline #timeline {
                @for c in &history.changes {
                    li data-position=(c.position) data-type=(c.event_type) {
                        div.when { (format::time(&c.recorded_at)) " · #" (c.position) }
                        div.what {
                            strong { (lang.label(&c.kind_label)) }
                            " · " span.actor { (people.show(c.actor.as_str())) } " (" (super::i18n::role(lang, c.role)) ")"
                        }
                        @let old = c.old_value.as_ref().map(|v| format::value(lang, v, &def.ladder)).or_else(|| c.old.as_ref().map(|t| lang.text(t)));
                        @let new = c.new_value.as_ref().map(|v| format::value(lang, v, &def.ladder)).or_else(|| c.new.as_ref().map(|t| lang.text(t)));
                        @if old.is_some() || new.is_some() {
                            div.change {
                                span.old { (old.unwrap_or_else(|| "—".into())) } " → " span.new { (new.unwrap_or_else(|| "—".into())) }
                            }
                        } @else {
                            div.change { (lang.text(&c.summary)) }
                        }
                        @if let Some(r) = &c.reason { div.reason { (lang.t("理由: ", "Why: ")) (r) } }
                        @if let Some(n) = c.note.as_ref().filter(|n| !n.is_empty()) { div.note { (lang.t("说明: ", "Note: ")) (n) } }
                        @if !c.evidence.is_empty() { div.evidence { (lang.t("佐证: ", "Evidence: ")) (c.evidence.join(", ")) } }
                        (super::evidence::cited(lang, &c.files, people))
                        div.tags {
                            @if let Some(s) = c.source { span.tag { (format::source(lang, s)) } }
                            @if let Some(v) = c.rubric_version { span.tag { (lang.t("细则 v", "rubric v")) (v) } }
                            @if let Some(r) = c.review { span.tag { (review_at(lang, r)) } }
                        }
                    }
                }
            }
        }
    }
}

fn review_at(lang: Lang, r: ReviewAtTimeView) -> &'static str {
    match r {
        ReviewAtTimeView::NotScored => lang.t("未评分", "not scored"),
        ReviewAtTimeView::Pending => lang.t("待审核", "pending review"),
        ReviewAtTimeView::Approved => lang.t("已通过", "approved"),
        ReviewAtTimeView::Rejected => lang.t("已退回", "rejected"),
    }
}

fn error(entered: Option<&Entered>, action: &str, field: &str) -> Markup {
    html! {
        @if let Some(message) = entered.filter(|e| e.action == action).and_then(|e| e.errors.get(field)) {
            p.field-error data-field=(field) { (message) }
        }
    }
}

/// The value inputs for an item's kind.
fn value_inputs(
    lang: Lang,
    kind: &ItemKind,
    def: &RubricDefinition,
    entered: Option<&Entered>,
    action: &str,
    current: Option<&ScoreValue>,
) -> Markup {
    let mine = entered.filter(|e| e.action == action);
    let given = |name: &str| mine.map(|e| e.value(name).to_owned());
    html! {
        @match kind {
            ItemKind::Points { max } => {
                label for={ (action) "-points" } { (lang.t("得分", "Points")) " (0–" (max) ")" }
                input id={ (action) "-points" } name="points" inputmode="decimal"
                    value=(given("points").or_else(|| match current { Some(ScoreValue::Points { points }) => Some(points.to_string()), _ => None }).unwrap_or_default());
                (error(entered, action, "points"))
            }
            ItemKind::Ladder { .. } => {
                label for={ (action) "-level" } { (lang.t("评价等级", "Level")) }
                @let chosen = given("level").or_else(|| match current { Some(ScoreValue::Level { level }) => Some(level.to_string()), _ => None });
                select id={ (action) "-level" } name="level" {
                    @for step in &def.ladder {
                        option value=(step.level) selected[chosen.as_deref() == Some(step.level.as_str())] { (lang.text(&step.label)) " (" (step.percent) "%)" }
                    }
                }
                (error(entered, action, "level"))
            }
            ItemKind::Bonus { .. } => {
                label for={ (action) "-awards" } { (lang.t("加分事项 (每行: 名称 | 分值)", "Awards (one per line: title | points)")) }
                textarea id={ (action) "-awards" } name="awards" rows="3" { (given("awards").unwrap_or_default()) }
                (error(entered, action, "awards"))
            }
            ItemKind::Deduction { .. } => {
                label for={ (action) "-cases" } { (lang.t("扣分起数", "Cases")) }
                input id={ (action) "-cases" } name="cases" inputmode="numeric"
                    value=(given("cases").or_else(|| match current { Some(ScoreValue::Cases { cases }) => Some(cases.to_string()), _ => None }).unwrap_or_default());
                (error(entered, action, "cases"))
            }
            ItemKind::Veto => {
                label for={ (action) "-vetoed" } { (lang.t("是否否决", "Vetoed")) }
                select id={ (action) "-vetoed" } name="vetoed" {
                    option value="false" { (lang.t("否", "no")) }
                    option value="true" selected[given("vetoed").as_deref() == Some("true")] { (lang.t("是", "yes")) }
                }
                (error(entered, action, "vetoed"))
            }
        }
        (error(entered, action, "value"))
    }
}

fn general(entered: Option<&Entered>, action: &str) -> Markup {
    html! {
        @if let Some(e) = entered.filter(|e| e.action == action && !e.general.is_empty()) {
            div.form-error role="alert" { @for m in &e.general { p { (m) } } }
        }
    }
}

/// The entry forms the signed-in role may use on this item.
fn forms(
    session: &Session,
    view: &ItemView,
    def: &RubricDefinition,
    entered: Option<&Entered>,
) -> Markup {
    let lang = session.lang;
    let Some(kind) = view.kind.as_ref() else {
        return html! {};
    };
    let action_base = format!(
        "/periods/{}/units/{}/items/{}",
        seg(view.period.as_str()),
        seg(view.unit.as_str()),
        seg(view.item.as_str())
    );
    let revision = view.revision.map(|r| r.to_string()).unwrap_or_default();
    let mine = |action: &str, name: &str| {
        entered
            .filter(|e| e.action == action)
            .map(|e| e.value(name).to_owned())
            .unwrap_or_default()
    };
    html! {
        @if session.role() == Role::Unit {
            form.entry #self-assessment-form method="post" action={ (action_base) "/self-assessment" } enctype="multipart/form-data" data-ops="recordSelfAssessment" novalidate {
                h2 { (lang.t("录入自评", "Record the self-assessment")) }
                input type="hidden" name="revision" value=(revision);
                (general(entered, "self-assessment"))
                (value_inputs(lang, kind, def, entered, "self-assessment", view.self_assessment.as_ref().map(|s| &s.value)))
                label for="self-note" { (lang.t("说明", "Note")) }
                input #self-note name="note" value=(mine("self-assessment", "note"));
                label for="self-evidence" { (lang.t("佐证材料 (每行一项)", "Evidence (one per line)")) }
                textarea #self-evidence name="evidence" rows="2" { (mine("self-assessment", "evidence")) }
                (super::evidence::field(lang, entered, "self-assessment", "self-files"))
                button type="submit" { (lang.t("保存自评", "Save self-assessment")) }
            }
        }
        @if session.role() == Role::Assessor && view.score.is_none() {
            form.entry #score-form method="post" action={ (action_base) "/score" } enctype="multipart/form-data" novalidate {
                h2 { (lang.t("录入评分", "Record a score")) }
                input type="hidden" name="revision" value=(revision);
                (general(entered, "score"))
                (value_inputs(lang, kind, def, entered, "score", None))
                label for="score-note" { (lang.t("说明", "Note")) }
                input #score-note name="note" value=(mine("score", "note"));
                label for="score-evidence" { (lang.t("佐证材料 (每行一项)", "Evidence (one per line)")) }
                textarea #score-evidence name="evidence" rows="2" { (mine("score", "evidence")) }
                (super::evidence::field(lang, entered, "score", "score-files"))
                button type="submit" { (lang.t("保存评分", "Save score")) }
            }
        }
        @if session.role() == Role::Assessor && view.score.is_some() {
            form.entry #correction-form method="post" action={ (action_base) "/correction" } enctype="multipart/form-data" novalidate {
                h2 { (lang.t("更正评分", "Correct the score")) }
                input type="hidden" name="revision" value=(revision);
                @if let Some(s) = &view.score {
                    input type="hidden" name="previous" value=(serde_json::to_string(&s.value).unwrap_or_default());
                }
                (general(entered, "correction"))
                (value_inputs(lang, kind, def, entered, "correction", view.score.as_ref().map(|s| &s.value)))
                label for="correction-reason" { (lang.t("更正理由 (必填)", "Reason (required)")) }
                textarea #correction-reason name="reason" rows="2" { (mine("correction", "reason")) }
                (error(entered, "correction", "reason"))
                label for="correction-evidence" { (lang.t("佐证材料 (每行一项)", "Evidence (one per line)")) }
                textarea #correction-evidence name="evidence" rows="2" { (mine("correction", "evidence")) }
                (super::evidence::field(lang, entered, "correction", "correction-files"))
                button type="submit" { (lang.t("保存更正", "Save correction")) }
            }
        }
        @if session.role() == Role::Reviewer && view.score.is_some() {
            form.entry #review-form method="post" action={ (action_base) "/review" } novalidate {
                h2 { (lang.t("审核", "Review")) }
                input type="hidden" name="revision" value=(revision);
                (general(entered, "review"))
                label for="review-decision" { (lang.t("审核结论", "Decision")) }
                select #review-decision name="decision" {
                    option value="approved" { (lang.t("通过", "approve")) }
                    option value="rejected" selected[mine("review", "decision") == "rejected"] { (lang.t("退回", "reject")) }
                }
                label for="review-comment" { (lang.t("审核意见 (退回时必填)", "Comment (required to reject)")) }
                textarea #review-comment name="comment" rows="2" { (mine("review", "comment")) }
                (error(entered, "review", "comment"))
                button type="submit" { (lang.t("提交审核", "Submit review")) }
            }
        }
    }
}

/// The score value a form describes, in the API's shape, for an item of `kind`.
pub fn value_json(kind: &ItemKind, fields: &BTreeMap<String, String>) -> Value {
    let get = |name: &str| {
        fields
            .get(name)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    match kind {
        ItemKind::Points { .. } => json!({"kind": "points", "points": get("points")}),
        ItemKind::Ladder { .. } => json!({"kind": "level", "level": get("level")}),
        ItemKind::Bonus { .. } => {
            let awards: Vec<Value> = get("awards")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|line| {
                    let (title, points) = line.rsplit_once('|').unwrap_or((line, ""));
                    json!({"title": title.trim(), "points": points.trim()})
                })
                .collect();
            json!({"kind": "awards", "awards": awards})
        }
        ItemKind::Deduction { .. } => match get("cases").parse::<u64>() {
            Ok(n) => json!({"kind": "cases", "cases": n}),
            // Sent as text, so the API names the field and says why.
            Err(_) => json!({"kind": "cases", "cases": get("cases")}),
        },
        ItemKind::Veto => json!({"kind": "veto", "vetoed": get("vetoed") == "true"}),
    }
}

pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /periods/{period}/units/{unit}/items/{item}/{self-assessment|score|correction|review}`.
pub async fn submit(
    State(console): State<super::Console>,
    session: Session,
    Path((period, unit, item, action)): Path<(String, String, String, String)>,
    request: axum::extract::Request,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let mut posted = super::evidence::read(&session, console.evidence, request).await?;
    let fields: BTreeMap<String, String> = posted.form.map();
    let api = format!(
        "/api/v1/periods/{}/units/{}/items/{}",
        seg(&period),
        seg(&unit),
        seg(&item)
    );
    let revision = fields.get("revision").and_then(|r| r.parse::<u64>().ok());
    let body = match action.as_str() {
        "self-assessment" | "score" | "correction" => {
            let view: ItemView = session.get(&api).await?;
            let Some(kind) = view.kind.as_ref() else {
                return Err(Failure::bad_request(
                    lang,
                    "item",
                    "该子项目已不在评分细则中 (the item is no longer in the rubric)",
                ));
            };
            let text = |name: &str| fields.get(name).cloned().unwrap_or_default();
            let mut body = json!({
                "value": value_json(kind, &fields),
                "note": text("note"),
                "evidence": lines(&text("evidence")),
                "files": posted.files(),
            });
            if action == "correction" {
                let previous: Value =
                    serde_json::from_str(&text("previous")).unwrap_or(Value::Null);
                body["previous"] = previous;
                body["reason"] = Value::String(text("reason"));
            }
            body
        }
        "review" => json!({
            "decision": fields.get("decision").cloned().unwrap_or_default(),
            "comment": fields.get("comment").cloned().unwrap_or_default(),
        }),
        other => {
            return Err(Failure::bad_request(
                lang,
                "action",
                format!("未知操作“{other}” (unknown action {other:?})"),
            ));
        }
    };
    match posted
        .send::<crate::http::views::Recorded>(
            &session,
            Method::POST,
            &format!("{api}/{action}"),
            &body,
            revision,
        )
        .await?
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}/items/{}?done={action}",
            sheet_uri(&period, &unit),
            seg(&item)
        ))
        .into_response()),
        Err(failure) if failure.status.is_client_error() => {
            let known = [
                "points", "level", "awards", "cases", "vetoed", "value", "reason", "note",
                "evidence", "comment", "decision", "files",
            ];
            let (errors, general) = spread(&failure, &known);
            let entered = Entered {
                action: action.clone(),
                fields: posted.fields(),
                errors,
                general,
            };
            let now = ItemAt {
                period: &period,
                unit: &unit,
                item: &item,
                point: &Point::Now,
                time: None,
            };
            render_item(&session, &now, Some(&entered), failure.status).await
        }
        Err(failure) => Err(failure),
    }
}
