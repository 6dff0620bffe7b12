//! 待办 and 预警: the first page after signing in, for every role. It renders `GET /api/v1/todo`
//! (the counts and the lists), now or as of a past time through the shared time control, with
//! units, people and items by name.

use axum::extract::Query;
use axum::response::Response;
use ledger_schemas::ids::{ItemCode, PeriodId, PersonId, UnitId};
use maud::{Markup, html};
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::{self, query, seg};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::standings::{Point, time_control};
use crate::http::views::{RectificationLineView, TodoView};

#[derive(Debug, Default, Deserialize)]
pub struct TodoQuery {
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    /// How many days ahead counts as due soon.
    #[serde(default)]
    pub days: Option<String>,
}

/// Names for what the lists mention, with the id as a fallback.
pub(super) struct Names<'a> {
    pub view: &'a TodoView,
    pub lang: Lang,
}

impl Names<'_> {
    pub fn unit(&self, unit: &UnitId) -> Markup {
        named(
            self.view.unit_names.get(unit).map(String::as_str),
            unit.as_str(),
        )
    }

    pub fn person(&self, person: &PersonId) -> Markup {
        named(
            self.view.person_names.get(person).map(String::as_str),
            person.as_str(),
        )
    }

    pub fn item(&self, period: &PeriodId, item: &ItemCode) -> Markup {
        let title = self
            .view
            .item_titles
            .get(period)
            .and_then(|t| t.get(item))
            .map(|t| self.lang.text(t));
        html! { span.code { (item) } " " (title.unwrap_or_default()) }
    }
}

/// A name with its id on hover (the id alone when there is no name).
pub(super) fn named(name: Option<&str>, id: &str) -> Markup {
    match name {
        Some(name) if !name.is_empty() => html! { span title=(id) data-id=(id) { (name) } },
        _ => html! { span.code { (id) } },
    }
}

fn sheet_href(period: &PeriodId, unit: &UnitId) -> String {
    format!(
        "/periods/{}/units/{}",
        seg(period.as_str()),
        seg(unit.as_str())
    )
}

fn rectifications(
    lang: Lang,
    names: &Names<'_>,
    id: &str,
    rows: &[RectificationLineView],
    overdue: bool,
) -> Markup {
    html! {
        div.scroll {
            table.todo.sortable #(id) {
                thead { tr {
                    th { (lang.t("整改事项", "Rectification")) }
                    th { (lang.t("单位", "Unit")) }
                    th { (lang.t("子项目", "Item")) }
                    th { (lang.t("问题", "Finding")) }
                    th { (lang.t("整改期限", "Due")) }
                    @if overdue { th.num { (lang.t("逾期天数", "Days overdue")) } }
                } }
                tbody {
                    @for r in rows {
                        tr class=[overdue.then_some("overdue")] data-rectification=(r.rectification) {
                            td { span.code { (r.rectification) } }
                            td { (names.unit(&r.unit)) }
                            td { (names.item(&r.period, &r.item)) }
                            td.text { (r.finding) }
                            td.num data-sort=(r.due_on) { (r.due_on) }
                            @if overdue { td.num.days-overdue data-sort=(r.days_overdue) { (r.days_overdue) } }
                        }
                    }
                }
            }
        }
    }
}

/// The counts as a row of cards, each a link to its list.
fn counts(lang: Lang, view: &TodoView) -> Markup {
    let c = &view.counts;
    let cards = [
        ("unscored", lang.t("待评分", "To score"), c.unscored, false),
        (
            "awaiting-review",
            lang.t("待审核", "To review"),
            c.awaiting_review,
            false,
        ),
        (
            "appeals",
            lang.t("待决定申诉", "Appeals to decide"),
            c.appeals,
            false,
        ),
        (
            "due-soon",
            lang.t("临期整改", "Due soon"),
            c.due_soon,
            false,
        ),
        ("overdue", lang.t("逾期整改", "Overdue"), c.overdue, true),
        (
            "awaiting-verification",
            lang.t("待验证整改", "To verify"),
            c.awaiting_verification,
            false,
        ),
    ];
    html! {
        ul.cards #todo-counts {
            @for (id, label, n, warn) in cards {
                li class={ "card" @if warn && n > 0 { " warn" } } data-count=(id) {
                    a href={ "#" (id) } { span.n { (n) } span.label { (label) } }
                }
            }
        }
    }
}

