//! The write model: everything `decide` needs to know, folded from events by [`State::evolve`].
//!
//! The state records facts, never judgements made at decision time: the fold is total (it accepts any
//! event, even one a current `decide` would refuse, such as an upcast pilot score) and notes in
//! [`State::anomalies`] what it could not apply as meant. Judgements that depend on the rubric (does a
//! score still fit its item?) are made by [`standing_of`] whenever a score or the period's rubric
//! version changes, so the same events always fold to the same state.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use ledger_schemas::envelope::{Actor, Envelope, Role};
use ledger_schemas::events::{Event, RectificationOrigin};
use ledger_schemas::ids::{
    AppealId, ItemCode, PeriodId, PersonId, RectificationId, RubricId, TokenId, UnitId, stream,
};
use ledger_schemas::integrity::Digest;
use ledger_schemas::rubric::{ItemKind, RubricDefinition};
use ledger_schemas::values::{
    Cadence, EvidenceFile, Points, ReviewDecision, ScoreSource, ScoreValue, Stage, UnitKind,
};

use serde::{Deserialize, Serialize};

use super::shared::SharedMap;
use crate::rubric;
use crate::scoring::{self, BusinessInput, SheetScore, ValueRejection};

/// What `evolve` takes from an event's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Position in the global log.
    pub position: u64,
    /// Who recorded the event, in which role.
    pub actor: Actor,
    pub recorded_at: DateTime<Utc>,
}

impl Meta {
    pub fn from_envelope(envelope: &Envelope) -> Self {
        Self {
            position: envelope.position,
            actor: envelope.actor.clone(),
            recorded_at: envelope.recorded_at,
        }
    }
}

/// A unit (考核对象).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitState {
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
}

/// A person and the roles they hold; the set is the units a role covers (assessor, unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonState {
    pub name: String,
    pub unit: Option<UnitId>,
    pub roles: BTreeMap<Role, BTreeSet<UnitId>>,
}

/// An issued token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    pub person: PersonId,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

/// Every version of a rubric; version `n` is `versions[n - 1]`. Each version is shared (`Arc`) by
/// every snapshot that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricState {
    #[serde(with = "super::shared::arc_vec")]
    pub versions: Vec<Arc<RubricDefinition>>,
}

impl RubricState {
    /// The newest version number (versions count from 1).
    pub fn latest(&self) -> u32 {
        u32::try_from(self.versions.len()).unwrap_or(u32::MAX)
    }

    pub fn version(&self, version: u32) -> Option<&RubricDefinition> {
        self.version_shared(version).map(|v| &**v)
    }

    /// A version as the shared pointer the state holds (a clone costs a reference count).
    pub fn version_shared(&self, version: u32) -> Option<&Arc<RubricDefinition>> {
        let index = usize::try_from(version).ok()?.checked_sub(1)?;
        self.versions.get(index)
    }
}

/// A period (考核周期).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodState {
    pub name: String,
    pub cadence: Cadence,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub rubric: RubricId,
    /// The version the period is scored against now.
    pub rubric_version: u32,
    pub units: Vec<UnitId>,
    pub stage: Stage,
    /// How many times the period was reopened after publication.
    pub reopenings: u32,
}

/// Where a score stands against the period's current rubric version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    /// It fits its item and counts.
    Counting,
    /// It no longer fits (kind changed, above the new maximum, level gone): it does not count, and the
    /// sheet is incomplete until it is re-scored by a correction.
    NeedsRescoring {
        #[serde(with = "value_rejection_form")]
        why: ValueRejection,
    },
    /// Its item was removed from the rubric (in `version`): it no longer counts and stays only in the
    /// history. A later version that brings the item code back starts it unscored.
    Removed { version: u32 },
}

/// Where a score stands in review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewStatus {
    /// Not reviewed since it was last written.
    Pending,
    Approved {
        by: PersonId,
    },
    /// Sent back to scoring: it may be re-scored by a correction.
    Rejected {
        by: PersonId,
        comment: String,
    },
}

/// The current score of one item of a sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemScore {
    pub value: ScoreValue,
    pub source: ScoreSource,
    /// Everyone who recorded or corrected this score since it was first recorded: none of them may
    /// approve it (separation of duties).
    ///
    /// A sorted list without repeats rather than a `BTreeSet`: it is one or two people, and a set's
    /// node would cost some 300 bytes for every score of the ledger.
    pub authors: Vec<PersonId>,
    /// Who wrote the current value.
    pub last_by: PersonId,
    pub review: ReviewStatus,
    pub standing: Standing,
    /// The upheld appeal that last revised it.
    pub appeal: Option<AppealId>,
    /// The evidence files the current value's record (score or correction) cites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Box<Cited>>,
}

