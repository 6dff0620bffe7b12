//! Response bodies: what the API sends, each described by its schemars derive in the OpenAPI
//! document. Views are built from the write model ([`State`]) or the read models; they are the wire's
//! shape, so the domain types can change without the API changing under its clients.

use chrono::{DateTime, NaiveDate, Utc};
use ledger_projections::domain::state::{
    AppealOutcome, PeriodState, RectificationState, RectificationStatus, ReviewStatus, Standing,
    TokenState, UnitState,
};
use ledger_projections::domain::{Cited, ItemScore, State};
use ledger_projections::scoring::{GradeBasis, SheetScore};
use ledger_schemas::envelope::Role;
use ledger_schemas::events::RectificationOrigin;
use ledger_schemas::ids::{
    AppealId, AspectCode, GradeCode, ItemCode, PeriodId, PersonId, RectificationId, RubricId,
    TokenId, UnitId,
};
use ledger_schemas::rubric::{AnnualRule, ItemKind, PeriodSlot, RubricDefinition};
use ledger_schemas::values::{
    Cadence, Points, ReviewDecision, ScoreSource, ScoreValue, Stage, Text, UnitKind,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::Executed;

/// A computed figure (a sum, a weighted score) as an exact decimal string, rounded once to two places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Figure(pub String);

impl JsonSchema for Figure {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Figure".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$",
            "description": "A computed figure as a decimal string with at most two places (exact; rounded once, half away from zero)"
        })
    }
}

impl Figure {
    pub fn of(value: impl ToString) -> Self {
        Figure(value.to_string())
    }
}

// ---- writes ----

/// One event a write recorded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RecordedEvent {
    pub event_id: Uuid,
    /// Its position in the global log.
    pub position: u64,
}

/// A stream a write appended to, and its revision after the write (the resource's new ETag).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StreamRevision {
    pub stream: String,
    pub revision: u64,
}

/// What a write recorded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Recorded {
    pub events: Vec<RecordedEvent>,
    pub streams: Vec<StreamRevision>,
}

impl From<&Executed> for Recorded {
    fn from(executed: &Executed) -> Self {
        Recorded {
            events: executed
                .event_ids
                .iter()
                .zip(&executed.positions)
                .map(|(event_id, position)| RecordedEvent {
                    event_id: *event_id,
                    position: *position,
                })
                .collect(),
            streams: executed
                .revisions
                .iter()
                .map(|(stream, revision)| StreamRevision {
                    stream: stream.clone(),
                    revision: *revision,
                })
                .collect(),
        }
    }
}

/// A token just issued. `bearer` is shown this once: the ledger keeps only its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct IssuedTokenView {
    pub token: TokenId,
    pub person: PersonId,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    /// Send it as `Authorization: Bearer {bearer}`.
    pub bearer: String,
    pub recorded: Recorded,
}

// ---- units, people, tokens ----

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnitView {
    pub unit: UnitId,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
}

impl UnitView {
    pub fn new(unit: &UnitId, state: &UnitState) -> Self {
        UnitView {
            unit: unit.clone(),
            name: state.name.clone(),
            kind: state.kind,
            parent: state.parent.clone(),
        }
    }
}

/// The caller: who the token belongs to and what it may read.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MeView {
    pub person: PersonId,
    pub name: Option<String>,
    pub role: Role,
    /// The units an assessor or a unit secretary may read; none for roles that read every unit.
    pub units: Option<Vec<UnitId>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnitList {
    pub units: Vec<UnitView>,
}

/// A role a person holds, and the units it covers (assessor, unit).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RoleGrant {
    pub role: Role,
    pub units: Vec<UnitId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PersonView {
    pub person: PersonId,
    pub name: String,
    pub unit: Option<UnitId>,
    pub roles: Vec<RoleGrant>,
}

