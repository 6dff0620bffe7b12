//! Every event type the ledger records, with its name and schema version.
//!
//! The registry at the bottom ([`Event`] and [`CATALOGUE`]) is the single list of what can be
//! recorded. [`decode`] turns a stored `(event_type, schema_version, payload)` into the current Rust
//! type: it refuses a type or a version it does not know, naming it, and upcasts older versions
//! (see [`ScoreRecordedV1`]) so that the rest of the program only ever sees the current shape.
//!
//! The reason for a change is not part of a payload: it is on the envelope, where every event has one
//! place for it. Which events must carry one is the domain's rule, not the contract's.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::Role;
use crate::ids::*;
use crate::integrity::Digest;
use crate::rubric::v1::{RubricChangeV1, RubricDefinitionV1};
use crate::rubric::{RubricChange, RubricDefinition};
use crate::text::{TextRefusal, TextRule, check_evidence};
use crate::values::*;

// ---- the ledger itself ----

/// The ledger's business clock: the time zone (an IANA name the business clock knows,
/// `ledger_schemas::zone::ZONES`) everyone reads and types times in, and the calendar that judges
/// due dates. Recorded once, as the ledger's first event; a ledger without it reads as
/// Asia/Shanghai.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessZoneSet {
    pub zone: String,
}

// ---- units, people, access ----

/// A unit (branch or company) joins the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitRegistered {
    pub unit: UnitId,
    #[schemars(with = "crate::text::Name")]
    pub name: String,
    pub kind: UnitKind,
    /// The unit above it in the hierarchy; `None` at the top.
    pub parent: Option<UnitId>,
}

/// A unit's name or place in the hierarchy changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitUpdated {
    pub unit: UnitId,
    #[schemars(with = "crate::text::Name")]
    pub name: String,
    pub parent: Option<UnitId>,
}

/// A person joins the ledger (as a user, a responsible person, or both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRegistered {
    pub person: PersonId,
    #[schemars(with = "crate::text::Name")]
    pub name: String,
    /// The unit the person belongs to, if any.
    pub unit: Option<UnitId>,
}

/// A person is given a role; for `assessor` and `unit`, the units it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessGranted {
    pub person: PersonId,
    pub role: Role,
    #[serde(default)]
    pub units: Vec<UnitId>,
}

/// A person loses a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRevoked {
    pub person: PersonId,
    pub role: Role,
}

/// A bearer token is issued. Only the SHA-256 of its secret is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIssued {
    pub token: TokenId,
    pub person: PersonId,
    pub role: Role,
    pub secret_sha256: Digest,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A token stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRevoked {
    pub token: TokenId,
}

// ---- rubrics ----

/// A rubric is defined: its version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricDefined {
    pub rubric: RubricId,
    pub definition: RubricDefinition,
}

/// A rubric is adjusted (动态调整): `changes` applied to `from_version` give `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricAdjusted {
    pub rubric: RubricId,
    pub from_version: u32,
    pub version: u32,
    pub changes: Vec<RubricChange>,
    /// Who approved the adjustment (it may differ from who recorded it).
    pub approver: PersonId,
}

/// Version 1 of `RubricDefined`: a definition without an annual rule. Never written any more;
/// [`decode`] upcasts it to [`RubricDefined`], whose annual rule is then the mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(description = "A rubric is defined: its version 1.")]
pub struct RubricDefinedV1 {
    pub rubric: RubricId,
    pub definition: RubricDefinitionV1,
}

/// Version 1 of `RubricAdjusted`: changes without the annual rule's. Never written any more;
/// [`decode`] upcasts it to [`RubricAdjusted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "A rubric is adjusted (动态调整): `changes` applied to `from_version` give `version`."
)]
pub struct RubricAdjustedV1 {
    pub rubric: RubricId,
    pub from_version: u32,
    pub version: u32,
    pub changes: Vec<RubricChangeV1>,
    /// Who approved the adjustment (it may differ from who recorded it).
    pub approver: PersonId,
}

impl From<RubricDefinedV1> for RubricDefined {
    fn from(v1: RubricDefinedV1) -> Self {
        RubricDefined {
            rubric: v1.rubric,
            definition: v1.definition.into(),
        }
    }
}

