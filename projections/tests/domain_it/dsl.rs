//! A small given / when / then language, and the fixture world the tests start from.
//!
//! ```ignore
//! world().at(Stage::Scoring)
//!     .when(&as1(), record(SH01, "A1", pts(25)))
//!     .then([score_recorded(SH01, "A1", pts(25))]);
//! rejects!(world().when(&aud(), ...), Rejection::RoleNotAllowed { .. });
//! ```
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ledger_projections::domain::{Command, Context, Decision, Meta, Rejection, State, decide};
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::events::*;
use ledger_schemas::ids::*;
use ledger_schemas::rubric::{
    AnnualRule, Aspect, DualPolicy, GradeBand, Item, ItemKind, LadderStep, RubricDefinition,
};
use ledger_schemas::values::*;

// ---- ids and values ----

pub fn unit(id: &str) -> UnitId {
    UnitId::new(id).unwrap()
}
pub fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}
pub fn item(id: &str) -> ItemCode {
    ItemCode::new(id).unwrap()
}
pub fn level(id: &str) -> LevelCode {
    LevelCode::new(id).unwrap()
}
pub fn rubric_id() -> RubricId {
    RubricId::new("R1").unwrap()
}
pub fn period_id() -> PeriodId {
    PeriodId::new("2026Q1").unwrap()
}
pub fn appeal_id(id: &str) -> AppealId {
    AppealId::new(id).unwrap()
}
pub fn rect_id(id: &str) -> RectificationId {
    RectificationId::new(id).unwrap()
}
pub fn token_id(id: &str) -> TokenId {
    TokenId::new(id).unwrap()
}
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
/// Points from hundredths.
pub fn cents(c: i64) -> Points {
    Points::from_cents(c)
}
pub fn pts(p: i64) -> ScoreValue {
    ScoreValue::Points {
        points: Points::from_int(p),
    }
}
pub fn lvl(l: &str) -> ScoreValue {
    ScoreValue::Level { level: level(l) }
}
pub fn cases(n: u32) -> ScoreValue {
    ScoreValue::Cases { cases: n }
}

pub const HQ: &str = "HQ";
pub const SH01: &str = "SH-01";
pub const SH02: &str = "SH-02";
pub const SH03: &str = "SH-03";

/// The ledger's clock in these tests: 2026-04-01 08:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 8, 0, 0).unwrap()
}
pub fn today() -> NaiveDate {
    date(2026, 4, 1)
}

// ---- actors ----

pub fn actor(p: &str, role: Role) -> Actor {
    Actor::new(person(p), role)
}
pub fn system() -> Actor {
    Actor::system()
}
pub fn admin() -> Actor {
    actor("admin", Role::Admin)
}
/// Assessor of SH-01 and SH-02.
pub fn as1() -> Actor {
    actor("as1", Role::Assessor)
}
/// Assessor of SH-03 only.
pub fn as2() -> Actor {
    actor("as2", Role::Assessor)
}
pub fn rv1() -> Actor {
    actor("rv1", Role::Reviewer)
}
pub fn rv2() -> Actor {
    actor("rv2", Role::Reviewer)
}
/// `dual` holds two roles: assessor of SH-01 and reviewer. Separation of duties is about them.
pub fn dual_assessor() -> Actor {
    actor("dual", Role::Assessor)
}
pub fn dual_reviewer() -> Actor {
    actor("dual", Role::Reviewer)
}
/// Secretary of SH-01.
pub fn sec1() -> Actor {
    actor("sec1", Role::Unit)
}
/// Secretary of SH-02.
pub fn sec2() -> Actor {
    actor("sec2", Role::Unit)
}
pub fn aud() -> Actor {
    actor("aud", Role::Auditor)
}

// ---- the fixture rubric ----

fn rubric_item(code: &str, responsible: &str, kind: ItemKind) -> Item {
    Item {
        code: item(code),
        title: Text::new(format!("子项目 {code}"), format!("item {code}")),
        content: "考评内容".into(),
        standard: "评分标准".into(),
        method: "查阅资料".into(),
        evidence: "会议记录".into(),
        responsible: person(responsible),
        kind,
    }
}

