//! `decide`: a command against the folded state gives the events to append, or a rejection.
//!
//! Every command is first checked for the actor's role ([`Command::allowed_roles`]; a person other
//! than the system must hold the role they act in), then by the rules of its area:
//! `org` (units, people, access, tokens), `rubrics`, `periods`, `sheets` (self-assessment,
//! scores, corrections, reviews, business results), `appeals` and `rectifications`.

mod appeals;
mod org;
mod periods;
mod rectifications;
mod rubrics;
mod sheets;

use ledger_schemas::envelope::Role;
use ledger_schemas::events::Event;
use ledger_schemas::ids::{PeriodId, UnitId};
use ledger_schemas::rubric::RubricDefinition;
use ledger_schemas::text::TextRule;
use ledger_schemas::values::Stage;

use super::command::{Command, Context};
use super::rejection::Rejection;
use super::state::{PeriodState, State};

/// What the writer must expect of a stream before appending to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expected {
    /// The stream has no events yet.
    NoStream,
    /// The stream's last event has this revision.
    Revision(u64),
}

/// One stream a decision appends to, and what it must look like for the decision to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamExpectation {
    pub stream: String,
    pub expected: Expected,
}

/// An accepted command: the events to append (each to its `Event::stream()`), the reason to put on
/// every one of their envelopes, and, for each stream touched (in order of first use), the revision
/// the state was decided on. Appending with these expectations makes a concurrent change surface as a
/// conflict instead of being overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub events: Vec<Event>,
    pub reason: Option<String>,
    pub expected: Vec<StreamExpectation>,
}

impl Decision {
    fn new(state: &State, events: Vec<Event>, reason: Option<String>) -> Self {
        let mut expected: Vec<StreamExpectation> = Vec::new();
        for event in &events {
            let stream = event.stream();
            if expected.iter().all(|e| e.stream != stream) {
                let revision = match state.revision(&stream) {
                    Some(r) => Expected::Revision(r),
                    None => Expected::NoStream,
                };
                expected.push(StreamExpectation {
                    stream,
                    expected: revision,
                });
            }
        }
        Self {
            events,
            reason,
            expected,
        }
    }

    fn one(state: &State, event: impl Into<Event>, reason: Option<String>) -> Self {
        Self::new(state, vec![event.into()], reason)
    }
}

/// Decides a command. Pure: the same state, context and command always give the same answer.
///
/// Whatever the area decides, every text the events and the reason carry must obey the text rules
/// (`ledger_schemas::text`), so that no way in (the API, the console, a CSV import, the demo) can
/// record a control character, a bidirectional override or an over-long name.
pub fn decide(state: &State, ctx: &Context, command: Command) -> Result<Decision, Rejection> {
    let decision = decide_area(state, ctx, command)?;
    for event in &decision.events {
        event.check_text()?;
    }
    if let Some(reason) = &decision.reason {
        TextRule::NOTE.check_field("reason", reason)?;
    }
    Ok(decision)
}

fn decide_area(state: &State, ctx: &Context, command: Command) -> Result<Decision, Rejection> {
    authorize(state, ctx, &command)?;
    let label = command.label();
    match command {
        Command::SetBusinessZone { .. }
        | Command::RegisterUnit { .. }
        | Command::UpdateUnit { .. }
        | Command::RegisterPerson { .. }
        | Command::GrantAccess { .. }
        | Command::RevokeAccess { .. }
        | Command::IssueToken { .. }
        | Command::RevokeToken { .. } => org::decide(state, ctx, command),
        Command::DefineRubric { .. } | Command::AdjustRubric { .. } => {
            rubrics::decide(state, command, label)
        }
        Command::OpenPeriod { .. }
        | Command::AdvanceStage { .. }
        | Command::ReopenPeriod { .. }
        | Command::MovePeriodRubric { .. } => periods::decide(state, command, label),
        Command::RecordSelfAssessment { .. }
        | Command::RecordScore { .. }
        | Command::CorrectScore { .. }
        | Command::ReviewItem { .. }
        | Command::ReviewSheet { .. }
        | Command::RecordBusinessResult { .. } => sheets::decide(state, ctx, command, label),
        Command::FileAppeal { .. }
        | Command::UpholdAppeal { .. }
        | Command::DismissAppeal { .. } => appeals::decide(state, ctx, command),
        Command::RaiseRectification { .. }
        | Command::SubmitRectification { .. }
        | Command::VerifyRectification { .. }
        | Command::SendBackRectification { .. } => rectifications::decide(state, ctx, command),
    }
}

