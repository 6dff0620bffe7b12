//! Read handlers: parse the query, ask the read models at the point asked (`as_of` or
//! `at_position`, else now), keep what the caller may see ([`Caller`]'s scope), answer.
//!
//! Every read answers with `Ledger-Position: {position}`, the last event the answer includes, so a
//! client can repeat exactly the same read later with `at_position`. A point beyond the end of the
//! log reads as the end. Sheets, items and periods also answer with their revision as the `ETag`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::ETAG;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use ledger_projections::read::{ChangeFilter, ChangeKind, View};
use ledger_schemas::events::Event;
use ledger_schemas::ids::{
    AppealId, AspectCode, ItemCode, PeriodId, PersonId, RectificationId, RubricId, UnitId, stream,
};
use ledger_schemas::values::Stage;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Api;
use super::auth::Caller;
use super::error::ApiError;
use super::etag;
use super::extract::{Params, Query};
use super::views::*;
use crate::app::clock::day_of_read;
use crate::app::reads::ReadAt;
use crate::store::{Direction, EventStore, ReadFrom};

type Shared<S> = State<Arc<Api<S>>>;
type Answer = Result<Response, ApiError>;

/// The response header naming the position a read was taken at.
pub const POSITION_HEADER: &str = "ledger-position";

/// The most entries a page of the change log or of the raw log holds.
pub const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

/// Where a read is taken; every read accepts these two parameters (at most one of them).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AtQuery {
    /// RFC 3339 time: read the ledger as it stood then (events recorded at or before it).
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    /// A log position: read the ledger as it stood after that event.
    #[serde(default)]
    pub at_position: Option<u64>,
}

/// Parses the two point parameters.
fn read_at(as_of: Option<&str>, at_position: Option<u64>) -> Result<ReadAt, ApiError> {
    match (as_of, at_position) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "invalid-query",
            "query.as_of",
            "as_of 与 at_position 只能给出其一 (give as_of or at_position, not both)",
        )),
        (Some(text), None) => time("as_of", text).map(ReadAt::Time),
        (None, Some(position)) => Ok(ReadAt::Position(position)),
        (None, None) => Ok(ReadAt::Head),
    }
}

/// An RFC 3339 time from a query string. A `+` of an offset that arrived unescaped (and so decoded
/// as a space) is taken back as the `+` it was.
fn time(name: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    let text = text.trim().replace(' ', "+");
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            ApiError::bad_request(
                "invalid-query",
                &format!("query.{name}"),
                format!(
                    "{name} 须为 RFC 3339 时间, 如 2026-03-31T16:00:00Z ({name} must be an RFC 3339 time such as 2026-03-31T16:00:00Z): {e}"
                ),
            )
        })
}

impl AtQuery {
    fn at(&self) -> Result<ReadAt, ApiError> {
        read_at(self.as_of.as_deref(), self.at_position)
    }
}

/// A read's answer: the body, the position, and the resource's revision as ETag if it has one.
fn answer<T: Serialize>(position: u64, revision: Option<u64>, body: &T) -> Response {
    let mut response = axum::Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(POSITION_HEADER, HeaderValue::from(position));
    if let Some(value) = revision.and_then(|r| HeaderValue::from_str(&etag::format(r)).ok()) {
        headers.insert(ETAG, value);
    }
    response
}

