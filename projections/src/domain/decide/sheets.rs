//! Score sheets: the unit's self-assessment, the assessor's scores and corrections, reviews with
//! separation of duties, and business results.

use ledger_schemas::events::{
    BusinessResultRecorded, ItemReviewed, ScoreCorrected, ScoreRecorded, SelfAssessmentRecorded,
    SheetReviewed,
};
use ledger_schemas::ids::{PeriodId, UnitId};
use ledger_schemas::values::{Points, ReviewDecision, ScoreSource, Stage};

use super::{
    Decision, check_revision, optional_reason, period, period_definition, require,
    require_assigned, require_own_unit, require_reason, require_stage, require_unit_in_period,
};
use crate::domain::command::{Command, Context};
use crate::domain::rejection::{Rejection, SheetGap};
use crate::domain::state::{
    ItemScore, PeriodState, ReviewStatus, SheetState, Standing, State, sheet_stream,
};
use crate::rubric;
use crate::scoring::{self, ValueRejection};

/// Stages in which assessors score and correct.
const SCORING: &[Stage] = &[Stage::Scoring, Stage::Review];
const SELF_ASSESSMENT: &[Stage] = &[Stage::SelfAssessment];
const REVIEW: &[Stage] = &[Stage::Review];
/// Business results may be recorded until publication.
const BEFORE_PUBLICATION: &[Stage] = &[
    Stage::Opened,
    Stage::SelfAssessment,
    Stage::Scoring,
    Stage::Review,
];

/// The period, checked to exist and to assess the unit, and the sheet (empty if nothing is recorded).
fn target<'s>(
    state: &'s State,
    id: &PeriodId,
    unit: &UnitId,
    expected_revision: Option<u64>,
) -> Result<(&'s PeriodState, SheetState), Rejection> {
    let p = period(state, id)?;
    require_unit_in_period(id, p, unit)?;
    check_revision(state, &sheet_stream(id, unit), expected_revision)?;
    Ok((p, state.sheet(id, unit).cloned().unwrap_or_default()))
}

fn is_approved(score: &ItemScore) -> bool {
    matches!(score.review, ReviewStatus::Approved { .. })
}

fn refuse_appeal_source(source: ScoreSource) -> Result<(), Rejection> {
    if source == ScoreSource::Appeal {
        Err(Rejection::AppealSourceReserved)
    } else {
        Ok(())
    }
}