impl PersonView {
    pub fn new(state: &State, person: &PersonId) -> Option<Self> {
        let p = state.people.get(person)?;
        Some(PersonView {
            person: person.clone(),
            name: p.name.clone(),
            unit: p.unit.clone(),
            roles: p
                .roles
                .iter()
                .map(|(role, units)| RoleGrant {
                    role: *role,
                    units: units.iter().cloned().collect(),
                })
                .collect(),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PersonList {
    pub people: Vec<PersonView>,
}

/// One entry of the names directory: who a person is, without the roles they hold.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PersonName {
    pub person: PersonId,
    pub name: String,
    pub unit: Option<UnitId>,
}

/// The names directory (通讯录): every registered person's name, for every signed-in role, so that
/// every page can show people by name. Who holds which role stays with the people list.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PersonNames {
    pub people: Vec<PersonName>,
}

/// An issued token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TokenView {
    pub token: TokenId,
    pub person: PersonId,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

impl TokenView {
    pub fn new(token: &TokenId, state: &TokenState) -> Self {
        TokenView {
            token: token.clone(),
            person: state.person.clone(),
            role: state.role,
            expires_at: state.expires_at,
            revoked: state.revoked,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

// ---- rubrics ----

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RubricSummary {
    pub rubric: RubricId,
    pub latest_version: u32,
    pub title: Text,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RubricList {
    pub rubrics: Vec<RubricSummary>,
}

/// One version of a rubric, in full.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RubricVersionView {
    pub rubric: RubricId,
    pub version: u32,
    pub latest_version: u32,
    pub definition: RubricDefinition,
}

// ---- periods ----

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PeriodView {
    pub period: PeriodId,
    pub name: String,
    pub cadence: Cadence,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub rubric: RubricId,
    pub rubric_version: u32,
    pub units: Vec<UnitId>,
    pub stage: Stage,
    /// How many times it was reopened after publication.
    pub reopenings: u32,
    /// The period stream's revision (its ETag).
    pub revision: Option<u64>,
}

/// What a milestone of a period's life is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneKind {
    Opened,
    /// Moved to the next stage (other than publication).
    Stage,
    Published,
    /// Reopened after publication.
    Reopened,
    /// Moved to another rubric version.
    RubricMoved,
    AppealUpheld,
    AppealDismissed,
}

/// One milestone: what happened, at which log position and when.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MilestoneView {
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    pub kind: MilestoneKind,
    /// The stage the period entered (opened, stage changes, publication, reopening).
    pub stage: Option<Stage>,
    /// The appeal decided.
    pub appeal: Option<AppealId>,
}

/// A period's life, oldest first, and when it was last published.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MilestonesView {
    pub period: PeriodId,
    pub at_position: u64,
    /// The time of its latest publication (公示), if it has been published.
    pub published_at: Option<DateTime<Utc>>,
    pub milestones: Vec<MilestoneView>,
}

impl PeriodView {
    pub fn new(period: &PeriodId, p: &PeriodState, revision: Option<u64>) -> Self {
        PeriodView {
            period: period.clone(),
            name: p.name.clone(),
            cadence: p.cadence,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            rubric: p.rubric.clone(),
            rubric_version: p.rubric_version,
            units: p.units.clone(),
            stage: p.stage,
            reopenings: p.reopenings,
            revision,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PeriodList {
    pub periods: Vec<PeriodView>,
}

// ---- sheets and items ----

/// Where a score stands in review.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReviewView {
    /// `pending`, `approved` or `rejected`.
    pub status: ReviewState,
    pub by: Option<PersonId>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Pending,
    Approved,
    Rejected,
}

/// Where a score stands against the period's current rubric version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StandingView {
    pub status: StandingState,
    /// Why it awaits re-scoring.
    pub why: Option<String>,
    /// The rubric version that removed its item.
    pub removed_in: Option<u32>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StandingState {
    Counting,
    NeedsRescoring,
    Removed,
}

/// The current score of an item.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ItemScoreView {
    pub value: ScoreValue,
    pub source: ScoreSource,
    pub last_by: PersonId,
    /// Everyone who recorded or corrected it (none of them may approve it).
    pub authors: Vec<PersonId>,
    pub review: ReviewView,
    pub standing: StandingView,
    /// The upheld appeal that last revised it.
    pub appeal: Option<AppealId>,
    /// The evidence files the current value's record cites.
    #[serde(default)]
    pub files: Vec<EvidenceFileView>,
}

impl From<&ItemScore> for ItemScoreView {
    fn from(s: &ItemScore) -> Self {
        let review = match &s.review {
            ReviewStatus::Pending => ReviewView {
                status: ReviewState::Pending,
                by: None,
                comment: None,
            },
            ReviewStatus::Approved { by } => ReviewView {
                status: ReviewState::Approved,
                by: Some(by.clone()),
                comment: None,
            },
            ReviewStatus::Rejected { by, comment } => ReviewView {
                status: ReviewState::Rejected,
                by: Some(by.clone()),
                comment: Some(comment.clone()),
            },
        };
        let standing = match &s.standing {
            Standing::Counting => StandingView {
                status: StandingState::Counting,
                why: None,
                removed_in: None,
            },
            Standing::NeedsRescoring { why } => StandingView {
                status: StandingState::NeedsRescoring,
                why: Some(why.to_string()),
                removed_in: None,
            },
            Standing::Removed { version } => StandingView {
                status: StandingState::Removed,
                why: None,
                removed_in: Some(*version),
            },
        };
        ItemScoreView {
            value: s.value.clone(),
            source: s.source,
            last_by: s.last_by.clone(),
            authors: s.authors.to_vec(),
            review,
            standing,
            appeal: s.appeal.clone(),
            files: Vec::new(),
        }
    }
}

/// The unit's own assessment of an item (自评): informational, never counted.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SelfAssessmentView {
    pub value: ScoreValue,
    pub note: String,
    pub evidence: Vec<String>,
    pub by: PersonId,
    #[serde(default)]
    pub files: Vec<EvidenceFileView>,
}

/// An evidence file (佐证材料) a record cites, as people read it. The bytes are at `url`
/// (`GET /api/v1/evidence/{sha256}`), served to whoever may read a record citing them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceFileView {
    /// The SHA-256 of the file's bytes, in hex: its name in the evidence store.
    pub sha256: String,
    /// The file's name as uploaded (sanitised).
    pub name: String,
    pub size: u64,
    /// Read from the file's bytes when it was uploaded.
    pub media_type: String,
    /// The person who recorded the event citing it (the ledger records the citing person as the
    /// uploader: whoever cites a file vouches for it).
    pub uploaded_by: PersonId,
    /// Their name in the register, when the ledger knows it.
    #[serde(default)]
    pub uploaded_by_name: Option<String>,
    /// When the citing event was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Where the bytes are served.
    pub url: String,
}

impl EvidenceFileView {
    pub fn new(
        file: &ledger_schemas::values::EvidenceFile,
        recorded_at: DateTime<Utc>,
        state: Option<&State>,
    ) -> Self {
        let sha256 = file.sha256.to_hex();
        EvidenceFileView {
            url: format!("/api/v1/evidence/{sha256}"),
            sha256,
            name: file.name.clone(),
            size: file.size,
            media_type: file.media_type.clone(),
            uploaded_by: file.uploaded_by.clone(),
            uploaded_by_name: state
                .and_then(|s| s.people.get(&file.uploaded_by))
                .map(|p| p.name.clone()),
            recorded_at,
        }
    }

    /// The files a record cites, as views.
    pub fn all(cited: Option<&Cited>, state: &State) -> Vec<Self> {
        cited.map_or_else(Vec::new, |c| {
            c.files
                .iter()
                .map(|f| Self::new(f, c.at, Some(state)))
                .collect()
        })
    }
}

/// One item of a sheet.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ItemView {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    /// The item in the period's current rubric version; none when the item was removed from it.
    pub aspect: Option<AspectCode>,
    pub title: Option<Text>,
    pub kind: Option<ItemKind>,
    pub responsible: Option<PersonId>,
    pub score: Option<ItemScoreView>,
    pub self_assessment: Option<SelfAssessmentView>,
    /// The sheet stream's revision (the item's ETag: items live in their sheet's stream).
    pub revision: Option<u64>,
}

impl ItemView {
    /// The item of a sheet, or none when neither the rubric nor the sheet knows it.
    pub fn new(state: &State, period: &PeriodId, unit: &UnitId, item: &ItemCode) -> Option<Self> {
        let sheet = state.sheet(period, unit);
        let found = state
            .period_definition(period)
            .and_then(|def| ledger_projections::rubric::find_item(def, item));
        let score = sheet.and_then(|s| s.scores.get(item));
        let own = sheet.and_then(|s| s.self_assessments.get(item));
        if found.is_none() && score.is_none() && own.is_none() {
            return None;
        }
        let stream = ledger_schemas::ids::stream::sheet(period, unit);
        Some(ItemView {
            period: period.clone(),
            unit: unit.clone(),
            item: item.clone(),
            aspect: found.map(|(a, _)| a.code.clone()),
            title: found.map(|(_, i)| i.title.clone()),
            kind: found.map(|(_, i)| i.kind.clone()),
            responsible: found.map(|(_, i)| i.responsible.clone()),
            score: score.map(|s| ItemScoreView {
                files: EvidenceFileView::all(s.files.as_deref(), state),
                ..ItemScoreView::from(s)
            }),
            self_assessment: own.map(|s| SelfAssessmentView {
                value: s.value.clone(),
                note: s.note.clone(),
                evidence: s.evidence.clone(),
                by: s.by.clone(),
                files: EvidenceFileView::all(s.files.as_deref(), state),
            }),
            revision: state.revision(&stream),
        })
    }
}

