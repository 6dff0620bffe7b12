//! Rubrics: a definition is checked as a whole; an adjustment starts from the latest version, carries
//! a reason and an approver, and yields the next version number. Old versions stay in the state.

use ledger_schemas::events::{RubricAdjusted, RubricDefined};

use super::{Decision, require_reason};
use crate::domain::command::Command;
use crate::domain::rejection::Rejection;
use crate::domain::state::State;
use crate::rubric;

pub(super) fn decide(
    state: &State,
    command: Command,
    label: &'static str,
) -> Result<Decision, Rejection> {
    match command {
        Command::DefineRubric { rubric, definition } => {
            if state.rubrics.contains_key(&rubric) {
                return Err(Rejection::RubricExists { rubric });
            }
            rubric::validate(&definition)?;
            Ok(Decision::one(
                state,
                RubricDefined { rubric, definition },
                None,
            ))
        }
        Command::AdjustRubric {
            rubric,
            from_version,
            changes,
            approver,
            reason,
        } => {
            let Some(current) = state.rubrics.get(&rubric) else {
                return Err(Rejection::UnknownRubric { rubric });
            };
            let latest = current.latest();
            let Some(from) = current.version(from_version) else {
                return Err(Rejection::UnknownRubricVersion {
                    rubric,
                    version: from_version,
                    latest,
                });
            };
            if from_version != latest {
                return Err(Rejection::StaleRubricVersion {
                    rubric,
                    from_version,
                    latest,
                });
            }
            let reason = require_reason(&reason, label)?;
            if !state.people.contains_key(&approver) {
                return Err(Rejection::UnknownPerson { person: approver });
            }
            if changes.is_empty() {
                return Err(Rejection::NoChanges { rubric });
            }
            // `apply` also refuses changes that leave the rubric as it was.
            rubric::apply(from, &changes)?;
            Ok(Decision::one(
                state,
                RubricAdjusted {
                    rubric,
                    from_version,
                    version: latest + 1,
                    changes,
                    approver,
                },
                Some(reason),
            ))
        }
        other => unreachable!("not a rubric command: {}", other.label()),
    }
}