impl From<RubricAdjustedV1> for RubricAdjusted {
    fn from(v1: RubricAdjustedV1) -> Self {
        RubricAdjusted {
            rubric: v1.rubric,
            from_version: v1.from_version,
            version: v1.version,
            changes: v1.changes.into_iter().map(Into::into).collect(),
            approver: v1.approver,
        }
    }
}

// ---- periods ----

/// A period is opened against one rubric version and a set of units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodOpened {
    pub period: PeriodId,
    #[schemars(with = "crate::text::Name")]
    pub name: String,
    pub cadence: Cadence,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub rubric: RubricId,
    pub rubric_version: u32,
    pub units: Vec<UnitId>,
}

/// A period moves to its next stage, or back to an earlier one when reopened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodStageChanged {
    pub period: PeriodId,
    pub from: Stage,
    pub to: Stage,
}

/// A running period moves to a newer version of its rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodRubricChanged {
    pub period: PeriodId,
    pub from_version: u32,
    pub to_version: u32,
}

// ---- score sheets ----

/// A unit's own assessment of an item (自评). Version 2: it may cite evidence files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfAssessmentRecorded {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    /// The evidence files it cites (佐证材料), each bound by its SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub files: Vec<EvidenceFile>,
}

/// Version 1 of `SelfAssessmentRecorded`, before entries cited evidence files. [`decode`] upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfAssessmentRecordedV1 {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
}

impl From<SelfAssessmentRecordedV1> for SelfAssessmentRecorded {
    fn from(v: SelfAssessmentRecordedV1) -> Self {
        SelfAssessmentRecorded {
            period: v.period,
            unit: v.unit,
            item: v.item,
            value: v.value,
            note: v.note,
            evidence: v.evidence,
            files: Vec::new(),
        }
    }
}

/// The assessor's score of an item (考评). Version 2: `value` replaces v1's float `points`, and the
/// `source` is recorded. Version 3: a score imported from a file carries the file's SHA-256.
/// Version 4: it may cite evidence files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRecorded {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    pub source: ScoreSource,
    /// The SHA-256 (lowercase hex) of the file the score was imported from, so an auditor can match
    /// the paper file to the record; only with the source `import`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub file_sha256: Option<String>,
    /// The evidence files it cites (佐证材料), each bound by its SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub files: Vec<EvidenceFile>,
}

/// Version 3 of `ScoreRecorded`, before scores cited evidence files. [`decode`] upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRecordedV3 {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    pub source: ScoreSource,
    /// The SHA-256 (lowercase hex) of the file the score was imported from; only with the source
    /// `import`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub file_sha256: Option<String>,
}

impl From<ScoreRecordedV3> for ScoreRecorded {
    fn from(v: ScoreRecordedV3) -> Self {
        ScoreRecorded {
            period: v.period,
            unit: v.unit,
            item: v.item,
            value: v.value,
            note: v.note,
            evidence: v.evidence,
            source: v.source,
            file_sha256: v.file_sha256,
            files: Vec::new(),
        }
    }
}

/// Version 2 of `ScoreRecorded`, before imported scores named their file. [`decode`] upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRecordedV2 {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    pub source: ScoreSource,
}

impl From<ScoreRecordedV2> for ScoreRecorded {
    fn from(v: ScoreRecordedV2) -> Self {
        ScoreRecorded {
            period: v.period,
            unit: v.unit,
            item: v.item,
            value: v.value,
            note: v.note,
            evidence: v.evidence,
            source: v.source,
            file_sha256: None,
            files: Vec::new(),
        }
    }
}

/// Version 1 of `ScoreRecorded`, as the first pilot recorded it: points as a JSON number and no source.
/// Never written any more; [`decode`] upcasts it to [`ScoreRecorded`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRecordedV1 {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    /// Points as a JSON number; the upcast rounds it to two places (四舍五入).
    #[schemars(range(min = -100000, max = 100000))]
    pub points: f64,
    #[serde(default)]
    pub note: String,
}

impl ScoreRecordedV1 {
    /// v1 → v2: the number becomes exact points (rounded to the two places v1's entry form allowed),
    /// and the source is `manual`, the only way v1 scores were entered.
    pub fn upcast(self) -> Result<ScoreRecorded, String> {
        let decimal = rust_decimal::Decimal::try_from(self.points)
            .map_err(|e| format!("points {} is not a finite number: {e}", self.points))?;
        let points = Points::new(Points::round_final(decimal)).map_err(|e| e.to_string())?;
        Ok(ScoreRecorded {
            period: self.period,
            unit: self.unit,
            item: self.item,
            value: ScoreValue::Points { points },
            note: self.note,
            evidence: Vec::new(),
            source: ScoreSource::Manual,
            file_sha256: None,
            files: Vec::new(),
        })
    }
}

