//! Request bodies as they travel, and their conversion into the domain's [`Command`]s.
//!
//! Parse, don't validate: every field is parsed into its domain type while the body is read (ids into
//! `UnitId`, `ItemCode`, ...; amounts into [`Points`]; dates, stages, roles into their enums), so a
//! wire type that exists holds only valid values, and `TryFrom`/`into_command` only assembles the
//! command with the ids from the path. What depends on the ledger's state (does the unit exist, is the
//! value within the item's maximum) is the domain's to decide.
//!
//! Points are accepted as JSON strings (`"2.5"`, exact) and as JSON numbers (`2.5`): a number is
//! read back through its shortest decimal form, so `2.5` is exactly 2.5 and `0.1` exactly 0.1; more
//! than two decimal places, or more than ±100000, is refused either way. A string must have exactly
//! the shape the OpenAPI document's pattern gives (no spaces, no sign other than `-`, at most five
//! digits before the point), the document's `multipleOf: 0.01` says the same of numbers.
//!
//! The wire types accept exactly what the OpenAPI document describes, so that a client generated from
//! it (or a schema-driven fuzzer) never meets a refusal of a request the document calls valid, apart
//! from what depends on the ledger's state or relates two fields (dates in order, a dismissal without
//! a revision is stated in the document). Free text is parsed into `ledger_schemas::text` types (one
//! line or several, lengths, no control or bidirectional formatting characters); whole numbers accept
//! `3.0` as JSON Schema does ([`WireU32`]).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use ledger_projections::domain::{Command, Revision};
use ledger_schemas::envelope::Role;
use ledger_schemas::events::RectificationOrigin;
use ledger_schemas::ids::{
    AppealId, ItemCode, LevelCode, PeriodId, PersonId, RectificationId, RubricId, UnitId,
};
use ledger_schemas::rubric::{RubricChange, RubricDefinition};
use ledger_schemas::text::{Evidence, Label, Name, Note, Reason};
use ledger_schemas::values::{
    Award, Cadence, Points, ReviewDecision, ScoreSource, ScoreValue, Stage, UnitKind,
};
use schemars::JsonSchema;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use super::error::ApiError;
pub use super::evidence::FileRef;
use ledger_schemas::values::EvidenceFile;

/// An amount of points from a JSON string or number (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WirePoints(pub Points);

impl<'de> Deserialize<'de> for WirePoints {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PointsVisitor;
        impl Visitor<'_> for PointsVisitor {
            type Value = WirePoints;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("points as a decimal string such as \"2.5\" or a number such as 2.5")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WirePoints, E> {
                Points::parse_exact(v).map(WirePoints).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WirePoints, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WirePoints, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<WirePoints, E> {
                // Rust prints the shortest decimal that reads back as the same double: the digits
                // the client wrote, for any number with up to 15 significant digits.
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(PointsVisitor)
    }
}

impl JsonSchema for WirePoints {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WirePoints".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "分值 Points: a decimal string such as \"2.5\" (exact) or a JSON number such as 2.5; at most two decimal places, |x| <= 100000",
            "oneOf": [
                {"type": "string", "pattern": ledger_schemas::values::POINTS_PATTERN},
                {"type": "number", "minimum": -100000, "maximum": 100000, "multipleOf": 0.01}
            ]
        })
    }
}

/// A whole number from 0 to 4294967295, as JSON Schema's `integer` counts one: `3` and `3.0` alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireU32(pub u32);

impl<'de> Deserialize<'de> for WireU32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Whole;
        impl Visitor<'_> for Whole {
            type Value = WireU32;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number from 0 to 4294967295")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireU32, E> {
                u32::try_from(v)
                    .map(WireU32)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireU32, E> {
                u32::try_from(v)
                    .map(WireU32)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<WireU32, E> {
                if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                    Ok(WireU32(v as u32))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(Whole)
    }
}

impl JsonSchema for WireU32 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WireU32".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
    }
}

/// One award of a bonus item. The title is checked when the value is one being recorded (a
/// correction's `previous` names a value on record, which may predate the text rules).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WireAward {
    #[schemars(with = "Label")]
    pub title: String,
    pub points: WirePoints,
}

