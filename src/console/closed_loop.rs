//! The closed loop (闭环管理): rectification work by responsible person, open, overdue and closed.

use std::collections::BTreeMap;

use axum::response::Response;
use maud::{Markup, html};

use super::client::{Failure, Session};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::names::Names;
use super::standings::{Point, time_control};
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

fn lines(lang: Lang, units: &Names, class: &str, rows: &[&RectificationView]) -> Markup {
    html! {
        @for r in rows {
            tr class=(class) data-rectification=(r.rectification) {
                td { a href={ "/rectifications/" (super::format::seg(r.rectification.as_str())) } { (r.rectification) } }
                td { a href={ "/periods/" (r.period) "/units/" (r.unit) "/items/" (r.item) } { (units.show(r.unit.as_str())) " · " (r.item) " · " (r.period) } }
                td.text { (r.finding) }
                td { (r.due_on) }
                td.status { (status(lang, r)) @if r.sent_back > 0 { " (" (lang.t("退回 ", "sent back ")) (r.sent_back) ")" } }
            }
        }
    }
}

/// `GET /rectifications`.
pub async fn page(
    session: Session,
    axum::extract::Query(q): axum::extract::Query<super::sheet::SheetQuery>,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let point = Point::asked(lang, q.at.as_deref(), q.time.as_deref())?;
    // The work as it stood at a point (overdue as of that day), or now.
    let (now, head): (RectificationList, u64) = session.get_at("/api/v1/rectifications").await?;
    let (list, past) = match point.api_query() {
        None => (now, None),
        Some(query) => {
            let (then, at): (RectificationList, u64) = session
                .get_at(&format!("/api/v1/rectifications?{query}"))
                .await?;
            (then, Some(at))
        }
    };
    let time = q.time.filter(|t| !t.trim().is_empty());
    // Responsible persons by name where the role may list people (staff); by id otherwise, and
    // the signed-in person always by their own name.
    let names = super::names::people(&session).await;
    let units = super::names::units(&session).await?;
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
        (time_control(lang, "/rectifications", &[], head, past.unwrap_or(head), time, past.map(|_| "/rectifications".to_owned()), None))
        @if let Some(p) = past {
            p.as-of #loop-as-of data-position=(p) { (lang.t("显示截至记录序号 ", "As it stood at record ")) strong { (p) } }
        }
        @if by_person.is_empty() {
            p.empty { (lang.t("没有整改事项.", "No rectification work.")) }
        }
        @for (person, work) in &by_person {
            section.person data-person=(person) {
                h2 { (names.show(person)) " "
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
                        (lines(lang, &units, "overdue", &work.overdue))
                        (lines(lang, &units, "open", &work.open))
                        (lines(lang, &units, "closed", &work.closed))
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
