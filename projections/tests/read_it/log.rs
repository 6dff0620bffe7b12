//! Random valid event logs: random commands decided by `decide` against the folded state (so only
//! accepted events are recorded), stamped as envelopes with increasing positions and non-decreasing
//! times (several events of one decision share a time, and a decision may follow the previous one
//! within the same microsecond).
//!
//! The world is the domain tests' fixture ([`crate::dsl::world`]: units HQ > SH-01 > SH-03 and
//! HQ > SH-02, people and roles, rubric R1 v1, period 2026Q1 for SH-01 and SH-02); the random steps add
//! a second period, rubric adjustments and moves, scores, corrections, reviews, business results,
//! appeals, rectifications, access grants, tokens and unit updates.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ledger_projections::domain::{Command, Context, Meta, Revision, State, decide, next_stage};
use ledger_projections::read::ReadModel;
use ledger_projections::rubric;
use ledger_schemas::envelope::{Actor, Envelope, Role};
use ledger_schemas::events::{Event, RectificationOrigin};
use ledger_schemas::ids::{ItemCode, PeriodId, UnitId};
use ledger_schemas::integrity::Digest;
use ledger_schemas::rubric::{ItemKind, RubricChange, RubricDefinition};
use ledger_schemas::values::{
    Award, Cadence, Points, ReviewDecision, ScoreSource, ScoreValue, Stage,
};
use proptest::prelude::*;

use crate::dsl::*;

pub const ITEMS: [&str; 7] = ["A1", "A2", "B1", "B2", "G1", "G2", "G3"];
pub const UNITS: [&str; 3] = [SH01, SH02, SH03];

pub fn q2() -> PeriodId {
    PeriodId::new("2026Q2").unwrap()
}

fn period(p: usize) -> PeriodId {
    if p == 0 { period_id() } else { q2() }
}

/// The first envelope's time; every later one is at or after it.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
}

/// A stored event: its envelope (payload as canonical JSON) and the decoded event.
pub type Stored = (Envelope, Event);

/// An envelope for `event`, as the store would stamp it.
pub fn envelope(
    position: u64,
    recorded_at: DateTime<Utc>,
    actor: &Actor,
    reason: Option<String>,
    event: &Event,
) -> Envelope {
    let template: Envelope = serde_json::from_value(serde_json::json!({
        "event_id": "00000000-0000-7000-8000-000000000000",
        "stream": "",
        "revision": 0,
        "position": 0,
        "event_type": "",
        "schema_version": 1,
        "recorded_at": "2026-01-01T00:00:00Z",
        "actor": {"person": "system", "role": "system"},
        "reason": null,
        "correlation_id": "00000000-0000-7000-8000-000000000000",
        "causation_id": null,
        "payload": "{}",
        "prev_hash": Digest::ZERO.to_hex(),
        "hash": Digest::ZERO.to_hex(),
    }))
    .expect("a valid envelope");
    Envelope {
        stream: event.stream(),
        position,
        event_type: event.event_type().to_owned(),
        schema_version: event.schema_version(),
        recorded_at,
        actor: actor.clone(),
        reason,
        payload: serde_json::to_string(&event.payload()).unwrap(),
        ..template
    }
}

/// A ledger being written: the decided state, the stored log, the clock and the calendar.
pub struct Ledger {
    pub state: State,
    pub log: Vec<Stored>,
    pub clock: DateTime<Utc>,
    pub today: NaiveDate,
}

impl Ledger {
    /// The fixture world, stamped a second apart per setup event.
    pub fn world() -> Self {
        let given = world();
        let mut ledger = Ledger {
            state: State::default(),
            log: Vec::new(),
            clock: epoch(),
            today: today(),
        };
        for (meta, event) in given.log {
            ledger.clock += Duration::seconds(1);
            ledger.stamp(&meta.actor, None, event);
        }
        ledger
    }

    /// Appends one event at the current clock.
    pub fn stamp(&mut self, actor: &Actor, reason: Option<String>, event: Event) {
        let position = self.log.len() as u64 + 1;
        let env = envelope(position, self.clock, actor, reason, &event);
        self.state.evolve(&Meta::from_envelope(&env), &event);
        self.log.push((env, event));
    }

