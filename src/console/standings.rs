//! The standings of a period, now or as they stood at any moment, with what changed since then.
//!
//! The time control has two inputs: a date-time (Beijing time) and a slider over the log's positions
//! (1 … head). Either reads the standings "as of" that point through the API (`as_of` or
//! `at_position`); every figure that differs from today's is highlighted, with today's value beside.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::response::Response;
use ledger_schemas::ids::{PeriodId, UnitId};
use maud::{Markup, html};
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::{self, query, seg};
use super::i18n::Lang;
use super::layout::{self, Nav};
use crate::http::views::{
    MilestoneKind, MilestoneView, MilestonesView, PeriodList, PeriodView, StandingsView, UnitList,
    UnitStandingView,
};

#[derive(Debug, Default, Deserialize)]
pub struct StandingsQuery {
    #[serde(default)]
    pub period: Option<String>,
    /// A log position (the slider).
    #[serde(default)]
    pub at: Option<String>,
    /// A time typed in the time control (Beijing time).
    #[serde(default)]
    pub time: Option<String>,
}

/// Where a page reads the past: now, a position (the slider) or a time.
pub(super) enum Point {
    Now,
    Position(u64),
    Time(chrono::DateTime<chrono::Utc>),
}

impl Point {
    /// The point a page's `at` (a log position) and `time` (a typed time, Beijing time)
    /// ask for; the time wins when both are given.
    pub(super) fn asked(
        lang: Lang,
        at: Option<&str>,
        time: Option<&str>,
    ) -> Result<Point, Failure> {
        if let Some(time) = time.filter(|t| !t.trim().is_empty()) {
            return format::parse_time_input(time).map(Point::Time).ok_or_else(|| {
                Failure::bad_request(
                    lang,
                    "time",
                    format!("“{time}”不是有效的时间, 例如 2026-10-01 08:30 (not a valid time such as 2026-10-01 08:30)"),
                )
            });
        }
        match at.map(str::trim).filter(|a| !a.is_empty()) {
            None => Ok(Point::Now),
            Some(at) => at.parse().map(Point::Position).map_err(|_| {
                Failure::bad_request(
                    lang,
                    "at",
                    format!("记录序号须为正整数, 实际为“{at}” (the position must be a whole number, not {at:?})"),
                )
            }),
        }
    }

    /// The API's query parameter for this point (`at_position` or `as_of`); none for now.
    pub(super) fn api_query(&self) -> Option<String> {
        match self {
            Point::Now => None,
            Point::Position(p) => Some(format!("at_position={p}")),
            Point::Time(t) => Some(query(&[("as_of", &t.to_rfc3339())])),
        }
    }
}

/// The time control of a page that reads the past: a slider over the log's positions (1 … head)
/// and a date-time (Beijing time), submitted to `action` with the `keep` parameters; `back` links
/// to the present when the page shows the past.
#[allow(clippy::too_many_arguments)]
pub(super) fn time_control(
    lang: Lang,
    action: &str,
    keep: &[(&str, &str)],
    head: u64,
    slider_at: u64,
    time_value: Option<String>,
    back: Option<String>,
    life: Option<&MilestonesView>,
) -> Markup {
    // Over a period's own life when it is known: from its opening to now, with its milestones.
    let min = life
        .and_then(|l| l.milestones.first())
        .map_or(1, |m| m.position)
        .min(head.max(1));
    let link = |position: u64| {
        let mut pairs: Vec<(&str, String)> =
            keep.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        pairs.push(("at", position.to_string()));
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        format!("{action}?{}", query(&pairs))
    };
    html! {
        form.controls.time #time-control method="get" action=(action) {
            @for (name, value) in keep {
                input type="hidden" name=(name) value=(value);
            }
            label for="at" { (lang.t("时间回溯", "Time travel")) }
            input #at type="range" name="at" min=(min) max=(head.max(1)) value=(slider_at.max(min)) data-head=(head) list=[life.map(|_| "milestones")];
            @if let Some(life) = life {
                datalist #milestones {
                    @for m in &life.milestones { option value=(m.position) label=(milestone_label(lang, m)) {} }
                }
            }
            output #at-label for="at" { (lang.t("记录序号", "record")) " " (slider_at) " / " (head) }
            label for="time" { (lang.t("或时间 (北京时间)", "or time (Beijing)")) }
            (format::time_field(lang, "time", "time", time_value.as_deref()))
            button type="submit" #time-go { (lang.t("查看", "Show")) }
            @if let Some(back) = back {
                a.now href=(back) { (lang.t("回到现在", "Back to now")) }
            }
        }
        @if let Some(life) = life {
            (milestone_marks(lang, life, &|m| link(m.position), Some(slider_at)))
        }
    }
}

