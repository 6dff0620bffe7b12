//! Printing (issue 16): the title block and signature lines that only paper shows, and the 公示
//! notice of a published period, a page of its own.
//!
//! The screen hides `.print-only`; `@media print` in `assets/console.css` hides the navigation and
//! every control and shows it. The title block names the organisation (the units at the top of the
//! tree), the period, the point the figures were read at, the rubric version, when the page was
//! printed (the business clock) and the fingerprint of the signed checkpoint that covers the point,
//! for every role (`GET /api/v1/checkpoints/covering`, which every role reads), so an auditor can
//! match any reader's paper to the log.

use axum::extract::Path;
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use maud::{Markup, html};

use super::client::{Failure, Session};
use super::format::{self, seg};
use super::i18n::Lang;
use super::layout::{self, Nav};
use crate::http::views::{
    CoveringCheckpoints, MilestonesView, PeriodList, PeriodView, StandingsView, UnitList,
    UnitStandingView,
};

/// What the title block says about the figures printed.
pub struct Printed<'a> {
    pub period: Option<(&'a str, &'a str)>,
    /// The position read at, and when the event there was recorded.
    pub as_of: Option<(u64, Option<DateTime<Utc>>)>,
    pub rubric: Option<(&'a str, u32)>,
}

/// The organisation: the units at the top of the tree the reader can see.
async fn organisation(session: &Session) -> Option<String> {
    let units: UnitList = session.get("/api/v1/units").await.ok()?;
    let roots: Vec<String> = units
        .units
        .into_iter()
        .filter(|u| u.parent.is_none())
        .map(|u| u.name)
        .collect();
    (!roots.is_empty()).then(|| roots.join("、"))
}

/// The first signed checkpoint covering `position` (the same for every reader and every later
/// printing): its size and root.
async fn checkpoint(session: &Session, position: u64) -> Option<(u64, String)> {
    let found: CoveringCheckpoints = session
        .get(&format!("/api/v1/checkpoints/covering?position={position}"))
        .await
        .ok()?;
    found.covering.map(|c| (c.tree_size, c.root.to_string()))
}

/// The block above printed figures.
pub async fn title_block(session: &Session, heading: &str, printed: Printed<'_>) -> Markup {
    let lang = session.lang;
    let org = organisation(session).await;
    let check = match printed.as_of {
        Some((position, _)) => checkpoint(session, position).await,
        None => None,
    };
    html! {
        div.print-only.print-head #print-head {
            @if let Some(org) = &org { p.org { (org) } }
            p.print-title { (heading) }
            p.print-facts {
                @if let Some((name, id)) = printed.period {
                    span { (lang.t("考核周期: ", "Period: ")) (name) " (" (id) ")" }
                }
                @if let Some((rubric, version)) = printed.rubric {
                    span { (lang.t("评分细则: ", "Rubric: ")) (rubric) (lang.t(" 第 ", " version ")) (version) (lang.t(" 版", "")) }
                }
                @if let Some((position, time)) = printed.as_of {
                    span {
                        (lang.t("截至: 记录序号 ", "As of: record ")) (position)
                        @if let Some(t) = time { " · " (format::time(&t)) }
                    }
                }
                span #printed-at { (lang.t("打印时间: ", "Printed: ")) (format::time(&Utc::now())) (lang.t(" (北京时间)", " (Beijing time)")) }
                span #fingerprint {
                    (lang.t("检查点指纹: ", "Checkpoint fingerprint: "))
                    @match &check {
                        Some((size, root)) => { code { (root.get(..16).unwrap_or(root)) } (lang.t(" (已签名, 覆盖记录 1–", " (signed, covering records 1–")) (size) ")" }
                        None => { (lang.t("尚无已签名检查点覆盖此记录", "no signed checkpoint covers this record yet")) }
                    }
                }
            }
        }
    }
}

/// The signature lines of standings and sheets.
pub fn signatures(lang: Lang) -> Markup {
    html! {
        div.print-only.signatures #signatures {
            @for who in [lang.t("考核办", "Assessment office"), lang.t("审核人", "Reviewer")] {
                div.signature {
                    span { (who) (lang.t(" (签字): ", " (signature): ")) }
                    span.line {}
                    span { (lang.t("日期: ", "Date: ")) }
                    span.line.short {}
                }
            }
        }
    }
}

/// The 公示 window: five working days from the day of publication (Monday to Friday; public
/// holidays are not known to the ledger, so the office extends the window by hand when one falls in
/// it).
fn notice_window(published: NaiveDate) -> (NaiveDate, NaiveDate) {
    let mut day = published;
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += Duration::days(1);
    }
    let start = day;
    let mut counted = 1;
    while counted < 5 {
        day += Duration::days(1);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            counted += 1;
        }
    }
    (start, day)
}