impl ItemScore {
    /// Whether the score is live (counting or awaiting re-scoring), as opposed to removed.
    pub fn is_live(&self) -> bool {
        !matches!(self.standing, Standing::Removed { .. })
    }
}

/// A unit's own assessment of an item (自评): informational, never counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfAssessment {
    pub value: ScoreValue,
    pub note: String,
    pub evidence: Vec<String>,
    pub by: PersonId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Box<Cited>>,
}

/// The evidence files a record cites and when it cited them (boxed in the records that hold it:
/// most records cite none, and an empty one costs a pointer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cited {
    pub at: DateTime<Utc>,
    pub files: Vec<EvidenceFile>,
}

impl Cited {
    /// The files of an event recorded at `at`, or none when it cites none.
    pub fn of(at: DateTime<Utc>, files: &[EvidenceFile]) -> Option<Box<Cited>> {
        (!files.is_empty()).then(|| {
            Box::new(Cited {
                at,
                files: files.to_vec(),
            })
        })
    }
}

/// A unit's business result for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessResult {
    pub score: Points,
    pub vetoed: bool,
    pub source: String,
}

/// The last whole-sheet review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetReview {
    pub decision: ReviewDecision,
    pub by: PersonId,
    pub comment: String,
}

/// One unit's score sheet in one period. Its item maps share structure like the state's (see
/// [`State`]), so a snapshot copies a touched item, not the whole sheet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SheetState {
    pub self_assessments: SharedMap<ItemCode, SelfAssessment>,
    pub scores: SharedMap<ItemCode, ItemScore>,
    pub business: Option<BusinessResult>,
    pub last_review: Option<SheetReview>,
}

impl SheetState {
    /// The values a sheet is scored on under `def` (what [`scoring::score_sheet`] is given): every
    /// live score (counting or awaiting re-scoring), and the removed scores whose item `def` does not
    /// have. A removed score whose item a later version brought back is left out: that item is new
    /// and starts unscored.
    pub fn scored_values(&self, def: &RubricDefinition) -> BTreeMap<ItemCode, ScoreValue> {
        self.scores
            .iter()
            .filter(|(item, s)| s.is_live() || rubric::find_item(def, item).is_none())
            .map(|(item, s)| (item.clone(), s.value.clone()))
            .collect()
    }

    /// The scores that count, by item.
    pub fn counting_values(&self) -> BTreeMap<ItemCode, ScoreValue> {
        self.scores
            .iter()
            .filter(|(_, s)| s.standing == Standing::Counting)
            .map(|(item, s)| (item.clone(), s.value.clone()))
            .collect()
    }

    /// The live score of an item (counting or awaiting re-scoring).
    pub fn live(&self, item: &ItemCode) -> Option<&ItemScore> {
        self.scores.get(item).filter(|s| s.is_live())
    }

    /// Items that keep the sheet from being complete under `def`: every base item (points or ladder)
    /// needs a counting score, and no live score may await re-scoring.
    pub fn gaps(&self, def: &RubricDefinition) -> Vec<ItemCode> {
        let mut gaps = Vec::new();
        for aspect in &def.aspects {
            for item in &aspect.items {
                let score = self.live(&item.code);
                let missing = match score {
                    Some(s) => s.standing != Standing::Counting,
                    None => matches!(item.kind, ItemKind::Points { .. } | ItemKind::Ladder { .. }),
                };
                if missing {
                    gaps.push(item.code.clone());
                }
            }
        }
        gaps
    }

    /// Counting items not yet approved.
    pub fn unapproved(&self) -> Vec<ItemCode> {
        self.scores
            .iter()
            .filter(|(_, s)| s.standing == Standing::Counting)
            .filter(|(_, s)| !matches!(s.review, ReviewStatus::Approved { .. }))
            .map(|(item, _)| item.clone())
            .collect()
    }
}

/// An appeal's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppealOutcome {
    Upheld,
    Dismissed,
}

impl AppealOutcome {
    pub const fn label(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "申诉成立 upheld",
            AppealOutcome::Dismissed => "申诉驳回 dismissed",
        }
    }
}