/// A score is corrected. It names the value it replaces; the reason is on the envelope. Version 2:
/// a correction imported from a file carries the file's SHA-256. Version 3: it may cite evidence
/// files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreCorrected {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub previous: ScoreValue,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    pub source: ScoreSource,
    /// The appeal that revised it, when `source` is `appeal`.
    pub appeal: Option<AppealId>,
    /// The SHA-256 (lowercase hex) of the file the correction was imported from; only with the
    /// source `import`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub file_sha256: Option<String>,
    /// The evidence files it cites (佐证材料), each bound by its SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub files: Vec<EvidenceFile>,
}

/// Version 2 of `ScoreCorrected`, before corrections cited evidence files. [`decode`] upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreCorrectedV2 {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub previous: ScoreValue,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    pub source: ScoreSource,
    /// The appeal that revised it, when `source` is `appeal`.
    pub appeal: Option<AppealId>,
    /// The SHA-256 (lowercase hex) of the file the correction was imported from; only with the
    /// source `import`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub file_sha256: Option<String>,
}

impl From<ScoreCorrectedV2> for ScoreCorrected {
    fn from(v: ScoreCorrectedV2) -> Self {
        ScoreCorrected {
            period: v.period,
            unit: v.unit,
            item: v.item,
            previous: v.previous,
            value: v.value,
            note: v.note,
            evidence: v.evidence,
            source: v.source,
            appeal: v.appeal,
            file_sha256: v.file_sha256,
            files: Vec::new(),
        }
    }
}

/// Version 1 of `ScoreCorrected`, before imported corrections named their file. [`decode`] upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreCorrectedV1 {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub previous: ScoreValue,
    pub value: ScoreValue,
    #[serde(default)]
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    pub source: ScoreSource,
    /// The appeal that revised it, when `source` is `appeal`.
    pub appeal: Option<AppealId>,
}

impl From<ScoreCorrectedV1> for ScoreCorrected {
    fn from(v: ScoreCorrectedV1) -> Self {
        ScoreCorrected {
            period: v.period,
            unit: v.unit,
            item: v.item,
            previous: v.previous,
            value: v.value,
            note: v.note,
            evidence: v.evidence,
            source: v.source,
            appeal: v.appeal,
            file_sha256: None,
            files: Vec::new(),
        }
    }
}

/// A reviewer approves or rejects one item of a sheet (审核).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemReviewed {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub decision: ReviewDecision,
    #[schemars(with = "crate::text::Note")]
    pub comment: String,
}

/// A reviewer approves or rejects a whole sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetReviewed {
    pub period: PeriodId,
    pub unit: UnitId,
    pub decision: ReviewDecision,
    #[schemars(with = "crate::text::Note")]
    pub comment: String,
}

/// A unit's business result for a period (经营业绩), from its responsibility letter. Version 2: a
/// result imported from a file carries the file's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessResultRecorded {
    pub period: PeriodId,
    pub unit: UnitId,
    /// The business score, 0–100.
    pub score: Points,
    /// Whether a veto item of the business assessment applies.
    pub vetoed: bool,
    /// Where the figure comes from, e.g. the 经营目标责任书 and its clause.
    #[schemars(with = "crate::text::Name")]
    pub source: String,
    /// The SHA-256 (lowercase hex) of the file the result was imported from; only on imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub file_sha256: Option<String>,
}

/// Version 1 of `BusinessResultRecorded`, before imported results named their file. [`decode`]
/// upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessResultRecordedV1 {
    pub period: PeriodId,
    pub unit: UnitId,
    /// The business score, 0–100.
    pub score: Points,
    /// Whether a veto item of the business assessment applies.
    pub vetoed: bool,
    /// Where the figure comes from, e.g. the 经营目标责任书 and its clause.
    #[schemars(with = "crate::text::Name")]
    pub source: String,
}

impl From<BusinessResultRecordedV1> for BusinessResultRecorded {
    fn from(v: BusinessResultRecordedV1) -> Self {
        BusinessResultRecorded {
            period: v.period,
            unit: v.unit,
            score: v.score,
            vetoed: v.vetoed,
            source: v.source,
            file_sha256: None,
        }
    }
}