/// A small valid rubric: A (60: A1 points 30, A2 ladder 30), B (40: B1 points 20, B2 points 20), and
/// the unweighted G (G1 bonus cap 3, G2 deduction 1 per case capped at 5, G3 veto). Ladder 100/75/50/0,
/// bands 90/80/60/0, points share 30 %.
pub fn small_rubric() -> RubricDefinition {
    RubricDefinition {
        title: Text::new("测试细则", "test rubric"),
        aspects: vec![
            Aspect {
                code: AspectCode::new("A").unwrap(),
                title: Text::new("组织建设", "organisation"),
                weight: Some(Points::from_int(60)),
                items: vec![
                    rubric_item(
                        "A1",
                        "resp-a",
                        ItemKind::Points {
                            max: Points::from_int(30),
                        },
                    ),
                    rubric_item(
                        "A2",
                        "resp-a",
                        ItemKind::Ladder {
                            max: Points::from_int(30),
                        },
                    ),
                ],
            },
            Aspect {
                code: AspectCode::new("B").unwrap(),
                title: Text::new("班子建设", "leadership"),
                weight: Some(Points::from_int(40)),
                items: vec![
                    rubric_item(
                        "B1",
                        "resp-b",
                        ItemKind::Points {
                            max: Points::from_int(20),
                        },
                    ),
                    rubric_item(
                        "B2",
                        "resp-b",
                        ItemKind::Points {
                            max: Points::from_int(20),
                        },
                    ),
                ],
            },
            Aspect {
                code: AspectCode::new("G").unwrap(),
                title: Text::new("加减分", "adjustments"),
                weight: None,
                items: vec![
                    rubric_item(
                        "G1",
                        "resp-b",
                        ItemKind::Bonus {
                            cap: Points::from_int(3),
                            highest_only: false,
                        },
                    ),
                    rubric_item(
                        "G2",
                        "resp-b",
                        ItemKind::Deduction {
                            per_case: Points::from_int(1),
                            cap: Some(Points::from_int(5)),
                        },
                    ),
                    rubric_item("G3", "resp-b", ItemKind::Veto),
                ],
            },
        ],
        ladder: [("good", 100), ("fair", 75), ("ok", 50), ("poor", 0)]
            .into_iter()
            .map(|(code, percent)| LadderStep {
                level: level(code),
                label: Text::new(code, code),
                percent: Points::from_int(percent),
            })
            .collect(),
        grade_bands: [("excellent", 90), ("good", 80), ("fair", 60), ("poor", 0)]
            .into_iter()
            .map(|(code, min)| GradeBand {
                grade: GradeCode::new(code).unwrap(),
                label: Text::new(code, code),
                min: Points::from_int(min),
            })
            .collect(),
        dual_policy: DualPolicy::PointsShare {
            party_percent: Points::from_int(30),
        },
        annual_rule: AnnualRule::Mean,
    }
}

// ---- the given side ----

/// The events so far and the state folded from them.
#[derive(Clone)]
pub struct Given {
    pub state: State,
    pub log: Vec<(Meta, Event)>,
    pub today: NaiveDate,
}

/// Nothing recorded yet.
pub fn given() -> Given {
    Given {
        state: State::default(),
        log: Vec::new(),
        today: today(),
    }
}

impl Given {
    /// Folds events recorded by `actor`.
    pub fn by(mut self, actor: &Actor, events: impl IntoIterator<Item = Event>) -> Self {
        for event in events {
            let meta = Meta {
                position: self.log.len() as u64 + 1,
                actor: actor.clone(),
                recorded_at: now(),
            };
            self.state.evolve(&meta, &event);
            self.log.push((meta, event));
        }
        self
    }

    /// Folds events recorded by the system.
    pub fn with(self, events: impl IntoIterator<Item = Event>) -> Self {
        self.by(&system(), events)
    }

    /// Decides a command and folds its events, as if it had been appended; panics on a rejection.
    pub fn run(self, actor: &Actor, command: Command) -> Self {
        let decision = decide(&self.state, &self.ctx(actor), command)
            .unwrap_or_else(|r| panic!("setup command refused: {r}"));
        self.by(actor, decision.events)
    }

    /// Moves the fixture period forwards, stage by stage, to `stage`.
    pub fn at(self, stage: Stage) -> Self {
        let mut given = self;
        loop {
            let current = given.state.periods[&period_id()].stage;
            if current >= stage {
                return given;
            }
            let to = ledger_projections::domain::next_stage(current).unwrap();
            given = given.with([stage_changed(current, to)]);
        }
    }

    /// Sets the calendar day the next commands are decided on.
    pub fn on(mut self, today: NaiveDate) -> Self {
        self.today = today;
        self
    }

    pub fn ctx(&self, actor: &Actor) -> Context {
        Context {
            actor: actor.clone(),
            now: now(),
            today: self.today,
            file_sha256: None,
        }
    }