    /// Decides a command; stamps its events if accepted.
    pub fn run(&mut self, actor: &Actor, command: Command) -> bool {
        let ctx = Context {
            actor: actor.clone(),
            now: self.clock,
            today: self.today,
            file_sha256: None,
        };
        match decide(&self.state, &ctx, command) {
            Ok(decision) => {
                for event in decision.events {
                    self.stamp(actor, decision.reason.clone(), event);
                }
                true
            }
            Err(_) => false,
        }
    }

    fn def(&self, p: &PeriodId) -> Option<RubricDefinition> {
        self.state.period_definition(p).cloned()
    }

    fn live(&self, p: &PeriodId, u: &UnitId, i: &ItemCode) -> Option<ScoreValue> {
        self.state
            .sheet(p, u)
            .and_then(|s| s.live(i))
            .map(|s| s.value.clone())
    }
}

/// The predefined adjustments: version n + 1 applies `adjustments()[n - 1]` to version n.
fn adjustments() -> Vec<Vec<RubricChange>> {
    vec![
        // v2: B1 becomes a ladder item (its points scores need re-scoring), policy 50 %.
        vec![
            RubricChange::RepointItem {
                item: item("B1"),
                kind: ItemKind::Ladder {
                    max: Points::from_int(20),
                },
            },
            RubricChange::ChangeDualPolicy {
                dual_policy: ledger_schemas::rubric::DualPolicy::PointsShare {
                    party_percent: Points::from_int(50),
                },
            },
        ],
        // v3: B2 removed, B1 takes B's 40 as points again; a new responsible person for A2.
        vec![
            RubricChange::RemoveItem { item: item("B2") },
            RubricChange::RepointItem {
                item: item("B1"),
                kind: ItemKind::Points {
                    max: Points::from_int(40),
                },
            },
            RubricChange::ChangeResponsible {
                item: item("A2"),
                responsible: person("resp-b"),
            },
        ],
    ]
}

/// A value of the shape `item` takes under `def`, shaped by `n`.
pub fn value_for(def: &RubricDefinition, code: &ItemCode, n: u8) -> ScoreValue {
    let kind = rubric::find_item(def, code).map(|(_, i)| i.kind.clone());
    match kind {
        Some(ItemKind::Points { max }) => {
            let max = max
                .decimal()
                .trunc()
                .to_string()
                .parse::<i64>()
                .unwrap_or(1);
            ScoreValue::Points {
                points: Points::from_cents(i64::from(n) * 37 % (max * 100 + 1)),
            }
        }
        Some(ItemKind::Ladder { .. }) => lvl(["good", "fair", "ok", "poor"][usize::from(n) % 4]),
        Some(ItemKind::Bonus { .. }) => ScoreValue::Awards {
            awards: (0..n % 3)
                .map(|k| Award {
                    title: format!("表彰 {k}"),
                    points: Points::from_int(i64::from(n % 4)),
                })
                .collect(),
        },
        Some(ItemKind::Deduction { .. }) => cases(u32::from(n % 6)),
        Some(ItemKind::Veto) => ScoreValue::Veto {
            vetoed: n.is_multiple_of(9),
        },
        None => pts(i64::from(n % 10)),
    }
}