// ---- appeals ----

/// A unit appeals (申诉) against a score, or against its whole sheet. Version 2: it may cite
/// evidence files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealFiled {
    pub appeal: AppealId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: Option<ItemCode>,
    #[schemars(with = "crate::text::Reason")]
    pub grounds: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    /// The evidence files it cites (佐证材料), each bound by its SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub files: Vec<EvidenceFile>,
}

/// Version 1 of `AppealFiled`, before appeals cited evidence files. [`decode`] upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealFiledV1 {
    pub appeal: AppealId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: Option<ItemCode>,
    #[schemars(with = "crate::text::Reason")]
    pub grounds: String,
    #[serde(default)]
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
}

impl From<AppealFiledV1> for AppealFiled {
    fn from(v: AppealFiledV1) -> Self {
        AppealFiled {
            appeal: v.appeal,
            period: v.period,
            unit: v.unit,
            item: v.item,
            grounds: v.grounds,
            evidence: v.evidence,
            files: Vec::new(),
        }
    }
}

/// An appeal is upheld; the revised score follows as a `ScoreCorrected` with source `appeal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealUpheld {
    pub appeal: AppealId,
    #[schemars(with = "crate::text::Reason")]
    pub decision: String,
}

/// An appeal is dismissed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDismissed {
    pub appeal: AppealId,
    #[schemars(with = "crate::text::Reason")]
    pub decision: String,
}

// ---- closed loop ----

/// Where a rectification item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RectificationOrigin {
    Deduction,
    Review,
}

/// A rectification item (整改) is raised for a responsible person, with a due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationRaised {
    pub rectification: RectificationId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub responsible: PersonId,
    pub due_on: NaiveDate,
    #[schemars(with = "crate::text::Reason")]
    pub finding: String,
    pub origin: RectificationOrigin,
}

/// The responsible side submits the rectification with evidence. Version 2: it may cite evidence
/// files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationSubmitted {
    pub rectification: RectificationId,
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
    /// The evidence files it cites (佐证材料), each bound by its SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub files: Vec<EvidenceFile>,
}

/// Version 1 of `RectificationSubmitted`, before submissions cited evidence files. [`decode`]
/// upcasts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationSubmittedV1 {
    pub rectification: RectificationId,
    #[schemars(with = "crate::text::Note")]
    pub note: String,
    #[schemars(with = "crate::text::Evidence")]
    pub evidence: Vec<String>,
}

impl From<RectificationSubmittedV1> for RectificationSubmitted {
    fn from(v: RectificationSubmittedV1) -> Self {
        RectificationSubmitted {
            rectification: v.rectification,
            note: v.note,
            evidence: v.evidence,
            files: Vec::new(),
        }
    }
}

/// A reviewer verifies the rectification; the item is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationVerified {
    pub rectification: RectificationId,
    #[schemars(with = "crate::text::Note")]
    pub comment: String,
}

/// A reviewer sends the rectification back; it is open again, possibly with a new due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationSentBack {
    pub rectification: RectificationId,
    #[schemars(with = "crate::text::Reason")]
    pub comment: String,
    pub due_on: Option<NaiveDate>,
}

/// Why a stored event could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("未知的事件类型“{event_type}”(unknown event type {event_type:?})")]
    UnknownType { event_type: String },
    #[error(
        "事件类型“{event_type}”没有第 {version} 版 (unknown version {version} of event type {event_type:?}; known: {known:?})"
    )]
    UnknownVersion {
        event_type: String,
        version: u32,
        known: Vec<u32>,
    },
    #[error(
        "“{event_type}” v{version} 的内容无效 (invalid payload of {event_type:?} v{version}): {message}"
    )]
    InvalidPayload {
        event_type: String,
        version: u32,
        message: String,
    },
}

/// One known (event type, schema version), current or historical.
#[derive(Debug, Clone, Copy)]
pub struct CatalogueEntry {
    pub event_type: &'static str,
    pub version: u32,
    /// Whether this is the version the ledger writes today.
    pub current: bool,
    /// The JSON Schema of the payload.
    pub schema: fn() -> schemars::Schema,
}

