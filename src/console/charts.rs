//! Charts, drawn here as SVG: a unit's scores across periods (party-building and combined), and the
//! units of a period compared aspect by aspect (points as a share of each aspect's maximum).

use axum::extract::Query;
use axum::response::Response;
use ledger_schemas::ids::UnitId;
use maud::{Markup, html};
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::seg;
use super::i18n::Lang;
use super::layout::{self, Nav};
use super::standings::{choose_period, unit_names};
use crate::http::views::{PeriodList, StandingsView};

#[derive(Debug, Default, Deserialize)]
pub struct ChartsQuery {
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub period: Option<String>,
}

/// The most units the aspect comparison draws (the best ranked).
const COMPARED_UNITS: usize = 12;

/// A period's name, party-building score and combined score.
type Point = (String, Option<f64>, Option<f64>);

const PALETTE: [&str; 10] = [
    "#c0392b", "#2e86c1", "#28b463", "#d68910", "#7d3c98", "#17a589", "#a04000", "#5d6d7e",
    "#cb4335", "#2471a3",
];

fn number(figure: &str) -> Option<f64> {
    figure.parse().ok()
}

/// `GET /charts?unit=&period=`.
pub async fn page(session: Session, Query(q): Query<ChartsQuery>) -> Result<Response, Failure> {
    let lang = session.lang;
    let mut periods: PeriodList = session.get("/api/v1/periods").await?;
    periods.periods.sort_by_key(|p| p.starts_on);
    let names = unit_names(&session).await?;
    let mut standings: Vec<StandingsView> = Vec::new();
    for p in &periods.periods {
        standings.push(
            session
                .get(&format!(
                    "/api/v1/periods/{}/standings",
                    seg(p.period.as_str())
                ))
                .await?,
        );
    }
    let visible: Vec<UnitId> = standings
        .iter()
        .flat_map(|s| s.units.iter().map(|u| u.unit.clone()))
        .fold(Vec::new(), |mut acc, u| {
            if !acc.contains(&u) {
                acc.push(u);
            }
            acc
        });
    let unit = q
        .unit
        .as_deref()
        .and_then(|u| visible.iter().find(|v| v.as_str() == u))
        .or(visible.first())
        .cloned();
    let period = choose_period(lang, &periods, q.period.as_deref())?.map(|p| p.period.clone());
    let comparison = period
        .as_ref()
        .and_then(|p| standings.iter().find(|s| &s.period == p));
    let name = |u: &UnitId| names.get(u).cloned().unwrap_or_else(|| u.to_string());
    let body = html! {
        form.controls method="get" action="/charts" {
            label for="unit" { (lang.t("单位", "Unit")) }
            select #unit name="unit" data-autosubmit {
                @for u in &visible { option value=(u) selected[Some(u) == unit.as_ref()] { (name(u)) } }
            }
            label for="period" { (lang.t("对比周期", "Period compared")) }
            select #period name="period" data-autosubmit {
                @for p in &periods.periods { option value=(p.period) selected[Some(&p.period) == period.as_ref()] { (p.name) } }
            }
        }
        @if let Some(u) = &unit {
            h2 { (name(u)) " · " (lang.t("各周期得分", "score across periods")) }
            (trend(lang, u, &standings))
        }
        @if let Some(s) = comparison {
            h2 { (s.name) " · " (lang.t("各单位分方面对比 (得分占该方面满分的百分比)", "aspects compared between units (points as % of the aspect's maximum)")) }
            @if s.units.len() > COMPARED_UNITS {
                p.meta #compared-note { (lang.t("按名次取前 ", "The first ")) (COMPARED_UNITS) (lang.t(" 个单位; 完整名单见考核排名.", " units by rank; the standings list every unit.")) }
            }
            (aspects(lang, s, &name))
        }
    };
    Ok(layout::page(
        &session,
        Nav::Charts,
        lang.t("图表", "Charts"),
        body,
    ))
}

