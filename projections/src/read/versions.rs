//! Rubric versions (考评细则版本): each version as it stood, which event made it, which periods are
//! scored against it, and the difference between any two ([`rubric::diff`]).

use std::sync::Arc;

use ledger_schemas::ids::{PeriodId, RubricId};
use ledger_schemas::rubric::RubricDefinition;
use serde::Serialize;

use crate::domain::State;
use crate::domain::shared;
use crate::rubric::{self, RubricDiff};

/// One version of a rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RubricVersion {
    pub rubric: RubricId,
    pub version: u32,
    /// The whole definition, as it stood (shared with the state, never copied).
    #[serde(with = "shared::arc")]
    pub definition: Arc<RubricDefinition>,
    /// The position of the event that made it (`RubricDefined` or `RubricAdjusted`): render it for
    /// who adjusted it, when, why and with whose approval.
    pub made_at: Option<u64>,
    /// The periods scored against this version now.
    pub periods: Vec<PeriodId>,
}

/// Every version of `rubric`, oldest first; empty when the rubric is unknown.
pub fn rubric_versions(
    state: &State,
    rubric: &RubricId,
    made_at: impl Fn(&RubricId, u32) -> Option<u64>,
) -> Vec<RubricVersion> {
    let Some(r) = state.rubrics.get(rubric) else {
        return Vec::new();
    };
    (1..=r.latest())
        .filter_map(|version| {
            let definition = Arc::clone(r.version_shared(version)?);
            Some(RubricVersion {
                rubric: rubric.clone(),
                version,
                definition,
                made_at: made_at(rubric, version),
                periods: state
                    .periods
                    .iter()
                    .filter(|(_, p)| &p.rubric == rubric && p.rubric_version == version)
                    .map(|(id, _)| id.clone())
                    .collect(),
            })
        })
        .collect()
}

/// What differs from version `from` to version `to` of `rubric` (either order); `None` when the
/// rubric or a version is unknown.
pub fn rubric_diff(
    state: &State,
    rubric: &RubricId,
    from: u32,
    to: u32,
) -> Option<Vec<RubricDiff>> {
    let r = state.rubrics.get(rubric)?;
    Some(rubric::diff(r.version(from)?, r.version(to)?))
}