macro_rules! registry {
    (
        current { $( $variant:ident = $version:literal ),* $(,)? }
        legacy { $( $legacy:ident : $name:literal = $lversion:literal => $upcast:expr ),* $(,)? }
    ) => {
        /// Every event the ledger records, in its current version.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Event {
            $( $variant($variant), )*
        }

        $(
            impl From<$variant> for Event {
                fn from(payload: $variant) -> Event {
                    Event::$variant(payload)
                }
            }
        )*

        impl Event {
            /// The event type as stored (the Rust type's name).
            pub fn event_type(&self) -> &'static str {
                match self {
                    $( Event::$variant(_) => stringify!($variant), )*
                }
            }

            /// The schema version the ledger writes for this type.
            pub fn schema_version(&self) -> u32 {
                match self {
                    $( Event::$variant(_) => $version, )*
                }
            }

            /// The payload as JSON.
            pub fn payload(&self) -> serde_json::Value {
                match self {
                    $( Event::$variant(p) => serde_json::to_value(p).expect("payload serialises"), )*
                }
            }
        }

        /// Every (type, version) the ledger can read, with its schema.
        pub const CATALOGUE: &[CatalogueEntry] = &[
            $( CatalogueEntry {
                event_type: stringify!($variant),
                version: $version,
                current: true,
                schema: || schemars::schema_for!($variant),
            }, )*
            $( CatalogueEntry {
                event_type: $name,
                version: $lversion,
                current: false,
                schema: || schemars::schema_for!($legacy),
            }, )*
        ];

        /// Decodes a stored payload into the current version of its type, upcasting old versions.
        pub fn decode(event_type: &str, version: u32, payload: &str) -> Result<Event, ContractError> {
            let invalid = |message: String| ContractError::InvalidPayload {
                event_type: event_type.to_owned(),
                version,
                message,
            };
            match (event_type, version) {
                $(
                    (stringify!($variant), $version) => serde_json::from_str::<$variant>(payload)
                        .map(Event::$variant)
                        .map_err(|e| invalid(e.to_string())),
                )*
                $(
                    ($name, $lversion) => {
                        let old: $legacy = serde_json::from_str(payload).map_err(|e| invalid(e.to_string()))?;
                        let upcast: fn($legacy) -> Result<Event, String> = $upcast;
                        upcast(old).map_err(invalid)
                    }
                )*
                _ => {
                    let known: Vec<u32> = CATALOGUE
                        .iter()
                        .filter(|e| e.event_type == event_type)
                        .map(|e| e.version)
                        .collect();
                    if known.is_empty() {
                        Err(ContractError::UnknownType { event_type: event_type.to_owned() })
                    } else {
                        Err(ContractError::UnknownVersion {
                            event_type: event_type.to_owned(),
                            version,
                            known,
                        })
                    }
                }
            }
        }
    };
}

registry! {
    current {
        BusinessZoneSet = 1,
        UnitRegistered = 1,
        UnitUpdated = 1,
        PersonRegistered = 1,
        AccessGranted = 1,
        AccessRevoked = 1,
        TokenIssued = 1,
        TokenRevoked = 1,
        RubricDefined = 2,
        RubricAdjusted = 2,
        PeriodOpened = 1,
        PeriodStageChanged = 1,
        PeriodRubricChanged = 1,
        SelfAssessmentRecorded = 2,
        ScoreRecorded = 4,
        ScoreCorrected = 3,
        ItemReviewed = 1,
        SheetReviewed = 1,
        BusinessResultRecorded = 2,
        AppealFiled = 2,
        AppealUpheld = 1,
        AppealDismissed = 1,
        RectificationRaised = 1,
        RectificationSubmitted = 2,
        RectificationVerified = 1,
        RectificationSentBack = 1,
    }
    legacy {
        ScoreRecordedV1: "ScoreRecorded" = 1 => |old| old.upcast().map(Event::ScoreRecorded),
        ScoreRecordedV2: "ScoreRecorded" = 2 => |old| Ok(Event::ScoreRecorded(old.into())),
        ScoreRecordedV3: "ScoreRecorded" = 3 => |old| Ok(Event::ScoreRecorded(old.into())),
        ScoreCorrectedV1: "ScoreCorrected" = 1 => |old| Ok(Event::ScoreCorrected(old.into())),
        ScoreCorrectedV2: "ScoreCorrected" = 2 => |old| Ok(Event::ScoreCorrected(old.into())),
        SelfAssessmentRecordedV1: "SelfAssessmentRecorded" = 1 => |old| Ok(Event::SelfAssessmentRecorded(old.into())),
        AppealFiledV1: "AppealFiled" = 1 => |old| Ok(Event::AppealFiled(old.into())),
        RectificationSubmittedV1: "RectificationSubmitted" = 1 => |old| Ok(Event::RectificationSubmitted(old.into())),
        BusinessResultRecordedV1: "BusinessResultRecorded" = 1 => |old| Ok(Event::BusinessResultRecorded(old.into())),
        RubricDefinedV1: "RubricDefined" = 1 => |old| Ok(Event::RubricDefined(old.into())),
        RubricAdjustedV1: "RubricAdjusted" = 1 => |old| Ok(Event::RubricAdjusted(old.into())),
    }
}