/// An appeal (申诉).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealState {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: Option<ItemCode>,
    pub grounds: String,
    pub filed_by: PersonId,
    pub outcome: Option<(AppealOutcome, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Box<Cited>>,
}

/// Where a rectification stands. Overdue is not a status: see [`State::overdue_rectifications`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RectificationStatus {
    /// Raised, or sent back: the responsible side must act.
    Open,
    /// Submitted with evidence, awaiting verification.
    Submitted,
    /// Verified: the loop is closed.
    Closed,
}

impl RectificationStatus {
    pub const fn label(self) -> &'static str {
        match self {
            RectificationStatus::Open => "待整改 open",
            RectificationStatus::Submitted => "已提交待验证 submitted",
            RectificationStatus::Closed => "已验证关闭 closed",
        }
    }
}

/// A rectification item (整改).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationState {
    pub period: PeriodId,
    pub unit: UnitId,
    pub item: ItemCode,
    pub responsible: PersonId,
    pub due_on: NaiveDate,
    pub finding: String,
    pub origin: RectificationOrigin,
    pub status: RectificationStatus,
    pub raised_at: DateTime<Utc>,
    pub submitted_by: Option<PersonId>,
    pub evidence: Vec<String>,
    pub sent_back: u32,
    /// The files the last submission cites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Box<Cited>>,
}

impl RectificationState {
    /// Overdue: due before `today` and not closed. Derived, never recorded.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status != RectificationStatus::Closed && self.due_on < today
    }
}

/// A stream's name, ordered by its FNV-1a hash first: the revisions map is looked up for every event
/// folded, and stream names share long prefixes (`sheet-2026Q1~SH-…`), so ordering by name cost a
/// string comparison per step of the search (a third of the fold, measured). Names are compared only
/// when the hashes are equal. Serialised as the name alone; the hash is recomputed when read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamKey {
    hash: u64,
    name: String,
}

impl StreamKey {
    pub fn new(name: String) -> Self {
        Self {
            hash: crate::read::fnv1a64(name.as_bytes()),
            name,
        }
    }

    /// Orders this key against a stream with hash `hash` whose name `name_cmp` orders this key's
    /// name against (the key's own order: hash, then name).
    fn cmp_with(
        &self,
        hash: u64,
        name_cmp: impl FnOnce(&str) -> std::cmp::Ordering,
    ) -> std::cmp::Ordering {
        self.hash.cmp(&hash).then_with(|| name_cmp(&self.name))
    }
}

impl Serialize for StreamKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for StreamKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// A sheet's key: one unit in one period.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SheetKey {
    pub period: PeriodId,
    pub unit: UnitId,
}

impl SheetKey {
    pub fn new(period: &PeriodId, unit: &UnitId) -> Self {
        Self {
            period: period.clone(),
            unit: unit.clone(),
        }
    }

    /// Orders this key against the key `(period, unit)` without building it.
    pub fn cmp_parts(&self, period: &PeriodId, unit: &UnitId) -> std::cmp::Ordering {
        self.period.cmp(period).then_with(|| self.unit.cmp(unit))
    }
}

/// An event the fold could not apply as its type means (it is kept in the log all the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    pub position: u64,
    pub what: String,
}

/// The write model of the whole ledger.
///
/// **Structure sharing.** Every map is a [`SharedMap`] (values behind `Arc`, keys in shared chunks)
/// and the anomalies sit behind an `Arc`, so `clone()` is a snapshot that costs a few reference
/// counts, and folding more events into the original copies only the chunks, sheets and items they
/// touch (`Arc::make_mut`). The read side keeps such snapshots as checkpoints for time travel
/// (`crate::read`). The serialised form (serde) is what checkpoints are stored as; any change to it or
/// to what `evolve` folds must bump `crate::read::PROJECTION_CODE_VERSION`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct State {
    /// Position of the last event folded.
    pub position: u64,
    /// The revision of every stream seen (its last event's, from 0).
    pub revisions: SharedMap<StreamKey, u64>,
    pub units: SharedMap<UnitId, UnitState>,
    pub people: SharedMap<PersonId, PersonState>,
    pub tokens: SharedMap<TokenId, TokenState>,
    pub rubrics: SharedMap<RubricId, RubricState>,
    pub periods: SharedMap<PeriodId, PeriodState>,
    pub sheets: SharedMap<SheetKey, SheetState>,
    pub appeals: SharedMap<AppealId, AppealState>,
    pub rectifications: SharedMap<RectificationId, RectificationState>,
    #[serde(with = "super::shared::arc")]
    pub anomalies: Arc<Vec<Anomaly>>,
    /// The business zone the ledger recorded (`BusinessZoneSet`), by name; none: Asia/Shanghai.
    pub zone: Option<String>,
    /// Every evidence file any event has cited, with the units whose records cite it: who may read
    /// a file is who may read one of those records (files cited by superseded records included,
    /// since histories show them).
    #[serde(default)]
    pub cited_files: SharedMap<Digest, CitedFile>,
}