    pub fn when(&self, actor: &Actor, command: Command) -> When {
        When {
            result: decide(&self.state, &self.ctx(actor), command),
            given: self.clone(),
            actor: actor.clone(),
        }
    }
}

/// A decided command.
pub struct When {
    pub result: Result<Decision, Rejection>,
    pub given: Given,
    pub actor: Actor,
}

impl When {
    /// Asserts that the command was accepted with exactly these events; returns the decision.
    #[track_caller]
    pub fn then(self, events: impl IntoIterator<Item = Event>) -> Decision {
        let expected: Vec<Event> = events.into_iter().collect();
        match self.result {
            Ok(decision) => {
                assert_eq!(decision.events, expected, "accepted, with other events");
                decision
            }
            Err(rejection) => panic!("expected {expected:?}, refused: {rejection}\n{rejection:?}"),
        }
    }

    /// Asserts acceptance and returns the state after folding the decision's events.
    #[track_caller]
    pub fn accepted(self) -> (Decision, Given) {
        match self.result {
            Ok(decision) => {
                let after = self.given.by(&self.actor, decision.events.clone());
                (decision, after)
            }
            Err(rejection) => panic!("refused: {rejection}\n{rejection:?}"),
        }
    }

    /// Asserts a rejection whose message is zh-CN first, then English; returns it.
    #[track_caller]
    pub fn rejected(self) -> Rejection {
        match self.result {
            Ok(decision) => panic!("expected a rejection, accepted: {:?}", decision.events),
            Err(rejection) => {
                let message = rejection.to_string();
                let first = message.chars().next().expect("a message");
                assert!(
                    !first.is_ascii() || message.chars().take(12).any(|c| !c.is_ascii()),
                    "the message must start in Chinese: {message}"
                );
                assert!(
                    message.contains('(') && message.chars().any(|c| c.is_ascii_alphabetic()),
                    "the message must carry an English gloss: {message}"
                );
                rejection
            }
        }
    }
}

/// Asserts that a `When` was rejected with a variant matching the pattern; evaluates to the rejection.
#[macro_export]
macro_rules! rejects {
    ($when:expr, $pattern:pat $(if $guard:expr)?) => {{
        let rejection = $when.rejected();
        assert!(
            matches!(&rejection, $pattern $(if $guard)?),
            "unexpected rejection: {rejection}\n{rejection:?}"
        );
        rejection
    }};
}

// ---- event builders ----

pub fn unit_registered(id: &str, parent: Option<&str>) -> Event {
    UnitRegistered {
        unit: unit(id),
        name: format!("单位 {id}"),
        kind: if parent.is_some() {
            UnitKind::Branch
        } else {
            UnitKind::Company
        },
        parent: parent.map(unit),
    }
    .into()
}

pub fn person_registered(id: &str, of: Option<&str>) -> Event {
    PersonRegistered {
        person: person(id),
        name: format!("人员 {id}"),
        unit: of.map(unit),
    }
    .into()
}

pub fn granted(p: &str, role: Role, units: &[&str]) -> Event {
    AccessGranted {
        person: person(p),
        role,
        units: units.iter().map(|u| unit(u)).collect(),
    }
    .into()
}

pub fn stage_changed(from: Stage, to: Stage) -> Event {
    PeriodStageChanged {
        period: period_id(),
        from,
        to,
    }
    .into()
}

pub fn score_recorded(u: &str, i: &str, value: ScoreValue) -> Event {
    ScoreRecorded {
        files: Vec::new(),
        period: period_id(),
        unit: unit(u),
        item: item(i),
        value,
        note: String::new(),
        evidence: Vec::new(),
        source: ScoreSource::Manual,
        file_sha256: None,
    }
    .into()
}

pub fn score_corrected(u: &str, i: &str, previous: ScoreValue, value: ScoreValue) -> Event {
    ScoreCorrected {
        files: Vec::new(),
        period: period_id(),
        unit: unit(u),
        item: item(i),
        previous,
        value,
        note: String::new(),
        evidence: Vec::new(),
        source: ScoreSource::Manual,
        appeal: None,
        file_sha256: None,
    }
    .into()
}

pub fn item_reviewed(u: &str, i: &str, decision: ReviewDecision, comment: &str) -> Event {
    ItemReviewed {
        period: period_id(),
        unit: unit(u),
        item: item(i),
        decision,
        comment: comment.into(),
    }
    .into()
}

pub fn sheet_reviewed(u: &str, decision: ReviewDecision, comment: &str) -> Event {
    SheetReviewed {
        period: period_id(),
        unit: unit(u),
        decision,
        comment: comment.into(),
    }
    .into()
}