impl Event {
    /// The stream the event belongs to: one stream per aggregate, `{category}-{id}`.
    pub fn stream(&self) -> String {
        self.stream_parts().to_string()
    }

    /// [`Event::stream`] in parts, without building the name.
    pub fn stream_parts(&self) -> crate::ids::stream::Parts<'_> {
        use crate::ids::stream;
        match self {
            Event::BusinessZoneSet(_) => stream::settings_parts(),
            Event::UnitRegistered(e) => stream::unit_parts(&e.unit),
            Event::UnitUpdated(e) => stream::unit_parts(&e.unit),
            Event::PersonRegistered(e) => stream::person_parts(&e.person),
            Event::AccessGranted(e) => stream::person_parts(&e.person),
            Event::AccessRevoked(e) => stream::person_parts(&e.person),
            Event::TokenIssued(e) => stream::token_parts(&e.token),
            Event::TokenRevoked(e) => stream::token_parts(&e.token),
            Event::RubricDefined(e) => stream::rubric_parts(&e.rubric),
            Event::RubricAdjusted(e) => stream::rubric_parts(&e.rubric),
            Event::PeriodOpened(e) => stream::period_parts(&e.period),
            Event::PeriodStageChanged(e) => stream::period_parts(&e.period),
            Event::PeriodRubricChanged(e) => stream::period_parts(&e.period),
            Event::SelfAssessmentRecorded(e) => stream::sheet_parts(&e.period, &e.unit),
            Event::ScoreRecorded(e) => stream::sheet_parts(&e.period, &e.unit),
            Event::ScoreCorrected(e) => stream::sheet_parts(&e.period, &e.unit),
            Event::ItemReviewed(e) => stream::sheet_parts(&e.period, &e.unit),
            Event::SheetReviewed(e) => stream::sheet_parts(&e.period, &e.unit),
            Event::BusinessResultRecorded(e) => stream::sheet_parts(&e.period, &e.unit),
            Event::AppealFiled(e) => stream::appeal_parts(&e.appeal),
            Event::AppealUpheld(e) => stream::appeal_parts(&e.appeal),
            Event::AppealDismissed(e) => stream::appeal_parts(&e.appeal),
            Event::RectificationRaised(e) => stream::rectification_parts(&e.rectification),
            Event::RectificationSubmitted(e) => stream::rectification_parts(&e.rectification),
            Event::RectificationVerified(e) => stream::rectification_parts(&e.rectification),
            Event::RectificationSentBack(e) => stream::rectification_parts(&e.rectification),
        }
    }
}

