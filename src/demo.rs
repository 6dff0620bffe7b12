//! The demo ledger: a realistic 「双考核」 history built through [`Ledger::execute`] only, so that every
//! event in it is one the domain accepted (nothing is hand-made).
//!
//! What it holds: the default template (7 aspects, 33 items) and its responsible persons; the group
//! 盛和控股集团 with three companies and five branches (eight assessed units); an admin, two
//! assessors, two reviewers, an auditor, a secretary (unit role) for every unit, the template's
//! responsible persons (role `responsible`); and two periods:
//!
//! - **2026Q3** (2026年第三季度), published: self-assessments, scores for all 33 items of every unit,
//!   corrections with reasons, business results, a review that rejects one item which is re-scored and
//!   approved by a second reviewer, publication; then an appeal upheld with a revised value, an appeal
//!   dismissed, one left **awaiting decision**, and two rectifications raised from deductions: one
//!   verified (closed), one still open past its due date (**overdue**), whose responsible person
//!   (纪检委员, `discipline-committee`) has a token of the `responsible` role.
//! - **2026Q4** (2026年第四季度), in review: self-assessments, the first three aspects scored, then a
//!   reasoned, approved **rubric adjustment** (C1 4 → 5 points, C5 4 → 3) and the period moved to the
//!   new version with a reason; C5 scores above the new maximum are re-scored by corrections; the rest
//!   scored; business results (one replaced with a reason); reviews that approve four sheets, reject an
//!   item that is re-scored (and raise a rectification from the finding), and leave one rejection open.
//!
//! Three of its records cite **evidence files** ([`evidence`]): SH-CZ-B1's 2026Q3 self-assessment
//! of A2 (branch committee minutes as a PDF and the meeting's sign-in sheet as a PNG), its appeal
//! AP-2026Q3-01 (a PDF statement of study hours), and SH-NY-B2's submission of rectification
//! ZG-2026Q3-01 (the make-up meeting's minutes and sign-in sheet). The files are stored through the
//! evidence store (the folder beside the ledger, by default) before the records cite them.
//!
//! Values are pseudo-random but plausible and **deterministic**: each comes from a SplitMix64 of an
//! FNV-1a hash of (period, unit, item), shaped by a per-unit strength, so two demo ledgers differ only
//! in event ids, token secrets and times. Separation of duties holds throughout: reviewers never score,
//! and the item a reviewer rejected is approved by the other reviewer after the assessor re-scored it.
//!
//! # Time
//!
//! The demo lives through its quarters: its events are recorded at the times such a history would
//! have happened, over the working days (Monday to Friday, business clock) before the day it runs,
//! and end at that moment. The store still stamps every event itself; what the demo gives it is a
//! [`HistoryClock`], which only a store **created on a new, empty ledger** takes, which never runs
//! ahead of the system clock, and under which `recorded_at` still never decreases (see
//! [`crate::store::clock`] for the invariant). The same clock is the ledger's "today", so due dates
//! are judged on the day they were decided.
//!
//! The schedule ([`Builder::on`]) counts working days back from the run (weekdays, without the
//! fixed-date public holidays): set-up [`HISTORY_WORKDAYS`] working days (about nine weeks) back;
//! 2026Q3 opened, self-assessed (four units a day), scored, reviewed and published, then its appeals
//! and rectifications (one verified, one **overdue** today); 2026Q4 opened about four and a half
//! weeks back, scored across a rubric adjustment and left in review a week before the run; the tokens are
//! issued at the run itself. Each command takes [`STEP`] of the clock. Every milestone closes its
//! working day: the next phase starts on a later day, so the milestone's **date** (`--as-of
//! 2026-10-22`, the console's date picker) reads the state at that milestone.

pub mod evidence;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, TimeZone as _, Utc};
use indicatif::ProgressBar;
use ledger_projections::domain::{Command, Revision};
use ledger_projections::rubric::{self, DEFAULT_TEMPLATE_PEOPLE, find_item};
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::events::RectificationOrigin;
use ledger_schemas::ids::{ItemCode, LevelCode, PeriodId, PersonId, UnitId};
use ledger_schemas::rubric::{Item, ItemKind, RubricChange, RubricDefinition};
use ledger_schemas::values::{
    Award, Cadence, EvidenceFile, Points, ReviewDecision, ScoreSource, ScoreValue, Stage, UnitKind,
};

use crate::app::clock::{business_date, business_offset};
use crate::app::tokens::{self, IssuedToken};
use crate::app::{Clock, Ledger};
use crate::store::{Direction, EventStore, HistoryClock, ReadFrom, SqliteStore};

/// The rubric the demo loads (the default template).
pub const RUBRIC: &str = "default";
/// The published period.
pub const PUBLISHED_PERIOD: &str = "2026Q3";
/// The period left in review.
pub const REVIEW_PERIOD: &str = "2026Q4";
/// How long one command takes on the demo's clock.
pub const STEP: Duration = Duration::seconds(40);
/// How many working days before the run the demo's history starts.
pub const HISTORY_WORKDAYS: u32 = 44;
/// How many commands the demo executes (the progress bar's length; a test keeps it true).
pub const PLANNED_COMMANDS: u64 = 1182;

/// Why the demo could not be built: the step and the ledger's refusal or failure.
#[derive(Debug, thiserror::Error)]
#[error("构建演示账本失败于“{step}” (building the demo failed at {step:?}): {source}")]
pub struct DemoError {
    pub step: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl DemoError {
    fn at(step: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            step: step.into(),
            source: Box::new(source),
        }
    }
}

/// A point in the demo's history worth reading "as of".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Milestone {
    /// What had just happened, zh-CN first.
    pub label: &'static str,
    /// Position of the phase's last event.
    pub position: u64,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Its date on the business clock: the phase's last working day, on which nothing of the next
    /// phase happens, so `--as-of` this date reads the state at the milestone.
    pub date: NaiveDate,
}

/// One token issued for the demo, secret included (it is shown once and never stored).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoToken {
    pub role: Role,
    pub person: PersonId,
    pub name: String,
    /// What a client sends as `Authorization: Bearer …`.
    pub token: String,
}

/// What the demo built.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoSummary {
    /// Commands executed (each recorded one or more events).
    pub commands: u64,
    /// Position of the last event.
    pub head: u64,
    pub periods: Vec<PeriodId>,
    pub milestones: Vec<Milestone>,
    /// One token per role that signs in (admin, assessor, reviewer, auditor, unit).
    pub tokens: Vec<DemoToken>,
    /// The evidence files the demo stored and cited, and where they are.
    pub evidence: Vec<EvidenceFile>,
    pub evidence_store: String,
}

/// One assessed unit of the demo and the people who act for it.
struct UnitSpec {
    id: &'static str,
    name: &'static str,
    kind: UnitKind,
    parent: &'static str,
    /// How well the unit does, 0–1: shapes its scores and business result.
    strength: f64,
    /// Its party secretary, who holds the unit role for it: (person id, name).
    secretary: (&'static str, &'static str),
    /// The assessor assigned to it.
    assessor: &'static str,
}

/// The group at the top of the hierarchy: the assessing body, not assessed itself.
const GROUP: (&str, &str) = ("SH", "盛和控股集团");