/// The role check every command starts with.
fn authorize(state: &State, ctx: &Context, command: &Command) -> Result<(), Rejection> {
    let role = ctx.actor.role;
    let allowed = command.allowed_roles();
    if !allowed.contains(&role) {
        return Err(Rejection::RoleNotAllowed {
            role,
            command: command.label(),
            allowed,
        });
    }
    if role != Role::System && !state.holds(&ctx.actor.person, role) {
        return Err(Rejection::RoleNotHeld {
            person: ctx.actor.person.clone(),
            role,
        });
    }
    Ok(())
}

/// Refuses an empty (or blank) text.
fn require(text: &str, field: &'static str) -> Result<(), Rejection> {
    if text.trim().is_empty() {
        Err(Rejection::Missing { field })
    } else {
        Ok(())
    }
}

/// Refuses a blank reason; returns it for the envelope.
fn require_reason(reason: &str, command: &'static str) -> Result<String, Rejection> {
    if reason.trim().is_empty() {
        Err(Rejection::ReasonRequired { command })
    } else {
        Ok(reason.to_owned())
    }
}

/// An optional reason, blank meaning none.
fn optional_reason(reason: Option<String>) -> Option<String> {
    reason.filter(|r| !r.trim().is_empty())
}

/// Refuses a stale `expected_revision` of a stream.
fn check_revision(state: &State, stream: &str, expected: Option<u64>) -> Result<(), Rejection> {
    match expected {
        Some(expected) if state.revision(stream) != Some(expected) => {
            Err(Rejection::StaleRevision {
                stream: stream.to_owned(),
                expected,
                current: state.revision(stream),
            })
        }
        _ => Ok(()),
    }
}

fn period<'s>(state: &'s State, id: &PeriodId) -> Result<&'s PeriodState, Rejection> {
    state
        .periods
        .get(id)
        .ok_or_else(|| Rejection::UnknownPeriod { period: id.clone() })
}

/// The rubric version a period is scored against now.
fn period_definition<'s>(
    state: &'s State,
    id: &PeriodId,
) -> Result<&'s RubricDefinition, Rejection> {
    let p = period(state, id)?;
    state
        .definition(&p.rubric, p.rubric_version)
        .ok_or_else(|| Rejection::UnknownRubricVersion {
            rubric: p.rubric.clone(),
            version: p.rubric_version,
            latest: state.rubrics.get(&p.rubric).map_or(0, |r| r.latest()),
        })
}

/// Refuses a command outside its stages; a published period is frozen.
fn require_stage(
    id: &PeriodId,
    p: &PeriodState,
    allowed: &'static [Stage],
) -> Result<(), Rejection> {
    if allowed.contains(&p.stage) {
        Ok(())
    } else if p.stage == Stage::Published {
        Err(Rejection::PeriodFrozen { period: id.clone() })
    } else {
        Err(Rejection::WrongStage {
            period: id.clone(),
            current: p.stage,
            allowed,
        })
    }
}

fn require_unit_in_period(id: &PeriodId, p: &PeriodState, unit: &UnitId) -> Result<(), Rejection> {
    if p.units.contains(unit) {
        Ok(())
    } else {
        Err(Rejection::UnitNotInPeriod {
            period: id.clone(),
            unit: unit.clone(),
        })
    }
}

/// An assessor acts only for the units assigned to them.
fn require_assigned(state: &State, ctx: &Context, unit: &UnitId) -> Result<(), Rejection> {
    if ctx.actor.role == Role::Assessor && !state.covers(&ctx.actor.person, Role::Assessor, unit) {
        return Err(Rejection::NotAssignedToUnit {
            person: ctx.actor.person.clone(),
            unit: unit.clone(),
        });
    }
    Ok(())
}

/// A unit's secretary acts only for their own units.
fn require_own_unit(state: &State, ctx: &Context, unit: &UnitId) -> Result<(), Rejection> {
    if ctx.actor.role == Role::Unit && !state.covers(&ctx.actor.person, Role::Unit, unit) {
        return Err(Rejection::NotYourUnit {
            person: ctx.actor.person.clone(),
            unit: unit.clone(),
        });
    }
    Ok(())
}

/// The stage after `stage`, if any.
pub fn next_stage(stage: Stage) -> Option<Stage> {
    match stage {
        Stage::Opened => Some(Stage::SelfAssessment),
        Stage::SelfAssessment => Some(Stage::Scoring),
        Stage::Scoring => Some(Stage::Review),
        Stage::Review => Some(Stage::Published),
        Stage::Published => None,
    }
}