impl Event {
    /// Checks every free text the event carries against its rule ([`crate::text`]): what the ledger
    /// records from now on. Decoding does not check it: an event recorded before the rules stays
    /// readable as it was hashed. The field is named by its path in the payload.
    pub fn check_text(&self) -> Result<(), TextRefusal> {
        let (name, note, reason) = (TextRule::NAME, TextRule::NOTE, TextRule::REASON);
        match self {
            Event::UnitRegistered(e) => name.check_field("name", &e.name),
            Event::UnitUpdated(e) => name.check_field("name", &e.name),
            Event::PersonRegistered(e) => name.check_field("name", &e.name),
            Event::PeriodOpened(e) => name.check_field("name", &e.name),
            Event::RubricDefined(e) => e.definition.check_text("definition"),
            Event::RubricAdjusted(e) => e
                .changes
                .iter()
                .enumerate()
                .try_for_each(|(i, change)| change.check_text(&format!("changes[{i}]"))),
            Event::SelfAssessmentRecorded(e) => {
                entry_text(&e.value, &e.note, &e.evidence)?;
                check_files("files", &e.files)
            }
            Event::ScoreRecorded(e) => {
                entry_text(&e.value, &e.note, &e.evidence)?;
                check_files("files", &e.files)
            }
            // `previous` names the value on record, which may predate the rules.
            Event::ScoreCorrected(e) => {
                entry_text(&e.value, &e.note, &e.evidence)?;
                check_files("files", &e.files)
            }
            Event::ItemReviewed(e) => note.check_field("comment", &e.comment),
            Event::SheetReviewed(e) => note.check_field("comment", &e.comment),
            Event::BusinessResultRecorded(e) => name.check_field("source", &e.source),
            Event::AppealFiled(e) => {
                reason.check_field("grounds", &e.grounds)?;
                check_evidence("evidence", &e.evidence)?;
                check_files("files", &e.files)
            }
            Event::AppealUpheld(e) => reason.check_field("decision", &e.decision),
            Event::AppealDismissed(e) => reason.check_field("decision", &e.decision),
            Event::RectificationRaised(e) => reason.check_field("finding", &e.finding),
            Event::RectificationSubmitted(e) => {
                note.check_field("note", &e.note)?;
                check_evidence("evidence", &e.evidence)?;
                check_files("files", &e.files)
            }
            Event::RectificationVerified(e) => note.check_field("comment", &e.comment),
            Event::RectificationSentBack(e) => reason.check_field("comment", &e.comment),
            // The zone is checked against the zone table when it is decided.
            Event::BusinessZoneSet(_)
            | Event::AccessGranted(_)
            | Event::AccessRevoked(_)
            | Event::TokenIssued(_)
            | Event::TokenRevoked(_)
            | Event::PeriodStageChanged(_)
            | Event::PeriodRubricChanged(_) => Ok(()),
        }
    }
}

impl Event {
    /// The evidence files the event cites (none for most types): what `ledger verify` checks are
    /// present and intact, and what an audit bundle carries.
    pub fn files(&self) -> &[EvidenceFile] {
        match self {
            Event::SelfAssessmentRecorded(e) => &e.files,
            Event::ScoreRecorded(e) => &e.files,
            Event::ScoreCorrected(e) => &e.files,
            Event::AppealFiled(e) => &e.files,
            Event::RectificationSubmitted(e) => &e.files,
            _ => &[],
        }
    }
}

