//! The year's result (年度考核): each unit's year figure, grade and rank with its period figures
//! beside them, now or as it stood at any moment (the same time control as the standings), read from
//! `GET /api/v1/annual`. The columns people need first (rank, unit, year, grade) come first, and the
//! table scrolls inside its box, so the page reads on a phone.

use std::collections::BTreeSet;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;
use ledger_projections::rubric::AnnualRuleLabel;
use ledger_schemas::rubric::AnnualRule;
use maud::{Markup, html};
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::{self, query};
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::standings::{Point, time_control, unit_names};
use crate::http::views::{AnnualUnitView, AnnualView, PeriodList};

#[derive(Debug, Default, Deserialize)]
pub struct AnnualQuery {
    /// The year; the latest year a period ends in when absent.
    #[serde(default)]
    pub year: Option<String>,
    /// The rubric, when periods of several rubrics end in the year.
    #[serde(default)]
    pub rubric: Option<String>,
    /// A log position (the slider).
    #[serde(default)]
    pub at: Option<String>,
    /// A time typed in the time control (Beijing time).
    #[serde(default)]
    pub time: Option<String>,
}

/// The rule in the reader's language.
fn rule_text(lang: Lang, rule: &AnnualRule) -> String {
    let both = AnnualRuleLabel(rule).to_string();
    // The label is "中文 (English)": keep the half the reader reads.
    match (lang, both.find(" (")) {
        (Lang::Zh, Some(i)) => both[..i].to_owned(),
        (Lang::En, Some(i)) => both[i + 2..both.len() - 1].to_owned(),
        _ => both,
    }
}

/// `GET /annual?year=&rubric=&at=&time=`.
pub async fn page(session: Session, Query(q): Query<AnnualQuery>) -> Result<Response, Failure> {
    let lang = session.lang;
    let title = lang.t("年度考核", "Year's result");
    let point = Point::asked(lang, q.at.as_deref(), q.time.as_deref())?;
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    let years: BTreeSet<i32> = periods.periods.iter().map(|p| p.ends_on.year()).collect();
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        Some(text) => text.parse::<i32>().map_err(|_| {
            Failure::bad_request(
                lang,
                "year",
                format!("年度须为整数, 如 2026, 实际为“{text}” (the year must be a whole number such as 2026, not {text:?})"),
            )
        })?,
        None => match years.last() {
            Some(latest) => *latest,
            None => {
                let body = html! { p.empty { (lang.t("还没有考核周期.", "There is no assessment period yet.")) } };
                return Ok(layout::page(&session, Nav::Annual, title, body));
            }
        },
    };
    let rubrics: BTreeSet<&str> = periods
        .periods
        .iter()
        .filter(|p| p.ends_on.year() == year)
        .map(|p| p.rubric.as_str())
        .collect();
    // With periods of several rubrics in the year, the first is shown until another is chosen.
    let rubric = q
        .rubric
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .or_else(|| (rubrics.len() > 1).then(|| *rubrics.first().expect("two or more")));
    let mut keep = vec![("year", year.to_string())];
    if let Some(r) = rubric {
        keep.push(("rubric", r.to_owned()));
    }
    let keep_refs: Vec<(&str, &str)> = keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let base = format!("/api/v1/annual?{}", query(&keep_refs));
    let now: AnnualView = session.get(&base).await?;
    let head = now.as_of;
    // Before the year's first period was opened there is no result to show: say so, keep the controls.
    let (past, not_yet) = match point.api_query() {
        None => (None, false),
        Some(at) => match session.get::<AnnualView>(&format!("{base}&{at}")).await {
            Ok(view) => (Some(view), false),
            Err(f) if f.status == StatusCode::BAD_REQUEST => (None, true),
            Err(f) => return Err(f),
        },
    };
    let past_time = past.as_ref().and_then(|p| p.as_of_time);
    let shown = past.as_ref().unwrap_or(&now);
    let slider_at = match (&past, &point) {
        (Some(p), _) => p.as_of,
        (None, Point::Position(p)) => (*p).min(head),
        _ => head,
    };
    let names = unit_names(&session).await?;
    let name = |u: &AnnualUnitView| {
        names
            .get(&u.unit)
            .cloned()
            .unwrap_or_else(|| u.unit.to_string())
    };

    let body = html! {
        form.controls #year-form method="get" action="/annual" {
            label for="year" { (lang.t("年度", "Year")) }
            select #year name="year" onchange="this.form.submit()" {
                @for y in &years {
                    option value=(y) selected[*y == year] { (y) }
                }
            }
            @if rubrics.len() > 1 {
                label for="rubric" { (lang.t("评分细则", "Rubric")) }
                select #rubric name="rubric" onchange="this.form.submit()" {
                    @for r in &rubrics {
                        option value=(r) selected[Some(*r) == Some(now.rubric.as_str())] { (r) }
                    }
                }
            }
        }
        (time_control(
            lang,
            "/annual",
            &keep_refs,
            head,
            slider_at,
            q.time.as_deref().filter(|t| !t.is_empty()).map(str::to_owned).or_else(|| past_time.as_ref().map(format::time_input)),
            (past.is_some() || not_yet).then(|| format!("/annual?{}", query(&keep_refs))),
            None,
        ))
        @if not_yet {
            p.as-of #not-yet { (lang.t("所选时点该年度尚无考核周期.", "No period of the year had been opened yet at the point chosen.")) }
        } @else {
            p.as-of #as-of data-position=(shown.as_of) {
                @if past.is_some() {
                    (lang.t("显示截至记录序号 ", "As of position ")) strong { (shown.as_of) }
                    @if let Some(t) = &past_time { " (" (format::time(t)) ")" }
                } @else {
                    (lang.t("当前结果, 截至记录序号 ", "Now, as of position ")) strong { (head) }
                }
                " · " (lang.t("细则", "rubric")) " " (shown.rubric) " "
                (lang.t("第 ", "version ")) (shown.rule_version) (lang.t(" 版规则: ", "'s rule: "))
                span #rule { (rule_text(lang, &shown.rule)) }
            }
            @if !shown.complete {
                p.as-of #provisional {
                    (lang.t("尚未公示的考核周期不计入, 结果为暂定: ", "Periods not yet published do not count; the result is provisional: "))
                    @for (i, p) in shown.periods.iter().filter(|p| !p.counted).enumerate() {
                        @if i > 0 { ", " }
                        (p.name) " (" (super::i18n::stage(lang, p.stage)) ")"
                    }
                }
            }
            (table(lang, shown, past.as_ref().map(|_| &now), &name))
            @if shown.units.iter().any(|u| u.partial) {
                p.as-of { "* " (lang.t("未参加全年全部考核周期, 按其参加的周期计算.", "Not assessed in every period of the year: the year is over the periods it was assessed in.")) }
            }
        }
    };
    Ok(layout::page(
        &session,
        Nav::Annual,
        &format!("{title} · {year}"),
        body,
    ))
}