/// One random step.
#[derive(Debug, Clone)]
pub enum Op {
    /// Fill a gap, approve a sheet, or advance the period.
    Progress {
        p: usize,
    },
    Record {
        p: usize,
        u: usize,
        i: usize,
        n: u8,
    },
    Correct {
        p: usize,
        u: usize,
        i: usize,
        n: u8,
    },
    ReviewItem {
        p: usize,
        u: usize,
        i: usize,
        approve: bool,
    },
    ReviewSheet {
        p: usize,
        u: usize,
        approve: bool,
    },
    Business {
        p: usize,
        u: usize,
        cents: i64,
    },
    SelfAssess {
        p: usize,
        u: usize,
        i: usize,
        n: u8,
    },
    Adjust,
    Move {
        p: usize,
        version: u32,
    },
    Reopen {
        p: usize,
    },
    OpenSecond,
    FileAppeal {
        p: usize,
        u: usize,
        i: Option<usize>,
        id: u8,
    },
    Uphold {
        id: u8,
        n: u8,
    },
    Dismiss {
        id: u8,
    },
    Raise {
        p: usize,
        u: usize,
        i: usize,
        days: i64,
        id: u8,
    },
    Submit {
        id: u8,
    },
    Verify {
        id: u8,
    },
    SendBack {
        id: u8,
        days: Option<i64>,
    },
    Grant {
        wide: bool,
    },
    Token {
        id: u8,
        revoke: bool,
    },
    Rename {
        n: u8,
    },
    /// Time passes: `secs` seconds (0: the next decision shares the microsecond), `days` days of
    /// calendar.
    Tick {
        secs: i64,
        days: i64,
    },
}

pub fn op() -> impl Strategy<Value = Op> {
    let p = prop_oneof![3 => Just(0usize), 1 => Just(1usize)];
    let u = 0..3usize;
    let i = 0..ITEMS.len();
    prop_oneof![
        8 => p.clone().prop_map(|p| Op::Progress { p }),
        5 => (p.clone(), u.clone(), i.clone(), any::<u8>()).prop_map(|(p, u, i, n)| Op::Record { p, u, i, n }),
        3 => (p.clone(), u.clone(), i.clone(), any::<u8>()).prop_map(|(p, u, i, n)| Op::Correct { p, u, i, n }),
        3 => (p.clone(), u.clone(), i.clone(), any::<bool>()).prop_map(|(p, u, i, approve)| Op::ReviewItem { p, u, i, approve }),
        2 => (p.clone(), u.clone(), prop::bool::weighted(0.7)).prop_map(|(p, u, approve)| Op::ReviewSheet { p, u, approve }),
        1 => (p.clone(), u.clone(), 0i64..10_000).prop_map(|(p, u, cents)| Op::Business { p, u, cents }),
        1 => (p.clone(), u.clone(), i.clone(), any::<u8>()).prop_map(|(p, u, i, n)| Op::SelfAssess { p, u, i, n }),
        1 => Just(Op::Adjust),
        1 => (p.clone(), 1..4u32).prop_map(|(p, version)| Op::Move { p, version }),
        1 => p.clone().prop_map(|p| Op::Reopen { p }),
        1 => Just(Op::OpenSecond),
        3 => (p.clone(), u.clone(), prop::option::of(i.clone()), 0..3u8).prop_map(|(p, u, i, id)| Op::FileAppeal { p, u, i, id }),
        3 => (0..3u8, any::<u8>()).prop_map(|(id, n)| Op::Uphold { id, n }),
        1 => (0..3u8).prop_map(|id| Op::Dismiss { id }),
        3 => (p.clone(), u.clone(), i.clone(), 0i64..20, 0..3u8).prop_map(|(p, u, i, days, id)| Op::Raise { p, u, i, days, id }),
        4 => (0..3u8).prop_map(|id| Op::Submit { id }),
        2 => (0..3u8).prop_map(|id| Op::Verify { id }),
        2 => (0..3u8, prop::option::of(0i64..20)).prop_map(|(id, days)| Op::SendBack { id, days }),
        1 => any::<bool>().prop_map(|wide| Op::Grant { wide }),
        1 => (0..2u8, any::<bool>()).prop_map(|(id, revoke)| Op::Token { id, revoke }),
        1 => any::<u8>().prop_map(|n| Op::Rename { n }),
        4 => (prop_oneof![Just(0i64), 0i64..3, 60i64..7_200], 0i64..4).prop_map(|(secs, days)| Op::Tick { secs, days }),
    ]
}

fn rect(id: u8) -> ledger_schemas::ids::RectificationId {
    rect_id(&format!("RC-{id}"))
}

fn appeal(id: u8) -> ledger_schemas::ids::AppealId {
    appeal_id(&format!("AP-{id}"))
}