pub(super) fn decide(
    state: &State,
    ctx: &Context,
    command: Command,
    label: &'static str,
) -> Result<Decision, Rejection> {
    match command {
        Command::RecordSelfAssessment {
            period: id,
            unit,
            item,
            value,
            note,
            evidence,
            files,
            expected_revision,
        } => {
            let (p, _) = target(state, &id, &unit, expected_revision)?;
            require_own_unit(state, ctx, &unit)?;
            require_stage(&id, p, SELF_ASSESSMENT)?;
            scoring::check_value(period_definition(state, &id)?, &item, &value)?;
            Ok(Decision::one(
                state,
                SelfAssessmentRecorded {
                    period: id,
                    unit,
                    item,
                    value,
                    note,
                    evidence,
                    files,
                },
                None,
            ))
        }
        Command::RecordScore {
            period: id,
            unit,
            item,
            value,
            note,
            evidence,
            files,
            source,
            expected_revision,
        } => {
            let (p, sheet) = target(state, &id, &unit, expected_revision)?;
            require_assigned(state, ctx, &unit)?;
            refuse_appeal_source(source)?;
            require_stage(&id, p, SCORING)?;
            if let Some(score) = sheet.live(&item) {
                return Err(Rejection::AlreadyScored {
                    item,
                    value: score.value.clone(),
                });
            }
            scoring::check_value(period_definition(state, &id)?, &item, &value)?;
            Ok(Decision::one(
                state,
                ScoreRecorded {
                    period: id,
                    unit,
                    item,
                    value,
                    note,
                    evidence,
                    files,
                    source,
                    file_sha256: imported_from(ctx, source),
                },
                None,
            ))
        }
        Command::CorrectScore {
            period: id,
            unit,
            item,
            previous,
            value,
            note,
            evidence,
            files,
            source,
            reason,
            expected_revision,
        } => {
            let (p, sheet) = target(state, &id, &unit, expected_revision)?;
            require_assigned(state, ctx, &unit)?;
            let reason = require_reason(&reason, label)?;
            refuse_appeal_source(source)?;
            require_stage(&id, p, SCORING)?;
            let def = period_definition(state, &id)?;
            // A score whose item left the rubric stays in the history and cannot be corrected.
            if rubric::find_item(def, &item).is_none() {
                return Err(ValueRejection::UnknownItem { item }.into());
            }
            let Some(score) = sheet.live(&item) else {
                return Err(Rejection::NotScored { item });
            };
            if score.value != previous {
                return Err(Rejection::StaleValue {
                    item,
                    named: previous,
                    on_record: score.value.clone(),
                });
            }
            if value == previous {
                return Err(Rejection::NothingToCorrect { item, value });
            }
            // In review an approved score stands unless a reviewer sends it back; a score awaiting
            // re-scoring after a rubric move may always be corrected.
            if p.stage == Stage::Review
                && matches!(score.review, ReviewStatus::Approved { .. })
                && score.standing == Standing::Counting
            {
                return Err(Rejection::ItemApproved { item });
            }
            scoring::check_value(def, &item, &value)?;
            Ok(Decision::one(
                state,
                ScoreCorrected {
                    period: id,
                    unit,
                    item,
                    previous,
                    value,
                    note,
                    evidence,
                    files,
                    source,
                    appeal: None,
                    file_sha256: imported_from(ctx, source),
                },
                Some(reason),
            ))
        }
        Command::ReviewItem {
            period: id,
            unit,
            item,
            decision,
            comment,
            expected_revision,
        } => {
            let (p, sheet) = target(state, &id, &unit, expected_revision)?;
            require_stage(&id, p, REVIEW)?;
            let Some(score) = sheet.live(&item) else {
                return Err(Rejection::NotScored { item });
            };
            let already = || Rejection::AlreadyReviewed {
                item: item.clone(),
                decision,
            };
            match decision {
                ReviewDecision::Rejected => {
                    require(&comment, "审核意见 comment")?;
                    if matches!(score.review, ReviewStatus::Rejected { .. }) {
                        return Err(already());
                    }
                }
                ReviewDecision::Approved => {
                    if let Standing::NeedsRescoring { why } = &score.standing {
                        return Err(Rejection::NeedsRescoring {
                            item,
                            why: why.clone(),
                        });
                    }
                    if matches!(score.review, ReviewStatus::Approved { .. }) {
                        return Err(already());
                    }
                    if score.authors.contains(&ctx.actor.person) {
                        return Err(Rejection::SelfApproval {
                            person: ctx.actor.person.clone(),
                            items: vec![item],
                        });
                    }
                }
            }
            Ok(Decision::one(
                state,
                ItemReviewed {
                    period: id,
                    unit,
                    item,
                    decision,
                    comment,
                },
                None,
            ))
        }
        Command::ReviewSheet {
            period: id,
            unit,
            decision,
            comment,
            expected_revision,
        } => {
            let (p, sheet) = target(state, &id, &unit, expected_revision)?;
            require_stage(&id, p, REVIEW)?;
            match decision {
                ReviewDecision::Rejected => require(&comment, "审核意见 comment")?,
                ReviewDecision::Approved => {
                    let gaps = sheet.gaps(period_definition(state, &id)?);
                    if !gaps.is_empty() {
                        return Err(Rejection::SheetsIncomplete {
                            period: id,
                            gaps: vec![SheetGap { unit, items: gaps }],
                        });
                    }
                    // Separation of duties applies to what this approval approves: the live
                    // scores not approved yet. A score that stands approved (by a review, or as an
                    // upheld appeal's revision) keeps its approval and its approver.
                    let own: Vec<_> = sheet
                        .scores
                        .iter()
                        .filter(|(_, s)| s.is_live() && !is_approved(s))
                        .filter(|(_, s)| s.authors.contains(&ctx.actor.person))
                        .map(|(item, _)| item.clone())
                        .collect();
                    if !own.is_empty() {
                        return Err(Rejection::SelfApproval {
                            person: ctx.actor.person.clone(),
                            items: own,
                        });
                    }
                }
            }
            Ok(Decision::one(
                state,
                SheetReviewed {
                    period: id,
                    unit,
                    decision,
                    comment,
                },
                None,
            ))
        }
        Command::RecordBusinessResult {
            period: id,
            unit,
            score,
            vetoed,
            source,
            reason,
            expected_revision,
        } => {
            let (p, sheet) = target(state, &id, &unit, expected_revision)?;
            require_assigned(state, ctx, &unit)?;
            require_stage(&id, p, BEFORE_PUBLICATION)?;
            if score < Points::ZERO || score > Points::from_int(100) {
                return Err(Rejection::BusinessScoreOutOfRange { score });
            }
            require(&source, "数据来源 source")?;
            // Replacing a recorded result is a change of record, so it needs a reason.
            let reason = match (&sheet.business, optional_reason(reason)) {
                (Some(_), None) => return Err(Rejection::ReasonRequired { command: label }),
                (_, reason) => reason,
            };
            Ok(Decision::one(
                state,
                BusinessResultRecorded {
                    period: id,
                    unit,
                    score,
                    vetoed,
                    source,
                    // Set only when the result came from a file (`ledger import business`, the
                    // import API): how it arrived, like the actor.
                    file_sha256: ctx.file_sha256.clone(),
                },
                reason,
            ))
        }
        other => unreachable!("not a sheet command: {}", other.label()),
    }
}

/// The file a score came from, recorded only on what was imported.
fn imported_from(ctx: &Context, source: ScoreSource) -> Option<String> {
    (source == ScoreSource::Import)
        .then(|| ctx.file_sha256.clone())
        .flatten()
}