/// A line chart of the unit's party-building and combined scores, one point per period.
fn trend(lang: Lang, unit: &UnitId, standings: &[StandingsView]) -> Markup {
    let (w, h, left, bottom, top) = (640.0, 260.0, 48.0, 40.0, 16.0);
    let points: Vec<Point> = standings
        .iter()
        .filter_map(|s| {
            let line = s.units.iter().find(|x| &x.unit == unit)?;
            Some((
                s.name.clone(),
                number(&line.score.party_score.0),
                line.score.combined.as_ref().and_then(|c| number(&c.0)),
            ))
        })
        .collect();
    let n = points.len().max(1) as f64;
    let x = |i: usize| left + (w - left - 16.0) * (i as f64 + 0.5) / n;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v.clamp(0.0, 100.0) / 100.0);
    let path = |pick: fn(&Point) -> Option<f64>| {
        points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| pick(p).map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        svg.chart #trend-chart viewBox={ "0 0 " (w) " " (h) } role="img" aria-label=(lang.t("得分趋势", "Score trend")) {
            @for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
                line x1=(left) x2=(w - 16.0) y1=(y(tick)) y2=(y(tick)) stroke="#ddd" {}
                text x=(left - 6.0) y=(y(tick) + 4.0) text-anchor="end" font-size="11" { (tick) }
            }
            polyline points=(path(|p| p.1)) fill="none" stroke=(PALETTE[0]) stroke-width="2" {}
            polyline points=(path(|p| p.2)) fill="none" stroke=(PALETTE[1]) stroke-width="2" stroke-dasharray="5 3" {}
            @for (i, p) in points.iter().enumerate() {
                @if let Some(v) = p.1 { circle.party cx=(x(i)) cy=(y(v)) r="4" fill=(PALETTE[0]) { title { (p.0) ": " (v) } } }
                @if let Some(v) = p.2 { circle.combined cx=(x(i)) cy=(y(v)) r="4" fill=(PALETTE[1]) { title { (p.0) ": " (v) } } }
                text x=(x(i)) y=(h - bottom + 18.0) text-anchor="middle" font-size="12" { (p.0) }
            }
            rect x=(left + 8.0) y="4" width="10" height="10" fill=(PALETTE[0]) {}
            text x=(left + 22.0) y="13" font-size="12" { (lang.t("党建得分", "party score")) }
            rect x=(left + 110.0) y="4" width="10" height="10" fill=(PALETTE[1]) {}
            text x=(left + 124.0) y="13" font-size="12" { (lang.t("综合得分", "combined")) }
        }
    }
}

/// Grouped bars: for each weighted aspect, one bar per unit.
fn aspects(lang: Lang, s: &StandingsView, name: &dyn Fn(&UnitId) -> String) -> Markup {
    let codes: Vec<_> = s.aspects.iter().map(|a| a.aspect.clone()).collect();
    // The axis and the tooltips name each aspect by its title (组织建设), not its code (A).
    let aspect_title = |code: &ledger_schemas::ids::AspectCode| {
        s.aspects
            .iter()
            .find(|a| &a.aspect == code)
            .map_or_else(|| code.to_string(), |a| lang.text(&a.title).to_string())
    };
    // Bars stay readable for the first ranks only; the standings page lists every unit.
    let units = &s.units[..s.units.len().min(COMPARED_UNITS)];
    let (w, h, left, bottom, top) = (760.0, 300.0, 40.0, 70.0, 12.0);
    let groups = codes.len().max(1) as f64;
    let group_w = (w - left - 10.0) / groups;
    let bar_w = (group_w - 10.0) / units.len().max(1) as f64;
    let y = |share: f64| top + (h - top - bottom) * (1.0 - share.clamp(0.0, 1.0));
    html! {
        svg.chart #aspect-chart viewBox={ "0 0 " (w) " " (h) } role="img" aria-label=(lang.t("分方面对比", "Aspect comparison")) {
            @for tick in [0.0, 0.5, 1.0] {
                line x1=(left) x2=(w - 10.0) y1=(y(tick)) y2=(y(tick)) stroke="#ddd" {}
                text x=(left - 4.0) y=(y(tick) + 4.0) text-anchor="end" font-size="11" { (tick * 100.0) "%" }
            }
            @for (g, code) in codes.iter().enumerate() {
                @let x0 = left + group_w * g as f64 + 5.0;
                @for (i, u) in units.iter().enumerate() {
                    @if let Some(a) = u.score.aspects.iter().find(|a| &a.aspect == code) {
                        @let max = number(&a.max.to_string()).unwrap_or(0.0);
                        @let share = if max > 0.0 { number(&a.points.0).unwrap_or(0.0) / max } else { 0.0 };
                        rect.bar x=(x0 + bar_w * i as f64) y=(y(share)) width=(bar_w.max(1.0) - 1.0) height=(y(0.0) - y(share))
                            fill=(PALETTE[i % PALETTE.len()]) data-unit=(u.unit) data-aspect=(code) {
                            title { (name(&u.unit)) " · " (aspect_title(code)) ": " (a.points.0) " / " (a.max) }
                        }
                    }
                }
                text x=(x0 + group_w / 2.0 - 5.0) y=(h - bottom + 16.0) text-anchor="middle" font-size="12" data-aspect=(code) { (aspect_title(code)) }
            }
            @for (i, u) in units.iter().enumerate() {
                @let lx = left + (i % 4) as f64 * 180.0;
                @let ly = h - bottom + 34.0 + (i / 4) as f64 * 16.0;
                rect x=(lx) y=(ly - 9.0) width="10" height="10" fill=(PALETTE[i % PALETTE.len()]) {}
                text x=(lx + 14.0) y=(ly) font-size="12" { (name(&u.unit)) }
            }
        }
    }
}