/// The year's figure and grade of a unit, as one cell's text.
fn year_cell(lang: Lang, u: &AnnualUnitView) -> (String, String) {
    let figure = u
        .figure
        .as_ref()
        .map_or_else(|| "—".to_owned(), |f| super::format::points(&f.0));
    let grade = u
        .grade_label
        .as_ref()
        .map_or_else(|| "—".to_owned(), |l| lang.text(l));
    (figure, grade)
}

fn table(
    lang: Lang,
    shown: &AnnualView,
    now: Option<&AnnualView>,
    name: &dyn Fn(&AnnualUnitView) -> String,
) -> Markup {
    html! {
        @if shown.units.is_empty() {
            p.empty { (lang.t("没有可查看的单位.", "No unit you may see.")) }
        } @else {
            div.scroll {
                table.annual #annual {
                    thead { tr {
                        th { (lang.t("名次", "Rank")) }
                        th { (lang.t("单位", "Unit")) }
                        th.num { (lang.t("年度得分", "Year")) }
                        th { (lang.t("等级", "Grade")) }
                        @for p in &shown.periods {
                            th title=(p.name) class=[(!p.counted).then_some("waiting")] {
                                (p.period)
                                @if p.weight.0 != "1" { " ×" (p.weight.0) }
                                @if !p.counted { " " span.tag { (lang.t("未计入", "not counted")) } }
                            }
                        }
                    } }
                    tbody {
                        @for u in &shown.units {
                            @let (figure, grade) = year_cell(lang, u);
                            @let today = now.and_then(|n| n.units.iter().find(|x| x.unit == u.unit)).map(|x| year_cell(lang, x));
                            tr data-unit=(u.unit) class=[u.capped_by_veto.then_some("vetoed")] {
                                td { (u.rank.map_or_else(|| "—".to_owned(), |r| r.to_string())) }
                                td.unit { (name(u)) @if u.partial { " *" } }
                                (cell(&figure, today.as_ref().map(|t| t.0.as_str()), lang, "year"))
                                (cell(&grade, today.as_ref().map(|t| t.1.as_str()), lang, "grade"))
                                @for p in &shown.periods {
                                    @match u.periods.iter().find(|x| x.period == p.period) {
                                        Some(x) => td.num data-period=(p.period) {
                                            (super::format::points(&x.figure.0))
                                            @if x.capped_by_veto { " " span.bad { (lang.t("否决", "veto")) } }
                                        },
                                        None => td data-period=(p.period) { "—" },
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if shown.units.iter().any(|u| u.capped_by_veto) {
                p.as-of { (lang.t("一票否决: 任一计入周期被否决, 年度等级为最低等级.", "Veto: a veto in any counted period caps the year's grade at the lowest band.")) }
            }
        }
    }
}

/// A cell that, when the page shows the past, is highlighted if the value changed since.
fn cell(value: &str, today: Option<&str>, lang: Lang, column: &str) -> Markup {
    let class = (column == "year").then_some("num");
    html! {
        @match today.filter(|t| *t != value) {
            Some(now) => td.changed class=[class] data-col=(column) title={ (lang.t("现值: ", "now: ")) (now) } {
                (value) span.now { " → " (now) }
            },
            None => td class=[class] data-col=(column) { (value) },
        }
    }
}
