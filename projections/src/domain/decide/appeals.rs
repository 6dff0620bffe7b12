//! Appeals (申诉): filed by the unit against a published score or sheet, then decided once: upheld
//! (with the revised score, recorded in the same decision as a correction linked to the appeal) or
//! dismissed, each with the decision's text as the reason.

use ledger_schemas::events::{AppealDismissed, AppealFiled, AppealUpheld, Event, ScoreCorrected};
use ledger_schemas::values::{ScoreSource, Stage};

use super::{
    Decision, period, period_definition, require, require_own_unit, require_stage,
    require_unit_in_period,
};
use crate::domain::command::{Command, Context};
use crate::domain::rejection::Rejection;
use crate::domain::state::{AppealState, State};
use crate::scoring;

const PUBLISHED: &[Stage] = &[Stage::Published];

pub(super) fn decide(
    state: &State,
    ctx: &Context,
    command: Command,
) -> Result<Decision, Rejection> {
    match command {
        Command::FileAppeal {
            appeal,
            period: id,
            unit,
            item,
            grounds,
            evidence,
            files,
        } => {
            if state.appeals.contains_key(&appeal) {
                return Err(Rejection::AppealExists { appeal });
            }
            let p = period(state, &id)?;
            require_unit_in_period(&id, p, &unit)?;
            require_own_unit(state, ctx, &unit)?;
            require_stage(&id, p, PUBLISHED)?;
            require(&grounds, "申诉理由 grounds")?;
            if let Some(item) = &item
                && state.sheet(&id, &unit).and_then(|s| s.live(item)).is_none()
            {
                return Err(Rejection::NotScored { item: item.clone() });
            }
            let pending = state.appeals.iter().find(|(_, a)| {
                a.outcome.is_none() && a.period == id && a.unit == unit && a.item == item
            });
            if let Some((pending, _)) = pending {
                return Err(Rejection::AppealPending {
                    appeal: pending.clone(),
                });
            }
            Ok(Decision::one(
                state,
                AppealFiled {
                    appeal,
                    period: id,
                    unit,
                    item,
                    grounds,
                    evidence,
                    files,
                },
                None,
            ))
        }
        Command::UpholdAppeal {
            appeal,
            decision,
            revised,
        } => {
            let filed = undecided(state, &appeal)?;
            require(&decision, "申诉决定 decision")?;
            let mut events: Vec<Event> = vec![
                AppealUpheld {
                    appeal: appeal.clone(),
                    decision: decision.clone(),
                }
                .into(),
            ];
            match (&filed.item, revised) {
                (Some(item), None) => {
                    return Err(Rejection::RevisionRequired {
                        appeal,
                        item: item.clone(),
                    });
                }
                (Some(appealed), Some(revision)) if appealed != &revision.item => {
                    return Err(Rejection::RevisionItemMismatch {
                        appeal,
                        appealed: appealed.clone(),
                        revised: revision.item,
                    });
                }
                (_, Some(revision)) => {
                    let Some(score) = state
                        .sheet(&filed.period, &filed.unit)
                        .and_then(|s| s.live(&revision.item))
                    else {
                        return Err(Rejection::NotScored {
                            item: revision.item,
                        });
                    };
                    if score.value == revision.value {
                        return Err(Rejection::NothingToCorrect {
                            item: revision.item,
                            value: revision.value,
                        });
                    }
                    // A published period is frozen, but an upheld appeal's revision is exactly the
                    // change publication allows; the value must still fit the current rubric.
                    let def = period_definition(state, &filed.period)?;
                    scoring::check_value(def, &revision.item, &revision.value)?;
                    events.push(
                        ScoreCorrected {
                            period: filed.period.clone(),
                            unit: filed.unit.clone(),
                            item: revision.item,
                            previous: score.value.clone(),
                            value: revision.value,
                            note: revision.note,
                            evidence: revision.evidence,
                            source: ScoreSource::Appeal,
                            appeal: Some(appeal),
                            file_sha256: None,
                            // The files the revision rests on are cited by the appeal itself.
                            files: Vec::new(),
                        }
                        .into(),
                    );
                }
                (None, None) => {}
            }
            Ok(Decision::new(state, events, Some(decision)))
        }
        Command::DismissAppeal { appeal, decision } => {
            undecided(state, &appeal)?;
            require(&decision, "申诉决定 decision")?;
            Ok(Decision::one(
                state,
                AppealDismissed {
                    appeal,
                    decision: decision.clone(),
                },
                Some(decision),
            ))
        }
        other => unreachable!("not an appeal command: {}", other.label()),
    }
}

/// An appeal that exists and has no decision yet.
fn undecided<'s>(
    state: &'s State,
    appeal: &ledger_schemas::ids::AppealId,
) -> Result<&'s AppealState, Rejection> {
    let Some(filed) = state.appeals.get(appeal) else {
        return Err(Rejection::UnknownAppeal {
            appeal: appeal.clone(),
        });
    };
    if let Some((outcome, _)) = &filed.outcome {
        return Err(Rejection::AppealDecided {
            appeal: appeal.clone(),
            outcome: *outcome,
        });
    }
    Ok(filed)
}