const UNITS: &[UnitSpec] = &[
    UnitSpec {
        id: "SH-CZ",
        name: "盛和城镇建设有限公司",
        kind: UnitKind::Company,
        parent: "SH",
        strength: 0.92,
        secretary: ("sec-sh-cz", "王海涛"),
        assessor: ASSESSOR_ZHANG,
    },
    UnitSpec {
        id: "SH-CZ-B1",
        name: "盛和城镇党支部",
        kind: UnitKind::Branch,
        parent: "SH-CZ",
        strength: 0.95,
        secretary: ("sec-sh-cz-b1", "马晓燕"),
        assessor: ASSESSOR_ZHANG,
    },
    UnitSpec {
        id: "SH-CZ-B2",
        name: "城镇建设工程项目部党支部",
        kind: UnitKind::Branch,
        parent: "SH-CZ",
        strength: 0.85,
        secretary: ("sec-sh-cz-b2", "黄志强"),
        assessor: ASSESSOR_ZHANG,
    },
    UnitSpec {
        id: "SH-NY",
        name: "盛和新能源有限公司",
        kind: UnitKind::Company,
        parent: "SH",
        strength: 0.90,
        secretary: ("sec-sh-ny", "吴婷"),
        assessor: ASSESSOR_LIU,
    },
    UnitSpec {
        id: "SH-NY-B1",
        name: "新能源生产运维党支部",
        kind: UnitKind::Branch,
        parent: "SH-NY",
        strength: 0.83,
        secretary: ("sec-sh-ny-b1", "郑凯"),
        assessor: ASSESSOR_LIU,
    },
    UnitSpec {
        id: "SH-NY-B2",
        name: "新能源营销服务党支部",
        kind: UnitKind::Branch,
        parent: "SH-NY",
        strength: 0.76,
        secretary: ("sec-sh-ny-b2", "何芳"),
        assessor: ASSESSOR_LIU,
    },
    UnitSpec {
        id: "SH-WL",
        name: "盛和现代物流有限公司",
        kind: UnitKind::Company,
        parent: "SH",
        strength: 0.88,
        secretary: ("sec-sh-wl", "冯刚"),
        assessor: ASSESSOR_ZHANG,
    },
    UnitSpec {
        id: "SH-WL-B1",
        name: "物流仓储运营党支部",
        kind: UnitKind::Branch,
        parent: "SH-WL",
        strength: 0.70,
        secretary: ("sec-sh-wl-b1", "许娜"),
        assessor: ASSESSOR_ZHANG,
    },
];

const ADMIN: &str = "admin-li";
const APPROVER: &str = "zhou-zhenhua";
const ASSESSOR_ZHANG: &str = "assessor-zhang";
const ASSESSOR_LIU: &str = "assessor-liu";
const REVIEWER_CHEN: &str = "reviewer-chen";
const REVIEWER_ZHAO: &str = "reviewer-zhao";
const AUDITOR: &str = "auditor-sun";

/// The group-level users: (person id, name, role). Assessors get their units from [`UNITS`].
const STAFF: &[(&str, &str, Role)] = &[
    (ASSESSOR_ZHANG, "张伟 (集团党建考核组)", Role::Assessor),
    (ASSESSOR_LIU, "刘洋 (集团党建考核组)", Role::Assessor),
    (REVIEWER_CHEN, "陈静 (集团党委组织部)", Role::Reviewer),
    (REVIEWER_ZHAO, "赵磊 (集团党委组织部)", Role::Reviewer),
    (AUDITOR, "孙丽 (集团纪委)", Role::Auditor),
];

/// Names for the template's responsible persons, in the order of [`DEFAULT_TEMPLATE_PEOPLE`].
const RESPONSIBLE_NAMES: &[&str] = &["杨帆", "罗静", "梁晨", "宋涛", "唐敏", "韩磊", "曹丽"];

/// The people whose tokens the demo prints, one per role that signs in.
const TOKEN_HOLDERS: &[(Role, &str)] = &[
    (Role::Admin, ADMIN),
    (Role::Assessor, ASSESSOR_ZHANG),
    (Role::Reviewer, REVIEWER_CHEN),
    (Role::Auditor, AUDITOR),
    (Role::Unit, "sec-sh-cz-b1"),
    (Role::Responsible, "discipline-committee"),
];

/// Creates the demo ledger at `path`, which must be a new or empty ledger file: builds its history
/// on the demo's [`HistoryClock`] ending now, then signs a checkpoint of every 1000 events and of
/// its head (the ledger's signing key is made beside the file if absent), as for any ledger.
/// `progress` advances once per command; give it [`PLANNED_COMMANDS`] as its length. The evidence
/// files go to the folder beside the ledger (`FILE.evidence/`).
pub async fn create(path: &Path, progress: &ProgressBar) -> anyhow::Result<DemoSummary> {
    let evidence =
        crate::evidence::EvidenceStore::Folder(crate::evidence::FolderStore::beside(path));
    create_with_evidence(path, &evidence, progress).await
}

/// [`create`], with the evidence files stored in `evidence`.
pub async fn create_with_evidence(
    path: &Path,
    evidence: &crate::evidence::EvidenceStore,
    progress: &ProgressBar,
) -> anyhow::Result<DemoSummary> {
    let now = Utc::now();
    let today = business_date(now);
    let clock = HistoryClock::new(now);
    // The ledger first: it refuses a file that holds events, before any evidence is stored beside it.
    let store = Arc::new(SqliteStore::create_for_history(path, &clock)?);
    let result = async {
        // Then the files: a record may cite only what is stored.
        let mut files = Vec::new();
        for doc in evidence::documents() {
            let stored = evidence.put(&doc.bytes).await?;
            files.push((
                doc.cited_by,
                EvidenceFile {
                    sha256: stored.digest,
                    size: stored.size,
                    media_type: doc.media_type.to_owned(),
                    name: doc.name.to_owned(),
                    uploaded_by: id(doc.uploaded_by),
                },
            ));
        }
        let ledger = Ledger::open(store.clone(), Clock::History(clock.clone())).await?;
        let mut summary = build(&ledger, &clock, today, progress, files.clone()).await?;
        summary.evidence = files.into_iter().map(|(_, file)| file).collect();
        summary.evidence_store = evidence.describe();
        let key = crate::audit::ensure_key(path)?;
        crate::audit::make_checkpoints(&store, &key, 1000).await?;
        anyhow::Ok(summary)
    }
    .await;
    store.close().await;
    result
}

/// Builds the demo into `ledger` (empty) on `clock`, the clock its store records by, with the
/// history ending on `today`.
async fn build<S: EventStore>(
    ledger: &Ledger<S>,
    clock: &HistoryClock,
    today: NaiveDate,
    progress: &ProgressBar,
    files: Vec<(evidence::CitedBy, EvidenceFile)>,
) -> Result<DemoSummary, DemoError> {
    let mut b = Builder {
        ledger,
        clock,
        today,
        progress,
        commands: 0,
        milestones: Vec::new(),
        files,
    };
    b.on(HISTORY_WORKDAYS, 9, 0);
    b.setup().await?;
    b.milestone("组织、人员与评分细则就绪 units, people and rubric in place")
        .await?;
    b.first_period().await?;
    b.second_period().await?;
    // The tokens are issued as the demo runs, so that they are the newest thing in the ledger.
    clock.set(Utc::now());
    let tokens = b.tokens().await?;
    b.milestone("演示令牌已签发 demo tokens issued").await?;
    let head = ledger.folded().head;
    Ok(DemoSummary {
        commands: b.commands,
        head,
        periods: vec![id(PUBLISHED_PERIOD), id(REVIEW_PERIOD)],
        milestones: b.milestones,
        tokens,
        evidence: Vec::new(),
        evidence_store: String::new(),
    })
}