/// One weighted aspect of a scored sheet.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AspectScoreView {
    pub aspect: AspectCode,
    pub points: Figure,
    pub max: Points,
    pub scored: usize,
    pub items: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BonusScoreView {
    pub item: ItemCode,
    pub claimed: Figure,
    pub counted: Figure,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DeductionScoreView {
    pub item: ItemCode,
    pub cases: u32,
    pub claimed: Figure,
    pub counted: Figure,
}

/// Which figure the grade was read from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GradeBasisView {
    Combined,
    PartyScore,
}

/// A sheet's totals, party-building score, combined dual score and grade (see SCORING.md).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SheetScoreView {
    pub aspects: Vec<AspectScoreView>,
    pub base: Figure,
    pub base_max: Figure,
    pub bonuses: Vec<BonusScoreView>,
    pub bonus: Figure,
    pub deductions: Vec<DeductionScoreView>,
    pub deduction: Figure,
    pub vetoed_items: Vec<ItemCode>,
    pub party_veto: bool,
    pub business_veto: bool,
    pub party_score: Figure,
    pub business_score: Option<Figure>,
    pub combined: Option<Figure>,
    pub graded_on: GradeBasisView,
    pub grade: GradeCode,
    pub capped_by_veto: bool,
    pub complete: bool,
    pub unscored: Vec<ItemCode>,
    pub ignored: Vec<ItemCode>,
}