/// A period's milestones as marks, each a link (`link`) to the point it stands for, with
/// 按公示时 and the publication's time first; the mark at `on` is highlighted. The standings, a
/// sheet, an item and the change log share them.
pub(super) fn milestone_marks(
    lang: Lang,
    life: &MilestonesView,
    link: &dyn Fn(&MilestoneView) -> String,
    on: Option<u64>,
) -> Markup {
    html! {
        nav.milestones #milestone-marks aria-label=(lang.t("里程碑", "Milestones")) {
            @if let Some(p) = life.milestones.iter().rev().find(|m| m.kind == MilestoneKind::Published) {
                a.button #as-published href=(link(p)) data-position=(p.position) { (lang.t("按公示时", "As published")) }
                span.published-at #published-at { (lang.t("公示于 ", "published ")) (format::time(&p.recorded_at)) }
            }
            ol {
                @for m in &life.milestones {
                    li class=[(Some(m.position) == on).then_some("on")] {
                        a href=(link(m)) data-position=(m.position) data-kind=(milestone_kind(m.kind)) title=(format::time(&m.recorded_at)) {
                            (milestone_label(lang, m))
                        }
                    }
                }
            }
        }
    }
}

fn milestone_kind(kind: MilestoneKind) -> &'static str {
    match kind {
        MilestoneKind::Opened => "opened",
        MilestoneKind::Stage => "stage",
        MilestoneKind::Published => "published",
        MilestoneKind::Reopened => "reopened",
        MilestoneKind::RubricMoved => "rubric-moved",
        MilestoneKind::AppealUpheld => "appeal-upheld",
        MilestoneKind::AppealDismissed => "appeal-dismissed",
    }
}

/// What a milestone is, in the office's words.
fn milestone_label(lang: Lang, m: &MilestoneView) -> String {
    let date = m
        .recorded_at
        .with_timezone(&format::beijing())
        .format("%m-%d %H:%M");
    let what = match (m.kind, m.stage) {
        (MilestoneKind::Opened, _) => lang.t("开启", "opened").to_owned(),
        (MilestoneKind::Published, _) => lang.t("公示", "published").to_owned(),
        (MilestoneKind::Reopened, _) => lang.t("重新开启", "reopened").to_owned(),
        (MilestoneKind::Stage, Some(stage)) => {
            format!(
                "{}{}",
                lang.t("进入", "to "),
                super::i18n::stage(lang, stage)
            )
        }
        (MilestoneKind::Stage, None) => lang.t("阶段变更", "stage changed").to_owned(),
        (MilestoneKind::RubricMoved, _) => lang
            .t("改用新版细则", "moved to a new rubric version")
            .to_owned(),
        (MilestoneKind::AppealUpheld, _) => super::i18n::appeal_upheld(lang).to_owned(),
        (MilestoneKind::AppealDismissed, _) => super::i18n::appeal_dismissed(lang).to_owned(),
    };
    format!("{what} {date}")
}

/// The period a page is about: the one asked for (which must exist), else the latest (none while
/// there is no period).
pub fn choose_period<'a>(
    lang: Lang,
    periods: &'a PeriodList,
    asked: Option<&str>,
) -> Result<Option<&'a PeriodView>, Failure> {
    match asked.filter(|p| !p.is_empty()) {
        Some(id) => periods
            .periods
            .iter()
            .find(|p| p.period.as_str() == id)
            .map(Some)
            .ok_or_else(|| {
                Failure::not_found(lang, format!("没有考核周期 {id} (there is no period {id})"))
            }),
        None => Ok(periods.periods.iter().max_by_key(|p| p.starts_on)),
    }
}

/// Unit names by id.
pub async fn unit_names(session: &Session) -> Result<BTreeMap<UnitId, String>, Failure> {
    let units: UnitList = session.get("/api/v1/units").await?;
    Ok(units.units.into_iter().map(|u| (u.unit, u.name)).collect())
}