/// Which shape a score value has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Points,
    Level,
    Awards,
    Cases,
    Veto,
}

/// A score value as it travels: `{"kind": "points", "points": "2.5"}`, `{"kind": "level", "level":
/// "good"}`, `{"kind": "awards", "awards": [...]}`, `{"kind": "cases", "cases": 2}` or `{"kind":
/// "veto", "vetoed": true}`. Which shape an item accepts depends on its kind in the rubric.
///
/// It is read as one flat object (rather than serde's internally tagged enum, which buffers the
/// content and loses track of where an error lies) so that a bad amount is reported at
/// `value.points`; [`TryFrom`] then makes the [`ScoreValue`], refusing a field of another shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireScoreValue {
    pub kind: ValueKind,
    #[serde(default)]
    pub points: Option<WirePoints>,
    #[serde(default)]
    pub level: Option<LevelCode>,
    #[serde(default)]
    pub awards: Option<Vec<WireAward>>,
    #[serde(default)]
    pub cases: Option<WireU32>,
    #[serde(default)]
    pub vetoed: Option<bool>,
}

impl JsonSchema for WireScoreValue {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WireScoreValue".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let points = generator.subschema_for::<WirePoints>();
        let level = generator.subschema_for::<LevelCode>();
        let award = generator.subschema_for::<WireAward>();
        let shape = |kind: &str, field: &str, schema: serde_json::Value| {
            serde_json::json!({
                "type": "object",
                "properties": {"kind": {"const": kind}, field: schema},
                "required": ["kind", field],
                "additionalProperties": false
            })
        };
        schemars::json_schema!({
            "description": "得分 A score value; which shape an item accepts depends on its kind in the rubric",
            "oneOf": [
                shape("points", "points", points.to_value()),
                shape("level", "level", level.to_value()),
                shape("awards", "awards", serde_json::json!({"type": "array", "items": award})),
                shape("cases", "cases", serde_json::json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})),
                shape("veto", "vetoed", serde_json::json!({"type": "boolean"})),
            ]
        })
    }
}

impl TryFrom<WireScoreValue> for ScoreValue {
    /// The field (relative to the value) and why.
    type Error = (String, String);

    fn try_from(value: WireScoreValue) -> Result<ScoreValue, Self::Error> {
        let WireScoreValue {
            kind,
            points,
            level,
            awards,
            cases,
            vetoed,
        } = value;
        let present = [
            ("points", points.is_some()),
            ("level", level.is_some()),
            ("awards", awards.is_some()),
            ("cases", cases.is_some()),
            ("vetoed", vetoed.is_some()),
        ];
        let own = match kind {
            ValueKind::Points => "points",
            ValueKind::Level => "level",
            ValueKind::Awards => "awards",
            ValueKind::Cases => "cases",
            ValueKind::Veto => "vetoed",
        };
        if let Some((other, _)) = present.iter().find(|(name, set)| *set && *name != own) {
            return Err((
                (*other).to_owned(),
                format!(
                    "与 kind 不符, 此类得分只填 {own} (does not fit the kind; this value takes only {own})"
                ),
            ));
        }
        let missing = || {
            (
                own.to_owned(),
                "缺少必填字段 (required field missing)".to_owned(),
            )
        };
        Ok(match kind {
            ValueKind::Points => ScoreValue::Points {
                points: points.ok_or_else(missing)?.0,
            },
            ValueKind::Level => ScoreValue::Level {
                level: level.ok_or_else(missing)?,
            },
            ValueKind::Awards => ScoreValue::Awards {
                awards: awards
                    .ok_or_else(missing)?
                    .into_iter()
                    .map(|a| Award {
                        title: a.title,
                        points: a.points.0,
                    })
                    .collect(),
            },
            ValueKind::Cases => ScoreValue::Cases {
                cases: cases.ok_or_else(missing)?.0,
            },
            ValueKind::Veto => ScoreValue::Veto {
                vetoed: vetoed.ok_or_else(missing)?,
            },
        })
    }
}