impl From<&SheetScore> for SheetScoreView {
    fn from(s: &SheetScore) -> Self {
        SheetScoreView {
            aspects: s
                .aspects
                .iter()
                .map(|a| AspectScoreView {
                    aspect: a.aspect.clone(),
                    points: Figure::of(a.points),
                    max: a.max,
                    scored: a.scored,
                    items: a.items,
                })
                .collect(),
            base: Figure::of(s.base),
            base_max: Figure::of(s.base_max),
            bonuses: s
                .bonuses
                .iter()
                .map(|b| BonusScoreView {
                    item: b.item.clone(),
                    claimed: Figure::of(b.claimed),
                    counted: Figure::of(b.counted),
                })
                .collect(),
            bonus: Figure::of(s.bonus),
            deductions: s
                .deductions
                .iter()
                .map(|d| DeductionScoreView {
                    item: d.item.clone(),
                    cases: d.cases,
                    claimed: Figure::of(d.claimed),
                    counted: Figure::of(d.counted),
                })
                .collect(),
            deduction: Figure::of(s.deduction),
            vetoed_items: s.vetoed_items.clone(),
            party_veto: s.party_veto,
            business_veto: s.business_veto,
            party_score: Figure::of(s.party_score),
            business_score: s.business_score.map(Figure::of),
            combined: s.combined.map(Figure::of),
            graded_on: basis_view(s.graded_on),
            grade: s.grade.clone(),
            capped_by_veto: s.capped_by_veto,
            complete: s.complete,
            unscored: s.unscored.clone(),
            ignored: s.ignored.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BusinessResultView {
    pub score: Points,
    pub vetoed: bool,
    pub source: String,
}

/// One unit's business result in a period.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnitBusinessResult {
    pub unit: UnitId,
    /// None while nothing is recorded for the unit.
    pub result: Option<BusinessResultView>,
}

/// The business results (经营业绩) of a period's units.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BusinessResultList {
    pub period: PeriodId,
    pub units: Vec<UnitBusinessResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SheetReviewView {
    pub decision: ReviewDecision,
    pub by: PersonId,
    pub comment: String,
}

/// One unit's score sheet in one period.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SheetView {
    pub period: PeriodId,
    pub unit: UnitId,
    pub stage: Stage,
    pub rubric: RubricId,
    pub rubric_version: u32,
    /// The sheet stream's revision (its ETag); none before anything was recorded on it.
    pub revision: Option<u64>,
    /// The rubric's items in order, then any scored item the rubric no longer has.
    pub items: Vec<ItemView>,
    pub business: Option<BusinessResultView>,
    pub last_review: Option<SheetReviewView>,
    pub score: Option<SheetScoreView>,
}

impl SheetView {
    pub fn new(state: &State, period: &PeriodId, unit: &UnitId) -> Option<Self> {
        let p = state.periods.get(period)?;
        if !p.units.contains(unit) {
            return None;
        }
        let sheet = state.sheet(period, unit);
        let mut codes: Vec<ItemCode> = state
            .period_definition(period)
            .map(|def| {
                def.aspects
                    .iter()
                    .flat_map(|a| a.items.iter().map(|i| i.code.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(sheet) = sheet {
            for code in sheet.scores.keys().chain(sheet.self_assessments.keys()) {
                if !codes.contains(code) {
                    codes.push(code.clone());
                }
            }
        }
        let items = codes
            .iter()
            .filter_map(|code| ItemView::new(state, period, unit, code))
            .collect();
        Some(SheetView {
            period: period.clone(),
            unit: unit.clone(),
            stage: p.stage,
            rubric: p.rubric.clone(),
            rubric_version: p.rubric_version,
            revision: state.revision(&ledger_schemas::ids::stream::sheet(period, unit)),
            items,
            business: sheet
                .and_then(|s| s.business.as_ref())
                .map(|b| BusinessResultView {
                    score: b.score,
                    vetoed: b.vetoed,
                    source: b.source.clone(),
                }),
            last_review: sheet
                .and_then(|s| s.last_review.as_ref())
                .map(|r| SheetReviewView {
                    decision: r.decision,
                    by: r.by.clone(),
                    comment: r.comment.clone(),
                }),
            score: state
                .score_sheet(period, unit)
                .as_ref()
                .map(SheetScoreView::from),
        })
    }
}

// ---- appeals and rectifications ----

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatusView {
    Pending,
    Upheld,
    Dismissed,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AppealView {
    pub appeal: AppealId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: Option<ItemCode>,
    pub grounds: String,
    pub filed_by: PersonId,
    pub status: AppealStatusView,
    pub decision: Option<String>,
    /// The evidence files the appeal cites.
    #[serde(default)]
    pub files: Vec<EvidenceFileView>,
}

impl AppealView {
    pub fn new(state: &State, appeal: &AppealId) -> Option<Self> {
        let a = state.appeals.get(appeal)?;
        let (status, decision) = match &a.outcome {
            None => (AppealStatusView::Pending, None),
            Some((AppealOutcome::Upheld, d)) => (AppealStatusView::Upheld, Some(d.clone())),
            Some((AppealOutcome::Dismissed, d)) => (AppealStatusView::Dismissed, Some(d.clone())),
        };
        Some(AppealView {
            appeal: appeal.clone(),
            period: a.period.clone(),
            unit: a.unit.clone(),
            item: a.item.clone(),
            grounds: a.grounds.clone(),
            filed_by: a.filed_by.clone(),
            status,
            decision,
            files: EvidenceFileView::all(a.files.as_deref(), state),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AppealList {
    pub appeals: Vec<AppealView>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RectificationStatusView {
    Open,
    Submitted,
    Closed,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RectificationView {
    pub rectification: RectificationId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub responsible: PersonId,
    pub due_on: NaiveDate,
    pub finding: String,
    pub origin: RectificationOrigin,
    pub status: RectificationStatusView,
    /// Due before today and not closed (derived, never recorded).
    pub overdue: bool,
    pub raised_at: DateTime<Utc>,
    pub submitted_by: Option<PersonId>,
    pub evidence: Vec<String>,
    pub sent_back: u32,
    /// The evidence files the last submission cites.
    #[serde(default)]
    pub files: Vec<EvidenceFileView>,
}

impl RectificationView {
    pub fn new(
        id: &RectificationId,
        r: &RectificationState,
        today: NaiveDate,
        state: &State,
    ) -> Self {
        RectificationView {
            rectification: id.clone(),
            period: r.period.clone(),
            unit: r.unit.clone(),
            item: r.item.clone(),
            responsible: r.responsible.clone(),
            due_on: r.due_on,
            finding: r.finding.clone(),
            origin: r.origin,
            status: match r.status {
                RectificationStatus::Open => RectificationStatusView::Open,
                RectificationStatus::Submitted => RectificationStatusView::Submitted,
                RectificationStatus::Closed => RectificationStatusView::Closed,
            },
            overdue: r.is_overdue(today),
            raised_at: r.raised_at,
            submitted_by: r.submitted_by.clone(),
            evidence: r.evidence.clone(),
            sent_back: r.sent_back,
            files: EvidenceFileView::all(r.files.as_deref(), state),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RectificationList {
    pub rectifications: Vec<RectificationView>,
}

// ---- read models: standings, histories, changes, accountability, rubric versions, events ----

/// One unit's line in the standings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnitStandingView {
    pub unit: UnitId,
    /// Competition rank ("1224"), from 1, among every unit of the period.
    pub rank: u32,
    pub ranked_on: GradeBasisView,
    pub ranked_score: Figure,
    pub grade_label: Text,
    pub score: SheetScoreView,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AspectRankView {
    pub unit: UnitId,
    pub points: Figure,
    pub rank: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AspectRankingView {
    pub aspect: AspectCode,
    pub title: Text,
    pub weight: Points,
    pub units: Vec<AspectRankView>,
}

/// The standings of a period, as of a position.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StandingsView {
    pub period: PeriodId,
    pub name: String,
    pub stage: Stage,
    pub rubric: RubricId,
    pub rubric_version: u32,
    /// The position of the last event these standings include.
    pub as_of: u64,
    /// When that event was recorded (none before any event).
    pub as_of_time: Option<DateTime<Utc>>,
    /// The units the caller may see, in rank order (ranks are among all units of the period).
    pub units: Vec<UnitStandingView>,
    pub aspects: Vec<AspectRankingView>,
}

impl StandingsView {
    /// The standings, keeping only the units `visible` admits.
    pub fn new(
        s: &ledger_projections::read::PeriodStandings,
        visible: impl Fn(&UnitId) -> bool,
    ) -> Self {
        StandingsView {
            period: s.period.clone(),
            name: s.name.clone(),
            stage: s.stage,
            rubric: s.rubric.clone(),
            rubric_version: s.rubric_version,
            as_of: s.as_of,
            as_of_time: None,
            units: s
                .units
                .iter()
                .filter(|u| visible(&u.unit))
                .map(|u| UnitStandingView {
                    unit: u.unit.clone(),
                    rank: u.rank,
                    ranked_on: basis_view(u.ranked_on),
                    ranked_score: Figure::of(u.ranked_score),
                    grade_label: u.grade_label.clone(),
                    score: SheetScoreView::from(&u.score),
                })
                .collect(),
            aspects: s
                .aspects
                .iter()
                .map(|a| AspectRankingView {
                    aspect: a.aspect.clone(),
                    title: a.title.clone(),
                    weight: a.weight,
                    units: a
                        .units
                        .iter()
                        .filter(|u| visible(&u.unit))
                        .map(|u| AspectRankView {
                            unit: u.unit.clone(),
                            points: Figure::of(u.points),
                            rank: u.rank,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Which figure a period gives the year: a grade basis, as in the standings.
fn basis_view(basis: GradeBasis) -> GradeBasisView {
    match basis {
        GradeBasis::Combined => GradeBasisView::Combined,
        GradeBasis::PartyScore => GradeBasisView::PartyScore,
    }
}

/// One period of the year's span.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SpanPeriodView {
    pub period: PeriodId,
    pub name: String,
    pub cadence: Cadence,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub stage: Stage,
    pub rubric_version: u32,
    /// Its place in the year (`Q1`–`Q4`, `M1`–`M12`, `Y`), which a weighted rule weighs.
    pub slot: PeriodSlot,
    /// Its weight under the annual rule (1 for the mean; 0 when a weighted rule does not list its slot).
    pub weight: Figure,
    /// It counts for the year: published, with a weight above 0.
    pub counted: bool,
}

/// One period of a unit's year.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnitPeriodView {
    pub period: PeriodId,
    /// The unit's ranked figure in that period, as reported there.
    pub figure: Figure,
    pub basis: GradeBasisView,
    pub grade: GradeCode,
    pub grade_label: Text,
    pub capped_by_veto: bool,
    /// The unit's rank in that period.
    pub rank: u32,
    pub counted: bool,
}

/// One unit's year.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AnnualUnitView {
    pub unit: UnitId,
    /// Competition rank among the units with a figure ("1224"); none without one.
    pub rank: Option<u32>,
    /// The weighted mean of its counted periods' figures; none while no period counts for it.
    pub figure: Option<Figure>,
    pub grade: Option<GradeCode>,
    pub grade_label: Option<Text>,
    /// A veto capped its grade in a counted period (listed in `vetoed_in`): the year's grade is the
    /// lowest band.
    pub capped_by_veto: bool,
    pub vetoed_in: Vec<PeriodId>,
    /// It is not assessed in every period of the span (it joined or left during it): its figure is
    /// over the periods it was assessed in.
    pub partial: bool,
    pub periods: Vec<UnitPeriodView>,
}

/// The year's result (年度考核), as of a position (SCORING.md, "The year's result").
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AnnualView {
    /// The year asked for, if the span is a year.
    pub year: Option<i32>,
    pub rubric: RubricId,
    /// The rubric version whose annual rule and grade bands judge the span (its last period's).
    pub rule_version: u32,
    pub rule: AnnualRule,
    pub periods: Vec<SpanPeriodView>,
    /// Every period of the span is published: the result is final.
    pub complete: bool,
    /// The position of the last event the result includes, and when it was recorded.
    pub as_of: u64,
    pub as_of_time: Option<DateTime<Utc>>,
    /// The units the caller may see, in rank order (ranks are among all units of the span).
    pub units: Vec<AnnualUnitView>,
}

impl AnnualView {
    /// The result, keeping only the units `visible` admits.
    pub fn new(
        year: Option<i32>,
        a: &ledger_projections::read::AnnualResult,
        visible: impl Fn(&UnitId) -> bool,
    ) -> Self {
        AnnualView {
            year,
            rubric: a.rubric.clone(),
            rule_version: a.rule_version,
            rule: a.rule.clone(),
            periods: a
                .periods
                .iter()
                .map(|p| SpanPeriodView {
                    period: p.period.clone(),
                    name: p.name.clone(),
                    cadence: p.cadence,
                    starts_on: p.starts_on,
                    ends_on: p.ends_on,
                    stage: p.stage,
                    rubric_version: p.rubric_version,
                    slot: p.slot,
                    weight: Figure::of(p.weight.normalize()),
                    counted: p.counted,
                })
                .collect(),
            complete: a.complete,
            as_of: a.as_of,
            as_of_time: None,
            units: a
                .units
                .iter()
                .filter(|u| visible(&u.unit))
                .map(|u| AnnualUnitView {
                    unit: u.unit.clone(),
                    rank: u.rank,
                    figure: u.figure.map(Figure::of),
                    grade: u.grade.clone(),
                    grade_label: u.grade_label.clone(),
                    capped_by_veto: u.capped_by_veto,
                    vetoed_in: u.vetoed_in.clone(),
                    partial: u.partial,
                    periods: u
                        .periods
                        .iter()
                        .map(|p| UnitPeriodView {
                            period: p.period.clone(),
                            figure: Figure::of(p.figure),
                            basis: basis_view(p.basis),
                            grade: p.grade.clone(),
                            grade_label: p.grade_label.clone(),
                            capped_by_veto: p.capped_by_veto,
                            rank: p.rank,
                            counted: p.counted,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// An item's review state right after a change.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAtTimeView {
    NotScored,
    Pending,
    Approved,
    Rejected,
}

/// An item's standing right after a change.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StandingAtTimeView {
    NotScored,
    Counting,
    NeedsRescoring,
    Removed,
}

/// One change as people read it: who, when, what, old → new, why, evidence, source, rubric version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangeEntryView {
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    pub kind_label: String,
    pub actor: PersonId,
    pub role: Role,
    pub period: Option<PeriodId>,
    pub unit: Option<UnitId>,
    pub item: Option<ItemCode>,
    pub aspect: Option<AspectCode>,
    pub rubric_version: Option<u32>,
    pub summary: Text,
    pub old: Option<Text>,
    pub new: Option<Text>,
    pub old_value: Option<ScoreValue>,
    pub new_value: Option<ScoreValue>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub evidence: Vec<String>,
    /// The evidence files the event cites.
    #[serde(default)]
    pub files: Vec<EvidenceFileView>,
    pub source: Option<ScoreSource>,
    pub review: Option<ReviewAtTimeView>,
    pub standing: Option<StandingAtTimeView>,
}

impl From<ledger_projections::read::ChangeView> for ChangeEntryView {
    fn from(c: ledger_projections::read::ChangeView) -> Self {
        use ledger_projections::read::{ReviewAtTime as R, StandingAtTime as S};
        ChangeEntryView {
            position: c.position,
            recorded_at: c.recorded_at,
            event_type: c.event_type.to_owned(),
            kind_label: c.kind_label.to_owned(),
            actor: c.actor,
            role: c.role,
            period: c.period,
            unit: c.unit,
            item: c.item,
            aspect: c.aspect,
            rubric_version: c.rubric_version,
            summary: c.summary,
            old: c.old,
            new: c.new,
            old_value: c.old_value,
            new_value: c.new_value,
            reason: c.reason,
            note: c.note,
            files: c
                .files
                .iter()
                .map(|f| EvidenceFileView::new(f, c.recorded_at, None))
                .collect(),
            evidence: c.evidence,
            source: c.source,
            review: c.review.map(|r| match r {
                R::NotScored => ReviewAtTimeView::NotScored,
                R::Pending => ReviewAtTimeView::Pending,
                R::Approved => ReviewAtTimeView::Approved,
                R::Rejected => ReviewAtTimeView::Rejected,
            }),
            standing: c.standing.map(|s| match s {
                S::NotScored => StandingAtTimeView::NotScored,
                S::Counting => StandingAtTimeView::Counting,
                S::NeedsRescoring => StandingAtTimeView::NeedsRescoring,
                S::Removed => StandingAtTimeView::Removed,
            }),
        }
    }
}

/// The history of a sheet or of one item, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HistoryView {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: Option<ItemCode>,
    pub at_position: u64,
    pub changes: Vec<ChangeEntryView>,
}

/// One page of the change log, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangesView {
    pub at_position: u64,
    pub changes: Vec<ChangeEntryView>,
    /// Pass as `before` for the next (older) page; none when nothing older matches.
    pub next: Option<u64>,
}

/// One unit's score on an item a person is responsible for.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OwnedScoreView {
    pub unit: UnitId,
    pub value: ScoreValue,
    pub source: ScoreSource,
    /// What the value is worth when it counts (deductions negative).
    pub worth: Option<Figure>,
    pub standing: StandingState,
    pub review: ReviewState,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OwnedItemView {
    pub period: PeriodId,
    pub stage: Stage,
    pub rubric: RubricId,
    pub rubric_version: u32,
    pub aspect: AspectCode,
    pub item: ItemCode,
    pub title: Text,
    pub kind: ItemKind,
    pub scores: Vec<OwnedScoreView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RectificationLineView {
    pub rectification: RectificationId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub finding: String,
    pub origin: RectificationOrigin,
    pub status: RectificationStatusView,
    pub due_on: NaiveDate,
    pub days_overdue: i64,
    pub raised_at: DateTime<Utc>,
    pub sent_back: u32,
}

/// What a person is accountable for: items, their scores, open / overdue / closed rectifications.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AccountabilityView {
    pub person: PersonId,
    pub name: Option<String>,
    pub today: NaiveDate,
    pub at_position: u64,
    pub items: Vec<OwnedItemView>,
    pub open: Vec<RectificationLineView>,
    pub overdue: Vec<RectificationLineView>,
    pub closed: Vec<RectificationLineView>,
    /// The name of every unit the answer mentions.
    pub unit_names: std::collections::BTreeMap<UnitId, String>,
}

fn status_view(status: RectificationStatus) -> RectificationStatusView {
    match status {
        RectificationStatus::Open => RectificationStatusView::Open,
        RectificationStatus::Submitted => RectificationStatusView::Submitted,
        RectificationStatus::Closed => RectificationStatusView::Closed,
    }
}

impl AccountabilityView {
    /// Fills [`Self::unit_names`] from `state`.
    pub fn with_unit_names(mut self, state: &State) -> Self {
        let units = self
            .items
            .iter()
            .flat_map(|i| i.scores.iter().map(|s| &s.unit))
            .chain(
                self.open
                    .iter()
                    .chain(&self.overdue)
                    .chain(&self.closed)
                    .map(|r| &r.unit),
            );
        let mut names = std::collections::BTreeMap::new();
        for unit in units {
            if let Some(u) = state.units.get(unit) {
                names.insert(unit.clone(), u.name.clone());
            }
        }
        self.unit_names = names;
        self
    }

    pub fn new(a: &ledger_projections::read::Accountability, at_position: u64) -> Self {
        let lines = |lines: &[ledger_projections::read::RectificationLine]| {
            lines.iter().map(RectificationLineView::from).collect()
        };
        AccountabilityView {
            person: a.person.clone(),
            name: a.name.clone(),
            today: a.today,
            at_position,
            items: a
                .items
                .iter()
                .map(|i| OwnedItemView {
                    period: i.period.clone(),
                    stage: i.stage,
                    rubric: i.rubric.clone(),
                    rubric_version: i.rubric_version,
                    aspect: i.aspect.clone(),
                    item: i.item.clone(),
                    title: i.title.clone(),
                    kind: i.kind.clone(),
                    scores: i
                        .scores
                        .iter()
                        .map(|s| OwnedScoreView {
                            unit: s.unit.clone(),
                            value: s.value.clone(),
                            source: s.source,
                            worth: s.worth.map(Figure::of),
                            standing: match s.standing {
                                Standing::Counting => StandingState::Counting,
                                Standing::NeedsRescoring { .. } => StandingState::NeedsRescoring,
                                Standing::Removed { .. } => StandingState::Removed,
                            },
                            review: match s.review {
                                ReviewStatus::Pending => ReviewState::Pending,
                                ReviewStatus::Approved { .. } => ReviewState::Approved,
                                ReviewStatus::Rejected { .. } => ReviewState::Rejected,
                            },
                        })
                        .collect(),
                })
                .collect(),
            open: lines(&a.open),
            overdue: lines(&a.overdue),
            closed: lines(&a.closed),
            unit_names: std::collections::BTreeMap::new(),
        }
    }
}

impl From<&ledger_projections::read::RectificationLine> for RectificationLineView {
    fn from(l: &ledger_projections::read::RectificationLine) -> Self {
        RectificationLineView {
            rectification: l.rectification.clone(),
            period: l.period.clone(),
            unit: l.unit.clone(),
            item: l.item.clone(),
            finding: l.finding.clone(),
            origin: l.origin,
            status: status_view(l.status),
            due_on: l.due_on,
            days_overdue: l.days_overdue,
            raised_at: l.raised_at,
            sent_back: l.sent_back,
        }
    }
}

/// A sheet with items still to score (已评 `scored`/`items`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SheetGapView {
    pub period: PeriodId,
    pub unit: UnitId,
    pub stage: Stage,
    /// Base items (points or ladder) with a counting score.
    pub scored: usize,
    /// Base items of the period's rubric version.
    pub items: usize,
    /// Items that keep the sheet incomplete, in rubric order.
    pub missing: Vec<ItemCode>,
    /// Items a reviewer sent back, to be re-scored.
    pub rejected: Vec<ItemCode>,
}

/// A sheet with counting scores not yet approved.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SheetAwaitingView {
    pub period: PeriodId,
    pub unit: UnitId,
    pub unapproved: usize,
    pub counting: usize,
}

/// An appeal awaiting decision.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AppealAwaitingView {
    pub appeal: AppealId,
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: Option<ItemCode>,
    pub filed_by: PersonId,
}

/// How many entries each list of [`TodoView`] holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TodoCounts {
    pub unscored: usize,
    pub awaiting_review: usize,
    pub appeals: usize,
    pub due_soon: usize,
    pub overdue: usize,
    pub awaiting_verification: usize,
}

/// 待办 and 预警 of the caller at a point: counts, the lists, and the names of the units and people
/// they mention (so a poller needs no second call to show them).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TodoView {
    pub person: PersonId,
    pub role: Role,
    /// The business day (Beijing) the read stands on: overdue and due-soon are judged on it.
    pub today: NaiveDate,
    pub horizon_days: i64,
    pub at_position: u64,
    /// The time of the event at `at_position`.
    pub as_of_time: Option<DateTime<Utc>>,
    pub counts: TodoCounts,
    pub unscored: Vec<SheetGapView>,
    pub awaiting_review: Vec<SheetAwaitingView>,
    pub appeals: Vec<AppealAwaitingView>,
    pub due_soon: Vec<RectificationLineView>,
    pub overdue: Vec<RectificationLineView>,
    pub awaiting_verification: Vec<RectificationLineView>,
    /// The name of every unit the lists mention.
    pub unit_names: std::collections::BTreeMap<UnitId, String>,
    /// The name of every person the lists mention (appellants, responsible persons).
    pub person_names: std::collections::BTreeMap<PersonId, String>,
    /// The title of every item the lists mention, by period (under the period's rubric version).
    pub item_titles:
        std::collections::BTreeMap<PeriodId, std::collections::BTreeMap<ItemCode, Text>>,
}

impl TodoView {
    pub fn new(
        todo: &ledger_projections::read::Todo,
        state: &State,
        person: &PersonId,
        role: Role,
        at_position: u64,
        as_of_time: Option<DateTime<Utc>>,
    ) -> Self {
        let lines = |l: &[ledger_projections::read::RectificationLine]| {
            l.iter()
                .map(RectificationLineView::from)
                .collect::<Vec<_>>()
        };
        let mut unit_names = std::collections::BTreeMap::new();
        let mut person_names = std::collections::BTreeMap::new();
        let mut unit = |u: &UnitId| {
            if let Some(s) = state.units.get(u) {
                unit_names.insert(u.clone(), s.name.clone());
            }
        };
        todo.unscored.iter().for_each(|g| unit(&g.unit));
        todo.awaiting_review.iter().for_each(|g| unit(&g.unit));
        todo.appeals.iter().for_each(|a| unit(&a.unit));
        let rects = todo
            .due_soon
            .iter()
            .chain(&todo.overdue)
            .chain(&todo.awaiting_verification);
        let mut people: Vec<&PersonId> = todo.appeals.iter().map(|a| &a.filed_by).collect();
        for r in rects {
            unit(&r.unit);
            if let Some(resp) = state.rectifications.get(&r.rectification) {
                people.push(&resp.responsible);
            }
        }
        for p in people {
            if let Some(s) = state.people.get(p) {
                person_names.insert(p.clone(), s.name.clone());
            }
        }
        let mut item_titles: std::collections::BTreeMap<
            PeriodId,
            std::collections::BTreeMap<_, _>,
        > = std::collections::BTreeMap::new();
        let mut title = |period: &PeriodId, item: &ItemCode| {
            let found = state
                .period_definition(period)
                .and_then(|def| ledger_projections::rubric::find_item(def, item))
                .map(|(_, i)| i.title.clone());
            if let Some(t) = found {
                item_titles
                    .entry(period.clone())
                    .or_default()
                    .insert(item.clone(), t);
            }
        };
        for g in &todo.unscored {
            g.missing
                .iter()
                .chain(&g.rejected)
                .for_each(|i| title(&g.period, i));
        }
        for a in &todo.appeals {
            if let Some(i) = &a.item {
                title(&a.period, i);
            }
        }
        for r in todo
            .due_soon
            .iter()
            .chain(&todo.overdue)
            .chain(&todo.awaiting_verification)
        {
            title(&r.period, &r.item);
        }
        TodoView {
            person: person.clone(),
            role,
            today: todo.today,
            horizon_days: todo.horizon_days,
            at_position,
            as_of_time,
            counts: TodoCounts {
                unscored: todo.unscored.len(),
                awaiting_review: todo.awaiting_review.len(),
                appeals: todo.appeals.len(),
                due_soon: todo.due_soon.len(),
                overdue: todo.overdue.len(),
                awaiting_verification: todo.awaiting_verification.len(),
            },
            unscored: todo
                .unscored
                .iter()
                .map(|g| SheetGapView {
                    period: g.period.clone(),
                    unit: g.unit.clone(),
                    stage: g.stage,
                    scored: g.scored,
                    items: g.items,
                    missing: g.missing.clone(),
                    rejected: g.rejected.clone(),
                })
                .collect(),
            awaiting_review: todo
                .awaiting_review
                .iter()
                .map(|g| SheetAwaitingView {
                    period: g.period.clone(),
                    unit: g.unit.clone(),
                    unapproved: g.unapproved,
                    counting: g.counting,
                })
                .collect(),
            appeals: todo
                .appeals
                .iter()
                .map(|a| AppealAwaitingView {
                    appeal: a.appeal.clone(),
                    period: a.period.clone(),
                    unit: a.unit.clone(),
                    item: a.item.clone(),
                    filed_by: a.filed_by.clone(),
                })
                .collect(),
            due_soon: lines(&todo.due_soon),
            overdue: lines(&todo.overdue),
            awaiting_verification: lines(&todo.awaiting_verification),
            unit_names,
            person_names,
            item_titles,
        }
    }
}

/// One version of a rubric in the list of versions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RubricVersionSummary {
    pub version: u32,
    pub title: Text,
    /// The position of the event that made it.
    pub made_at: Option<u64>,
    /// The periods scored against it now.
    pub periods: Vec<PeriodId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RubricVersionList {
    pub rubric: RubricId,
    pub versions: Vec<RubricVersionSummary>,
}

/// An adjustment (动态调整) of a rubric: who, when, why, with whose approval, and what changed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AdjustmentView {
    pub rubric: RubricId,
    pub from_version: u32,
    pub version: u32,
    pub approver: PersonId,
    pub recorded_by: PersonId,
    pub recorded_at: DateTime<Utc>,
    pub position: u64,
    pub reason: Option<String>,
    pub changes: Vec<ledger_schemas::rubric::RubricChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AdjustmentList {
    pub rubric: RubricId,
    pub adjustments: Vec<AdjustmentView>,
}

/// One difference between two versions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DiffEntryView {
    /// For people, zh-CN first.
    pub description: String,
    /// The difference as data: `{"diff": "item_added", ...}` with the old and new values.
    pub change: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RubricDiffView {
    pub rubric: RubricId,
    pub from: u32,
    pub to: u32,
    pub changes: Vec<DiffEntryView>,
}

/// A page of the raw log, oldest first, exactly as stored (hash chain included).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EventPage {
    pub events: Vec<ledger_schemas::Envelope>,
    /// Pass as `after` for the next page; none at the end (of the log, or of the point asked).
    pub next: Option<u64>,
}

/// A signed checkpoint of the log.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointView {
    /// How many events (positions 1..=tree_size) the checkpoint covers.
    pub tree_size: u64,
    /// The RFC 9162 Merkle root of those events, hex.
    pub root: ledger_schemas::integrity::Digest,
    /// When it was signed.
    pub time: DateTime<Utc>,
    /// The C2SP signed note exactly as stored: verify it with the public key.
    pub note: String,
    /// The same note with every witness cosignature line kept for it (C2SP tlog-cosignature).
    #[serde(default)]
    pub cosigned_note: String,
    /// The witnesses' cosignatures kept for it.
    #[serde(default)]
    pub cosignatures: Vec<CosignatureView>,
    /// Whether the server's quorum of configured witnesses cosigned it (false when the server has
    /// no witnesses configured).
    #[serde(default)]
    pub witnessed: bool,
}

/// A signed checkpoint as every role may read it: how far it reaches, its root hash (the
/// fingerprint printouts and files name) and when it was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointFingerprint {
    /// How many events (positions 1..=tree_size) the checkpoint covers.
    pub tree_size: u64,
    /// The RFC 9162 Merkle root of those events, hex.
    pub root: ledger_schemas::integrity::Digest,
    /// When it was signed.
    pub time: DateTime<Utc>,
}

impl From<crate::audit::proofs::SignedCheckpoint> for CheckpointFingerprint {
    fn from(c: crate::audit::proofs::SignedCheckpoint) -> Self {
        CheckpointFingerprint {
            tree_size: c.tree_size,
            root: c.root,
            time: c.time,
        }
    }
}

/// The signed checkpoints that vouch for one point of the log: what a printout or an exported
/// file names so that an auditor can match it to the log.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CoveringCheckpoints {
    /// The position asked about.
    pub position: u64,
    /// The log's length when the checkpoints were read.
    pub log_size: u64,
    /// The first signed checkpoint whose tree includes the position (none yet: not signed so far).
    pub covering: Option<CheckpointFingerprint>,
    /// The last signed checkpoint at or before the position (the signed prefix of what was read).
    pub at_or_before: Option<CheckpointFingerprint>,
}

/// One witness's cosignature on a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CosignatureView {
    /// The witness's name, as in its signature line.
    pub witness: String,
    /// Its key id, 8 hex digits.
    pub key_id: String,
    /// When it cosigned.
    pub time: DateTime<Utc>,
    /// Whether it verifies under a witness key this server is configured with.
    pub valid: bool,
}

impl From<crate::audit::proofs::SignedCheckpoint> for CheckpointView {
    fn from(c: crate::audit::proofs::SignedCheckpoint) -> Self {
        CheckpointView {
            tree_size: c.tree_size,
            root: c.root,
            time: c.time,
            cosigned_note: c.note.clone(),
            note: c.note,
            cosignatures: Vec::new(),
            witnessed: false,
        }
    }
}

impl CheckpointView {
    /// Adds the cosignatures kept for this checkpoint, checked against the server's witnesses.
    pub fn with_cosignatures(
        mut self,
        cosignatures: &[crate::store::sqlite::StoredCosignature],
        witnessing: Option<&crate::witness::Witnessing>,
    ) -> Self {
        let (shown, note, witnessed) =
            crate::witness::verify::shown(self.tree_size, &self.note, cosignatures, witnessing);
        self.cosignatures = shown
            .into_iter()
            .map(|s| CosignatureView {
                witness: s.witness,
                key_id: s.key_id,
                time: DateTime::from_timestamp(i64::try_from(s.time).unwrap_or(0), 0)
                    .unwrap_or_default(),
                valid: s.valid,
            })
            .collect();
        self.cosigned_note = note;
        self.witnessed = witnessed;
        self
    }
}

/// The signed checkpoints, smallest first, and the key that signed them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointList {
    /// The ledger's public key as a signed-note verifier string (`origin+keyid+base64`); none when
    /// the ledger has no key yet. An auditor should compare it with the key they were handed.
    pub public_key: Option<String>,
    /// The log's length when the checkpoints were read.
    pub log_size: u64,
    pub checkpoints: Vec<CheckpointView>,
}

/// An inclusion proof of one event against a signed checkpoint.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct InclusionView {
    /// The event's global position (`leaf_index + 1`).
    pub position: u64,
    /// The leaf's index, from 0.
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The event's stored hash: the leaf's data.
    pub event_hash: ledger_schemas::integrity::Digest,
    /// The audit path, nearest the leaf first (RFC 9162 §2.1.3).
    pub path: Vec<ledger_schemas::integrity::Digest>,
    /// The checkpoint's root, which the path leads to.
    pub root: ledger_schemas::integrity::Digest,
    pub checkpoint: CheckpointView,
}

/// A consistency proof between two signed checkpoints.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ConsistencyView {
    pub old_size: u64,
    pub new_size: u64,
    /// RFC 9162 §2.1.4 order; empty when the sizes are equal.
    pub path: Vec<ledger_schemas::integrity::Digest>,
    pub old_root: ledger_schemas::integrity::Digest,
    pub new_root: ledger_schemas::integrity::Digest,
    pub old_checkpoint: CheckpointView,
    pub new_checkpoint: CheckpointView,
}

/// A verification of the whole log: the hash chain walked and recomputed, every signed checkpoint
/// checked against the tree over the log (signature, root at its size), the checkpoints that should
/// be there looked for, and every read-model snapshot kept beside the log checked (its seal, and
/// that it belongs to this log). The same findings as `ledger verify --json`, with the key beside
/// the ledger file (an auditor's own key is for `ledger verify --public-key`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VerificationView {
    /// When it ran.
    pub verified_at: DateTime<Utc>,
    /// The log's length then.
    pub log_size: u64,
    /// Events whose hash and link checked out, from the start.
    pub verified: u64,
    /// Whether everything checked holds: the chain, every checkpoint, none missing, every snapshot.
    pub intact: bool,
    /// The first event that does not fit the chain: why, naming its position and event id.
    pub chain_break: Option<String>,
    /// The position of that event.
    pub break_position: Option<u64>,
    /// The key the checkpoints and snapshot seals were checked with (none: the ledger has none).
    pub key: Option<crate::audit::schedule::TrustedKey>,
    pub checkpoints_checked: usize,
    /// Why a checkpoint does not agree with the log or the key, one line each.
    pub checkpoint_faults: Vec<String>,
    /// Checkpoints a later signed checkpoint vouches for that are gone: deleted, one line each.
    pub missing_checkpoints: Vec<String>,
    /// The checkpoints that should be there, in detail (missing, absent, events past the last).
    pub checkpoint_schedule: crate::audit::schedule::ScheduleReport,
    /// The read-model snapshots kept beside the log: how many, where, which hold and why not.
    pub snapshots: crate::audit::seals::SnapshotsReport,
    /// What deserves a look without proving anything wrong (absent checkpoints, events past the
    /// last one), one line each.
    pub warnings: Vec<String>,
}