fn zh_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The period `period` as the API lists it to the reader; a 404 page when there is none.
pub(super) async fn period_view(session: &Session, period: &str) -> Result<PeriodView, Failure> {
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    periods
        .periods
        .into_iter()
        .find(|p| p.period.as_str() == period)
        .ok_or_else(|| {
            Failure::not_found(
                session.lang,
                format!("没有考核周期 {period} (there is no period {period})"),
            )
        })
}

/// `GET /periods/{period}/notice`: the 公示 notice of a published period, a page of its own.
pub async fn notice(session: Session, Path(period): Path<String>) -> Result<Response, Failure> {
    let lang = session.lang;
    let p = &period_view(&session, &period).await?;
    let life: MilestonesView = session
        .get(&format!("/api/v1/periods/{}/milestones", seg(&period)))
        .await?;
    let Some(published) = life.published_at else {
        return Err(Failure::not_found(
            lang,
            format!(
                "考核周期 {period} 尚未公示, 没有公示通知 (period {period} has not been published; there is no notice)"
            ),
        ));
    };
    // The standings as published: at the latest publication's position.
    let at = life
        .milestones
        .iter()
        .rev()
        .find(|m| m.recorded_at == published)
        .map_or(life.at_position, |m| m.position);
    let standings: StandingsView = session
        .get(&format!(
            "/api/v1/periods/{}/standings?at_position={at}",
            seg(&period)
        ))
        .await?;
    let names = super::standings::unit_names(&session).await?;
    let (from, to) = notice_window(crate::app::clock::business_date(published));
    // The notice is an office document: zh-CN as the office posts it; in English when chosen, for
    // a reader who does not read Chinese (the posted notice is the Chinese one).
    let zh = lang == Lang::Zh;
    let date = |d: NaiveDate| if zh { zh_date(d) } else { d.to_string() };
    let title = if zh {
        format!("关于{}党建考核结果的公示", p.name)
    } else {
        format!(
            "Notice of the party-building assessment results of {} ({})",
            p.name, p.period
        )
    };
    let org = organisation(&session).await;
    let name = |u: &UnitStandingView| names.get(&u.unit).cloned().unwrap_or_default();
    let body = html! {
        (title_block(&session, &title, Printed {
            period: Some((&p.name, p.period.as_str())),
            as_of: Some((standings.as_of, standings.as_of_time)),
            rubric: Some((standings.rubric.as_str(), standings.rubric_version)),
        }).await)
        article.notice #notice {
            @if zh {
                p { "各党支部、各部门:" }
                p.indent {
                    "根据" (p.name) "党建工作考核安排, 考核办依据评分细则 " (standings.rubric) " 第 " (standings.rubric_version)
                    " 版组织开展了考评和审核, 现将考核结果予以公示 (见下表)。"
                }
                p.indent #notice-window {
                    "公示期为" (date(from)) "至" (date(to)) " (5 个工作日)。公示期间, 如对考核结果有异议, 请向考核办提出申诉: "
                    "可登录考核系统在“申诉”页面提交, 或以书面形式送交考核办, 并写明异议事项、理由及佐证材料。逾期未提出的, 视为无异议。"
                }
            } @else {
                p { "To all party branches and departments:" }
                p.indent {
                    "The assessment office has scored and reviewed " (p.name) " under rubric " (standings.rubric)
                    " version " (standings.rubric_version) ". The results are published below."
                }
                p.indent #notice-window {
                    "The notice period runs from " (date(from)) " to " (date(to)) " (5 working days). Anyone who disputes a result "
                    "may appeal to the assessment office within it: on the Appeals page of the assessment system, or in writing, "
                    "stating the matter, the grounds and the evidence. No appeal within the period means no objection."
                }
            }
            table.notice-table {
                thead { tr {
                    th { (lang.t("名次", "Rank")) } th { (lang.t("单位", "Unit")) }
                    th { (lang.t("综合得分", "Combined score")) } th { (lang.t("等级", "Grade")) }
                } }
                tbody {
                    @for u in &standings.units {
                        tr { td { (u.rank) } td { (name(u)) " (" (u.unit) ")" } td { (u.ranked_score.0) } td { (lang.text(&u.grade_label)) } }
                    }
                }
            }
            p.sign-off {
                (org.as_deref().unwrap_or("")) " " (lang.t("考核办", "Assessment office")) br;
                (date(crate::app::clock::business_date(published)))
            }
        }
    };
    Ok(layout::page(&session, Nav::Standings, &title, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five working days, skipping the weekend; a publication on a Saturday starts on Monday.
    #[test]
    fn the_notice_window_is_five_working_days() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // Thursday 2027-01-07 → Wednesday 2027-01-13.
        assert_eq!(
            notice_window(d("2027-01-07")),
            (d("2027-01-07"), d("2027-01-13"))
        );
        // Saturday 2027-01-09 → Monday 11 to Friday 15.
        assert_eq!(
            notice_window(d("2027-01-09")),
            (d("2027-01-11"), d("2027-01-15"))
        );
    }
}
