//! The closed loop (闭环管理): rectification work by responsible person, open, overdue and closed.

use std::collections::BTreeMap;

use axum::response::Response;
use maud::{Markup, html};

use super::client::{Failure, Session};
use super::i18n::Lang;
use super::layout::{self, Nav};
use crate::http::views::{RectificationList, RectificationStatusView, RectificationView};

#[derive(Default)]
struct Work<'a> {
    open: Vec<&'a RectificationView>,
    overdue: Vec<&'a RectificationView>,
    closed: Vec<&'a RectificationView>,
}

pub(crate) fn status(lang: Lang, r: &RectificationView) -> &'static str {
    match (r.status, r.overdue) {
        (RectificationStatusView::Closed, _) => lang.t("已销号", "closed"),
        (_, true) => lang.t("已逾期", "overdue"),
        (RectificationStatusView::Submitted, _) => lang.t("已提交待验证", "submitted"),
        (RectificationStatusView::Open, _) => lang.t("整改中", "open"),
    }
}

fn lines(lang: Lang, class: &str, rows: &[&RectificationView]) -> Markup {
    html! {
        @for r in rows {
            tr class=(class) data-rectification=(r.rectification) {
                td { a href={ "/rectifications/" (super::format::seg(r.rectification.as_str())) } { (r.rectification) } }
                td { a href={ "/periods/" (r.period) "/units/" (r.unit) "/items/" (r.item) } { (r.period) " / " (r.unit) " / " (r.item) } }
                td.text { (r.finding) }
                td { (r.due_on) }
                td.status { (status(lang, r)) @if r.sent_back > 0 { " (" (lang.t("退回 ", "sent back ")) (r.sent_back) ")" } }
            }
        }
    }
}

/// Responsible persons by name where the role may list people (staff); by id otherwise, and the
/// signed-in person always by their own name.
pub(super) async fn people_named(session: &Session) -> BTreeMap<String, String> {
    let mut names = super::exports::people(session).await;
    if let Some(name) = &session.me.name {
        names.insert(session.me.person.to_string(), name.clone());
    }
    names
}

/// `GET /rectifications`.
pub async fn page(session: Session) -> Result<Response, Failure> {
    let lang = session.lang;
    let list: RectificationList = session.get("/api/v1/rectifications").await?;
    // Responsible persons by name where the role may list people (staff); by id otherwise, and
    // the signed-in person always by their own name.
    let names = people_named(&session).await;
    let mut by_person: BTreeMap<String, Work> = BTreeMap::new();
    for r in &list.rectifications {
        let work = by_person.entry(r.responsible.to_string()).or_default();
        match (r.status, r.overdue) {
            (RectificationStatusView::Closed, _) => work.closed.push(r),
            (_, true) => work.overdue.push(r),
            _ => work.open.push(r),
        }
    }
    let printed = super::print::title_block(
        &session,
        lang.t("整改闭环", "Closed loop"),
        super::print::Printed {
            period: None,
            as_of: None,
            rubric: None,
        },
    )
    .await;
    let body = html! {
        (printed)
        p { a.button #xlsx href="/rectifications.xlsx" { (lang.t("导出 Excel", "Export Excel")) } }
        @if by_person.is_empty() {
            p.empty { (lang.t("没有整改事项.", "No rectification work.")) }
        }
        @for (person, work) in &by_person {
            section.person data-person=(person) {
                h2 { (super::todo::named(names.get(person).map(String::as_str), person)) " "
                    span.counts {
                        span.open { (lang.t("整改中 ", "open ")) (work.open.len()) } " · "
                        span.overdue { (lang.t("逾期 ", "overdue ")) (work.overdue.len()) } " · "
                        span.closed { (lang.t("已销号 ", "closed ")) (work.closed.len()) }
                    }
                }
                table.loop {
                    thead { tr {
                        th { (lang.t("编号", "Id")) } th { (lang.t("对象", "Where")) } th { (lang.t("问题", "Finding")) }
                        th { (lang.t("期限", "Due")) } th { (lang.t("状态", "Status")) }
                    } }
                    tbody {
                        (lines(lang, "overdue", &work.overdue))
                        (lines(lang, "open", &work.open))
                        (lines(lang, "closed", &work.closed))
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &session,
        Nav::ClosedLoop,
        lang.t("整改闭环", "Closed loop"),
        body,
    ))
}