/// A wire value made a [`ScoreValue`] to be recorded, a refusal naming the field under `at` (e.g.
/// `value.points`, `value.awards[0].title`).
fn value_at(at: &str, value: WireScoreValue) -> Result<ScoreValue, ApiError> {
    let value = named_value_at(at, value)?;
    value.check_text(at).map_err(text_refused)?;
    Ok(value)
}

/// A wire value that names one on record (a correction's `previous`): its texts are taken as they
/// are, since the value on record may predate the text rules.
fn named_value_at(at: &str, value: WireScoreValue) -> Result<ScoreValue, ApiError> {
    ScoreValue::try_from(value)
        .map_err(|(field, reason)| ApiError::invalid_field(format!("{at}.{field}"), reason))
}

/// Where a score written through the API comes from (`appeal` is reserved to upheld appeals).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WireSource {
    #[default]
    Manual,
    Import,
    Recalculation,
}

impl From<WireSource> for ScoreSource {
    fn from(source: WireSource) -> ScoreSource {
        match source {
            WireSource::Manual => ScoreSource::Manual,
            WireSource::Import => ScoreSource::Import,
            WireSource::Recalculation => ScoreSource::Recalculation,
        }
    }
}

// ---- units, people, access, tokens ----

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterUnitRequest {
    pub unit: UnitId,
    pub name: Name,
    pub kind: UnitKind,
    #[serde(default)]
    pub parent: Option<UnitId>,
}

