//! 我的责任: what the signed-in person answers for as a responsible person (责任人), whatever role
//! they signed in with: their rectifications (overdue first, with the days past due), the actions
//! open to them on each, and the items they are named responsible for with every unit's score. It
//! renders `GET /api/v1/people/{me}/accountability` for one period at a time (the latest unless
//! asked), now or as of a past time.

use axum::extract::Query;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::{query, seg};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::standings::{Point, time_control};
use super::todo::named;
use crate::http::views::{AccountabilityView, RectificationLineView, RectificationStatusView};

#[derive(Debug, Default, Deserialize)]
pub struct MineQuery {
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
}

/// What the responsible person may do next on a rectification: submit it while it is open (also
/// when overdue), wait for verification once submitted, nothing once closed.
fn action(lang: Lang, r: &RectificationLineView) -> &'static str {
    match r.status {
        RectificationStatusView::Open if r.sent_back > 0 => lang.t(
            "退回后重新提交整改 (附佐证材料)",
            "resubmit after being sent back (with evidence)",
        ),
        RectificationStatusView::Open => lang.t(
            "提交整改 (附佐证材料)",
            "submit the rectification (with evidence)",
        ),
        RectificationStatusView::Submitted => lang.t("等待审核人验证", "awaiting verification"),
        RectificationStatusView::Closed => lang.t("无 (已销号)", "none (closed)"),
    }
}

fn status(lang: Lang, r: &RectificationLineView) -> &'static str {
    match (r.status, r.days_overdue > 0) {
        (RectificationStatusView::Closed, _) => lang.t("已销号", "closed"),
        (_, true) => lang.t("已逾期", "overdue"),
        (RectificationStatusView::Submitted, _) => lang.t("已提交待验证", "submitted"),
        (RectificationStatusView::Open, _) => lang.t("整改中", "open"),
    }
}

fn lines(
    lang: Lang,
    view: &AccountabilityView,
    class: &str,
    rows: &[RectificationLineView],
) -> Markup {
    html! {
        @for r in rows {
            tr class=(class) data-rectification=(r.rectification) {
                td { span.code { (r.rectification) } }
                td { (named(view.unit_names.get(&r.unit).map(String::as_str), r.unit.as_str())) }
                td { a href={ "/periods/" (seg(r.period.as_str())) "/units/" (seg(r.unit.as_str())) "/items/" (seg(r.item.as_str())) } { span.code { (r.item) } } }
                td.text { (r.finding) }
                td.num data-sort=(r.due_on) { (r.due_on) }
                td.num.days-overdue data-sort=(r.days_overdue) { @if r.days_overdue > 0 { (r.days_overdue) } @else { "—" } }
                td.status { (status(lang, r)) }
                td.action { (action(lang, r)) }
            }
        }
    }
}

/// `GET /mine?at=&time=`.
pub async fn page(session: Session, Query(q): Query<MineQuery>) -> Result<Response, Failure> {
    let lang = session.lang;
    let point = Point::asked(lang, q.at.as_deref(), q.time.as_deref())?;
    let base = format!(
        "/api/v1/people/{}/accountability",
        seg(session.me.person.as_str())
    );
    let now: AccountabilityView = session.get(&base).await?;
    let view = match point.api_query() {
        None => now.clone(),
        Some(p) => session.get(&format!("{base}?{p}")).await?,
    };
    let past = !matches!(point, Point::Now);
    let rectifications = view.overdue.len() + view.open.len() + view.closed.len();
    let body = html! {
        (time_control(
            lang,
            "/mine",
            &[],
            now.at_position,
            view.at_position,
            q.time.as_deref().filter(|t| !t.is_empty()).map(str::to_owned),
            past.then(|| format!("/mine?{}", query(&[]))),
            None,
        ))
        p.as-of #as-of data-today=(view.today) {
            (lang.t("业务日期 ", "Business day ")) strong { (view.today) }
            " · " span.overdue-count { (lang.t("逾期 ", "overdue ")) (view.overdue.len()) }
            " · " (lang.t("整改中 ", "open ")) (view.open.len())
            " · " (lang.t("已销号 ", "closed ")) (view.closed.len())
        }
        h2 { (lang.t("我的整改事项", "My rectifications")) }
        @if rectifications == 0 {
            p.empty { (lang.t("没有交给您的整改事项.", "No rectification has been raised to you.")) }
        } @else {
            div.scroll { table.loop.sortable #my-rectifications {
                thead { tr {
                    th { (lang.t("整改事项", "Rectification")) }
                    th { (lang.t("单位", "Unit")) }
                    th { (lang.t("子项目", "Item")) }
                    th { (lang.t("问题", "Finding")) }
                    th.num { (lang.t("整改期限", "Due")) }
                    th.num { (lang.t("逾期天数", "Days overdue")) }
                    th { (lang.t("状态", "Status")) }
                    th { (lang.t("可办理", "What you can do")) }
                } }
                tbody {
                    (lines(lang, &view, "overdue", &view.overdue))
                    (lines(lang, &view, "open", &view.open))
                    (lines(lang, &view, "closed", &view.closed))
                }
            } }
        }
        h2 { (lang.t("我负责的子项目", "Items I answer for")) }
        @if view.items.is_empty() {
            p.empty { (lang.t("考评细则中没有以您为责任人的子项目.", "No item of a rubric names you as responsible.")) }
        } @else {
            div.scroll { table.sortable #my-items {
                thead { tr {
                    th { (lang.t("考核周期", "Period")) }
                    th { (lang.t("阶段", "Stage")) }
                    th { (lang.t("子项目", "Item")) }
                    th.num { (lang.t("已评单位", "Units scored")) }
                    th { (lang.t("各单位得分", "Points by unit")) }
                } }
                tbody {
                    @for i in &view.items {
                        tr data-item=(i.item) data-period=(i.period) {
                            td { span.code { (i.period) } }
                            td { (super::i18n::stage(lang, i.stage)) }
                            td { span.code { (i.item) } " " (lang.text(&i.title)) }
                            td.num { (i.scores.len()) }
                            td { @for s in &i.scores {
                                span.chip {
                                    (named(view.unit_names.get(&s.unit).map(String::as_str), s.unit.as_str()))
                                    " " @match &s.worth { Some(w) => { (super::format::points(&w.0)) } None => { "—" } }
                                }
                            } }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page(
        &session,
        Nav::Mine,
        lang.t("我的责任", "My responsibilities"),
        body,
    ))
}