/// The texts of a score entry: award titles, the note, the evidence.
fn entry_text(value: &ScoreValue, note: &str, evidence: &[String]) -> Result<(), TextRefusal> {
    value.check_text("value")?;
    TextRule::NOTE.check_field("note", note)?;
    check_evidence("evidence", evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_and_versions_are_named() {
        let err = decode("ScoreErased", 1, "{}").unwrap_err();
        assert_eq!(
            err,
            ContractError::UnknownType {
                event_type: "ScoreErased".into()
            }
        );
        assert!(err.to_string().contains("ScoreErased"));
        let err = decode("ScoreRecorded", 5, "{}").unwrap_err();
        assert_eq!(
            err,
            ContractError::UnknownVersion {
                event_type: "ScoreRecorded".into(),
                version: 5,
                known: vec![4, 1, 2, 3]
            }
        );
    }

    /// What was recorded before imports named their file decodes with no file.
    #[test]
    fn scores_before_file_hashes_are_upcast() {
        let v2 = r#"{"period":"2026Q1","unit":"SH-01","item":"A2","value":{"kind":"points","points":"2.5"},"source":"import"}"#;
        let Event::ScoreRecorded(v3) = decode("ScoreRecorded", 2, v2).unwrap() else {
            panic!("v2 must decode as ScoreRecorded");
        };
        assert_eq!((v3.source, v3.file_sha256), (ScoreSource::Import, None));
        let v1 = r#"{"period":"2026Q1","unit":"SH-01","item":"A2","previous":{"kind":"points","points":"2.5"},"value":{"kind":"points","points":"3"},"source":"manual","appeal":null}"#;
        let Event::ScoreCorrected(v2) = decode("ScoreCorrected", 1, v1).unwrap() else {
            panic!("v1 must decode as ScoreCorrected");
        };
        assert_eq!(v2.file_sha256, None);
        // A file hash is not part of the older versions.
        let with_hash = v2_with_hash(v2);
        assert!(decode("ScoreCorrected", 1, &with_hash).is_err());
        assert!(decode("ScoreCorrected", 2, &with_hash).is_ok());
    }

    #[test]
    fn evidence_files_are_only_in_the_newest_versions_and_checked() {
        let file = EvidenceFile {
            sha256: Digest([7; 32]),
            size: 1234,
            media_type: "application/pdf".into(),
            name: "会议记录.pdf".into(),
            uploaded_by: PersonId::new("P-01").unwrap(),
        };
        let submitted = RectificationSubmitted {
            rectification: RectificationId::new("R-1").unwrap(),
            note: "已整改".into(),
            evidence: vec![],
            files: vec![file.clone()],
        };
        let json = serde_json::to_string(&submitted).unwrap();
        assert!(json.contains(&"07".repeat(32)), "{json}");
        // v1 has no files: a payload citing one is refused as v1, read as v2.
        assert!(decode("RectificationSubmitted", 1, &json).is_err());
        let Event::RectificationSubmitted(back) =
            decode("RectificationSubmitted", 2, &json).unwrap()
        else {
            panic!("v2 decodes as RectificationSubmitted");
        };
        assert_eq!(back, submitted);
        // A v1 payload reads as v2 with no files, and a v2 without files writes no `files` key, so
        // an entry without files hashes as it always did.
        let v1 = r#"{"rectification":"R-1","note":"n","evidence":["会议纪要"]}"#;
        let Event::RectificationSubmitted(up) = decode("RectificationSubmitted", 1, v1).unwrap()
        else {
            panic!("v1 decodes as RectificationSubmitted");
        };
        assert!(up.files.is_empty());
        assert!(!serde_json::to_string(&up).unwrap().contains("files"));
        assert_eq!(
            Event::RectificationSubmitted(back).files(),
            std::slice::from_ref(&file)
        );

        // Names and media types are checked as every text is.
        let mut bad = file.clone();
        bad.media_type = "PDF".into();
        let refusal = check_files("files", &[bad]).unwrap_err();
        assert_eq!(refusal.field, "files[0].media_type");
        let mut bad = file.clone();
        bad.name = "a\u{202E}fdp.exe".into();
        assert_eq!(
            check_files("files", &[bad]).unwrap_err().field,
            "files[0].name"
        );
        let many = vec![file; EVIDENCE_FILES_MAX + 1];
        assert_eq!(check_files("files", &many).unwrap_err().field, "files");
    }

    /// A business result recorded before imports named their file decodes with no file; the file
    /// hash is not part of version 1.
    #[test]
    fn business_results_before_file_hashes_are_upcast() {
        let v1 = r#"{"period":"2026Q1","unit":"SH-01","score":"88.5","vetoed":false,"source":"经营目标责任书第3条"}"#;
        let Event::BusinessResultRecorded(v2) = decode("BusinessResultRecorded", 1, v1).unwrap()
        else {
            panic!("v1 must decode as BusinessResultRecorded");
        };
        assert_eq!(
            (v2.source.as_str(), v2.file_sha256.as_deref()),
            ("经营目标责任书第3条", None)
        );
        let mut hashed = v2;
        hashed.file_sha256 = Some("cd".repeat(32));
        let with_hash = serde_json::to_string(&hashed).unwrap();
        assert!(decode("BusinessResultRecorded", 1, &with_hash).is_err());
        assert_eq!(
            decode("BusinessResultRecorded", 2, &with_hash).unwrap(),
            Event::BusinessResultRecorded(hashed)
        );
    }

    fn v2_with_hash(mut v: ScoreCorrected) -> String {
        v.file_sha256 = Some("ab".repeat(32));
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn score_recorded_v1_is_upcast_to_v2() {
        let v1 = r#"{"period":"2026Q1","unit":"SH-01","item":"A2","points":2.5,"note":"少开1次"}"#;
        let Event::ScoreRecorded(v2) = decode("ScoreRecorded", 1, v1).unwrap() else {
            panic!("v1 must decode as ScoreRecorded");
        };
        assert_eq!(
            v2.value,
            ScoreValue::Points {
                points: Points::from_cents(250)
            }
        );
        assert_eq!(v2.source, ScoreSource::Manual);
        assert_eq!(v2.note, "少开1次");
        let err = decode(
            "ScoreRecorded",
            1,
            r#"{"period":"P","unit":"U","item":"I","points":1e300}"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, ContractError::InvalidPayload { version: 1, .. }),
            "{err}"
        );
    }
}