/// The unit secretary who may act for a unit (SH-03 has none: the system acts).
fn secretary(u: &str) -> Actor {
    match u {
        SH01 => sec1(),
        SH02 => sec2(),
        _ => system(),
    }
}

impl Ledger {
    /// Performs one step (decided like any command; a refusal records nothing).
    pub fn step(&mut self, op: &Op) {
        let Some((actor, command)) = self.command(op) else {
            return;
        };
        self.run(&actor, command);
    }

    fn command(&mut self, op: &Op) -> Option<(Actor, Command)> {
        let state = &self.state;
        Some(match op {
            Op::Tick { secs, days } => {
                self.clock += Duration::seconds(*secs);
                self.today += Duration::days(*days);
                return None;
            }
            Op::Progress { p } => return self.progress(&period(*p)),
            Op::Record { p, u, i, n } => {
                let p = period(*p);
                let def = self.def(&p)?;
                let (u, i) = (unit(UNITS[*u]), item(ITEMS[*i]));
                let value = value_for(&def, &i, *n);
                (system(), record_in(&p, &u, &i, value))
            }
            Op::Correct { p, u, i, n } => {
                let p = period(*p);
                let def = self.def(&p)?;
                let (u, i) = (unit(UNITS[*u]), item(ITEMS[*i]));
                let previous = self.live(&p, &u, &i)?;
                let value = value_for(&def, &i, n.wrapping_add(11));
                let actor = if u.as_str() == SH03 { as2() } else { as1() };
                (
                    actor,
                    Command::CorrectScore {
                        files: Vec::new(),
                        period: p,
                        unit: u,
                        item: i,
                        previous,
                        value,
                        note: "复核 re-checked".into(),
                        evidence: vec!["minutes.pdf".into()],
                        source: ScoreSource::Manual,
                        reason: "更正 correction".into(),
                        expected_revision: None,
                    },
                )
            }
            Op::ReviewItem { p, u, i, approve } => (
                if *approve { rv1() } else { rv2() },
                Command::ReviewItem {
                    period: period(*p),
                    unit: unit(UNITS[*u]),
                    item: item(ITEMS[*i]),
                    decision: if *approve {
                        ReviewDecision::Approved
                    } else {
                        ReviewDecision::Rejected
                    },
                    comment: if *approve {
                        ""
                    } else {
                        "依据不足 weak evidence"
                    }
                    .into(),
                    expected_revision: None,
                },
            ),
            Op::ReviewSheet { p, u, approve } => (
                rv1(),
                Command::ReviewSheet {
                    period: period(*p),
                    unit: unit(UNITS[*u]),
                    decision: if *approve {
                        ReviewDecision::Approved
                    } else {
                        ReviewDecision::Rejected
                    },
                    comment: if *approve { "" } else { "退回 sent back" }.into(),
                    expected_revision: None,
                },
            ),
            Op::Business { p, u, cents } => {
                let p = period(*p);
                let u = unit(UNITS[*u]);
                let again = state.sheet(&p, &u).is_some_and(|s| s.business.is_some());
                (
                    admin(),
                    Command::RecordBusinessResult {
                        period: p,
                        unit: u,
                        score: Points::from_cents(*cents),
                        vetoed: cents % 13 == 0,
                        source: "经营目标责任书 第3条".into(),
                        reason: again.then(|| "年中调整 mid-year revision".into()),
                        expected_revision: None,
                    },
                )
            }
            Op::SelfAssess { p, u, i, n } => {
                let p = period(*p);
                let def = self.def(&p)?;
                let i = item(ITEMS[*i]);
                (
                    secretary(UNITS[*u]),
                    Command::RecordSelfAssessment {
                        files: Vec::new(),
                        period: p,
                        unit: unit(UNITS[*u]),
                        value: value_for(&def, &i, *n),
                        item: i,
                        note: "自评".into(),
                        evidence: vec![],
                        expected_revision: None,
                    },
                )
            }
            Op::Adjust => {
                let latest = state.rubrics.get(&rubric_id())?.latest();
                let changes = adjustments().get(latest as usize - 1).cloned()?;
                (
                    admin(),
                    Command::AdjustRubric {
                        rubric: rubric_id(),
                        from_version: latest,
                        changes,
                        approver: person("rv1"),
                        reason: "动态调整 adjustment".into(),
                    },
                )
            }
            Op::Move { p, version } => (
                admin(),
                Command::MovePeriodRubric {
                    period: period(*p),
                    to_version: *version,
                    reason: "执行新版细则 new rules".into(),
                    expected_revision: None,
                },
            ),
            Op::Reopen { p } => (
                admin(),
                Command::ReopenPeriod {
                    period: period(*p),
                    to: Stage::Scoring,
                    reason: "复查 re-check".into(),
                    expected_revision: None,
                },
            ),
            Op::OpenSecond => {
                let latest = state.rubrics.get(&rubric_id())?.latest();
                (
                    admin(),
                    Command::OpenPeriod {
                        period: q2(),
                        name: "2026年第二季度 2026 Q2".into(),
                        cadence: Cadence::Quarterly,
                        starts_on: date(2026, 4, 1),
                        ends_on: date(2026, 6, 30),
                        rubric: rubric_id(),
                        rubric_version: latest,
                        units: vec![unit(SH01), unit(SH03)],
                    },
                )
            }
            Op::FileAppeal { p, u, i, id } => (
                secretary(UNITS[*u]),
                Command::FileAppeal {
                    files: Vec::new(),
                    appeal: appeal(*id),
                    period: period(*p),
                    unit: unit(UNITS[*u]),
                    item: i.map(|i| item(ITEMS[i])),
                    grounds: "评分依据有误 wrong basis".into(),
                    evidence: vec!["appeal.pdf".into()],
                },
            ),
            Op::Uphold { id, n } => {
                let a = state.appeals.get(&appeal(*id))?;
                let def = self.def(&a.period)?;
                let target = a.item.clone().unwrap_or_else(|| item("A1"));
                (
                    rv2(),
                    Command::UpholdAppeal {
                        appeal: appeal(*id),
                        decision: "申诉成立 upheld".into(),
                        revised: (a.item.is_some() || n % 2 == 0).then(|| Revision {
                            value: value_for(&def, &target, *n),
                            item: target,
                            note: "改判".into(),
                            evidence: vec![],
                        }),
                    },
                )
            }
            Op::Dismiss { id } => (
                rv1(),
                Command::DismissAppeal {
                    appeal: appeal(*id),
                    decision: "理由不成立 no grounds".into(),
                },
            ),
            Op::Raise { p, u, i, days, id } => (
                rv1(),
                Command::RaiseRectification {
                    rectification: rect(*id),
                    period: period(*p),
                    unit: unit(UNITS[*u]),
                    item: item(ITEMS[*i]),
                    due_on: self.today + Duration::days(*days),
                    finding: "会议记录不全 minutes incomplete".into(),
                    origin: if days % 2 == 0 {
                        RectificationOrigin::Deduction
                    } else {
                        RectificationOrigin::Review
                    },
                },
            ),
            Op::Submit { id } => {
                let r = state.rectifications.get(&rect(*id))?;
                (
                    secretary(r.unit.as_str()),
                    Command::SubmitRectification {
                        files: Vec::new(),
                        rectification: rect(*id),
                        note: "已整改 fixed".into(),
                        evidence: vec!["fix.pdf".into()],
                    },
                )
            }
            Op::Verify { id } => (
                rv2(),
                Command::VerifyRectification {
                    rectification: rect(*id),
                    comment: "已核实 verified".into(),
                },
            ),
            Op::SendBack { id, days } => (
                rv1(),
                Command::SendBackRectification {
                    rectification: rect(*id),
                    comment: "证据不足 more evidence".into(),
                    due_on: days.map(|d| self.today + Duration::days(d)),
                },
            ),
            Op::Grant { wide } => (
                admin(),
                Command::GrantAccess {
                    person: person("as2"),
                    role: Role::Assessor,
                    units: if *wide {
                        vec![unit(SH01), unit(SH03)]
                    } else {
                        vec![unit(SH03)]
                    },
                    reason: Some("调整分工 new assignment".into()),
                },
            ),
            Op::Token { id, revoke } => {
                let token = token_id(&format!("t{id}"));
                if *revoke {
                    (
                        admin(),
                        Command::RevokeToken {
                            token,
                            reason: Some("离岗 left".into()),
                        },
                    )
                } else {
                    (
                        admin(),
                        Command::IssueToken {
                            token,
                            person: person("rv1"),
                            role: Role::Reviewer,
                            secret_sha256: Digest([*id; 32]),
                            expires_at: Some(self.clock + Duration::days(30)),
                        },
                    )
                }
            }
            Op::Rename { n } => (
                admin(),
                Command::UpdateUnit {
                    unit: unit(SH03),
                    name: format!("第三支部 branch 3 ({n})"),
                    parent: Some(unit(if n % 2 == 0 { SH01 } else { HQ })),
                    reason: Some("机构调整 reorganisation".into()),
                },
            ),
        })
    }