/// A file some record cites: its name as first cited (to serve it under), and the units whose
/// records cite it (who may read it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitedFile {
    pub name: String,
    pub units: Vec<UnitId>,
}

/// Where `value` stands on `item` of `def` (of version `version`).
pub fn standing_of(
    def: &RubricDefinition,
    version: u32,
    item: &ItemCode,
    value: &ScoreValue,
) -> Standing {
    match scoring::check_value(def, item, value) {
        Ok(()) => Standing::Counting,
        Err(ValueRejection::UnknownItem { .. }) => Standing::Removed { version },
        Err(why) => Standing::NeedsRescoring { why },
    }
}

impl State {
    /// Folds events from scratch.
    pub fn fold<'a>(events: impl IntoIterator<Item = (&'a Meta, &'a Event)>) -> Self {
        let mut state = State::default();
        for (meta, event) in events {
            state.evolve(meta, event);
        }
        state
    }

    /// The revision of a stream, `None` if it has no events.
    pub fn revision(&self, stream: &str) -> Option<u64> {
        let hash = crate::read::fnv1a64(stream.as_bytes());
        self.revisions
            .get_by(|k| k.cmp_with(hash, |name| name.cmp(stream)))
            .copied()
    }

    pub fn definition(&self, rubric: &RubricId, version: u32) -> Option<&RubricDefinition> {
        self.rubrics.get(rubric)?.version(version)
    }

    /// The rubric version a period is scored against now.
    pub fn period_definition(&self, period: &PeriodId) -> Option<&RubricDefinition> {
        let p = self.periods.get(period)?;
        self.definition(&p.rubric, p.rubric_version)
    }

    pub fn sheet(&self, period: &PeriodId, unit: &UnitId) -> Option<&SheetState> {
        self.sheets.get_by(|k| k.cmp_parts(period, unit))
    }

    /// Whether a person holds a role (the system always acts as itself and holds nothing).
    pub fn holds(&self, person: &PersonId, role: Role) -> bool {
        self.people
            .get(person)
            .is_some_and(|p| p.roles.contains_key(&role))
    }

    /// Whether a person's role covers a unit.
    pub fn covers(&self, person: &PersonId, role: Role, unit: &UnitId) -> bool {
        self.people
            .get(person)
            .and_then(|p| p.roles.get(&role))
            .is_some_and(|units| units.contains(unit))
    }

    /// The chain of units above `unit`, nearest first (stops at a repeated unit, should the log hold a
    /// cycle).
    pub fn ancestors(&self, unit: &UnitId) -> Vec<UnitId> {
        let mut chain = Vec::new();
        let mut next = self.units.get(unit).and_then(|u| u.parent.clone());
        while let Some(parent) = next {
            if chain.contains(&parent) || &parent == unit {
                break;
            }
            next = self.units.get(&parent).and_then(|u| u.parent.clone());
            chain.push(parent);
        }
        chain
    }

    /// A sheet scored under its period's current rubric version: only counting scores count; the
    /// others are listed as ignored ([`SheetState::scored_values`]).
    pub fn score_sheet(&self, period: &PeriodId, unit: &UnitId) -> Option<SheetScore> {
        let def = self.period_definition(period)?;
        let empty = SheetState::default();
        let sheet = self.sheet(period, unit).unwrap_or(&empty);
        let business = sheet.business.as_ref().map(|b| BusinessInput {
            score: b.score,
            vetoed: b.vetoed,
        });
        Some(scoring::score_sheet(
            def,
            &sheet.scored_values(def),
            business,
        ))
    }

    /// Rectifications due before `today` and not closed, oldest due date first.
    pub fn overdue_rectifications(
        &self,
        today: NaiveDate,
    ) -> Vec<(&RectificationId, &RectificationState)> {
        let mut overdue: Vec<_> = self
            .rectifications
            .iter()
            .filter(|(_, r)| r.is_overdue(today))
            .collect();
        overdue.sort_by(|a, b| a.1.due_on.cmp(&b.1.due_on).then(a.0.cmp(b.0)));
        overdue
    }

    /// What a person is accountable for that is not closed yet.
    pub fn open_rectifications_of(
        &self,
        person: &PersonId,
    ) -> Vec<(&RectificationId, &RectificationState)> {
        self.rectifications
            .iter()
            .filter(|(_, r)| &r.responsible == person && r.status != RectificationStatus::Closed)
            .collect()
    }

    fn anomaly(&mut self, meta: &Meta, what: String) {
        Arc::make_mut(&mut self.anomalies).push(Anomaly {
            position: meta.position,
            what,
        });
    }

    fn sheet_mut(&mut self, period: &PeriodId, unit: &UnitId) -> &mut SheetState {
        // Looked up by parts, so that the common case (the sheet exists) builds no key.
        self.sheets.get_or_insert_by(
            |k| k.cmp_parts(period, unit),
            || (SheetKey::new(period, unit), SheetState::default()),
        )
    }

    /// Where a value stands in a period now; a period or rubric the log does not know makes it count
    /// as removed (version 0), which keeps it out of every total.
    fn standing_in(&self, period: &PeriodId, item: &ItemCode, value: &ScoreValue) -> Standing {
        match (self.period_definition(period), self.periods.get(period)) {
            (Some(def), Some(p)) => standing_of(def, p.rubric_version, item, value),
            _ => Standing::Removed { version: 0 },
        }
    }

    /// Folds one event.
    /// Notes the files `event` cites under the unit whose record cites them.
    fn note_cited(&mut self, event: &Event) {
        let unit = match event {
            Event::SelfAssessmentRecorded(e) => Some(e.unit.clone()),
            Event::ScoreRecorded(e) => Some(e.unit.clone()),
            Event::ScoreCorrected(e) => Some(e.unit.clone()),
            Event::AppealFiled(e) => Some(e.unit.clone()),
            Event::RectificationSubmitted(e) => self
                .rectifications
                .get(&e.rectification)
                .map(|r| r.unit.clone()),
            _ => None,
        };
        let Some(unit) = unit else { return };
        for file in event.files() {
            let cited = self
                .cited_files
                .get_or_insert_with(file.sha256, || CitedFile {
                    name: file.name.clone(),
                    units: Vec::new(),
                });
            if let Err(at) = cited.units.binary_search(&unit) {
                cited.units.insert(at, unit.clone());
            }
        }
    }

    pub fn evolve(&mut self, meta: &Meta, event: &Event) {
        self.position = meta.position;
        // Looked up by the stream's parts: the common case (a stream seen before) builds no name.
        let parts = event.stream_parts();
        let hash = crate::read::fnv1a64_concat(parts.pieces().map(str::as_bytes));
        match self
            .revisions
            .get_mut_by(|k| k.cmp_with(hash, |name| parts.cmp_name(name)))
        {
            Some(revision) => *revision += 1,
            None => {
                self.revisions.insert(StreamKey::new(parts.to_string()), 0);
            }
        }
        let by = meta.actor.person.clone();
        if !event.files().is_empty() {
            self.note_cited(event);
        }
        match event {
            Event::BusinessZoneSet(e) => self.zone = Some(e.zone.clone()),
            Event::UnitRegistered(e) => {
                self.units.insert(
                    e.unit.clone(),
                    UnitState {
                        name: e.name.clone(),
                        kind: e.kind,
                        parent: e.parent.clone(),
                    },
                );
            }
            Event::UnitUpdated(e) => match self.units.get_mut(&e.unit) {
                Some(unit) => {
                    unit.name = e.name.clone();
                    unit.parent = e.parent.clone();
                }
                None => self.anomaly(meta, format!("UnitUpdated of unknown unit {}", e.unit)),
            },
            Event::PersonRegistered(e) => {
                self.people.insert(
                    e.person.clone(),
                    PersonState {
                        name: e.name.clone(),
                        unit: e.unit.clone(),
                        roles: BTreeMap::new(),
                    },
                );
            }
            Event::AccessGranted(e) => match self.people.get_mut(&e.person) {
                Some(person) => {
                    person
                        .roles
                        .insert(e.role, e.units.iter().cloned().collect());
                }
                None => self.anomaly(
                    meta,
                    format!("AccessGranted to unknown person {}", e.person),
                ),
            },
            Event::AccessRevoked(e) => {
                if let Some(person) = self.people.get_mut(&e.person) {
                    person.roles.remove(&e.role);
                }
            }
            Event::TokenIssued(e) => {
                self.tokens.insert(
                    e.token.clone(),
                    TokenState {
                        person: e.person.clone(),
                        role: e.role,
                        expires_at: e.expires_at,
                        revoked: false,
                    },
                );
            }
            Event::TokenRevoked(e) => {
                if let Some(token) = self.tokens.get_mut(&e.token) {
                    token.revoked = true;
                }
            }
            Event::RubricDefined(e) => {
                self.rubrics.insert(
                    e.rubric.clone(),
                    RubricState {
                        versions: vec![Arc::new(e.definition.clone())],
                    },
                );
            }
            Event::RubricAdjusted(e) => self.evolve_adjustment(meta, e),
            Event::PeriodOpened(e) => {
                self.periods.insert(
                    e.period.clone(),
                    PeriodState {
                        name: e.name.clone(),
                        cadence: e.cadence,
                        starts_on: e.starts_on,
                        ends_on: e.ends_on,
                        rubric: e.rubric.clone(),
                        rubric_version: e.rubric_version,
                        units: e.units.clone(),
                        stage: Stage::Opened,
                        reopenings: 0,
                    },
                );
            }
            Event::PeriodStageChanged(e) => {
                if let Some(period) = self.periods.get_mut(&e.period) {
                    if e.from == Stage::Published && e.to < Stage::Published {
                        period.reopenings += 1;
                    }
                    period.stage = e.to;
                }
            }
            Event::PeriodRubricChanged(e) => self.evolve_rubric_move(meta, e),
            Event::SelfAssessmentRecorded(e) => {
                self.sheet_mut(&e.period, &e.unit).self_assessments.insert(
                    e.item.clone(),
                    SelfAssessment {
                        value: e.value.clone(),
                        note: e.note.clone(),
                        evidence: e.evidence.clone(),
                        by,
                        files: Cited::of(meta.recorded_at, &e.files),
                    },
                );
            }
            Event::ScoreRecorded(e) => {
                let standing = self.standing_in(&e.period, &e.item, &e.value);
                self.sheet_mut(&e.period, &e.unit).scores.insert(
                    e.item.clone(),
                    ItemScore {
                        value: e.value.clone(),
                        source: e.source,
                        authors: vec![by.clone()],
                        last_by: by,
                        review: ReviewStatus::Pending,
                        standing,
                        appeal: None,
                        files: Cited::of(meta.recorded_at, &e.files),
                    },
                );
            }
            Event::ScoreCorrected(e) => {
                let standing = self.standing_in(&e.period, &e.item, &e.value);
                // An upheld appeal's revision is itself the reviewing authority's decision, so it
                // stands approved; any other correction must be reviewed again.
                let review = if e.appeal.is_some() {
                    ReviewStatus::Approved { by: by.clone() }
                } else {
                    ReviewStatus::Pending
                };
                let sheet = self.sheet_mut(&e.period, &e.unit);
                let score = sheet
                    .scores
                    .get_or_insert_with(e.item.clone(), || ItemScore {
                        value: e.previous.clone(),
                        source: e.source,
                        authors: Vec::new(),
                        last_by: by.clone(),
                        review: ReviewStatus::Pending,
                        standing: standing.clone(),
                        appeal: None,
                        files: None,
                    });
                score.value = e.value.clone();
                score.source = e.source;
                if let Err(at) = score.authors.binary_search(&by) {
                    score.authors.insert(at, by.clone());
                }
                score.last_by = by;
                score.review = review;
                score.standing = standing;
                score.appeal = e.appeal.clone();
                score.files = Cited::of(meta.recorded_at, &e.files);
            }
            Event::ItemReviewed(e) => {
                let status = review_status(e.decision, &by, &e.comment);
                match self.sheet_mut(&e.period, &e.unit).scores.get_mut(&e.item) {
                    Some(score) => score.review = status,
                    None => self.anomaly(meta, format!("ItemReviewed of unscored item {}", e.item)),
                }
            }
            Event::SheetReviewed(e) => {
                let status = review_status(e.decision, &by, &e.comment);
                let sheet = self.sheet_mut(&e.period, &e.unit);
                // An approval approves the live scores not approved yet (an approved one keeps its
                // approver); a rejection sends every live score back.
                let approving = e.decision == ReviewDecision::Approved;
                sheet.scores.update_where(
                    |_, s| {
                        s.is_live()
                            && !(approving && matches!(s.review, ReviewStatus::Approved { .. }))
                    },
                    |_, s| s.review = status.clone(),
                );
                sheet.last_review = Some(SheetReview {
                    decision: e.decision,
                    by,
                    comment: e.comment.clone(),
                });
            }
            Event::BusinessResultRecorded(e) => {
                self.sheet_mut(&e.period, &e.unit).business = Some(BusinessResult {
                    score: e.score,
                    vetoed: e.vetoed,
                    source: e.source.clone(),
                });
            }
            Event::AppealFiled(e) => {
                self.appeals.insert(
                    e.appeal.clone(),
                    AppealState {
                        period: e.period.clone(),
                        unit: e.unit.clone(),
                        item: e.item.clone(),
                        grounds: e.grounds.clone(),
                        filed_by: by,
                        outcome: None,
                        files: Cited::of(meta.recorded_at, &e.files),
                    },
                );
            }
            Event::AppealUpheld(e) => {
                if let Some(appeal) = self.appeals.get_mut(&e.appeal) {
                    appeal.outcome = Some((AppealOutcome::Upheld, e.decision.clone()));
                }
            }
            Event::AppealDismissed(e) => {
                if let Some(appeal) = self.appeals.get_mut(&e.appeal) {
                    appeal.outcome = Some((AppealOutcome::Dismissed, e.decision.clone()));
                }
            }
            Event::RectificationRaised(e) => {
                self.rectifications.insert(
                    e.rectification.clone(),
                    RectificationState {
                        period: e.period.clone(),
                        unit: e.unit.clone(),
                        item: e.item.clone(),
                        responsible: e.responsible.clone(),
                        due_on: e.due_on,
                        finding: e.finding.clone(),
                        origin: e.origin,
                        status: RectificationStatus::Open,
                        raised_at: meta.recorded_at,
                        submitted_by: None,
                        evidence: Vec::new(),
                        sent_back: 0,
                        files: None,
                    },
                );
            }
            Event::RectificationSubmitted(e) => {
                if let Some(r) = self.rectifications.get_mut(&e.rectification) {
                    r.status = RectificationStatus::Submitted;
                    r.submitted_by = Some(by);
                    r.evidence = e.evidence.clone();
                    r.files = Cited::of(meta.recorded_at, &e.files);
                }
            }
            Event::RectificationVerified(e) => {
                if let Some(r) = self.rectifications.get_mut(&e.rectification) {
                    r.status = RectificationStatus::Closed;
                }
            }
            Event::RectificationSentBack(e) => {
                if let Some(r) = self.rectifications.get_mut(&e.rectification) {
                    r.status = RectificationStatus::Open;
                    r.sent_back += 1;
                    if let Some(due_on) = e.due_on {
                        r.due_on = due_on;
                    }
                }
            }
        }
    }

    fn evolve_adjustment(&mut self, meta: &Meta, e: &ledger_schemas::events::RubricAdjusted) {
        let Some(state) = self.rubrics.get(&e.rubric) else {
            self.anomaly(
                meta,
                format!("RubricAdjusted of unknown rubric {}", e.rubric),
            );
            return;
        };
        let mut problems = Vec::new();
        if e.version != state.latest() + 1 {
            problems.push(format!(
                "RubricAdjusted of {} claims version {} after version {}",
                e.rubric,
                e.version,
                state.latest()
            ));
        }
        // Whatever goes wrong, the version exists (unchanged) so that the numbering stays dense, and
        // the anomaly says why.
        let next = match state.version_shared(e.from_version) {
            Some(from) => rubric::apply(from, &e.changes).map_or_else(
                |why| {
                    problems.push(format!(
                        "RubricAdjusted of {} does not apply: {why}",
                        e.rubric
                    ));
                    Arc::clone(from)
                },
                Arc::new,
            ),
            None => {
                problems.push(format!(
                    "RubricAdjusted of {} from unknown version {}",
                    e.rubric, e.from_version
                ));
                state
                    .versions
                    .last()
                    .cloned()
                    .expect("a defined rubric has version 1")
            }
        };
        if let Some(state) = self.rubrics.get_mut(&e.rubric) {
            state.versions.push(next);
        }
        for what in problems {
            self.anomaly(meta, what);
        }
    }

    fn evolve_rubric_move(&mut self, meta: &Meta, e: &ledger_schemas::events::PeriodRubricChanged) {
        let Some(period) = self.periods.get_mut(&e.period) else {
            self.anomaly(
                meta,
                format!("PeriodRubricChanged of unknown period {}", e.period),
            );
            return;
        };
        period.rubric_version = e.to_version;
        let def = self
            .rubrics
            .get(&period.rubric)
            .and_then(|r| r.version_shared(e.to_version))
            .cloned();
        let Some(def) = def else {
            self.anomaly(
                meta,
                format!(
                    "PeriodRubricChanged of {} to unknown version {}",
                    e.period, e.to_version
                ),
            );
            return;
        };
        self.sheets.update_where(
            |key, _| key.period == e.period,
            |_, sheet| {
                // A removed score stays removed: its item left the rubric, and if the code comes
                // back it is a new item that starts unscored.
                sheet.scores.update_where(
                    |_, score| score.is_live(),
                    |item, score| {
                        score.standing = standing_of(&def, e.to_version, item, &score.value)
                    },
                );
            },
        );
    }
}

