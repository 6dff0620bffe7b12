//! Periods: opening against an existing rubric version and existing units, the one-step-forwards stage
//! machine with its gates (every sheet complete before review; complete and approved before
//! publication), the explicit reopening of a published period, and the explicit move of a running
//! period to a newer rubric version.

use std::collections::BTreeSet;

use ledger_schemas::events::{PeriodOpened, PeriodRubricChanged, PeriodStageChanged};
use ledger_schemas::ids::{PeriodId, stream};
use ledger_schemas::values::Stage;

use super::{
    Decision, check_revision, next_stage, period, period_definition, require, require_reason,
};
use crate::domain::command::Command;
use crate::domain::rejection::{Rejection, SheetGap};
use crate::domain::state::State;

pub(super) fn decide(
    state: &State,
    command: Command,
    label: &'static str,
) -> Result<Decision, Rejection> {
    match command {
        Command::OpenPeriod {
            period,
            name,
            cadence,
            starts_on,
            ends_on,
            rubric,
            rubric_version,
            units,
        } => {
            if state.periods.contains_key(&period) {
                return Err(Rejection::PeriodExists { period });
            }
            require(&name, "考核周期名称 period name")?;
            if ends_on < starts_on {
                return Err(Rejection::DatesReversed { starts_on, ends_on });
            }
            let Some(versions) = state.rubrics.get(&rubric) else {
                return Err(Rejection::UnknownRubric { rubric });
            };
            if versions.version(rubric_version).is_none() {
                return Err(Rejection::UnknownRubricVersion {
                    rubric,
                    version: rubric_version,
                    latest: versions.latest(),
                });
            }
            if units.is_empty() {
                return Err(Rejection::Missing {
                    field: "考核单位 units",
                });
            }
            let mut seen = BTreeSet::new();
            for unit in &units {
                if !state.units.contains_key(unit) {
                    return Err(Rejection::UnknownUnit { unit: unit.clone() });
                }
                if !seen.insert(unit) {
                    return Err(Rejection::DuplicateUnit { unit: unit.clone() });
                }
            }
            Ok(Decision::one(
                state,
                PeriodOpened {
                    period,
                    name,
                    cadence,
                    starts_on,
                    ends_on,
                    rubric,
                    rubric_version,
                    units,
                },
                None,
            ))
        }
        Command::AdvanceStage {
            period: id,
            to,
            expected_revision,
        } => {
            let p = period(state, &id)?;
            check_revision(state, &stream::period(&id), expected_revision)?;
            let Some(next) = next_stage(p.stage) else {
                return Err(Rejection::PeriodFrozen { period: id });
            };
            if to != next {
                return Err(Rejection::StageNotNext {
                    period: id,
                    current: p.stage,
                    requested: to,
                    next,
                });
            }
            if matches!(to, Stage::Review | Stage::Published) {
                let gaps = incomplete(state, &id)?;
                if !gaps.is_empty() {
                    return Err(Rejection::SheetsIncomplete { period: id, gaps });
                }
            }
            if to == Stage::Published {
                let gaps = unapproved(state, &id);
                if !gaps.is_empty() {
                    return Err(Rejection::SheetsNotApproved { period: id, gaps });
                }
            }
            Ok(Decision::one(
                state,
                PeriodStageChanged {
                    period: id,
                    from: p.stage,
                    to,
                },
                None,
            ))
        }
        Command::ReopenPeriod {
            period: id,
            to,
            reason,
            expected_revision,
        } => {
            let p = period(state, &id)?;
            check_revision(state, &stream::period(&id), expected_revision)?;
            let reason = require_reason(&reason, label)?;
            if p.stage != Stage::Published {
                return Err(Rejection::NotPublished {
                    period: id,
                    current: p.stage,
                });
            }
            if !matches!(to, Stage::Scoring | Stage::Review) {
                return Err(Rejection::ReopenTarget { requested: to });
            }
            Ok(Decision::one(
                state,
                PeriodStageChanged {
                    period: id,
                    from: p.stage,
                    to,
                },
                Some(reason),
            ))
        }
        Command::MovePeriodRubric {
            period: id,
            to_version,
            reason,
            expected_revision,
        } => {
            let p = period(state, &id)?;
            check_revision(state, &stream::period(&id), expected_revision)?;
            let reason = require_reason(&reason, label)?;
            if p.stage == Stage::Published {
                return Err(Rejection::PeriodFrozen { period: id });
            }
            if to_version <= p.rubric_version {
                return Err(Rejection::NotNewerVersion {
                    period: id,
                    current: p.rubric_version,
                    requested: to_version,
                });
            }
            let latest = state.rubrics.get(&p.rubric).map_or(0, |r| r.latest());
            if to_version > latest {
                return Err(Rejection::UnknownRubricVersion {
                    rubric: p.rubric.clone(),
                    version: to_version,
                    latest,
                });
            }
            Ok(Decision::one(
                state,
                PeriodRubricChanged {
                    period: id,
                    from_version: p.rubric_version,
                    to_version,
                },
                Some(reason),
            ))
        }
        other => unreachable!("not a period command: {}", other.label()),
    }
}

/// The sheets of a period that are not complete, with their gaps.
fn incomplete(state: &State, id: &PeriodId) -> Result<Vec<SheetGap>, Rejection> {
    let def = period_definition(state, id)?;
    let p = period(state, id)?;
    Ok(p.units
        .iter()
        .filter_map(|unit| {
            let items = state.sheet(id, unit).cloned().unwrap_or_default().gaps(def);
            (!items.is_empty()).then(|| SheetGap {
                unit: unit.clone(),
                items,
            })
        })
        .collect())
}

/// The sheets of a period with counting items not approved.
fn unapproved(state: &State, id: &PeriodId) -> Vec<SheetGap> {
    let Some(p) = state.periods.get(id) else {
        return Vec::new();
    };
    p.units
        .iter()
        .filter_map(|unit| {
            let items = state
                .sheet(id, unit)
                .map(|s| s.unapproved())
                .unwrap_or_default();
            (!items.is_empty()).then(|| SheetGap {
                unit: unit.clone(),
                items,
            })
        })
        .collect()
}