    /// The step that moves a period along: fill a gap, approve a sheet, or advance.
    fn progress(&self, p: &PeriodId) -> Option<(Actor, Command)> {
        let state = &self.state;
        let period = state.periods.get(p)?;
        let def = self.def(p)?;
        let stage = period.stage;
        if matches!(stage, Stage::Scoring | Stage::Review) {
            for u in &period.units {
                let sheet = state.sheet(p, u).cloned().unwrap_or_default();
                if let Some(i) = sheet.gaps(&def).into_iter().next() {
                    let value = value_for(&def, &i, (self.log.len() % 251) as u8);
                    return Some(match sheet.live(&i) {
                        Some(on_record) => (
                            if u.as_str() == SH03 { as2() } else { as1() },
                            Command::CorrectScore {
                                files: Vec::new(),
                                period: p.clone(),
                                unit: u.clone(),
                                item: i,
                                previous: on_record.value.clone(),
                                value,
                                note: String::new(),
                                evidence: vec![],
                                source: ScoreSource::Recalculation,
                                reason: "按新版细则重评 re-scored".into(),
                                expected_revision: None,
                            },
                        ),
                        None => (system(), record_in(p, u, &i, value)),
                    });
                }
            }
        }
        if stage == Stage::Review {
            for u in &period.units {
                let sheet = state.sheet(p, u).cloned().unwrap_or_default();
                if !sheet.unapproved().is_empty() {
                    let reviewer = [rv1(), rv2()].into_iter().find(|r| {
                        sheet
                            .scores
                            .values()
                            .all(|s| !s.is_live() || !s.authors.contains(&r.person))
                    })?;
                    return Some((
                        reviewer,
                        Command::ReviewSheet {
                            period: p.clone(),
                            unit: u.clone(),
                            decision: ReviewDecision::Approved,
                            comment: String::new(),
                            expected_revision: None,
                        },
                    ));
                }
            }
        }
        let to = next_stage(stage)?;
        Some((
            admin(),
            Command::AdvanceStage {
                period: p.clone(),
                to,
                expected_revision: None,
            },
        ))
    }
}

fn record_in(p: &PeriodId, u: &UnitId, i: &ItemCode, value: ScoreValue) -> Command {
    Command::RecordScore {
        files: Vec::new(),
        period: p.clone(),
        unit: u.clone(),
        item: i.clone(),
        value,
        note: "考评记录".into(),
        evidence: vec![format!("evidence/{p}/{u}/{i}.pdf")],
        source: ScoreSource::Manual,
        expected_revision: None,
    }
}

/// A random valid log: the world, then the accepted events of `ops`.
pub fn generate(ops: &[Op]) -> Ledger {
    let mut ledger = Ledger::world();
    for op in ops {
        ledger.step(op);
    }
    ledger
}

/// A read model fed the whole log.
pub fn model_of(log: &[Stored], every: u64) -> ReadModel {
    let mut model = ReadModel::with_checkpoints_every(every);
    for (envelope, event) in log {
        model.apply(envelope, event).expect("a log in order");
    }
    model
}

pub fn ops(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), len)
}