/// `GET /todo?at=&time=&days=`.
pub async fn page(session: Session, Query(q): Query<TodoQuery>) -> Result<Response, Failure> {
    let lang = session.lang;
    let point = Point::asked(lang, q.at.as_deref(), q.time.as_deref())?;
    let days = match q.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => Some(d.parse::<u16>().map_err(|_| {
            Failure::bad_request(
                lang,
                "days",
                format!(
                    "{}“{d}”",
                    lang.t(
                        "天数须为 0 到 400 的整数, 而不是",
                        "the days must be a whole number from 0 to 400, not "
                    )
                ),
            )
        })?),
    };
    let mut params: Vec<String> = Vec::new();
    if let Some(p) = point.api_query() {
        params.push(p);
    }
    if let Some(d) = days {
        params.push(format!("horizon_days={d}"));
    }
    let uri = if params.is_empty() {
        "/api/v1/todo".to_owned()
    } else {
        format!("/api/v1/todo?{}", params.join("&"))
    };
    let view: TodoView = session.get(&uri).await?;
    let head = if matches!(point, Point::Now) {
        view.at_position
    } else {
        session.get::<TodoView>("/api/v1/todo").await?.at_position
    };
    let names = Names { view: &view, lang };
    let days_text = view.horizon_days.to_string();
    let keep: Vec<(&str, &str)> = match days {
        Some(_) => vec![("days", days_text.as_str())],
        None => Vec::new(),
    };
    let past = !matches!(point, Point::Now);
    let body = html! {
        (time_control(
            lang,
            "/todo",
            &keep,
            head,
            view.at_position,
            q.time.as_deref().filter(|t| !t.is_empty()).map(str::to_owned).or_else(|| past.then(|| view.as_of_time.as_ref().map(format::time_input)).flatten()),
            past.then(|| format!("/todo?{}", query(&keep))),
            None,
        ))
        p.as-of #as-of data-position=(view.at_position) data-today=(view.today) {
            (lang.t("业务日期 ", "Business day ")) strong { (view.today) }
            @if let Some(t) = &view.as_of_time { " · " (lang.t("截至 ", "as of ")) (format::time(t)) }
            " · " (lang.t("临期: 今后 ", "due soon: the next ")) (view.horizon_days) (lang.t(" 天内", " days"))
        }
        (counts(lang, &view))
        @if view.counts == Default::default() {
            p.empty #nothing-due { (lang.t("目前没有待办事项.", "Nothing is due.")) }
        }
        @if !view.overdue.is_empty() {
            section #overdue {
                h2.warn { (lang.t("预警: 逾期整改", "Warning: overdue rectifications")) }
                (rectifications(lang, &names, "overdue-list", &view.overdue, true))
            }
        }
        @if !view.due_soon.is_empty() {
            section #due-soon {
                h2 { (lang.t("临期整改", "Rectifications due soon")) }
                (rectifications(lang, &names, "due-soon-list", &view.due_soon, false))
            }
        }
        @if !view.unscored.is_empty() {
            section #unscored {
                h2 { (lang.t("待评分", "Sheets to score")) }
                div.scroll { table.todo.sortable #unscored-list {
                    thead { tr {
                        th { (lang.t("考核周期", "Period")) }
                        th { (lang.t("单位", "Unit")) }
                        th.num { (lang.t("已评", "Scored")) }
                        th { (lang.t("未评子项目", "Items not scored")) }
                        th { (lang.t("退回重评", "Sent back")) }
                    } }
                    tbody {
                        @for g in &view.unscored {
                            tr data-unit=(g.unit) {
                                td { span.code { (g.period) } }
                                td { a href=(sheet_href(&g.period, &g.unit)) { (names.unit(&g.unit)) } }
                                td.num data-sort=(g.scored) { (g.scored) "/" (g.items) }
                                td { @for i in &g.missing { span.chip { (names.item(&g.period, i)) } } }
                                td { @for i in &g.rejected { span.chip { (names.item(&g.period, i)) } } }
                            }
                        }
                    }
                } }
            }
        }
        @if !view.awaiting_review.is_empty() {
            section #awaiting-review {
                h2 { (lang.t("待审核", "Sheets to review")) }
                div.scroll { table.todo.sortable #awaiting-review-list {
                    thead { tr {
                        th { (lang.t("考核周期", "Period")) }
                        th { (lang.t("单位", "Unit")) }
                        th.num { (lang.t("待审核子项目", "Items to review")) }
                        th.num { (lang.t("已评分子项目", "Items scored")) }
                    } }
                    tbody {
                        @for g in &view.awaiting_review {
                            tr data-unit=(g.unit) {
                                td { span.code { (g.period) } }
                                td { a href=(sheet_href(&g.period, &g.unit)) { (names.unit(&g.unit)) } }
                                td.num { (g.unapproved) }
                                td.num { (g.counting) }
                            }
                        }
                    }
                } }
            }
        }
        @if !view.appeals.is_empty() {
            section #appeals {
                h2 { (lang.t("待决定的申诉", "Appeals awaiting decision")) }
                div.scroll { table.todo #appeals-list {
                    thead { tr {
                        th { (lang.t("申诉", "Appeal")) }
                        th { (lang.t("单位", "Unit")) }
                        th { (lang.t("子项目", "Item")) }
                        th { (lang.t("申诉人", "Filed by")) }
                    } }
                    tbody {
                        @for a in &view.appeals {
                            tr data-appeal=(a.appeal) {
                                td { a href={ "/appeals#" (a.appeal) } { span.code { (a.appeal) } } }
                                td { (names.unit(&a.unit)) }
                                td { @if let Some(i) = &a.item { (names.item(&a.period, i)) } @else { (lang.t("整张评分表", "the whole sheet")) } }
                                td { (names.person(&a.filed_by)) }
                            }
                        }
                    }
                } }
            }
        }
        @if !view.awaiting_verification.is_empty() {
            section #awaiting-verification {
                h2 { (lang.t("待验证整改", "Rectifications to verify")) }
                (rectifications(lang, &names, "awaiting-verification-list", &view.awaiting_verification, false))
            }
        }
    };
    Ok(layout::page(
        &session,
        Nav::Todo,
        lang.t("待办与预警", "To-do and warnings"),
        body,
    ))
}