/// The base items of a sheet, scored: A1 25 (a deduction of 5), A2 good, B1 20, B2 18.
pub fn full_sheet(u: &str) -> Vec<Event> {
    vec![
        score_recorded(u, "A1", pts(25)),
        score_recorded(u, "A2", lvl("good")),
        score_recorded(u, "B1", pts(20)),
        score_recorded(u, "B2", pts(18)),
    ]
}

// ---- command builders ----

pub fn record(u: &str, i: &str, value: ScoreValue) -> Command {
    Command::RecordScore {
        files: Vec::new(),
        period: period_id(),
        unit: unit(u),
        item: item(i),
        value,
        note: String::new(),
        evidence: Vec::new(),
        source: ScoreSource::Manual,
        expected_revision: None,
    }
}

pub fn correct(u: &str, i: &str, previous: ScoreValue, value: ScoreValue, reason: &str) -> Command {
    Command::CorrectScore {
        files: Vec::new(),
        period: period_id(),
        unit: unit(u),
        item: item(i),
        previous,
        value,
        note: String::new(),
        evidence: Vec::new(),
        source: ScoreSource::Manual,
        reason: reason.into(),
        expected_revision: None,
    }
}

pub fn review_item(u: &str, i: &str, decision: ReviewDecision, comment: &str) -> Command {
    Command::ReviewItem {
        period: period_id(),
        unit: unit(u),
        item: item(i),
        decision,
        comment: comment.into(),
        expected_revision: None,
    }
}

pub fn review_sheet(u: &str, decision: ReviewDecision, comment: &str) -> Command {
    Command::ReviewSheet {
        period: period_id(),
        unit: unit(u),
        decision,
        comment: comment.into(),
        expected_revision: None,
    }
}

pub fn advance(to: Stage) -> Command {
    Command::AdvanceStage {
        period: period_id(),
        to,
        expected_revision: None,
    }
}

// ---- the fixture world ----

/// Units HQ > SH-01 > SH-03 and HQ > SH-02; people with their roles (see the actor functions); the
/// responsible persons resp-a and resp-b; rubric R1 version 1 ([`small_rubric`]); period 2026Q1 opened
/// on it for SH-01 and SH-02.
pub fn world() -> Given {
    given()
        .with([
            unit_registered(HQ, None),
            unit_registered(SH01, Some(HQ)),
            unit_registered(SH02, Some(HQ)),
            unit_registered(SH03, Some(SH01)),
        ])
        .with([
            person_registered("admin", None),
            person_registered("as1", None),
            person_registered("as2", None),
            person_registered("rv1", None),
            person_registered("rv2", None),
            person_registered("dual", None),
            person_registered("sec1", Some(SH01)),
            person_registered("sec2", Some(SH02)),
            person_registered("aud", None),
            person_registered("resp-a", Some(SH01)),
            person_registered("resp-b", Some(SH02)),
        ])
        .with([
            granted("admin", Role::Admin, &[]),
            granted("as1", Role::Assessor, &[SH01, SH02]),
            granted("as2", Role::Assessor, &[SH03]),
            granted("rv1", Role::Reviewer, &[]),
            granted("rv2", Role::Reviewer, &[]),
            granted("dual", Role::Assessor, &[SH01]),
            granted("dual", Role::Reviewer, &[]),
            granted("sec1", Role::Unit, &[SH01]),
            granted("sec2", Role::Unit, &[SH02]),
            granted("aud", Role::Auditor, &[]),
        ])
        .with([RubricDefined {
            rubric: rubric_id(),
            definition: small_rubric(),
        }
        .into()])
        .with([PeriodOpened {
            period: period_id(),
            name: "2026年第一季度 2026 Q1".into(),
            cadence: Cadence::Quarterly,
            starts_on: date(2026, 1, 1),
            ends_on: date(2026, 3, 31),
            rubric: rubric_id(),
            rubric_version: 1,
            units: vec![unit(SH01), unit(SH02)],
        }
        .into()])
}

/// Both sheets fully scored by as1, in stage review.
pub fn in_review() -> Given {
    world()
        .at(Stage::Scoring)
        .by(&as1(), full_sheet(SH01))
        .by(&as1(), full_sheet(SH02))
        .at(Stage::Review)
}

/// Both sheets approved by rv1 and the period published.
pub fn published() -> Given {
    in_review()
        .by(&rv1(), [sheet_reviewed(SH01, ReviewDecision::Approved, "")])
        .by(&rv1(), [sheet_reviewed(SH02, ReviewDecision::Approved, "")])
        .at(Stage::Published)
}