/// `GET /standings?period=&at=&time=`.
pub async fn page(session: Session, Query(q): Query<StandingsQuery>) -> Result<Response, Failure> {
    let lang = session.lang;
    let point = Point::asked(lang, q.at.as_deref(), q.time.as_deref())?;
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    let Some(period) = choose_period(lang, &periods, q.period.as_deref())? else {
        let body =
            html! { p.empty { (lang.t("还没有考核周期.", "There is no assessment period yet.")) } };
        return Ok(layout::page(
            &session,
            Nav::Standings,
            lang.t("考核排名", "Standings"),
            body,
        ));
    };
    let base = format!("/api/v1/periods/{}/standings", seg(period.period.as_str()));
    let now: StandingsView = session.get(&base).await?;
    let head = now.as_of;
    let past_uri = point.api_query().map(|q| format!("{base}?{q}"));
    // Before the period was opened there are no standings to show: say so, keep the controls.
    let (past, not_yet) = match past_uri {
        None => (None, false),
        Some(uri) => match session.get::<StandingsView>(&uri).await {
            Ok(view) => (Some(view), false),
            Err(f) if f.status == axum::http::StatusCode::NOT_FOUND => (None, true),
            Err(f) => return Err(f),
        },
    };
    // When the point was: the standings say when their last event was recorded.
    let past_time = past.as_ref().and_then(|p| p.as_of_time);
    let names = unit_names(&session).await?;
    let life: MilestonesView = session
        .get(&format!(
            "/api/v1/periods/{}/milestones",
            seg(period.period.as_str())
        ))
        .await?;
    let shown = past.as_ref().unwrap_or(&now);
    let slider_at = match (&past, &point) {
        (Some(p), _) => p.as_of,
        (None, Point::Position(p)) => (*p).min(head),
        _ => head,
    };

    let title = format!("{} · {}", lang.t("考核排名", "Standings"), period.name);
    let printed = super::print::title_block(
        &session,
        &title,
        super::print::Printed {
            period: Some((&period.name, period.period.as_str())),
            as_of: Some((shown.as_of, shown.as_of_time.or(past_time))),
            rubric: Some((shown.rubric.as_str(), shown.rubric_version)),
        },
    )
    .await;
    // One landscape page on paper: the title block, the table and the signatures together.
    let body = html! {
        div.print-landscape {
        (printed)
        form.controls #period-form method="get" action="/standings" {
            label for="period" { (lang.t("考核周期", "Period")) }
            select #period name="period" data-autosubmit {
                @for p in &periods.periods {
                    option value=(p.period) selected[p.period == period.period] { (p.name) " (" (p.period) ")" }
                }
            }
            span.stage { (super::i18n::stage(lang, period.stage)) " · " (lang.t("细则版本", "rubric version")) " " (now.rubric_version) }
            " " a.button #xlsx href={ "/standings.xlsx?" (query(&[("period", period.period.as_str()), ("at", q.at.as_deref().unwrap_or_default()), ("time", q.time.as_deref().unwrap_or_default())])) } { (lang.t("导出 Excel", "Export Excel")) }
        }
        (time_control(
            lang,
            "/standings",
            &[("period", period.period.as_str())],
            head,
            slider_at,
            q.time.as_deref().filter(|t| !t.is_empty()).map(str::to_owned).or_else(|| past_time.as_ref().map(format::time_input)),
            (past.is_some() || not_yet).then(|| format!("/standings?{}", query(&[("period", period.period.as_str())]))),
            Some(&life),
        ))
        @if not_yet {
            p.as-of #not-yet { (lang.t("所选时点该考核周期尚未开启.", "The period had not been opened yet at the point chosen.")) }
        } @else if let Some(p) = &past {
            p.as-of #as-of data-position=(p.as_of) {
                (lang.t("显示截至记录序号 ", "Showing the standings as of position ")) strong { (p.as_of) }
                @if let Some(t) = &past_time { " (" (format::time(t)) ")" }
                (lang.t(" 时的排名; 此后有变化的数值以高亮显示, 悬停可见现值.", "; values that have changed since are highlighted (hover for today's value)."))
                " " span.count #changed-count { (changed_count(p, &now)) } (lang.t(" 处变化", " changed"))
            }
        } @else {
            p.as-of #as-of data-position=(head) { (lang.t("当前排名, 截至记录序号 ", "Standings now, as of position ")) strong { (head) } }
        }
        @if period.stage == ledger_schemas::values::Stage::Published {
            p.print-hide { a #notice-link href={ "/periods/" (seg(period.period.as_str())) "/notice" } { (lang.t("公示通知 (可打印)", "Publication notice (printable)")) } }
        }
        @if !not_yet {
            (table(lang, shown, past.as_ref().map(|_| &now), &names, &period.period, past.as_ref().map(|p| p.as_of)))
            (super::print::signatures(lang))
        }
        }
    };
    Ok(layout::page(&session, Nav::Standings, &title, body))
}