impl From<RegisterUnitRequest> for Command {
    fn from(r: RegisterUnitRequest) -> Command {
        Command::RegisterUnit {
            unit: r.unit,
            name: r.name.into(),
            kind: r.kind,
            parent: r.parent,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    pub name: Name,
    #[serde(default)]
    pub parent: Option<UnitId>,
    #[serde(default)]
    pub reason: Option<Note>,
}

impl UpdateUnitRequest {
    pub fn into_command(self, unit: UnitId) -> Command {
        Command::UpdateUnit {
            unit,
            name: self.name.into(),
            parent: self.parent,
            reason: self.reason.map(String::from),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPersonRequest {
    pub person: PersonId,
    pub name: Name,
    /// The unit the person belongs to.
    #[serde(default)]
    pub unit: Option<UnitId>,
}

impl From<RegisterPersonRequest> for Command {
    fn from(r: RegisterPersonRequest) -> Command {
        Command::RegisterPerson {
            person: r.person,
            name: r.name.into(),
            unit: r.unit,
        }
    }
}

/// Grants the role named in the path, or re-scopes it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRoleRequest {
    /// For `assessor` and `unit`: the units the role covers (at least one); none for other roles.
    #[serde(default)]
    pub units: Vec<UnitId>,
    #[serde(default)]
    pub reason: Option<Note>,
}

impl GrantRoleRequest {
    pub fn into_command(self, person: PersonId, role: Role) -> Command {
        Command::GrantAccess {
            person,
            role,
            units: self.units,
            reason: self.reason.map(String::from),
        }
    }
}

/// A revocation (of a role or a token), with an optional reason.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevocationRequest {
    #[serde(default)]
    pub reason: Option<Note>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueTokenRequest {
    pub person: PersonId,
    /// A role the person holds (not `system`).
    #[schemars(with = "IssuableRole")]
    pub role: Role,
    /// RFC 3339; none for a token that does not expire.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The roles a token may be issued for: every role but `system`, which acts only from the ledger's
/// own command line (the document says so; the domain refuses it too).
struct IssuableRole;

impl JsonSchema for IssuableRole {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IssuableRole".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let roles: Vec<&str> = Role::ALL
            .iter()
            .filter(|r| **r != Role::System)
            .map(|r| r.as_str())
            .collect();
        schemars::json_schema!({"type": "string", "enum": roles})
    }
}

// ---- rubrics ----

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefineRubricRequest {
    pub rubric: RubricId,
    /// The rubric, in the shape of the rubric file (`projections/data/default-rubric.json`); its
    /// amounts are decimal strings, as the event contract records them.
    pub definition: RubricDefinition,
}

/// A text refusal of a nested structure (a rubric), as the API answers one.
fn text_refused(refusal: ledger_schemas::text::TextRefusal) -> ApiError {
    ApiError::invalid_field(refusal.field, refusal.error.to_string())
}

impl TryFrom<DefineRubricRequest> for Command {
    type Error = ApiError;

    /// Refuses a title or a description that breaks the text rules, naming it by its path.
    fn try_from(r: DefineRubricRequest) -> Result<Command, ApiError> {
        r.definition
            .check_text("definition")
            .map_err(text_refused)?;
        Ok(Command::DefineRubric {
            rubric: r.rubric,
            definition: r.definition,
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustRubricRequest {
    /// The latest version, which the changes start from.
    pub from_version: WireU32,
    pub changes: Vec<RubricChange>,
    /// Who approved the adjustment.
    pub approver: PersonId,
    pub reason: Reason,
}

impl AdjustRubricRequest {
    /// Refuses a title or a description that breaks the text rules, naming it by its path.
    pub fn into_command(self, rubric: RubricId) -> Result<Command, ApiError> {
        for (i, change) in self.changes.iter().enumerate() {
            change
                .check_text(&format!("changes[{i}]"))
                .map_err(text_refused)?;
        }
        Ok(Command::AdjustRubric {
            rubric,
            from_version: self.from_version.0,
            changes: self.changes,
            approver: self.approver,
            reason: self.reason.into(),
        })
    }
}

// ---- periods ----

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenPeriodRequest {
    pub period: PeriodId,
    pub name: Name,
    pub cadence: Cadence,
    pub starts_on: NaiveDate,
    /// On or after `starts_on`.
    pub ends_on: NaiveDate,
    pub rubric: RubricId,
    pub rubric_version: WireU32,
    /// The units assessed, at least one, each once.
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub units: Vec<UnitId>,
}

impl From<OpenPeriodRequest> for Command {
    fn from(r: OpenPeriodRequest) -> Command {
        Command::OpenPeriod {
            period: r.period,
            name: r.name.into(),
            cadence: r.cadence,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            rubric: r.rubric,
            rubric_version: r.rubric_version.0,
            units: r.units,
        }
    }
}

/// Moves the period one stage forwards.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceStageRequest {
    pub to: Stage,
}

/// Reopens a published period, back to scoring or review.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenPeriodRequest {
    pub to: Stage,
    pub reason: Reason,
}

/// Moves a running period to a newer version of its rubric.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRubricRequest {
    pub to_version: WireU32,
    pub reason: Reason,
}

// ---- sheets and items ----

/// The ids a sheet or item route names in its path.
#[derive(Debug, Clone)]
pub struct SheetPath {
    pub period: PeriodId,
    pub unit: UnitId,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfAssessmentRequest {
    pub value: WireScoreValue,
    #[serde(default)]
    pub note: Note,
    #[serde(default)]
    pub evidence: Evidence,
    /// Evidence files uploaded first (`POST /api/v1/evidence`), cited by digest.
    #[serde(default)]
    pub files: Vec<FileRef>,
}

impl SelfAssessmentRequest {
    pub fn into_command(
        self,
        at: SheetPath,
        item: ItemCode,
        expected: Option<u64>,
        files: Vec<EvidenceFile>,
    ) -> Result<Command, ApiError> {
        Ok(Command::RecordSelfAssessment {
            files,
            period: at.period,
            unit: at.unit,
            item,
            value: value_at("value", self.value)?,
            note: self.note.into(),
            evidence: self.evidence.into_strings(),
            expected_revision: expected,
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    pub value: WireScoreValue,
    #[serde(default)]
    pub note: Note,
    #[serde(default)]
    pub evidence: Evidence,
    /// Evidence files uploaded first (`POST /api/v1/evidence`), cited by digest.
    #[serde(default)]
    pub files: Vec<FileRef>,
    #[serde(default)]
    pub source: WireSource,
}

impl ScoreRequest {
    pub fn into_command(
        self,
        at: SheetPath,
        item: ItemCode,
        expected: Option<u64>,
        files: Vec<EvidenceFile>,
    ) -> Result<Command, ApiError> {
        Ok(Command::RecordScore {
            files,
            period: at.period,
            unit: at.unit,
            item,
            value: value_at("value", self.value)?,
            note: self.note.into(),
            evidence: self.evidence.into_strings(),
            source: self.source.into(),
            expected_revision: expected,
        })
    }
}

/// Replaces the current value of a score, which it must name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The value on record that this correction replaces.
    pub previous: WireScoreValue,
    pub value: WireScoreValue,
    #[serde(default)]
    pub note: Note,
    #[serde(default)]
    pub evidence: Evidence,
    #[serde(default)]
    pub source: WireSource,
    pub reason: Reason,
    /// Evidence files uploaded first (`POST /api/v1/evidence`), cited by digest.
    #[serde(default)]
    pub files: Vec<FileRef>,
}

impl CorrectionRequest {
    pub fn into_command(
        self,
        at: SheetPath,
        item: ItemCode,
        expected: Option<u64>,
        files: Vec<EvidenceFile>,
    ) -> Result<Command, ApiError> {
        Ok(Command::CorrectScore {
            files,
            period: at.period,
            unit: at.unit,
            item,
            previous: named_value_at("previous", self.previous)?,
            value: value_at("value", self.value)?,
            note: self.note.into(),
            evidence: self.evidence.into_strings(),
            source: self.source.into(),
            reason: self.reason.into(),
            expected_revision: expected,
        })
    }
}

/// A reviewer's decision on an item or a whole sheet; a rejection needs a comment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = rejection_needs_a_comment)]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: Note,
}

/// The document says what the domain requires: a rejection carries a comment that is not blank.
fn rejection_needs_a_comment(schema: &mut schemars::Schema) {
    schema.insert(
        "if".into(),
        serde_json::json!({"properties": {"decision": {"const": "rejected"}}, "required": ["decision"]}),
    );
    schema.insert(
        "then".into(),
        serde_json::json!({"properties": {"comment": Reason::RULE.schema()}, "required": ["comment"]}),
    );
}

impl ReviewRequest {
    pub fn into_item_command(
        self,
        at: SheetPath,
        item: ItemCode,
        expected: Option<u64>,
    ) -> Command {
        Command::ReviewItem {
            period: at.period,
            unit: at.unit,
            item,
            decision: self.decision,
            comment: self.comment.into(),
            expected_revision: expected,
        }
    }

    pub fn into_sheet_command(self, at: SheetPath, expected: Option<u64>) -> Command {
        Command::ReviewSheet {
            period: at.period,
            unit: at.unit,
            decision: self.decision,
            comment: self.comment.into(),
            expected_revision: expected,
        }
    }
}

/// A unit's business result for the period (经营业绩), 0–100.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessResultRequest {
    pub score: WirePoints,
    #[serde(default)]
    pub vetoed: bool,
    /// Where the figure comes from, e.g. the 经营目标责任书 and its clause.
    pub source: Name,
    /// Required when it replaces a result already recorded.
    #[serde(default)]
    pub reason: Option<Note>,
}

impl BusinessResultRequest {
    pub fn into_command(self, at: SheetPath, expected: Option<u64>) -> Command {
        Command::RecordBusinessResult {
            period: at.period,
            unit: at.unit,
            score: self.score.0,
            vetoed: self.vetoed,
            source: self.source.into(),
            reason: self.reason.map(String::from),
            expected_revision: expected,
        }
    }
}

// ---- appeals ----

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileAppealRequest {
    pub appeal: AppealId,
    pub period: PeriodId,
    pub unit: UnitId,
    /// The item appealed against; none for the whole sheet.
    #[serde(default)]
    pub item: Option<ItemCode>,
    pub grounds: Reason,
    #[serde(default)]
    pub evidence: Evidence,
    /// Evidence files uploaded first (`POST /api/v1/evidence`), cited by digest.
    #[serde(default)]
    pub files: Vec<FileRef>,
}

impl FileAppealRequest {
    pub fn into_command(self, files: Vec<EvidenceFile>) -> Command {
        let r = self;
        Command::FileAppeal {
            files,
            appeal: r.appeal,
            period: r.period,
            unit: r.unit,
            item: r.item,
            grounds: r.grounds.into(),
            evidence: r.evidence.into_strings(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcomeWire {
    Upheld,
    Dismissed,
}

/// The revised score an upheld appeal records.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionRequest {
    pub item: ItemCode,
    pub value: WireScoreValue,
    #[serde(default)]
    pub note: Note,
    #[serde(default)]
    pub evidence: Evidence,
}

/// A reviewer's decision on an appeal.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = a_dismissal_revises_nothing)]
pub struct DecideAppealRequest {
    pub outcome: AppealOutcomeWire,
    /// The decision and its reasons.
    pub decision: Reason,
    /// For an upheld appeal against an item: the revised score (required then).
    #[serde(default)]
    pub revised: Option<RevisionRequest>,
}

/// The document says what [`DecideAppealRequest::into_command`] refuses: a dismissal with a revision.
fn a_dismissal_revises_nothing(schema: &mut schemars::Schema) {
    schema.insert(
        "if".into(),
        serde_json::json!({"properties": {"outcome": {"const": "dismissed"}}, "required": ["outcome"]}),
    );
    schema.insert(
        "then".into(),
        serde_json::json!({"properties": {"revised": {"type": "null"}}}),
    );
}

impl DecideAppealRequest {
    /// The command; a revision sent with a dismissal is refused rather than silently dropped.
    pub fn into_command(self, appeal: AppealId) -> Result<Command, ApiError> {
        match self.outcome {
            AppealOutcomeWire::Upheld => Ok(Command::UpholdAppeal {
                appeal,
                decision: self.decision.into(),
                revised: self
                    .revised
                    .map(|r| -> Result<Revision, ApiError> {
                        Ok(Revision {
                            item: r.item,
                            value: value_at("revised.value", r.value)?,
                            note: r.note.into(),
                            evidence: r.evidence.into_strings(),
                        })
                    })
                    .transpose()?,
            }),
            AppealOutcomeWire::Dismissed if self.revised.is_some() => Err(ApiError::invalid_field(
                "revised",
                "驳回申诉不能附带修订得分 (a dismissed appeal revises no score)",
            )),
            AppealOutcomeWire::Dismissed => Ok(Command::DismissAppeal {
                appeal,
                decision: self.decision.into(),
            }),
        }
    }
}

// ---- closed loop ----

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseRectificationRequest {
    pub rectification: RectificationId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub due_on: NaiveDate,
    pub finding: Reason,
    pub origin: RectificationOrigin,
}

impl From<RaiseRectificationRequest> for Command {
    fn from(r: RaiseRectificationRequest) -> Command {
        Command::RaiseRectification {
            rectification: r.rectification,
            period: r.period,
            unit: r.unit,
            item: r.item,
            due_on: r.due_on,
            finding: r.finding.into(),
            origin: r.origin,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRectificationRequest {
    pub note: Note,
    #[serde(default)]
    pub evidence: Evidence,
    /// Evidence files uploaded first (`POST /api/v1/evidence`), cited by digest.
    #[serde(default)]
    pub files: Vec<FileRef>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRectificationRequest {
    #[serde(default)]
    pub comment: Note,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBackRectificationRequest {
    pub comment: Reason,
    /// A new due date, if the old one no longer fits.
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points arrive as strings or numbers and are exact either way; more than two places, out of
    /// range, non-numbers and `null` are refused.
    #[test]
    fn points_come_as_strings_or_numbers_and_stay_exact() {
        for (json, expected) in [
            ("\"2.5\"", 250),
            ("2.5", 250),
            ("3", 300),
            ("0.1", 10),
            ("\"0.25\"", 25),
            ("-1", -100),
        ] {
            let parsed: WirePoints = serde_json::from_str(json).unwrap();
            assert_eq!(parsed.0, Points::from_cents(expected), "{json}");
        }
        for bad in [
            "\"1.234\"",
            "1.234",
            "1e300",
            "100000.01",
            "\"abc\"",
            "true",
            "null",
        ] {
            assert!(serde_json::from_str::<WirePoints>(bad).is_err(), "{bad}");
        }
    }
}
