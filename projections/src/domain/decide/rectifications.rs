//! The closed loop (闭环): a deduction or a rejected review raises a rectification for the item's
//! responsible person with a due date; the unit or the responsible person submits it with evidence; a
//! reviewer other than the submitter verifies it (closed) or sends it back (open again, possibly with
//! a new due date). Overdue is derived from the due date, never recorded.

use ledger_schemas::envelope::Role;
use ledger_schemas::events::{
    RectificationOrigin, RectificationRaised, RectificationSentBack, RectificationSubmitted,
    RectificationVerified,
};
use ledger_schemas::ids::{ItemCode, RectificationId};
use ledger_schemas::rubric::{ItemKind, RubricDefinition};
use ledger_schemas::values::{Points, ScoreValue};

use super::{
    Decision, period, period_definition, require, require_assigned, require_unit_in_period,
};
use crate::domain::command::{Command, Context};
use crate::domain::rejection::Rejection;
use crate::domain::state::{
    RectificationState, RectificationStatus, ReviewStatus, Standing, State,
};
use crate::rubric;
use crate::scoring::ValueRejection;

pub(super) fn decide(
    state: &State,
    ctx: &Context,
    command: Command,
) -> Result<Decision, Rejection> {
    match command {
        Command::RaiseRectification {
            rectification,
            period: id,
            unit,
            item,
            due_on,
            finding,
            origin,
        } => {
            if state.rectifications.contains_key(&rectification) {
                return Err(Rejection::RectificationExists { rectification });
            }
            let p = period(state, &id)?;
            require_unit_in_period(&id, p, &unit)?;
            require_assigned(state, ctx, &unit)?;
            require(&finding, "整改问题 finding")?;
            if due_on < ctx.today {
                return Err(Rejection::DueDateInPast {
                    due_on,
                    today: ctx.today,
                });
            }
            let def = period_definition(state, &id)?;
            let Some((_, rubric_item)) = rubric::find_item(def, &item) else {
                return Err(ValueRejection::UnknownItem { item }.into());
            };
            let score = state.sheet(&id, &unit).and_then(|s| s.live(&item));
            let found = match origin {
                RectificationOrigin::Deduction => score.is_some_and(|s| {
                    s.standing == Standing::Counting && shows_deduction(def, &item, &s.value)
                }),
                RectificationOrigin::Review => {
                    score.is_some_and(|s| matches!(s.review, ReviewStatus::Rejected { .. }))
                }
            };
            if !found {
                return Err(Rejection::NoFinding { item, origin });
            }
            let responsible = rubric_item.responsible.clone();
            Ok(Decision::one(
                state,
                RectificationRaised {
                    rectification,
                    period: id,
                    unit,
                    item,
                    responsible,
                    due_on,
                    finding,
                    origin,
                },
                None,
            ))
        }
        Command::SubmitRectification {
            rectification,
            note,
            evidence,
            files,
        } => {
            let r = existing(state, &rectification)?;
            let person = &ctx.actor.person;
            let may = ctx.actor.role == Role::System
                || (ctx.actor.role == Role::Unit && state.covers(person, Role::Unit, &r.unit))
                || person == &r.responsible;
            if !may {
                return Err(Rejection::NotYourRectification {
                    rectification,
                    unit: r.unit.clone(),
                    responsible: r.responsible.clone(),
                    person: person.clone(),
                });
            }
            if r.status != RectificationStatus::Open {
                return Err(Rejection::RectificationNotOpen {
                    rectification,
                    status: r.status,
                });
            }
            // Evidence is a reference written down or a file uploaded: one of them is required.
            if files.is_empty() && evidence.iter().all(|e| e.trim().is_empty()) {
                return Err(Rejection::Missing {
                    field: "整改佐证材料 evidence",
                });
            }
            Ok(Decision::one(
                state,
                RectificationSubmitted {
                    rectification,
                    note,
                    evidence,
                    files,
                },
                None,
            ))
        }
        Command::VerifyRectification {
            rectification,
            comment,
        } => {
            let r = submitted(state, &rectification)?;
            if r.submitted_by.as_ref() == Some(&ctx.actor.person) {
                return Err(Rejection::OwnSubmission {
                    rectification,
                    person: ctx.actor.person.clone(),
                });
            }
            Ok(Decision::one(
                state,
                RectificationVerified {
                    rectification,
                    comment,
                },
                None,
            ))
        }
        Command::SendBackRectification {
            rectification,
            comment,
            due_on,
        } => {
            submitted(state, &rectification)?;
            require(&comment, "退回意见 comment")?;
            if let Some(due_on) = due_on
                && due_on < ctx.today
            {
                return Err(Rejection::DueDateInPast {
                    due_on,
                    today: ctx.today,
                });
            }
            Ok(Decision::one(
                state,
                RectificationSentBack {
                    rectification,
                    comment: comment.clone(),
                    due_on,
                },
                Some(comment),
            ))
        }
        other => unreachable!("not a rectification command: {}", other.label()),
    }
}

fn existing<'s>(
    state: &'s State,
    id: &RectificationId,
) -> Result<&'s RectificationState, Rejection> {
    state
        .rectifications
        .get(id)
        .ok_or_else(|| Rejection::UnknownRectification {
            rectification: id.clone(),
        })
}

fn submitted<'s>(
    state: &'s State,
    id: &RectificationId,
) -> Result<&'s RectificationState, Rejection> {
    let r = existing(state, id)?;
    if r.status != RectificationStatus::Submitted {
        return Err(Rejection::RectificationNotSubmitted {
            rectification: id.clone(),
            status: r.status,
        });
    }
    Ok(r)
}

/// Whether a score shows a deduction: points below the item's maximum, a ladder level below 100%,
/// deduction cases, or a veto that applies. A bonus never does.
pub fn shows_deduction(def: &RubricDefinition, item: &ItemCode, value: &ScoreValue) -> bool {
    let Some((_, item)) = rubric::find_item(def, item) else {
        return false;
    };
    match (&item.kind, value) {
        (ItemKind::Points { max }, ScoreValue::Points { points }) => points < max,
        (ItemKind::Ladder { .. }, ScoreValue::Level { level }) => def
            .ladder
            .iter()
            .find(|step| &step.level == level)
            .is_some_and(|step| step.percent < Points::from_int(100)),
        (ItemKind::Deduction { .. }, ScoreValue::Cases { cases }) => *cases > 0,
        (ItemKind::Veto, ScoreValue::Veto { vetoed }) => *vetoed,
        _ => false,
    }
}