fn review_status(decision: ReviewDecision, by: &PersonId, comment: &str) -> ReviewStatus {
    match decision {
        ReviewDecision::Approved => ReviewStatus::Approved { by: by.clone() },
        ReviewDecision::Rejected => ReviewStatus::Rejected {
            by: by.clone(),
            comment: comment.to_owned(),
        },
    }
}

/// The stream of a sheet, for revision checks.
pub fn sheet_stream(period: &PeriodId, unit: &UnitId) -> String {
    stream::sheet(period, unit)
}

/// The serialised form of a [`ValueRejection`] inside a [`Standing`]: the rejection names the value
/// shape an item takes as a `&'static str`, which is written as its name and read back as one of the
/// five names [`scoring::expected_shape`] gives.
mod value_rejection_form {
    use ledger_schemas::ids::{ItemCode, LevelCode};
    use ledger_schemas::values::Points;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::scoring::ValueRejection;

    const SHAPES: [&str; 5] = ["points", "level", "awards", "cases", "veto"];

    #[derive(Serialize, Deserialize)]
    #[serde(tag = "rejection", rename_all = "snake_case")]
    enum Form {
        UnknownItem {
            item: ItemCode,
        },
        WrongShape {
            item: ItemCode,
            expected: String,
        },
        OutOfRange {
            item: ItemCode,
            points: Points,
            max: Points,
        },
        UnknownLevel {
            item: ItemCode,
            level: LevelCode,
        },
        NegativeAward {
            item: ItemCode,
            title: String,
            points: Points,
        },
    }