struct Builder<'a, S: EventStore> {
    ledger: &'a Ledger<S>,
    clock: &'a HistoryClock,
    /// The business date the demo runs on; the schedule counts back from it.
    today: NaiveDate,
    progress: &'a ProgressBar,
    commands: u64,
    milestones: Vec<Milestone>,
    /// The stored evidence files and the record that cites each.
    files: Vec<(evidence::CitedBy, EvidenceFile)>,
}

/// The working day `back` working days before `today`: Monday to Friday, except the public
/// holidays that fall on the same dates every year (New Year's Day, 1–5 May, 1–7 October); the
/// lunar-calendar holidays move and are not kept.
fn workday_back(today: NaiveDate, back: u32) -> NaiveDate {
    let holiday = |d: NaiveDate| matches!((d.month(), d.day()), (1, 1) | (5, 1..=5) | (10, 1..=7));
    let mut day = today;
    let mut left = back;
    while left > 0 {
        day = day.pred_opt().unwrap_or(day);
        if day.weekday().number_from_monday() <= 5 && !holiday(day) {
            left -= 1;
        }
    }
    day
}

/// Parses a demo id; the demo's ids are constants or built from them, so a failure is a bug here.
fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse()
        .unwrap_or_else(|e| panic!("the demo's id {text:?} is valid: {e:?}"))
}

fn actor(person: &str, role: Role) -> Actor {
    Actor::new(id(person), role)
}

fn points(text: &str) -> Points {
    id(text)
}