/// Runs a query on the read models at `at`.
async fn query<S: EventStore, T: Send>(
    api: &Api<S>,
    at: ReadAt,
    f: impl FnOnce(&View<'_>) -> Result<T, ApiError> + Send,
) -> Result<(u64, T), ApiError> {
    api.reads
        .query(at, |view| f(view).map(|t| (view.position(), t)))
        .await?
}

/// Names the uploaders of the files the changes cite, from the register as it is now (a change
/// rendered from its event knows only the person's id).
async fn name_uploaders<S: EventStore>(
    api: &Api<S>,
    changes: &mut [ChangeEntryView],
) -> Result<(), ApiError> {
    if changes.iter().all(|c| c.files.is_empty()) {
        return Ok(());
    }
    let (_, names) = query(api, ReadAt::Head, |view| {
        let people = &view.state().people;
        Ok(changes
            .iter()
            .flat_map(|c| &c.files)
            .filter_map(|f| {
                people
                    .get(&f.uploaded_by)
                    .map(|p| (f.uploaded_by.clone(), p.name.clone()))
            })
            .collect::<std::collections::BTreeMap<_, _>>())
    })
    .await?;
    for file in changes.iter_mut().flat_map(|c| c.files.iter_mut()) {
        file.uploaded_by_name = names.get(&file.uploaded_by).cloned();
    }
    Ok(())
}

// ---- units, people, tokens ----

pub async fn list_units<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    Query(q): Query<AtQuery>,
) -> Answer {
    let (position, body) = query(&api, q.at()?, |view| {
        let units = view
            .state()
            .units
            .iter()
            .filter(|(id, _)| caller.may_read_unit(id))
            .map(|(id, unit)| UnitView::new(id, unit))
            .collect();
        Ok(UnitList { units })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn get_unit<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let unit = params.get::<UnitId>("unit")?;
    caller.require_unit(&unit)?;
    let (position, body) = query(&api, q.at()?, |view| {
        view.state()
            .units
            .get(&unit)
            .map(|u| UnitView::new(&unit, u))
            .ok_or_else(|| {
                ApiError::not_found(format!("没有单位 {unit} (there is no unit {unit})"))
            })
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// Who the caller is: the console signs in with this, and a script can check its token.
pub async fn me<S: EventStore>(State(api): Shared<S>, caller: Caller) -> Answer {
    let folded = api.ledger.folded();
    let position = folded.head;
    let body = MeView {
        person: caller.person().clone(),
        name: folded
            .state
            .people
            .get(caller.person())
            .map(|p| p.name.clone()),
        role: caller.role(),
        units: match &caller.scope {
            super::auth::Scope::Units(units) => Some(units.iter().cloned().collect()),
            _ => None,
        },
    };
    drop(folded);
    Ok(answer(position, None, &body))
}

pub async fn list_people<S: EventStore>(State(api): Shared<S>, Query(q): Query<AtQuery>) -> Answer {
    let (position, body) = query(&api, q.at()?, |view| {
        let state = view.state();
        let people = state
            .people
            .keys()
            .filter_map(|p| PersonView::new(state, p))
            .collect();
        Ok(PersonList { people })
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// The names directory: every person's name and unit, without their roles.
pub async fn list_person_names<S: EventStore>(
    State(api): Shared<S>,
    Query(q): Query<AtQuery>,
) -> Answer {
    let (position, body) = query(&api, q.at()?, |view| {
        let people = view
            .state()
            .people
            .iter()
            .map(|(id, p)| PersonName {
                person: id.clone(),
                name: p.name.clone(),
                unit: p.unit.clone(),
            })
            .collect();
        Ok(PersonNames { people })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn get_person<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let person = params.get::<PersonId>("person")?;
    caller.require_person(&person)?;
    let (position, body) = query(&api, q.at()?, |view| {
        PersonView::new(view.state(), &person).ok_or_else(|| {
            ApiError::not_found(format!("没有人员 {person} (there is no person {person})"))
        })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn list_tokens<S: EventStore>(State(api): Shared<S>, Query(q): Query<AtQuery>) -> Answer {
    let (position, body) = query(&api, q.at()?, |view| {
        let tokens = view
            .state()
            .tokens
            .iter()
            .map(|(id, t)| TokenView::new(id, t))
            .collect();
        Ok(TokenList { tokens })
    })
    .await?;
    Ok(answer(position, None, &body))
}

// ---- rubrics ----

fn unknown_rubric(rubric: &RubricId) -> ApiError {
    ApiError::not_found(format!(
        "没有考评细则 {rubric} (there is no rubric {rubric})"
    ))
}

pub async fn list_rubrics<S: EventStore>(
    State(api): Shared<S>,
    Query(q): Query<AtQuery>,
) -> Answer {
    let (position, body) = query(&api, q.at()?, |view| {
        let rubrics = view
            .state()
            .rubrics
            .iter()
            .filter_map(|(id, r)| {
                let latest = r.latest();
                Some(RubricSummary {
                    rubric: id.clone(),
                    latest_version: latest,
                    title: r.version(latest)?.title.clone(),
                })
            })
            .collect();
        Ok(RubricList { rubrics })
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// The latest version of a rubric, in full.
pub async fn get_rubric<S: EventStore>(
    State(api): Shared<S>,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let rubric = params.get::<RubricId>("rubric")?;
    let (position, body) = query(&api, q.at()?, |view| {
        let r = view
            .state()
            .rubrics
            .get(&rubric)
            .ok_or_else(|| unknown_rubric(&rubric))?;
        let latest = r.latest();
        let definition = r.version(latest).ok_or_else(|| unknown_rubric(&rubric))?;
        Ok(RubricVersionView {
            rubric: rubric.clone(),
            version: latest,
            latest_version: latest,
            definition: definition.clone(),
        })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn list_rubric_versions<S: EventStore>(
    State(api): Shared<S>,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let rubric = params.get::<RubricId>("rubric")?;
    let (position, body) = query(&api, q.at()?, |view| {
        if !view.state().rubrics.contains_key(&rubric) {
            return Err(unknown_rubric(&rubric));
        }
        let versions = view
            .rubric_versions(&rubric)
            .into_iter()
            .map(|v| RubricVersionSummary {
                version: v.version,
                title: v.definition.title.clone(),
                made_at: v.made_at,
                periods: v.periods,
            })
            .collect();
        Ok(RubricVersionList {
            rubric: rubric.clone(),
            versions,
        })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn get_rubric_version<S: EventStore>(
    State(api): Shared<S>,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let rubric = params.get::<RubricId>("rubric")?;
    let version = params.get::<u32>("version")?;
    let (position, body) = query(&api, q.at()?, |view| {
        let r = view
            .state()
            .rubrics
            .get(&rubric)
            .ok_or_else(|| unknown_rubric(&rubric))?;
        let definition = r.version(version).ok_or_else(|| {
            ApiError::not_found(format!(
                "考评细则 {rubric} 没有第 {version} 版 (rubric {rubric} has no version {version})"
            ))
        })?;
        Ok(RubricVersionView {
            rubric: rubric.clone(),
            version,
            latest_version: r.latest(),
            definition: definition.clone(),
        })
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// The two versions to compare.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    pub from: u32,
    pub to: u32,
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

pub async fn diff_rubric<S: EventStore>(
    State(api): Shared<S>,
    params: Params,
    Query(q): Query<DiffQuery>,
) -> Answer {
    let rubric = params.get::<RubricId>("rubric")?;
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let (from, to) = (q.from, q.to);
    let (position, body) = query(&api, at, |view| {
        let diff = view.rubric_diff(&rubric, from, to).ok_or_else(|| {
            ApiError::not_found(format!(
                "考评细则 {rubric} 没有第 {from} 版或第 {to} 版 (rubric {rubric} has no version {from} or {to})"
            ))
        })?;
        Ok(RubricDiffView {
            rubric: rubric.clone(),
            from,
            to,
            changes: diff
                .iter()
                .map(|d| DiffEntryView {
                    description: d.to_string(),
                    change: serde_json::to_value(d).unwrap_or_default(),
                })
                .collect(),
        })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn list_adjustments<S: EventStore>(
    State(api): Shared<S>,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let rubric = params.get::<RubricId>("rubric")?;
    let (position, made_at) = query(&api, q.at()?, |view| {
        if !view.state().rubrics.contains_key(&rubric) {
            return Err(unknown_rubric(&rubric));
        }
        Ok(view
            .rubric_versions(&rubric)
            .into_iter()
            .filter(|v| v.version > 1)
            .filter_map(|v| v.made_at)
            .collect::<Vec<u64>>())
    })
    .await?;
    let mut adjustments = Vec::new();
    for envelope in api.reads.envelopes(&made_at).await? {
        let Ok(Event::RubricAdjusted(adjusted)) = envelope.decode() else {
            continue;
        };
        adjustments.push(AdjustmentView {
            rubric: adjusted.rubric,
            from_version: adjusted.from_version,
            version: adjusted.version,
            approver: adjusted.approver,
            recorded_by: envelope.actor.person,
            recorded_at: envelope.recorded_at,
            position: envelope.position,
            reason: envelope.reason,
            changes: adjusted.changes,
        });
    }
    Ok(answer(
        position,
        None,
        &AdjustmentList {
            rubric,
            adjustments,
        },
    ))
}

// ---- periods, sheets, items ----

fn unknown_period(period: &PeriodId) -> ApiError {
    ApiError::not_found(format!(
        "没有考核周期 {period} (there is no period {period})"
    ))
}

pub async fn list_periods<S: EventStore>(
    State(api): Shared<S>,
    Query(q): Query<AtQuery>,
) -> Answer {
    let (position, body) = query(&api, q.at()?, |view| {
        let state = view.state();
        let periods = state
            .periods
            .iter()
            .map(|(id, p)| PeriodView::new(id, p, state.revision(&stream::period(id))))
            .collect();
        Ok(PeriodList { periods })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn get_period<S: EventStore>(
    State(api): Shared<S>,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let period = params.get::<PeriodId>("period")?;
    let (position, body) = query(&api, q.at()?, |view| {
        let state = view.state();
        let p = state
            .periods
            .get(&period)
            .ok_or_else(|| unknown_period(&period))?;
        Ok(PeriodView::new(
            &period,
            p,
            state.revision(&stream::period(&period)),
        ))
    })
    .await?;
    let revision = body.revision;
    Ok(answer(position, revision, &body))
}

/// The most milestones a period's life answers with (its stage changes, reopenings, rubric moves
/// and appeal decisions: a handful in practice).
const MAX_MILESTONES: usize = MAX_PAGE;

/// A period's life as the office reads it: opened, each stage change, published, reopened, moved
/// to another rubric version, appeals decided; each with its log position and time, and when it
/// was (last) published. The time control of the console puts its marks there.
pub async fn period_milestones<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let period = params.get::<PeriodId>("period")?;
    let filter = ChangeFilter {
        period: Some(period.clone()),
        kinds: vec![
            ChangeKind::PeriodOpened,
            ChangeKind::PeriodStageChanged,
            ChangeKind::PeriodRubricChanged,
            ChangeKind::AppealUpheld,
            ChangeKind::AppealDismissed,
        ],
        ..ChangeFilter::default()
    };
    let (position, page) = query(&api, q.at()?, |view| {
        if !view.state().periods.contains_key(&period) {
            return Err(unknown_period(&period));
        }
        Ok(view.changes(&filter, None, MAX_MILESTONES))
    })
    .await?;
    let envelopes = api.reads.envelopes(&page.positions).await?;
    let mut milestones = Vec::new();
    // The change log answers newest first; a life reads oldest first.
    for envelope in envelopes.iter().rev() {
        let Ok(event) = envelope.decode() else {
            continue;
        };
        let (kind, stage, appeal) = match event {
            Event::PeriodOpened(_) => (MilestoneKind::Opened, Some(Stage::Opened), None),
            Event::PeriodStageChanged(c) if c.from == Stage::Published => {
                (MilestoneKind::Reopened, Some(c.to), None)
            }
            Event::PeriodStageChanged(c) if c.to == Stage::Published => {
                (MilestoneKind::Published, Some(c.to), None)
            }
            Event::PeriodStageChanged(c) => (MilestoneKind::Stage, Some(c.to), None),
            Event::PeriodRubricChanged(_) => (MilestoneKind::RubricMoved, None, None),
            Event::AppealUpheld(a) => (MilestoneKind::AppealUpheld, None, Some(a.appeal)),
            Event::AppealDismissed(a) => (MilestoneKind::AppealDismissed, None, Some(a.appeal)),
            _ => continue,
        };
        if let Some(appeal) = &appeal {
            // An appeal of a unit the caller may not read is not theirs to see.
            let unit = api
                .ledger
                .folded()
                .state
                .appeals
                .get(appeal)
                .map(|a| a.unit.clone());
            if unit.is_some_and(|u| !caller.may_read_unit(&u)) {
                continue;
            }
        }
        milestones.push(MilestoneView {
            position: envelope.position,
            recorded_at: envelope.recorded_at,
            kind,
            stage,
            appeal,
        });
    }
    let published_at = milestones
        .iter()
        .rev()
        .find(|m| m.kind == MilestoneKind::Published)
        .map(|m| m.recorded_at);
    Ok(answer(
        position,
        None,
        &MilestonesView {
            period,
            at_position: position,
            published_at,
            milestones,
        },
    ))
}

fn no_sheet(period: &PeriodId, unit: &UnitId) -> ApiError {
    ApiError::not_found(format!(
        "考核周期 {period} 中没有单位 {unit} 的评分表 (period {period} has no sheet of unit {unit})"
    ))
}

pub async fn get_sheet<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let (period, unit) = (
        params.get::<PeriodId>("period")?,
        params.get::<UnitId>("unit")?,
    );
    caller.require_unit(&unit)?;
    let (position, body) = query(&api, q.at()?, |view| {
        SheetView::new(view.state(), &period, &unit).ok_or_else(|| no_sheet(&period, &unit))
    })
    .await?;
    let revision = body.revision;
    Ok(answer(position, revision, &body))
}

pub async fn get_item<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let (period, unit) = (
        params.get::<PeriodId>("period")?,
        params.get::<UnitId>("unit")?,
    );
    let item = params.get::<ItemCode>("item")?;
    caller.require_unit(&unit)?;
    let (position, body) = query(&api, q.at()?, |view| {
        let state = view.state();
        if !state
            .periods
            .get(&period)
            .is_some_and(|p| p.units.contains(&unit))
        {
            return Err(no_sheet(&period, &unit));
        }
        ItemView::new(state, &period, &unit, &item).ok_or_else(|| {
            ApiError::not_found(format!(
                "评分表中没有子项目 {item} (the sheet has no item {item})"
            ))
        })
    })
    .await?;
    let revision = body.revision;
    Ok(answer(position, revision, &body))
}

pub async fn business_results<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let period = params.get::<PeriodId>("period")?;
    let (position, body) = query(&api, q.at()?, |view| {
        let state = view.state();
        let p = state
            .periods
            .get(&period)
            .ok_or_else(|| unknown_period(&period))?;
        let units = p
            .units
            .iter()
            .filter(|unit| caller.may_read_unit(unit))
            .map(|unit| UnitBusinessResult {
                unit: unit.clone(),
                result: state
                    .sheet(&period, unit)
                    .and_then(|s| s.business.as_ref())
                    .map(|b| BusinessResultView {
                        score: b.score,
                        vetoed: b.vetoed,
                        source: b.source.clone(),
                    }),
            })
            .collect();
        Ok(BusinessResultList {
            period: period.clone(),
            units,
        })
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// A sheet's history, or one item's.
async fn history<S: EventStore>(
    api: &Api<S>,
    caller: &Caller,
    params: &Params,
    q: &AtQuery,
    item: Option<ItemCode>,
) -> Answer {
    let (period, unit) = (
        params.get::<PeriodId>("period")?,
        params.get::<UnitId>("unit")?,
    );
    caller.require_unit(&unit)?;
    let (position, positions) = query(api, q.at()?, |view| {
        if !view
            .state()
            .periods
            .get(&period)
            .is_some_and(|p| p.units.contains(&unit))
        {
            return Err(no_sheet(&period, &unit));
        }
        Ok(match &item {
            Some(item) => view.item_history(&period, &unit, item),
            None => view.sheet_history(&period, &unit),
        })
    })
    .await?;
    let envelopes = api.reads.envelopes(&positions).await?;
    let rendered = match &item {
        Some(item) => api
            .reads
            .render_item_history(&envelopes, &period, &unit, item)?,
        None => api.reads.render(&envelopes)?,
    };
    let mut changes: Vec<ChangeEntryView> =
        rendered.into_iter().map(ChangeEntryView::from).collect();
    name_uploaders(api, &mut changes).await?;
    Ok(answer(
        position,
        None,
        &HistoryView {
            period,
            unit,
            item,
            at_position: position,
            changes,
        },
    ))
}

pub async fn sheet_history<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    history(&api, &caller, &params, &q, None).await
}

pub async fn item_history<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let item = params.get::<ItemCode>("item")?;
    history(&api, &caller, &params, &q, Some(item)).await
}

pub async fn standings<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let period = params.get::<PeriodId>("period")?;
    let (position, body) = query(&api, q.at()?, |view| {
        let standings = view
            .standings(&period)
            .ok_or_else(|| unknown_period(&period))?;
        let mut body = StandingsView::new(&standings, |unit| caller.may_read_unit(unit));
        body.as_of_time = view.recorded_at();
        Ok(body)
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// Which year's result to read: a year (every period of a rubric ending in it) or named periods.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnualQuery {
    /// The year: the periods whose end date falls in it.
    #[serde(default)]
    pub year: Option<i32>,
    /// Instead of a year, the periods of the span, comma-separated (e.g. `2026Q3,2026Q4`).
    #[serde(default)]
    pub periods: Option<String>,
    /// The rubric, when periods of several rubrics end in the year.
    #[serde(default)]
    pub rubric: Option<RubricId>,
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

/// The span a query names, parsed: a year, or a list of period ids.
enum SpanAsked {
    Year(i32),
    Periods(Vec<PeriodId>),
}

impl AnnualQuery {
    fn span(&self) -> Result<SpanAsked, ApiError> {
        match (self.year, self.periods.as_deref()) {
            (Some(year), None) => Ok(SpanAsked::Year(year)),
            (None, Some(list)) => {
                let mut periods = Vec::new();
                for id in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    periods.push(PeriodId::new(id).map_err(|e| {
                        ApiError::bad_request(
                            "invalid-query",
                            "query.periods",
                            format!("考核周期编号“{id}”无效 (invalid period id {id:?}): {e}"),
                        )
                    })?);
                }
                Ok(SpanAsked::Periods(periods))
            }
            _ => Err(ApiError::bad_request(
                "invalid-query",
                "query.year",
                "须给出 year 或 periods 其一, 如 year=2026 (give year or periods, one of them, e.g. year=2026)",
            )),
        }
    }
}

/// A span that cannot be read is a query to fix (400), naming the parameter at fault: like the other
/// query filters it names ids, not a resource, so an id that names nothing is not a 404.
fn span_error(e: ledger_projections::read::SpanError) -> ApiError {
    use ledger_projections::read::SpanError as E;
    let (code, field) = match &e {
        E::SeveralRubrics { .. } => ("ambiguous-rubric", "query.rubric"),
        E::NoPeriodsOfRubric { .. } => ("invalid-query", "query.rubric"),
        E::NoPeriodsInYear { .. } => ("invalid-query", "query.year"),
        E::MixedRubrics { .. } | E::NoPeriods | E::UnknownPeriod { .. } => {
            ("invalid-query", "query.periods")
        }
    };
    ApiError::bad_request(code, field, e.to_string())
}

/// The year's result (年度考核): the span's periods combined per unit by the rubric's annual rule.
pub async fn annual<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    Query(q): Query<AnnualQuery>,
) -> Answer {
    let asked = q.span()?;
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let (position, body) = query(&api, at, |view| {
        let state = view.state();
        let (year, span) = match &asked {
            SpanAsked::Year(year) => (
                Some(*year),
                ledger_projections::read::year_span(state, *year, q.rubric.as_ref()),
            ),
            SpanAsked::Periods(periods) => (
                None,
                ledger_projections::read::periods_span(state, periods, q.rubric.as_ref()),
            ),
        };
        let span = span.map_err(span_error)?;
        let result = view
            .annual(&span)
            .ok_or_else(|| ApiError::internal("the span's rubric version is missing"))?;
        let mut body = AnnualView::new(year, &result, |unit| caller.may_read_unit(unit));
        body.as_of_time = view.recorded_at();
        Ok(body)
    })
    .await?;
    Ok(answer(position, None, &body))
}

// ---- appeals, rectifications ----

/// Narrows the appeals listed.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealsQuery {
    #[serde(default)]
    pub period: Option<PeriodId>,
    #[serde(default)]
    pub unit: Option<UnitId>,
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

pub async fn list_appeals<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    Query(q): Query<AppealsQuery>,
) -> Answer {
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let (position, body) = query(&api, at, |view| {
        let state = view.state();
        let appeals = state
            .appeals
            .iter()
            .filter(|(_, a)| caller.may_read_unit(&a.unit))
            .filter(|(_, a)| q.period.as_ref().is_none_or(|p| *p == a.period))
            .filter(|(_, a)| q.unit.as_ref().is_none_or(|u| *u == a.unit))
            .filter_map(|(id, _)| AppealView::new(state, id))
            .collect();
        Ok(AppealList { appeals })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn get_appeal<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let appeal = params.get::<AppealId>("appeal")?;
    let (position, body) = query(&api, q.at()?, |view| {
        let found = AppealView::new(view.state(), &appeal).ok_or_else(|| {
            ApiError::not_found(format!("没有申诉 {appeal} (there is no appeal {appeal})"))
        })?;
        caller.require_unit(&found.unit)?;
        Ok(found)
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// Narrows the rectifications listed.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationsQuery {
    #[serde(default)]
    pub period: Option<PeriodId>,
    #[serde(default)]
    pub unit: Option<UnitId>,
    /// The responsible person.
    #[serde(default)]
    pub responsible: Option<PersonId>,
    /// Only overdue ones (due before the day of the point read, not closed).
    #[serde(default)]
    pub overdue: Option<bool>,
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

pub async fn list_rectifications<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    Query(q): Query<RectificationsQuery>,
) -> Answer {
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let now = api.ledger.clock().now();
    let (position, body) = query(&api, at, |view| {
        let today = day_of_read(at, view.recorded_at(), now);
        let rectifications = view
            .state()
            .rectifications
            .iter()
            .filter(|(_, r)| caller.may_read_unit(&r.unit) || r.responsible == *caller.person())
            .filter(|(_, r)| q.period.as_ref().is_none_or(|p| *p == r.period))
            .filter(|(_, r)| q.unit.as_ref().is_none_or(|u| *u == r.unit))
            .filter(|(_, r)| q.responsible.as_ref().is_none_or(|p| *p == r.responsible))
            .filter(|(_, r)| q.overdue.is_none_or(|o| r.is_overdue(today) == o))
            .map(|(id, r)| RectificationView::new(id, r, today, view.state()))
            .collect();
        Ok(RectificationList { rectifications })
    })
    .await?;
    Ok(answer(position, None, &body))
}

pub async fn get_rectification<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AtQuery>,
) -> Answer {
    let id = params.get::<RectificationId>("rectification")?;
    let at = q.at()?;
    let now = api.ledger.clock().now();
    let (position, body) = query(&api, at, |view| {
        let today = day_of_read(at, view.recorded_at(), now);
        let r = view.state().rectifications.get(&id).ok_or_else(|| {
            ApiError::not_found(format!("没有整改 {id} (there is no rectification {id})"))
        })?;
        if r.responsible != *caller.person() {
            caller.require_unit(&r.unit)?;
        }
        Ok(RectificationView::new(&id, r, today, view.state()))
    })
    .await?;
    Ok(answer(position, None, &body))
}

// ---- the change log, accountability, the raw log ----

/// The change log's filters; every one narrows.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// Who recorded the change.
    #[serde(default)]
    pub person: Option<PersonId>,
    #[serde(default)]
    pub period: Option<PeriodId>,
    #[serde(default)]
    pub unit: Option<UnitId>,
    #[serde(default)]
    pub item: Option<ItemCode>,
    #[serde(default)]
    pub aspect: Option<AspectCode>,
    /// Event types, comma-separated, e.g. `ScoreRecorded,ScoreCorrected`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<EventKindName>>")]
    pub kind: Option<String>,
    /// Recorded at or after (RFC 3339).
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub from: Option<String>,
    /// Recorded at or before (RFC 3339).
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub to: Option<String>,
    /// The cursor: only changes before this position (the `next` of the previous page).
    #[serde(default)]
    pub before: Option<u64>,
    /// Changes per page, 1–1000 (default 100).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<usize>,
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

/// The name of an event type the change log filters by (its schema lists them).
struct EventKindName;

impl JsonSchema for EventKindName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EventKindName".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.name()).collect();
        schemars::json_schema!({"type": "string", "enum": names})
    }
}

fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(
            "invalid-query",
            "query.limit",
            format!(
                "limit 须在 1 至 {MAX_PAGE} 之间, 实际为 {n} (limit must be 1 to {MAX_PAGE}, not {n})"
            ),
        )),
    }
}

impl ChangesQuery {
    fn filter(&self) -> Result<ChangeFilter, ApiError> {
        let kinds = match &self.kind {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| {
                    ChangeKind::from_name(k).ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid-query",
                            "query.kind",
                            format!(
                                "未知的事件类型“{k}” (unknown event type {k:?}), 例如 ScoreRecorded"
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(ChangeFilter {
            actor: self.person.clone(),
            period: self.period.clone(),
            unit: self.unit.clone(),
            item: self.item.clone(),
            aspect: self.aspect.clone(),
            kinds,
            from: self.from.as_deref().map(|t| time("from", t)).transpose()?,
            to: self.to.as_deref().map(|t| time("to", t)).transpose()?,
        })
    }
}

pub async fn changes<S: EventStore>(
    State(api): Shared<S>,
    Query(q): Query<ChangesQuery>,
) -> Answer {
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let filter = q.filter()?;
    let limit = page_limit(q.limit)?;
    let (position, page) =
        query(&api, at, |view| Ok(view.changes(&filter, q.before, limit))).await?;
    let envelopes = api.reads.envelopes(&page.positions).await?;
    let mut changes = api
        .reads
        .render(&envelopes)?
        .into_iter()
        .map(ChangeEntryView::from)
        .collect::<Vec<_>>();
    name_uploaders(&api, &mut changes).await?;
    Ok(answer(
        position,
        None,
        &ChangesView {
            at_position: position,
            changes,
            next: page.next,
        },
    ))
}

/// Narrows a person's accountability to one period or one unit (the whole history grows with the
/// ledger; a screen shows one period at a time).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountabilityQuery {
    #[serde(default)]
    pub period: Option<PeriodId>,
    #[serde(default)]
    pub unit: Option<UnitId>,
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

pub async fn accountability<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    Query(q): Query<AccountabilityQuery>,
) -> Answer {
    let person = params.get::<PersonId>("person")?;
    caller.require_person(&person)?;
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let scope = ledger_projections::read::Scope {
        period: q.period.clone(),
        unit: q.unit.clone(),
    };
    let now = api.ledger.clock().now();
    let (position, body) = query(&api, at, |view| {
        // Overdue as of the point read, on the business clock (READ-MODELS.md, "Accountability").
        let today = day_of_read(at, view.recorded_at(), now);
        if !view.state().people.contains_key(&person) {
            return Err(ApiError::not_found(format!(
                "没有人员 {person} (there is no person {person})"
            )));
        }
        Ok(AccountabilityView::new(
            &view.accountability(&person, today, &scope),
            view.position(),
        )
        .with_unit_names(view.state()))
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// Where and how far ahead to read the caller's 待办.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TodoQuery {
    /// How many days ahead an open rectification counts as due soon (0 to 400; 7 when absent).
    #[serde(default)]
    #[schemars(range(min = 0, max = 400))]
    pub horizon_days: Option<i64>,
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

/// The caller's 待办 and 预警 (`ledger_projections::read::todo`), as of the point asked.
pub async fn todo<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    Query(q): Query<TodoQuery>,
) -> Answer {
    let horizon = q
        .horizon_days
        .unwrap_or(ledger_projections::read::DEFAULT_HORIZON_DAYS);
    if !(0..=ledger_projections::read::MAX_HORIZON_DAYS).contains(&horizon) {
        return Err(ApiError::bad_request(
            "invalid-query",
            "query.horizon_days",
            format!(
                "horizon_days 须在 0 到 {max} 之间 (horizon_days must be between 0 and {max}), 而不是 (not) {horizon}",
                max = ledger_projections::read::MAX_HORIZON_DAYS
            ),
        ));
    }
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let now = api.ledger.clock().now();
    let (position, body) = query(&api, at, |view| {
        let today = day_of_read(at, view.recorded_at(), now);
        let units = match &caller.scope {
            super::auth::Scope::All => None,
            super::auth::Scope::Units(units) => Some(units),
            super::auth::Scope::Writes => {
                return Err(ApiError::internal(
                    "读取时缺少范围 (a read without a scope)",
                ));
            }
        };
        let viewer = ledger_projections::read::Viewer {
            person: caller.person(),
            role: caller.role(),
            units,
        };
        let todo = view.todo(viewer, today, horizon);
        Ok(TodoView::new(
            &todo,
            view.state(),
            caller.person(),
            caller.role(),
            view.position(),
            view.recorded_at(),
        ))
    })
    .await?;
    Ok(answer(position, None, &body))
}

/// A page of the raw log.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Events after this position (default 0: from the first).
    #[serde(default)]
    pub after: Option<u64>,
    /// Events per page, 1–1000 (default 100).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<usize>,
    #[serde(default)]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub as_of: Option<String>,
    #[serde(default)]
    pub at_position: Option<u64>,
}

pub async fn events<S: EventStore>(State(api): Shared<S>, Query(q): Query<EventsQuery>) -> Answer {
    let at = read_at(q.as_of.as_deref(), q.at_position)?;
    let limit = page_limit(q.limit)?;
    // The end of the page: the point asked for, found by the read models (a time becomes the last
    // position recorded at or before it).
    let (end, _) = query(&api, at, |_| Ok(())).await?;
    let after = q.after.unwrap_or(0);
    let mut events = if after >= end {
        Vec::new()
    } else {
        api.ledger
            .store()
            .read_all(Direction::Forwards, ReadFrom::At(after + 1), limit)
            .await
            .map_err(crate::app::AppError::from)?
    };
    events.retain(|e| e.position <= end);
    let next = events
        .last()
        .map(|e| e.position)
        .filter(|last| *last < end && events.len() == limit);
    Ok(answer(end, None, &EventPage { events, next }))
}

/// Which event to prove, and against which checkpoint.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The event's global position, from 1.
    #[schemars(range(min = 1))]
    pub position: u64,
    /// The size of a signed checkpoint, at least `position` (default: the latest one, if it covers
    /// `position`).
    #[serde(default)]
    pub tree_size: Option<u64>,
}

/// The two checkpoints to relate.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The older checkpoint's tree size, at most `new`.
    pub old: u64,
    /// The newer checkpoint's tree size.
    pub new: u64,
}

/// Runs `f` over the log's tree (grown first with the events recorded since the last call) and the
/// signed checkpoints, with the ledger's public key. A backend without signed checkpoints answers
/// 501, since no root it could show would be signed by anyone. The tree assumes what the store
/// guarantees, an append-only log; a file altered underneath is `ledger verify`'s to find.
async fn with_audit_log<S: EventStore, T>(
    api: &Api<S>,
    f: impl FnOnce(&crate::audit::proofs::AuditLog<'_>, Option<String>) -> T,
) -> Result<T, ApiError> {
    let mut cache = api.audit_tree.lock().await;
    let after = cache.event_hashes.len() as u64;
    let snapshot = api
        .ledger
        .store()
        .audit_snapshot(after)
        .await
        .map_err(crate::app::AppError::from)?
        .ok_or_else(|| {
            ApiError::not_implemented(
                "audit-unsupported",
                "此存储后端不保存签名检查点，请对其所同步的嵌入式账本审计 (this store backend keeps no signed checkpoints; audit an embedded ledger instead)",
            )
        })?;
    let cache = &mut *cache;
    for hash in &snapshot.event_hashes {
        cache.tree.push(hash);
    }
    cache.event_hashes.extend(snapshot.event_hashes);
    let log = crate::audit::proofs::AuditLog {
        event_hashes: &cache.event_hashes,
        tree: &cache.tree,
        checkpoints: &snapshot.checkpoints,
        cosignatures: &snapshot.cosignatures,
    };
    Ok(f(&log, snapshot.public_key))
}

fn proof_error(refusal: crate::audit::proofs::ProofRefusal) -> ApiError {
    use crate::audit::proofs::ProofRefusal as R;
    match refusal {
        R::Invalid(why) => ApiError::bad_request("invalid-query", "query", why),
        R::NotFound(why) => ApiError::not_found(why),
        R::Damaged(why) => ApiError::internal(why),
    }
}

pub async fn audit_checkpoints<S: EventStore>(State(api): Shared<S>) -> Answer {
    let witnessing = api.witnessing.get();
    let (checkpoints, log_size, public_key) = with_audit_log(&api, |log, public_key| {
        let checkpoints = log
            .checkpoints
            .iter()
            .map(|(size, note)| {
                crate::audit::proofs::parse(*size, note).map(|c| {
                    CheckpointView::from(c).with_cosignatures(log.cosignatures, witnessing)
                })
            })
            .collect::<Result<Vec<_>, _>>();
        (checkpoints, log.event_hashes.len() as u64, public_key)
    })
    .await?;
    let checkpoints = checkpoints.map_err(proof_error)?;
    Ok(answer(
        log_size,
        None,
        &CheckpointList {
            public_key,
            log_size,
            checkpoints,
        },
    ))
}

/// Which point of the log a printout or a file read at.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoveringQuery {
    /// The global position read at, from 1.
    #[schemars(range(min = 1))]
    pub position: u64,
}

/// `GET /api/v1/checkpoints/covering?position=N`, for every role: the signed checkpoints that vouch
/// for a point read, without the notes, signatures or proofs (which stay with auditors): the
/// first one whose tree includes the position, and the last one at or before it. A root hash
/// reveals nothing of the records, and naming it on paper lets an auditor check the paper
/// against the log. Nulls when no checkpoint answers; 501 on a store that keeps none.
pub async fn checkpoint_covering<S: EventStore>(
    State(api): Shared<S>,
    Query(q): Query<CoveringQuery>,
) -> Answer {
    if q.position == 0 {
        return Err(ApiError::bad_request(
            "invalid-query",
            "query.position",
            "记录序号从 1 起 (positions start at 1)",
        ));
    }
    let (marks, log_size) = with_audit_log(&api, |log, _| {
        let mark = |found: Option<&(u64, String)>| {
            found
                .map(|(size, note)| {
                    crate::audit::proofs::parse(*size, note).map(CheckpointFingerprint::from)
                })
                .transpose()
        };
        let covering = mark(
            log.checkpoints
                .iter()
                .filter(|(size, _)| *size >= q.position)
                .min_by_key(|(size, _)| *size),
        );
        let at_or_before = mark(
            log.checkpoints
                .iter()
                .filter(|(size, _)| *size <= q.position)
                .max_by_key(|(size, _)| *size),
        );
        (
            covering.and_then(|c| at_or_before.map(|b| (c, b))),
            log.event_hashes.len() as u64,
        )
    })
    .await?;
    let (covering, at_or_before) = marks.map_err(proof_error)?;
    Ok(answer(
        log_size,
        None,
        &CoveringCheckpoints {
            position: q.position,
            log_size,
            covering,
            at_or_before,
        },
    ))
}

pub async fn audit_inclusion<S: EventStore>(
    State(api): Shared<S>,
    Query(q): Query<InclusionQuery>,
) -> Answer {
    let inclusion = with_audit_log(&api, |log, _| {
        crate::audit::proofs::inclusion_in(log, q.position, q.tree_size)
    })
    .await?
    .map_err(proof_error)?;
    let size = inclusion.proof.tree_size;
    Ok(answer(
        size,
        None,
        &InclusionView {
            position: inclusion.proof.leaf_index + 1,
            leaf_index: inclusion.proof.leaf_index,
            tree_size: size,
            event_hash: inclusion.event_hash,
            path: inclusion.proof.path,
            root: inclusion.checkpoint.root,
            checkpoint: inclusion.checkpoint.into(),
        },
    ))
}

pub async fn audit_consistency<S: EventStore>(
    State(api): Shared<S>,
    Query(q): Query<ConsistencyQuery>,
) -> Answer {
    let consistency = with_audit_log(&api, |log, _| {
        crate::audit::proofs::consistency_in(log, q.old, q.new)
    })
    .await?
    .map_err(proof_error)?;
    Ok(answer(
        consistency.proof.new_size,
        None,
        &ConsistencyView {
            old_size: consistency.proof.old_size,
            new_size: consistency.proof.new_size,
            path: consistency.proof.path,
            old_root: consistency.old.root,
            new_root: consistency.new.root,
            old_checkpoint: consistency.old.into(),
            new_checkpoint: consistency.new.into(),
        },
    ))
}

/// Runs a verification now (auditors): the chain over the whole log, every checkpoint against the
/// tree, the checkpoints that should be there (`crate::audit::schedule`), and every read-model
/// snapshot kept beside the log (`crate::audit::seals`). It records nothing in the ledger; the
/// result is kept as the server's last verification.
pub async fn audit_verify<S: EventStore>(State(api): Shared<S>) -> Answer {
    let store = api.ledger.store();
    let chain = store
        .verify(crate::store::Progress::new())
        .await
        .map_err(crate::app::AppError::from)?;
    let entries = store
        .list_snapshots()
        .await
        .map_err(crate::app::AppError::from)?;
    let checked = with_audit_log(&api, |log, public_key| {
        let key = public_key.as_deref().map(crate::audit::parse_public_key);
        let valid_key = key.as_ref().and_then(|k| k.as_ref().ok());
        let faults = match &key {
            Some(Ok(key)) => crate::audit::check_checkpoints(log.tree, log.checkpoints, key)
                .into_iter()
                .map(|f| f.to_string())
                .collect(),
            Some(Err(e)) => vec![e.clone()],
            None if log.checkpoints.is_empty() => Vec::new(),
            None => vec!["账本没有公钥, 无法验证检查点签名 (the ledger has no public key to check the checkpoints with)".to_owned()],
        };
        let schedule = crate::audit::schedule::check(log.tree, log.checkpoints, valid_key, None);
        let snapshots = crate::audit::seals::check(&entries, log.event_hashes, valid_key);
        let described = valid_key.map(|k| {
            crate::audit::schedule::TrustedKey::new(
                k,
                crate::audit::schedule::KeySource::BesideLedger,
                None,
            )
        });
        let log_size = log.event_hashes.len() as u64;
        (faults, log.checkpoints.len(), log_size, schedule, snapshots, described)
    })
    .await?;
    let (faults, checked, log_size, schedule, snapshots, key) = checked;
    let break_position = chain.broken.as_ref().map(|b| b.position());
    let view = VerificationView {
        verified_at: api.ledger.clock().now(),
        log_size,
        verified: chain.verified,
        intact: chain.broken.is_none()
            && faults.is_empty()
            && schedule.missing.is_empty()
            && snapshots.valid == snapshots.checked,
        chain_break: chain.broken.as_ref().map(|b| b.to_string()),
        break_position,
        key,
        checkpoints_checked: checked,
        checkpoint_faults: faults,
        missing_checkpoints: schedule.missing.iter().map(ToString::to_string).collect(),
        warnings: schedule.warnings(log_size),
        checkpoint_schedule: schedule,
        snapshots,
    };
    *api.last_verification
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(view.clone());
    Ok(answer(log_size, None, &view))
}

/// The last verification run on this server (auditors).
pub async fn audit_last_verification<S: EventStore>(State(api): Shared<S>) -> Answer {
    let last = api
        .last_verification
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    match last {
        Some(view) => Ok(answer(view.log_size, None, &view)),
        None => Err(ApiError::not_found(
            "本服务启动以来尚未验证过 (no verification has run since this server started)",
        )),
    }
}
