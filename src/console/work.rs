//! 办理 (the workplace): where each role starts its work — the sheets it enters or reviews in the
//! periods still running, and the forms open to it (appeals, rectifications, the office's pages).

use axum::response::Response;
use ledger_schemas::envelope::Role;
use ledger_schemas::values::Stage;
use maud::html;

use super::client::{Failure, Session};
use super::format::seg;
use super::layout::{self, Nav};
use crate::http::views::PeriodList;

/// `GET /work`.
pub async fn page(session: Session) -> Result<Response, Failure> {
    let lang = session.lang;
    let role = session.role();
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    let names = super::standings::unit_names(&session).await?;
    // The periods still running; when every period is published, the latest (appeals come after).
    let mut running: Vec<_> = periods
        .periods
        .iter()
        .filter(|p| p.stage != Stage::Published)
        .collect();
    if running.is_empty() {
        running.extend(periods.periods.iter().max_by_key(|p| p.starts_on));
    }
    let sheet_word = match role {
        Role::Assessor => Some(lang.t("录入评分", "Enter scores")),
        Role::Unit => Some(lang.t("填写自评", "Self-assessment")),
        Role::Reviewer => Some(lang.t("审核", "Review")),
        _ => None,
    };
    let body = html! {
        @if let Some(word) = sheet_word {
            @for p in &running {
                h2 { (p.name) " · " (super::i18n::stage(lang, p.stage)) }
                ul.sheets {
                    @for u in p.units.iter().filter(|u| session.me.units.as_ref().is_none_or(|m| m.contains(u))) {
                        li { a data-unit=(u) href={ "/periods/" (seg(p.period.as_str())) "/units/" (seg(u.as_str())) "/grid" } {
                            (word) ": " (names.get(u).cloned().unwrap_or_else(|| u.to_string())) } }
                    }
                }
            }
        }
        h2 { (lang.t("其他事项", "Other work")) }
        ul.work {
            @if role == Role::Unit { li { a href="/appeals/new" { (lang.t("提出申诉", "File an appeal")) } } }
            @if role == Role::Reviewer { li { a href="/appeals" { (lang.t("决定申诉", "Decide appeals")) } } }
            @if matches!(role, Role::Assessor | Role::Reviewer) { li { a href="/rectifications/new" { (lang.t("下达整改", "Raise a rectification")) } } }
            @if role != Role::Auditor { li { a href="/rectifications" { (lang.t("整改事项 (提交、验证、退回)", "Rectifications (submit, verify, send back)")) } } }
            @if matches!(role, Role::Admin | Role::Assessor) {
                @for p in &running {
                    li { a href={ "/periods/" (seg(p.period.as_str())) "/business" } { (lang.t("经营业绩: ", "Business results: ")) (p.name) } }
                    li { a href=(super::import::business_import_href(p.period.as_str())) { (lang.t("从文件导入经营业绩: ", "Import business results from a file: ")) (p.name) } }
                }
            }
            @if role == Role::Admin {
                li { a href="/admin/periods" { (lang.t("考核周期管理 (开启、推进、公示、重开)", "Periods (open, move on, publish, reopen)")) } }
                li { a href="/admin/people" { (lang.t("单位与人员、角色", "Units, people and roles")) } }
                li { a href="/admin/tokens" { (lang.t("访问令牌", "Tokens")) } }
                li { a href="/admin/rubric" { (lang.t("细则调整", "Rubric adjustments")) } }
            }
            @if role == Role::Auditor { li { a href="/integrity" { (lang.t("完整性核验", "Integrity verification")) } } }
        }
    };
    Ok(layout::page(
        &session,
        Nav::Work,
        lang.t("办理", "Work"),
        body,
    ))
}