impl<S: EventStore> Builder<'_, S> {
    /// Executes one command, naming it (and what it is about) if the ledger refuses.
    async fn exec(
        &mut self,
        actor: &Actor,
        about: &str,
        command: Command,
    ) -> Result<(), DemoError> {
        let label = command.label();
        self.ledger
            .execute(actor.clone(), command)
            .await
            .map_err(|source| DemoError::at(format!("{label} {about}"), source))?;
        self.commands += 1;
        self.progress.inc(1);
        self.clock.advance(STEP);
        Ok(())
    }

    /// Sets the clock to `hour:minute` (business clock) of the working day `back` working days
    /// before the run.
    fn on(&self, back: u32, hour: u32, minute: u32) {
        let day = workday_back(self.today, back);
        let local = day
            .and_hms_opt(hour, minute, 0)
            .expect("the schedule's times are valid");
        if let Some(t) = business_offset().from_local_datetime(&local).single() {
            self.clock.set(t.with_timezone(&Utc));
        }
    }

    /// Notes the last event as a milestone (the schedule starts the next phase on a later day).
    async fn milestone(&mut self, label: &'static str) -> Result<(), DemoError> {
        let position = self.ledger.folded().head;
        let page = self
            .ledger
            .store()
            .read_all(Direction::Forwards, ReadFrom::At(position), 1)
            .await
            .map_err(|e| DemoError::at(format!("读取里程碑 reading milestone {label}"), e))?;
        if let Some(last) = page.first() {
            self.milestones.push(Milestone {
                label,
                position,
                recorded_at: last.recorded_at,
                date: business_date(last.recorded_at),
            });
        }
        self.progress.set_message(label);
        Ok(())
    }

    /// The evidence files the record `by` cites.
    fn files(&self, by: evidence::CitedBy) -> Vec<EvidenceFile> {
        self.files
            .iter()
            .filter(|(cited_by, _)| *cited_by == by)
            .map(|(_, file)| file.clone())
            .collect()
    }

    /// The period's current rubric version (the template, or its adjustment).
    fn definition(&self, period: &PeriodId) -> RubricDefinition {
        self.ledger
            .folded()
            .state
            .period_definition(period)
            .cloned()
            .unwrap_or_else(rubric::default_template)
    }

    /// The live value on record for an item.
    fn on_record(&self, period: &PeriodId, unit: &UnitId, item: &ItemCode) -> Option<ScoreValue> {
        self.ledger
            .folded()
            .state
            .sheet(period, unit)
            .and_then(|s| s.live(item))
            .map(|s| s.value.clone())
    }

    // ---- setup ----

    async fn setup(&mut self) -> Result<(), DemoError> {
        let system = Actor::system();
        // The first admin is registered by the ledger itself, as `ledger token issue` would.
        self.exec(
            &system,
            ADMIN,
            Command::RegisterPerson {
                person: id(ADMIN),
                name: "李明 (集团党委组织部 系统管理员)".into(),
                unit: None,
            },
        )
        .await?;
        self.exec(
            &system,
            ADMIN,
            Command::GrantAccess {
                person: id(ADMIN),
                role: Role::Admin,
                units: vec![],
                reason: Some("演示账本初始化 (demo ledger set-up)".into()),
            },
        )
        .await?;
        let admin = actor(ADMIN, Role::Admin);

        self.exec(
            &admin,
            GROUP.0,
            Command::RegisterUnit {
                unit: id(GROUP.0),
                name: GROUP.1.into(),
                kind: UnitKind::Company,
                parent: None,
            },
        )
        .await?;
        for unit in UNITS {
            self.exec(
                &admin,
                unit.id,
                Command::RegisterUnit {
                    unit: id(unit.id),
                    name: unit.name.into(),
                    kind: unit.kind,
                    parent: Some(id(unit.parent)),
                },
            )
            .await?;
        }

        // The template's responsible persons (责任人) work at group level.
        for (i, (person, zh, _en)) in DEFAULT_TEMPLATE_PEOPLE.iter().enumerate() {
            let name = RESPONSIBLE_NAMES.get(i).copied().unwrap_or("");
            self.exec(
                &admin,
                person,
                Command::RegisterPerson {
                    person: id(person),
                    name: format!("{name} ({zh})").trim().to_owned(),
                    unit: Some(id(GROUP.0)),
                },
            )
            .await?;
            // They sign in as responsible persons to see and act on what they answer for.
            self.exec(
                &admin,
                person,
                Command::GrantAccess {
                    person: id(person),
                    role: Role::Responsible,
                    units: vec![],
                    reason: Some(
                        "考评细则指定的子项目责任人 (named responsible in the rubric)".into(),
                    ),
                },
            )
            .await?;
        }
        self.exec(
            &admin,
            APPROVER,
            Command::RegisterPerson {
                person: id(APPROVER),
                name: "周振华 (集团党委书记)".into(),
                unit: Some(id(GROUP.0)),
            },
        )
        .await?;
        for (person, name, role) in STAFF {
            self.exec(
                &admin,
                person,
                Command::RegisterPerson {
                    person: id(person),
                    name: (*name).into(),
                    unit: Some(id(GROUP.0)),
                },
            )
            .await?;
            let units: Vec<UnitId> = if *role == Role::Assessor {
                UNITS
                    .iter()
                    .filter(|u| u.assessor == *person)
                    .map(|u| id(u.id))
                    .collect()
            } else {
                vec![]
            };
            self.exec(
                &admin,
                person,
                Command::GrantAccess {
                    person: id(person),
                    role: *role,
                    units,
                    reason: Some(
                        "集团党委组织部2026年考核组成员 (member of the 2026 assessment group)"
                            .into(),
                    ),
                },
            )
            .await?;
        }
        for unit in UNITS {
            let (person, name) = unit.secretary;
            self.exec(
                &admin,
                person,
                Command::RegisterPerson {
                    person: id(person),
                    name: format!("{name} ({} 书记)", unit.name),
                    unit: Some(id(unit.id)),
                },
            )
            .await?;
            self.exec(
                &admin,
                person,
                Command::GrantAccess {
                    person: id(person),
                    role: Role::Unit,
                    units: vec![id(unit.id)],
                    reason: Some(
                        "本单位党组织书记, 负责自评、申诉与整改 (the unit's secretary)".into(),
                    ),
                },
            )
            .await?;
        }

        self.exec(
            &admin,
            RUBRIC,
            Command::DefineRubric {
                rubric: id(RUBRIC),
                definition: rubric::default_template(),
            },
        )
        .await
    }

    // ---- periods ----

    async fn open_period(
        &mut self,
        period: &PeriodId,
        name: &str,
        (starts_on, ends_on): (NaiveDate, NaiveDate),
    ) -> Result<(), DemoError> {
        let admin = actor(ADMIN, Role::Admin);
        self.exec(
            &admin,
            period.as_str(),
            Command::OpenPeriod {
                period: period.clone(),
                name: name.into(),
                cadence: Cadence::Quarterly,
                starts_on,
                ends_on,
                rubric: id(RUBRIC),
                rubric_version: 1,
                units: UNITS.iter().map(|u| id(u.id)).collect(),
            },
        )
        .await
    }

    async fn advance(&mut self, period: &PeriodId, to: Stage) -> Result<(), DemoError> {
        self.exec(
            &actor(ADMIN, Role::Admin),
            &format!("{period} → {}", to.label()),
            Command::AdvanceStage {
                period: period.clone(),
                to,
                expected_revision: None,
            },
        )
        .await
    }

    /// The schedule of work done unit by unit from the working day `from` back: four units a
    /// day, two in the morning and two in the afternoon.
    fn unit_turn(&self, from: u32, index: usize) {
        let back = from.saturating_sub(index as u32 / 4);
        let (hour, minute) = [(9, 0), (10, 30), (14, 0), (15, 30)][index % 4];
        self.on(back, hour, minute)
    }

    /// Every unit's secretary assesses every item of their own unit (自评), four units a working
    /// day from `from` working days back.
    async fn self_assessments(&mut self, period: &PeriodId, from: u32) -> Result<(), DemoError> {
        let def = self.definition(period);
        for (i, unit) in UNITS.iter().enumerate() {
            self.unit_turn(from, i);
            let secretary = actor(unit.secretary.0, Role::Unit);
            for item in items(&def) {
                let value = generate(&def, item, period, unit, Salt::SelfAssessment);
                let files = if period.as_str() == PUBLISHED_PERIOD
                    && unit.id == "SH-CZ-B1"
                    && item.code.as_str() == "A2"
                {
                    self.files(evidence::CitedBy::SelfAssessment)
                } else {
                    Vec::new()
                };
                self.exec(
                    &secretary,
                    &format!("{period} {} {}", unit.id, item.code),
                    Command::RecordSelfAssessment {
                        files,
                        period: period.clone(),
                        unit: id(unit.id),
                        item: item.code.clone(),
                        note: note(&def, item, &value, "自评: "),
                        evidence: evidence(period, unit.id, item),
                        value,
                        expected_revision: None,
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The assigned assessor scores the items of the given aspects for every unit (考评), four units
    /// a working day from `from` working days back.
    async fn scores(
        &mut self,
        period: &PeriodId,
        aspects: &[&str],
        from: u32,
    ) -> Result<(), DemoError> {
        let def = self.definition(period);
        for (i, unit) in UNITS.iter().enumerate() {
            self.unit_turn(from, i);
            let assessor = actor(unit.assessor, Role::Assessor);
            for aspect in def
                .aspects
                .iter()
                .filter(|a| aspects.contains(&a.code.as_str()))
            {
                for item in &aspect.items {
                    let value = override_value(period.as_str(), unit.id, item.code.as_str())
                        .unwrap_or_else(|| generate(&def, item, period, unit, Salt::Score));
                    self.exec(
                        &assessor,
                        &format!("{period} {} {}", unit.id, item.code),
                        Command::RecordScore {
                            files: Vec::new(),
                            period: period.clone(),
                            unit: id(unit.id),
                            item: item.code.clone(),
                            note: note(&def, item, &value, ""),
                            evidence: evidence(period, unit.id, item),
                            value,
                            source: ScoreSource::Manual,
                            expected_revision: None,
                        },
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// The unit's assessor corrects a score on record to `value`, naming the old one, with a reason.
    async fn correct(
        &mut self,
        period: &PeriodId,
        unit: &str,
        item: &str,
        value: ScoreValue,
        reason: &str,
    ) -> Result<(), DemoError> {
        let spec = unit_spec(unit);
        let (unit_id, item_code) = (id::<UnitId>(unit), id::<ItemCode>(item));
        // With nothing on record the domain refuses the correction as `NotScored` before it looks
        // at `previous`, so the stand-in value never reaches the ledger.
        let previous = self
            .on_record(period, &unit_id, &item_code)
            .unwrap_or(ScoreValue::Cases { cases: 0 });
        let def = self.definition(period);
        let note = find_item(&def, &item_code)
            .map(|(_, found)| note(&def, found, &value, "更正: "))
            .unwrap_or_default();
        self.exec(
            &actor(spec.assessor, Role::Assessor),
            &format!("{period} {unit} {item}"),
            Command::CorrectScore {
                files: Vec::new(),
                period: period.clone(),
                unit: unit_id,
                item: item_code,
                previous,
                value,
                note,
                evidence: vec![format!("{period}/{unit}/{item}/复核记录.pdf")],
                source: ScoreSource::Manual,
                reason: reason.into(),
                expected_revision: None,
            },
        )
        .await
    }

    /// Moves a points score on record half a point (up when it can, else down) with a reason.
    async fn nudge(
        &mut self,
        period: &PeriodId,
        unit: &str,
        item: &str,
        up: bool,
        reason: &str,
    ) -> Result<(), DemoError> {
        let def = self.definition(period);
        let code = id::<ItemCode>(item);
        let max = match find_item(&def, &code).map(|(_, i)| &i.kind) {
            Some(ItemKind::Points { max }) => cents(*max),
            _ => return Ok(()),
        };
        let Some(ScoreValue::Points { points }) = self.on_record(period, &id(unit), &code) else {
            return Ok(());
        };
        let now = cents(points);
        let next = if (up && now + 50 <= max) || now < 50 {
            now + 50
        } else {
            now - 50
        };
        let value = ScoreValue::Points {
            points: Points::from_cents(next),
        };
        self.correct(period, unit, item, value, reason).await
    }

    async fn business_results(&mut self, period: &PeriodId, source: &str) -> Result<(), DemoError> {
        for unit in UNITS {
            let r = draw(&[period.as_str(), unit.id, "business"]);
            // 60–99: strong units meet their targets, weak ones fall short.
            let score = (unit.strength * 100.0 + (r - 0.5) * 10.0).clamp(60.0, 99.0);
            let score = Points::from_cents((score * 2.0).round() as i64 * 50);
            self.exec(
                &actor(unit.assessor, Role::Assessor),
                &format!("{period} {}", unit.id),
                Command::RecordBusinessResult {
                    period: period.clone(),
                    unit: id(unit.id),
                    score,
                    vetoed: false,
                    source: source.into(),
                    reason: None,
                    expected_revision: None,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn review_item(
        &mut self,
        reviewer: &str,
        period: &PeriodId,
        unit: &str,
        item: &str,
        decision: ReviewDecision,
        comment: &str,
    ) -> Result<(), DemoError> {
        self.exec(
            &actor(reviewer, Role::Reviewer),
            &format!("{period} {unit} {item}"),
            Command::ReviewItem {
                period: period.clone(),
                unit: id(unit),
                item: id(item),
                decision,
                comment: comment.into(),
                expected_revision: None,
            },
        )
        .await
    }

    async fn approve_sheet(
        &mut self,
        reviewer: &str,
        period: &PeriodId,
        unit: &str,
    ) -> Result<(), DemoError> {
        self.exec(
            &actor(reviewer, Role::Reviewer),
            &format!("{period} {unit}"),
            Command::ReviewSheet {
                period: period.clone(),
                unit: id(unit),
                decision: ReviewDecision::Approved,
                comment: "评分依据充分, 审核通过 (scores well supported: approved)".into(),
                expected_revision: None,
            },
        )
        .await
    }

    /// 2026Q3: the whole cycle to publication, then appeals and the closed loop.
    async fn first_period(&mut self) -> Result<(), DemoError> {
        let q3 = id::<PeriodId>(PUBLISHED_PERIOD);
        self.on(42, 9, 30);
        self.open_period(&q3, "2026年第三季度", (date(2026, 7, 1), date(2026, 9, 30)))
            .await?;
        self.advance(&q3, Stage::SelfAssessment).await?;
        self.self_assessments(&q3, 41).await?;
        self.on(39, 9, 0);
        self.advance(&q3, Stage::Scoring).await?;
        self.scores(&q3, &["A", "B", "C", "D", "E", "F", "G"], 38)
            .await?;

        self.on(36, 10, 0);
        self.nudge(
            &q3,
            "SH-CZ-B2",
            "A3",
            false,
            "复核活动记录, 8月主题党日未开展, 按标准扣0.5分 (the August themed party day did not take place: 0.5 deducted per the standard)",
        )
        .await?;
        self.nudge(
            &q3,
            "SH-WL",
            "A2",
            true,
            "补交9月党课讲稿及签到表, 核实后恢复0.5分 (the September lesson's notes and sign-in sheet were handed in: 0.5 restored)",
        )
        .await?;
        self.nudge(
            &q3,
            "SH-NY",
            "D4",
            false,
            "督办台账显示1项上级部署逾期办结 (the follow-up ledger shows one assignment closed late)",
        )
        .await?;
        self.on(36, 15, 0);
        self.business_results(
            &q3,
            "2026年三季度经营目标责任书考核结果 (集团财务部) / Q3 business target letter results (finance)",
        )
        .await?;
        self.milestone("2026Q3 考评完成 scored").await?;

        self.on(35, 9, 0);
        self.advance(&q3, Stage::Review).await?;
        // A reviewer sends one item back; the assessor re-scores it; the other reviewer approves it
        // (the first one may approve too, but two pairs of eyes on a disputed item is the practice).
        self.on(35, 10, 0);
        self.review_item(
            REVIEWER_CHEN,
            &q3,
            "SH-NY-B2",
            "B2",
            ReviewDecision::Rejected,
            "「三重一大」事项台账缺少7月两项决策的会议纪要, 请复核等次 (two July decisions lack minutes: re-assess the level)",
        )
        .await?;
        self.on(34, 10, 0);
        self.correct(
            &q3,
            "SH-NY-B2",
            "B2",
            level("average"),
            "补查会议纪要, 确认存在先定后议情形, 等次由较好调为一般 (minutes checked: a decision was taken before discussion; fairly good → average)",
        )
        .await?;
        self.on(34, 15, 0);
        self.review_item(
            REVIEWER_ZHAO,
            &q3,
            "SH-NY-B2",
            "B2",
            ReviewDecision::Approved,
            "复核后等次准确 (the re-assessed level is right)",
        )
        .await?;
        self.on(33, 9, 30);
        for unit in UNITS {
            self.approve_sheet(REVIEWER_CHEN, &q3, unit.id).await?;
        }
        self.on(32, 10, 0);
        self.advance(&q3, Stage::Published).await?;
        self.milestone("2026Q3 公示 published").await?;

        self.appeals_and_rectifications(&q3).await?;
        self.milestone("2026Q3 申诉与整改 appeals decided, rectification under way")
            .await
    }

    /// After publication: three appeals (one upheld, one dismissed, one left awaiting decision) and
    /// two rectifications from deductions (one verified, one overdue today), in the order they happen.
    async fn appeals_and_rectifications(&mut self, q3: &PeriodId) -> Result<(), DemoError> {
        self.on(31, 9, 30);
        self.exec(
            &actor("sec-sh-cz-b1", Role::Unit),
            "AP-2026Q3-01",
            Command::FileAppeal {
                files: self.files(evidence::CitedBy::Appeal),
                appeal: id("AP-2026Q3-01"),
                period: q3.clone(),
                unit: id("SH-CZ-B1"),
                item: Some(id("C1")),
                grounds: "三季度党员线上学习学时未计入, 全支部学时达标率实为100% (online study hours were left out; the branch met 100% of its hours)".into(),
                evidence: vec![
                    format!("{q3}/SH-CZ-B1/C1/线上学习学时统计.xlsx"),
                    format!("{q3}/SH-CZ-B1/C1/学习平台截图.pdf"),
                ],
            },
        )
        .await?;
        self.on(30, 14, 0);
        self.exec(
            &actor("sec-sh-ny-b1", Role::Unit),
            "AP-2026Q3-02",
            Command::FileAppeal {
                files: Vec::new(),
                appeal: id("AP-2026Q3-02"),
                period: q3.clone(),
                unit: id("SH-NY-B1"),
                item: Some(id("D3")),
                grounds: "已按季度开展意识形态研判, 评为一般偏低 (ideology reviews were held every quarter; average is too low)".into(),
                evidence: vec![format!("{q3}/SH-NY-B1/D3/研判报告.pdf")],
            },
        )
        .await?;

        // Rectifications raised from deductions: one due in a fortnight (done in time), one due a
        // week before the run and still open (overdue).
        self.on(29, 10, 0);
        let raised_on = workday_back(self.today, 29);
        let raised = [
            (
                "ZG-2026Q3-01",
                REVIEWER_CHEN,
                Role::Reviewer,
                "SH-NY-B2",
                "A2",
                raised_on + Duration::days(15),
                "三季度支委会少开2次, 党课未按计划开展 (two committee meetings missed; the party lesson not held as planned)",
            ),
            (
                "ZG-2026Q3-02",
                ASSESSOR_ZHANG,
                Role::Assessor,
                "SH-WL-B1",
                "F5",
                workday_back(self.today, 6),
                "上半年巡察反馈问题中3项未按期整改 (three findings of the mid-year inspection not fixed on time)",
            ),
        ];
        for (rect, person, role, unit, item, due_on, finding) in raised {
            self.exec(
                &actor(person, role),
                rect,
                Command::RaiseRectification {
                    rectification: id(rect),
                    period: q3.clone(),
                    unit: id(unit),
                    item: id(item),
                    due_on,
                    finding: finding.into(),
                    origin: RectificationOrigin::Deduction,
                },
            )
            .await?;
        }

        self.on(28, 10, 0);
        self.exec(
            &actor(REVIEWER_ZHAO, Role::Reviewer),
            "AP-2026Q3-01",
            Command::UpholdAppeal {
                appeal: id("AP-2026Q3-01"),
                decision: "经核实线上学时有效, 申诉成立, C1 改为满分4分 (the online hours are valid: appeal upheld, C1 revised to the full 4 points)".into(),
                revised: Some(Revision {
                    item: id("C1"),
                    value: ScoreValue::Points {
                        points: points("4"),
                    },
                    note: "申诉复核: 学时达标率100% (on appeal: 100% of hours met)".into(),
                    evidence: vec![format!("{q3}/SH-CZ-B1/C1/申诉复核意见.pdf")],
                }),
            },
        )
        .await?;
        self.on(27, 15, 0);
        self.exec(
            &actor(REVIEWER_CHEN, Role::Reviewer),
            "AP-2026Q3-02",
            Command::DismissAppeal {
                appeal: id("AP-2026Q3-02"),
                decision: "研判报告仅有一次, 阵地管理台账缺失, 维持一般 (only one review report and no ledger of outlets: average stands)".into(),
            },
        )
        .await?;
        // Left awaiting decision: a reviewer's 待办.
        self.on(26, 10, 0);
        self.exec(
            &actor("sec-sh-wl-b1", Role::Unit),
            "AP-2026Q3-03",
            Command::FileAppeal {
                files: Vec::new(),
                appeal: id("AP-2026Q3-03"),
                period: q3.clone(),
                unit: id("SH-WL-B1"),
                item: Some(id("E2")),
                grounds: "党员活动室已于9月完成改造并投入使用, 现场检查时正在布展 (the members' room was refitted in September; it was being set up on the day of the visit)".into(),
                evidence: vec![format!("{q3}/SH-WL-B1/E2/活动室验收单.pdf")],
            },
        )
        .await?;

        self.on(24, 10, 0);
        self.exec(
            &actor("sec-sh-ny-b2", Role::Unit),
            "ZG-2026Q3-01",
            Command::SubmitRectification {
                files: self.files(evidence::CitedBy::Rectification),
                rectification: id("ZG-2026Q3-01"),
                note: "已补开支委会并建立「三会一课」提醒台账 (the meetings were held and a reminder ledger set up)".into(),
                evidence: vec![
                    "2026Q3/SH-NY-B2/A2/整改报告.pdf".into(),
                    "2026Q3/SH-NY-B2/A2/支委会会议记录.pdf".into(),
                ],
            },
        )
        .await?;
        self.on(23, 15, 0);
        self.exec(
            &actor(REVIEWER_ZHAO, Role::Reviewer),
            "ZG-2026Q3-01",
            Command::VerifyRectification {
                rectification: id("ZG-2026Q3-01"),
                comment: "现场查阅会议记录, 整改到位, 予以销号 (records checked on site: rectified, closed)".into(),
            },
        )
        .await
    }

    /// 2026Q4: scored across a mid-period rubric adjustment, left in review.
    async fn second_period(&mut self) -> Result<(), DemoError> {
        let q4 = id::<PeriodId>(REVIEW_PERIOD);
        self.on(22, 9, 30);
        self.open_period(
            &q4,
            "2026年第四季度",
            (date(2026, 10, 1), date(2026, 12, 31)),
        )
        .await?;
        self.advance(&q4, Stage::SelfAssessment).await?;
        self.self_assessments(&q4, 21).await?;
        self.on(19, 9, 0);
        self.advance(&q4, Stage::Scoring).await?;
        self.scores(&q4, &["A", "B", "C"], 18).await?;
        self.milestone("2026Q4 细则调整前 before the rubric adjustment")
            .await?;

        self.on(16, 10, 0);
        self.adjust_rubric(&q4).await?;
        self.scores(&q4, &["D", "E", "F", "G"], 15).await?;
        self.on(13, 10, 0);
        self.nudge(
            &q4,
            "SH-CZ",
            "E5",
            false,
            "10月报送信息2篇被退回, 不计入报送数 (two October reports were returned and do not count)",
        )
        .await?;
        self.nudge(
            &q4,
            "SH-WL-B1",
            "D2",
            true,
            "党务公开栏照片补充上传, 核实已公开 (photos of the notice board were added: the items were published)",
        )
        .await?;
        self.on(12, 15, 0);
        self.business_results(
            &q4,
            "2026年四季度经营目标责任书考核预评 (集团财务部) / Q4 business target letter pre-assessment (finance)",
        )
        .await?;
        self.on(11, 11, 0);
        let r = draw(&[REVIEW_PERIOD, "SH-NY", "business-restated"]);
        self.exec(
            &actor(ADMIN, Role::Admin),
            &format!("{q4} SH-NY"),
            Command::RecordBusinessResult {
                period: q4.clone(),
                unit: id("SH-NY"),
                score: Points::from_cents(8_600 + (r * 4.0).floor() as i64 * 50),
                vetoed: false,
                source: "集团财务部更正后的四季度预评结果 / Q4 pre-assessment restated by finance".into(),
                reason: Some(
                    "财务快报更正: 10月光伏电站发电收入跨期确认 (the finance flash report was restated: October solar revenue moved between periods)"
                        .into(),
                ),
                expected_revision: None,
            },
        )
        .await?;

        self.on(10, 9, 0);
        self.advance(&q4, Stage::Review).await?;
        self.on(9, 9, 30);
        for unit in ["SH-CZ", "SH-CZ-B1", "SH-NY", "SH-WL"] {
            self.approve_sheet(REVIEWER_CHEN, &q4, unit).await?;
        }
        self.on(8, 10, 0);
        self.review_item(
            REVIEWER_CHEN,
            &q4,
            "SH-NY-B2",
            "F5",
            ReviewDecision::Rejected,
            "巡察整改台账与实际不符, 2项问题未整改却记为已整改 (the ledger shows two open findings as fixed)",
        )
        .await?;
        self.exec(
            &actor(REVIEWER_CHEN, Role::Reviewer),
            "ZG-2026Q4-01",
            Command::RaiseRectification {
                rectification: id("ZG-2026Q4-01"),
                period: q4.clone(),
                unit: id("SH-NY-B2"),
                item: id("F5"),
                due_on: self.today + Duration::days(30),
                finding: "巡察整改台账虚报整改完成2项 (two findings reported fixed that were not)"
                    .into(),
                origin: RectificationOrigin::Review,
            },
        )
        .await?;
        self.on(7, 10, 0);
        self.nudge(
            &q4,
            "SH-NY-B2",
            "F5",
            false,
            "按审核意见核减: 2项问题未按期整改 (per the review: two findings not fixed on time)",
        )
        .await?;
        self.on(6, 15, 0);
        self.review_item(
            REVIEWER_ZHAO,
            &q4,
            "SH-NY-B2",
            "F5",
            ReviewDecision::Approved,
            "核减后得分准确 (the reduced score is right)",
        )
        .await?;
        self.on(5, 10, 0);
        self.review_item(
            REVIEWER_ZHAO,
            &q4,
            "SH-WL-B1",
            "B3",
            ReviewDecision::Rejected,
            "班子成员责任清单未更新, 请考评组重新评定等次 (the leaders' duty lists are out of date: re-assess the level)",
        )
        .await?;
        self.milestone("2026Q4 审核中 in review").await
    }

    /// The group committee's mid-period adjustment: C1 weighs more, C5 less (aspect C stays 20), then
    /// the running period moves to it and the C5 scores above the new maximum are re-scored.
    async fn adjust_rubric(&mut self, q4: &PeriodId) -> Result<(), DemoError> {
        let v1 = self.definition(q4);
        let kind = |max: &str| ItemKind::Points { max: points(max) };
        self.exec(
            &actor(ADMIN, Role::Admin),
            RUBRIC,
            Command::AdjustRubric {
                rubric: id(RUBRIC),
                from_version: 1,
                changes: vec![
                    RubricChange::RepointItem {
                        item: id("C1"),
                        kind: kind("5"),
                    },
                    RubricChange::DescribeItem {
                        item: id("C1"),
                        content: None,
                        standard: Some(
                            "学时达标率100%得满分, 每低4个百分点扣0.5分, 扣完为止。".into(),
                        ),
                        method: None,
                        evidence: None,
                    },
                    RubricChange::RepointItem {
                        item: id("C5"),
                        kind: kind("3"),
                    },
                ],
                approver: id(APPROVER),
                reason: "集团党委2026年第9次会议决定: 四季度突出党员教育培训, C1 分值由4分调为5分, C5 由4分调为3分, 队伍建设权重不变 (group committee meeting 9/2026: Q4 stresses member training; C1 4 → 5 points, C5 4 → 3, aspect C unchanged)".into(),
            },
        )
        .await?;
        self.on(16, 11, 0);
        self.exec(
            &actor(ADMIN, Role::Admin),
            &format!("{q4} → v2"),
            Command::MovePeriodRubric {
                period: q4.clone(),
                to_version: 2,
                reason: "按集团党委决定, 四季度考核自即日起执行评分细则第2版 (per the committee's decision, Q4 is scored on version 2 from today)".into(),
                expected_revision: None,
            },
        )
        .await?;
        // Scores the new maximum no longer admits await re-scoring; the assessor scales them to it.
        self.on(16, 14, 0);
        let v1_max = match find_item(&v1, &id("C5")).map(|(_, i)| &i.kind) {
            Some(ItemKind::Points { max }) => cents(*max),
            _ => 400,
        };
        for unit in UNITS {
            let Some(ScoreValue::Points { points: old }) =
                self.on_record(q4, &id(unit.id), &id("C5"))
            else {
                continue;
            };
            let old = cents(old);
            if old <= 300 {
                continue;
            }
            let scaled = (old * 300 / v1_max) / 50 * 50;
            self.correct(
                q4,
                unit.id,
                "C5",
                ScoreValue::Points {
                    points: Points::from_cents(scaled),
                },
                "细则第2版 C5 满分调为3分, 按原得分比例重新评分 (version 2 lowered C5 to 3 points: re-scored in proportion)",
            )
            .await?;
        }
        Ok(())
    }

    /// One token per signing-in role, issued by the ledger itself.
    async fn tokens(&mut self) -> Result<Vec<DemoToken>, DemoError> {
        let mut issued = Vec::new();
        for (role, person) in TOKEN_HOLDERS {
            let IssuedToken { bearer, .. } = tokens::issue_token_as(
                self.ledger,
                Actor::system(),
                id(person),
                *role,
                None,
                uuid::Uuid::now_v7(),
            )
            .await
            .map_err(|e| DemoError::at(format!("签发令牌 issue token {person} {role}"), e))?;
            self.commands += 1;
            self.progress.inc(1);
            let name = self
                .ledger
                .folded()
                .state
                .people
                .get(&id::<PersonId>(person))
                .map(|p| p.name.clone())
                .unwrap_or_default();
            issued.push(DemoToken {
                role: *role,
                person: id(person),
                name,
                token: bearer,
            });
        }
        Ok(issued)
    }
}

fn unit_spec(unit: &str) -> &'static UnitSpec {
    UNITS
        .iter()
        .find(|u| u.id == unit)
        .unwrap_or_else(|| panic!("{unit} is a demo unit"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a calendar date")
}

fn level(code: &str) -> ScoreValue {
    ScoreValue::Level {
        level: id::<LevelCode>(code),
    }
}

/// Every item of a rubric, in rubric order.
fn items(def: &RubricDefinition) -> impl Iterator<Item = &Item> {
    def.aspects.iter().flat_map(|a| a.items.iter())
}

/// Points in hundredths (every amount has at most two places).
fn cents(points: Points) -> i64 {
    let text = points.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let whole: i64 = whole.parse().unwrap_or(0);
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    whole * 100 + if whole < 0 { -frac } else { frac }
}

// ---- deterministic values ----

/// A few scores fixed by the story (the appeal, the rectifications, the rejected review).
fn override_value(period: &str, unit: &str, item: &str) -> Option<ScoreValue> {
    let pts = |text: &str| ScoreValue::Points {
        points: points(text),
    };
    match (period, unit, item) {
        // Appealed and upheld: 3 → 4.
        (PUBLISHED_PERIOD, "SH-CZ-B1", "C1") => Some(pts("3")),
        // Appealed and dismissed.
        (PUBLISHED_PERIOD, "SH-NY-B1", "D3") => Some(level("average")),
        // Rejected in review, re-scored to average.
        (PUBLISHED_PERIOD, "SH-NY-B2", "B2") => Some(level("fairly_good")),
        // The closed rectification's deduction.
        (PUBLISHED_PERIOD, "SH-NY-B2", "A2") => Some(pts("2")),
        (PUBLISHED_PERIOD, "SH-NY-B2", "G3") => Some(ScoreValue::Cases { cases: 1 }),
        // The overdue rectification's deduction.
        (PUBLISHED_PERIOD, "SH-WL-B1", "F5") => Some(pts("2.5")),
        // Rejected in 2026Q4 review and reduced.
        (REVIEW_PERIOD, "SH-NY-B2", "F5") => Some(pts("3.5")),
        (REVIEW_PERIOD, "SH-WL-B1", "B3") => Some(level("good")),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Salt {
    SelfAssessment,
    Score,
}

/// A value for `item`: the unit's strength with some noise; a unit rates itself a little higher.
fn generate(
    def: &RubricDefinition,
    item: &Item,
    period: &PeriodId,
    unit: &UnitSpec,
    salt: Salt,
) -> ScoreValue {
    let (tag, lift) = match salt {
        Salt::SelfAssessment => ("self", 0.05),
        Salt::Score => ("score", 0.0),
    };
    let r = draw(&[period.as_str(), unit.id, item.code.as_str(), tag]);
    let quality = (unit.strength + lift + (r - 0.5) * 0.3).clamp(0.3, 1.0);
    match &item.kind {
        ItemKind::Points { max } => {
            let max = cents(*max);
            // Standards deduct in half points, so scores fall on half points.
            let half_points = (max as f64 * quality / 50.0).floor() as i64;
            ScoreValue::Points {
                points: Points::from_cents((half_points * 50).clamp(0, max)),
            }
        }
        ItemKind::Ladder { .. } => {
            let mut steps: Vec<_> = def.ladder.iter().collect();
            steps.sort_by_key(|s| std::cmp::Reverse(s.percent));
            let chosen = steps
                .iter()
                .find(|s| cents(s.percent) as f64 / 10_000.0 <= quality + 0.1)
                .or(steps.last())
                .map(|s| s.level.clone())
                .unwrap_or_else(|| id("good"));
            ScoreValue::Level { level: chosen }
        }
        ItemKind::Bonus { highest_only, .. } => {
            let awards = if *highest_only {
                match quality {
                    q if q >= 0.97 => vec![award("省国资委先进基层党组织", "1.5")],
                    q if q >= 0.9 => vec![award("市级五星党支部", "1")],
                    q if q >= 0.82 => vec![award("集团党建创新案例", "0.5")],
                    _ => vec![],
                }
            } else {
                match quality {
                    q if q >= 0.95 => vec![
                        award("党员突击队保障重点项目提前投产", "1.5"),
                        award("经营利润超目标5%", "1"),
                    ],
                    q if q >= 0.85 => vec![award("经营利润超目标", "1")],
                    q if q >= 0.75 => vec![award("党建+安全生产示范岗", "0.5")],
                    _ => vec![],
                }
            };
            ScoreValue::Awards { awards }
        }
        ItemKind::Deduction { .. } => ScoreValue::Cases { cases: 0 },
        ItemKind::Veto => ScoreValue::Veto { vetoed: false },
    }
}

fn award(title: &str, amount: &str) -> Award {
    Award {
        title: title.into(),
        points: points(amount),
    }
}

/// A note in the assessor's words: what was deducted, or the level given.
fn note(def: &RubricDefinition, item: &Item, value: &ScoreValue, prefix: &str) -> String {
    let text = match (&item.kind, value) {
        (ItemKind::Points { max }, ScoreValue::Points { points }) if points == max => {
            "对照评分标准, 不扣分 (meets the standard in full)".to_owned()
        }
        (ItemKind::Points { max }, ScoreValue::Points { points }) => {
            let lost = Points::from_cents(cents(*max) - cents(*points));
            format!("对照评分标准扣{lost}分 ({lost} deducted per the standard)")
        }
        (_, ScoreValue::Level { level }) => {
            let label = def
                .ladder
                .iter()
                .find(|s| &s.level == level)
                .map(|s| s.label.to_string())
                .unwrap_or_else(|| level.to_string());
            format!("评定等次: {label} (level given: {level})")
        }
        (_, ScoreValue::Awards { awards }) if awards.is_empty() => {
            "本期无加分事项 (no awards this period)".to_owned()
        }
        (_, ScoreValue::Awards { awards }) => {
            let titles: Vec<&str> = awards.iter().map(|a| a.title.as_str()).collect();
            format!("加分事项: {} (awards)", titles.join("、"))
        }
        (_, ScoreValue::Cases { cases: 0 }) => "本期无通报批评 (no cases this period)".to_owned(),
        (_, ScoreValue::Cases { cases }) => format!("通报批评{cases}起 ({cases} case(s))"),
        (_, ScoreValue::Veto { vetoed: false }) => "未发生否决事项 (no veto applies)".to_owned(),
        (_, ScoreValue::Veto { .. }) => "发生否决事项 (a veto applies)".to_owned(),
        _ => String::new(),
    };
    format!("{prefix}{text}")
}

/// Evidence references named after the item's first kind of supporting material.
fn evidence(period: &PeriodId, unit: &str, item: &Item) -> Vec<String> {
    let first = item
        .evidence
        .split(['、', '，', ',', '。', ';', '；'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("佐证材料");
    vec![format!("{period}/{unit}/{}/{first}.pdf", item.code)]
}

/// A number in [0, 1) determined by `parts` alone: SplitMix64 over an FNV-1a hash.
fn draw(parts: &[&str]) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut z = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    //! The demo builds against the real store, its count matches the progress bar, and its story
    //! holds: two periods, one published and one in review, one overdue rectification, one upheld and
    //! one dismissed appeal, and the period moved to the adjusted rubric.

    use ledger_projections::domain::AppealOutcome;

    use super::*;

    /// A demo built on an empty ledger executes exactly [`PLANNED_COMMANDS`] commands and leaves the
    /// state the module docs describe.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_tells_its_story() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        let before = Utc::now();
        let summary = create(&path, &ProgressBar::hidden()).await.unwrap();
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let ledger = Ledger::open(store.clone(), Clock::System).await.unwrap();
        assert_eq!(summary.commands, PLANNED_COMMANDS);
        assert_eq!(
            summary.tokens.len(),
            6,
            "one per role, the responsible person's too"
        );
        // The milestones are in order, each on a day of its own, and the history ends now.
        assert!(summary.milestones.windows(2).all(|w| w[0].date < w[1].date
            && w[0].recorded_at < w[1].recorded_at
            && w[0].position < w[1].position));
        let first = &summary.milestones[0];
        assert!(first.recorded_at < before - Duration::days(50), "{first:?}");
        let last = summary.milestones.last().unwrap();
        assert!(last.recorded_at >= before && last.recorded_at <= Utc::now());
        {
            let folded = ledger.folded();
            let state = &folded.state;
            let q3 = &state.periods[&id::<PeriodId>(PUBLISHED_PERIOD)];
            let q4 = &state.periods[&id::<PeriodId>(REVIEW_PERIOD)];
            assert_eq!((q3.stage, q4.stage), (Stage::Published, Stage::Review));
            assert_eq!((q3.rubric_version, q4.rubric_version), (1, 2));
            assert_eq!(
                state
                    .overdue_rectifications(crate::app::clock::business_date(Utc::now()))
                    .len(),
                1
            );
            let outcomes: Vec<_> = state
                .appeals
                .values()
                .filter_map(|a| a.outcome.as_ref().map(|o| o.0))
                .collect();
            assert!(outcomes.contains(&AppealOutcome::Upheld));
            assert!(outcomes.contains(&AppealOutcome::Dismissed));
            assert!(state.anomalies.is_empty());
            let v2 = state.period_definition(&id(REVIEW_PERIOD)).unwrap();
            for unit in UNITS {
                let q3_sheet = state.sheet(&id(PUBLISHED_PERIOD), &id(unit.id)).unwrap();
                assert!(q3_sheet.unapproved().is_empty(), "{}", unit.id);
                let q4_sheet = state.sheet(&id(REVIEW_PERIOD), &id(unit.id)).unwrap();
                assert!(q4_sheet.gaps(v2).is_empty(), "{}", unit.id);
                assert!(q4_sheet.business.is_some());
            }
        }
        store.close().await;
    }

    /// The same inputs give the same values: the generator depends on its parts only.
    #[test]
    fn values_are_deterministic_and_plausible() {
        let def = rubric::default_template();
        let period = id::<PeriodId>(PUBLISHED_PERIOD);
        for unit in UNITS {
            for item in items(&def) {
                let a = generate(&def, item, &period, unit, Salt::Score);
                let b = generate(&def, item, &period, unit, Salt::Score);
                assert_eq!(a, b);
                ledger_projections::scoring::check_value(&def, &item.code, &a).unwrap();
            }
        }
        assert_eq!(cents(points("2.5")), 250);
        assert_eq!(cents(points("3")), 300);
        assert_eq!(cents(points("0.05")), 5);
    }
}