/// The figures of one line, by column: rank, each aspect's points, base, bonus, deduction, party,
/// business, combined, grade.
fn figures(u: &UnitStandingView) -> Vec<String> {
    let (scored, items) = progress(u);
    let mut out = vec![u.rank.to_string(), format!("{scored}/{items}")];
    let fixed = |f: &str| format::points(f);
    out.extend(u.score.aspects.iter().map(|a| fixed(&a.points.0)));
    out.push(fixed(&u.score.base.0));
    out.push(fixed(&u.score.bonus.0));
    out.push(fixed(&u.score.deduction.0));
    out.push(fixed(&u.score.party_score.0));
    out.push(
        u.score
            .business_score
            .as_ref()
            .map_or_else(|| "—".into(), |f| fixed(&f.0)),
    );
    out.push(
        u.score
            .combined
            .as_ref()
            .map_or_else(|| "—".into(), |f| fixed(&f.0)),
    );
    out.push(u.grade_label.zh.clone());
    out
}

/// 已评 n/m: base items with a counting score, of the base items of the rubric version.
pub(super) fn progress(u: &UnitStandingView) -> (usize, usize) {
    u.score
        .aspects
        .iter()
        .fold((0, 0), |(s, i), a| (s + a.scored, i + a.items))
}

/// Ranks among the complete sheets only ("1224" again, ties by the API's rank), none for an
/// incomplete one: a rank among half-scored sheets would mislead.
fn complete_ranks(units: &[UnitStandingView]) -> Vec<Option<u32>> {
    let mut out = Vec::with_capacity(units.len());
    let (mut placed, mut last): (u32, Option<(u32, u32)>) = (0, None);
    for u in units {
        if !u.score.complete {
            out.push(None);
            continue;
        }
        placed += 1;
        let rank = match last {
            Some((api_rank, rank)) if api_rank == u.rank => rank,
            _ => placed,
        };
        last = Some((u.rank, rank));
        out.push(Some(rank));
    }
    out
}

/// The grade as it may be read: final when the sheet is complete, marked 暂定 (provisional) while
/// it is partly scored, none while nothing is scored.
fn grade_cell(lang: Lang, u: &UnitStandingView) -> Markup {
    let (scored, _) = progress(u);
    html! {
        @if u.score.complete {
            (lang.text(&u.grade_label))
        } @else if scored == 0 {
            span.provisional { "—" }
        } @else {
            span.provisional title=(lang.t("评分未完成, 等级为暂定", "scoring is not complete: the grade is provisional")) {
                span.tag { (lang.t("暂定", "provisional")) } (lang.text(&u.grade_label))
            }
        }
    }
}

fn changed_count(past: &StandingsView, now: &StandingsView) -> usize {
    past.units
        .iter()
        .map(|u| {
            let then = figures(u);
            match now.units.iter().find(|n| n.unit == u.unit) {
                Some(n) => then.iter().zip(figures(n)).filter(|(a, b)| *a != b).count(),
                None => then.len(),
            }
        })
        .sum()
}