    pub fn serialize<S: Serializer>(why: &ValueRejection, s: S) -> Result<S::Ok, S::Error> {
        let form = match why.clone() {
            ValueRejection::UnknownItem { item } => Form::UnknownItem { item },
            ValueRejection::WrongShape { item, expected } => Form::WrongShape {
                item,
                expected: expected.to_owned(),
            },
            ValueRejection::OutOfRange { item, points, max } => {
                Form::OutOfRange { item, points, max }
            }
            ValueRejection::UnknownLevel { item, level } => Form::UnknownLevel { item, level },
            ValueRejection::NegativeAward {
                item,
                title,
                points,
            } => Form::NegativeAward {
                item,
                title,
                points,
            },
        };
        form.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ValueRejection, D::Error> {
        Ok(match Form::deserialize(d)? {
            Form::UnknownItem { item } => ValueRejection::UnknownItem { item },
            Form::WrongShape { item, expected } => {
                let expected = SHAPES
                    .into_iter()
                    .find(|shape| *shape == expected)
                    .ok_or_else(|| {
                        serde::de::Error::custom(format!("unknown value shape {expected:?}"))
                    })?;
                ValueRejection::WrongShape { item, expected }
            }
            Form::OutOfRange { item, points, max } => {
                ValueRejection::OutOfRange { item, points, max }
            }
            Form::UnknownLevel { item, level } => ValueRejection::UnknownLevel { item, level },
            Form::NegativeAward {
                item,
                title,
                points,
            } => ValueRejection::NegativeAward {
                item,
                title,
                points,
            },
        })
    }
}