fn table(
    lang: Lang,
    shown: &StandingsView,
    now: Option<&StandingsView>,
    names: &BTreeMap<UnitId, String>,
    period: &PeriodId,
    at: Option<u64>,
) -> Markup {
    let at = at.map(|p| format!("?at={p}")).unwrap_or_default();
    let aspects: Vec<_> = shown
        .units
        .first()
        .map(|u| u.score.aspects.iter().map(|a| a.aspect.clone()).collect())
        .unwrap_or_default();
    let title_of = |code: &ledger_schemas::ids::AspectCode| {
        shown
            .aspects
            .iter()
            .find(|a| &a.aspect == code)
            .map(|a| lang.text(&a.title))
            .unwrap_or_else(|| code.to_string())
    };
    html! {
        @if shown.units.is_empty() {
            p.empty { (lang.t("没有可查看的单位.", "No unit you may see.")) }
        } @else {
            @let complete = shown.units.iter().filter(|u| u.score.complete).count();
            p.rank-note #rank-note data-complete=(complete) data-units=(shown.units.len()) {
                @if complete == shown.units.len() {
                    (lang.t("全部单位已评完, 名次与等级为最终结果.", "Every sheet is complete: ranks and grades are final."))
                } @else {
                    (lang.t("名次仅在已评完的 ", "Ranks are among the ")) strong { (complete) } (lang.t(" 个单位之间排列; 未评完的单位不排名, 等级标为“暂定”.", " complete sheets only; incomplete sheets are not ranked and their grade is marked provisional."))
                }
            }
            div.scroll { table.standings.sortable #standings {
                thead { tr {
                    th.num { (lang.t("名次", "Rank")) }
                    th { (lang.t("单位", "Unit")) }
                    th.num { (lang.t("已评", "Scored")) }
                    @for a in &aspects { th.num title=(a) { (title_of(a)) } }
                    th.num { (lang.t("基础分", "Base")) }
                    th.num { (lang.t("加分", "Bonus")) }
                    th.num { (lang.t("扣分", "Deduction")) }
                    th.num { (lang.t("党建得分", "Party score")) }
                    th.num { (lang.t("经营得分", "Business")) }
                    th.num { (lang.t("综合得分", "Combined")) }
                    th { (lang.t("等级", "Grade")) }
                } }
                tbody {
                    @for (u, complete_rank) in shown.units.iter().zip(complete_ranks(&shown.units)) {
                        @let then = figures(u);
                        @let today = now.and_then(|n| n.units.iter().find(|x| x.unit == u.unit)).map(figures);
                        tr data-unit=(u.unit) {
                            @for (i, value) in then.iter().enumerate() {
                                @let changed = today.as_ref().and_then(|t| t.get(i)).filter(|t| *t != value);
                                @if i == 1 {
                                    td.unit {
                                        a href={ "/periods/" (seg(period.as_str())) "/units/" (seg(u.unit.as_str())) (at) } {
                                            (names.get(&u.unit).cloned().unwrap_or_else(|| u.unit.to_string()))
                                        }
                                    }
                                }
                                @let label = if i == then.len() - 1 {
                                    grade_cell(lang, u)
                                } else if i == 0 {
                                    html! { @match complete_rank { Some(r) => { (r) } None => { span.provisional title=(lang.t("评分未完成, 不参与排名", "not complete: not ranked")) { "—" } } } }
                                } else {
                                    html! { (value) }
                                };
                                @let class = if i == then.len() - 1 { "grade" } else { "num" };
                                @if let Some(today) = changed {
                                    td.changed class=(class) data-col=(i) title={ (lang.t("现值: ", "now: ")) (today) } {
                                        (label) span.now { " → " (today) }
                                    }
                                } @else {
                                    td class=(class) data-col=(i) data-sort=(value.split('/').next().unwrap_or(value)) { (label) }
                                }
                            }
                        }
                    }
                }
                // The mean of each figure over the complete sheets (a partly scored sheet would
                // pull it down); none while no sheet is complete.
                @let complete_figures: Vec<Vec<String>> = shown.units.iter().filter(|u| u.score.complete).map(figures).collect();
                @if !complete_figures.is_empty() {
                    tfoot { tr #standings-mean {
                        th colspan="3" { (lang.t("平均 (已评完单位)", "Mean (complete sheets)")) }
                        @for i in 2..complete_figures[0].len() - 1 {
                            @let column: Vec<&str> = complete_figures.iter().filter_map(|f| f.get(i).map(String::as_str)).collect();
                            td.num data-col=(i) { (format::mean(&column).unwrap_or_else(|| "—".to_owned())) }
                        }
                        td {}
                    } }
                }
            } }
        }
    }
}
