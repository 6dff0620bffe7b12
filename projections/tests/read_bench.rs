//! The read models on a large synthetic ledger: `apply` rate, memory, as-of latency, change-log
//! page latency. Ignored by default; run it on a release build:
//!
//! ```text
//! cargo test --release -p ledger-projections --test read_bench -- --ignored --nocapture
//! READ_BENCH_EVENTS=200000 cargo test --release -p ledger-projections --test read_bench -- --ignored --nocapture
//! ```
//!
//! A separate test binary because it installs a counting global allocator (memory is measured as
//! the bytes allocated while the model is built, the synthetic log itself excluded).
//!
//! The ledger: 200 units, 30 assessors, 5 reviewers, the default template; one period after another
//! (quarterly), each with every unit's self-assessment of 3 items, 33 scores, 2 corrections, item
//! reviews (one rejection and its re-scoring), the sheet's approval and business result, an appeal
//! for every tenth unit and a rectification (raised, submitted, verified) for every fifth; a rubric
//! adjustment moved into the running period every eighth period. Payloads are not rendered, so the
//! envelopes carry none.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ledger_projections::domain::{Meta, State};
use ledger_projections::read::{AsOf, ChangeFilter, DEFAULT_CHECKPOINT_EVERY, ReadModel, Scope};
use ledger_projections::rubric::default_template;
use ledger_schemas::envelope::{Actor, Envelope, Role};
use ledger_schemas::events::*;
use ledger_schemas::ids::*;
use ledger_schemas::integrity::Digest;
use ledger_schemas::rubric::{DualPolicy, RubricChange};
use ledger_schemas::values::*;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator unchanged; only a counter is kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the pointer came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

const UNITS: usize = 200;
const ITEMS: [&str; 33] = [
    "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "D1", "D2",
    "D3", "D4", "D5", "E1", "E2", "E3", "E4", "E5", "F1", "F2", "F3", "F4", "F5", "G1", "G2", "G3",
    "G4",
];

fn id<T: std::str::FromStr>(s: impl AsRef<str>) -> T
where
    T::Err: std::fmt::Debug,
{
    s.as_ref().parse().unwrap()
}

/// A value that fits item `code` of the default template.
fn value(code: &str, n: usize) -> ScoreValue {
    let def = default_template();
    let (_, item) = ledger_projections::rubric::find_item(&def, &id(code)).unwrap();
    use ledger_schemas::rubric::ItemKind;
    match &item.kind {
        ItemKind::Points { max } => {
            let cents = (max.decimal() * rust_decimal::Decimal::from(100))
                .trunc()
                .to_string()
                .parse::<i64>()
                .unwrap();
            ScoreValue::Points {
                points: Points::from_cents((n as i64 * 37) % (cents + 1)),
            }
        }
        ItemKind::Ladder { .. } => ScoreValue::Level {
            level: id(["good", "fairly_good", "average", "poor"][n % 4]),
        },
        ItemKind::Bonus { .. } => ScoreValue::Awards {
            awards: vec![Award {
                title: "表彰".into(),
                points: Points::from_int((n % 3) as i64),
            }],
        },
        ItemKind::Deduction { .. } => ScoreValue::Cases {
            cases: (n % 3) as u32,
        },
        ItemKind::Veto => ScoreValue::Veto { vetoed: false },
    }
}

struct Gen {
    template: Envelope,
    log: Vec<(Envelope, Event)>,
    clock: DateTime<Utc>,
    target: usize,
    values: Vec<Vec<ScoreValue>>,
}

impl Gen {
    fn push(&mut self, actor: &Actor, reason: Option<&str>, event: Event) {
        self.clock += chrono::Duration::milliseconds(500);
        let envelope = Envelope {
            position: self.log.len() as u64 + 1,
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            recorded_at: self.clock,
            actor: actor.clone(),
            reason: reason.map(str::to_owned),
            ..self.template.clone()
        };
        self.log.push((envelope, event));
    }

    fn full(&self) -> bool {
        self.log.len() >= self.target
    }
}

fn actor(person: &str, role: Role) -> Actor {
    Actor::new(id(person), role)
}

fn generate(target: usize) -> Vec<(Envelope, Event)> {
    let template: Envelope = serde_json::from_value(serde_json::json!({
        "event_id": "00000000-0000-7000-8000-000000000000",
        "stream": "", "revision": 0, "position": 0, "event_type": "", "schema_version": 1,
        "recorded_at": "2020-01-01T00:00:00Z",
        "actor": {"person": "system", "role": "system"}, "reason": null,
        "correlation_id": "00000000-0000-7000-8000-000000000000", "causation_id": null,
        "payload": "", "prev_hash": Digest::ZERO.to_hex(), "hash": Digest::ZERO.to_hex(),
    }))
    .unwrap();
    let values = ITEMS
        .iter()
        .map(|code| (0..16).map(|n| value(code, n)).collect())
        .collect();
    let mut g = Gen {
        template,
        log: Vec::with_capacity(target + 20_000),
        clock: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        target,
        values,
    };
    let admin = actor("admin", Role::Admin);
    let system = Actor::system();
    let units: Vec<UnitId> = (0..UNITS).map(|u| id(format!("U{u:04}"))).collect();
    g.push(
        &system,
        None,
        UnitRegistered {
            unit: id("HQ"),
            name: "总部".into(),
            kind: UnitKind::Company,
            parent: None,
        }
        .into(),
    );
    for u in &units {
        g.push(
            &system,
            None,
            UnitRegistered {
                unit: u.clone(),
                name: format!("支部 {u}"),
                kind: UnitKind::Branch,
                parent: Some(id("HQ")),
            }
            .into(),
        );
    }
    let mut people: Vec<(String, Role, Vec<UnitId>)> = vec![("admin".into(), Role::Admin, vec![])];
    for a in 0..30 {
        let covered = units.iter().skip(a).step_by(30).cloned().collect();
        people.push((format!("as{a:02}"), Role::Assessor, covered));
    }
    for r in 0..5 {
        people.push((format!("rv{r}"), Role::Reviewer, vec![]));
    }
    for (u, unit) in units.iter().enumerate() {
        people.push((format!("sec{u:04}"), Role::Unit, vec![unit.clone()]));
    }
    for (p, _, _) in ledger_projections::rubric::DEFAULT_TEMPLATE_PEOPLE
        .iter()
        .map(|(p, zh, en)| (p.to_string(), zh, en))
    {
        people.push((p, Role::Auditor, vec![]));
    }
    for (person, role, covered) in &people {
        g.push(
            &system,
            None,
            PersonRegistered {
                person: id(person),
                name: format!("人员 {person}"),
                unit: None,
            }
            .into(),
        );
        g.push(
            &system,
            None,
            AccessGranted {
                person: id(person),
                role: *role,
                units: covered.clone(),
            }
            .into(),
        );
    }
    let rubric: RubricId = id("DT");
    g.push(
        &admin,
        None,
        RubricDefined {
            rubric: rubric.clone(),
            definition: default_template(),
        }
        .into(),
    );
    let mut version = 1u32;
    let mut n = 0usize;
    // What each unit's items hold now (index into `values`), so that corrections name it.
    let mut held = vec![[0usize; 33]; UNITS];
    for k in 0.. {
        if g.full() {
            break;
        }
        let period: PeriodId = id(format!("P{k:03}"));
        let year = 2020 + (k / 4) as i32;
        let month = 1 + 3 * (k % 4) as u32;
        g.push(
            &admin,
            None,
            PeriodOpened {
                period: period.clone(),
                name: format!("第 {k} 期"),
                cadence: Cadence::Quarterly,
                starts_on: NaiveDate::from_ymd_opt(year, month, 1).unwrap(),
                ends_on: NaiveDate::from_ymd_opt(year, month + 2, 28).unwrap(),
                rubric: rubric.clone(),
                rubric_version: version,
                units: units.clone(),
            }
            .into(),
        );
        let stage = |g: &mut Gen, from, to| {
            g.push(
                &admin,
                None,
                PeriodStageChanged {
                    period: period.clone(),
                    from,
                    to,
                }
                .into(),
            )
        };
        stage(&mut g, Stage::Opened, Stage::SelfAssessment);
        for (u, unit) in units.iter().enumerate() {
            let sec = actor(&format!("sec{u:04}"), Role::Unit);
            for i in [1, 5, 20] {
                g.push(
                    &sec,
                    None,
                    SelfAssessmentRecorded {
                        files: Vec::new(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id(ITEMS[i]),
                        value: g.values[i][(u + k) % 16].clone(),
                        note: String::new(),
                        evidence: vec![],
                    }
                    .into(),
                );
            }
        }
        stage(&mut g, Stage::SelfAssessment, Stage::Scoring);
        if k % 8 == 7 {
            // An adjustment moved into the running period.
            g.push(
                &admin,
                Some("动态调整"),
                RubricAdjusted {
                    rubric: rubric.clone(),
                    from_version: version,
                    version: version + 1,
                    changes: vec![RubricChange::ChangeDualPolicy {
                        dual_policy: DualPolicy::PointsShare {
                            party_percent: Points::from_int(if version % 2 == 1 { 40 } else { 30 }),
                        },
                    }],
                    approver: id("rv0"),
                }
                .into(),
            );
            g.push(
                &admin,
                Some("执行新版细则"),
                PeriodRubricChanged {
                    period: period.clone(),
                    from_version: version,
                    to_version: version + 1,
                }
                .into(),
            );
            version += 1;
        }
        for (u, unit) in units.iter().enumerate() {
            let assessor = actor(&format!("as{:02}", u % 30), Role::Assessor);
            for (i, code) in ITEMS.iter().enumerate() {
                n += 1;
                held[u][i] = n % 16;
                g.push(
                    &assessor,
                    None,
                    ScoreRecorded {
                        files: Vec::new(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id(code),
                        value: g.values[i][n % 16].clone(),
                        note: String::new(),
                        evidence: vec![format!("evidence/{period}/{unit}/{code}.pdf")],
                        source: ScoreSource::Manual,
                        file_sha256: None,
                    }
                    .into(),
                );
            }
            for i in [2, 14] {
                let previous = g.values[i][held[u][i]].clone();
                held[u][i] = (held[u][i] + 3) % 16;
                g.push(
                    &assessor,
                    Some("更正 correction"),
                    ScoreCorrected {
                        files: Vec::new(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id(ITEMS[i]),
                        previous,
                        value: g.values[i][held[u][i]].clone(),
                        note: String::new(),
                        evidence: vec![],
                        source: ScoreSource::Manual,
                        appeal: None,
                        file_sha256: None,
                    }
                    .into(),
                );
            }
            g.push(
                &assessor,
                None,
                BusinessResultRecorded {
                    period: period.clone(),
                    unit: unit.clone(),
                    score: Points::from_cents(6_000 + ((u * 137 + k * 11) % 4_000) as i64),
                    vetoed: false,
                    source: "责任书".into(),
                    file_sha256: None,
                }
                .into(),
            );
        }
        stage(&mut g, Stage::Scoring, Stage::Review);
        for (u, unit) in units.iter().enumerate() {
            let reviewer = actor(&format!("rv{}", u % 5), Role::Reviewer);
            g.push(
                &reviewer,
                None,
                ItemReviewed {
                    period: period.clone(),
                    unit: unit.clone(),
                    item: id("B3"),
                    decision: ReviewDecision::Rejected,
                    comment: "依据不足".into(),
                }
                .into(),
            );
            let assessor = actor(&format!("as{:02}", u % 30), Role::Assessor);
            g.push(
                &assessor,
                Some("按审核意见重评"),
                ScoreCorrected {
                    files: Vec::new(),
                    period: period.clone(),
                    unit: unit.clone(),
                    item: id("B3"),
                    previous: g.values[6][held[u][6]].clone(),
                    value: g.values[6][(held[u][6] + 1) % 16].clone(),
                    note: String::new(),
                    evidence: vec![],
                    source: ScoreSource::Manual,
                    appeal: None,
                    file_sha256: None,
                }
                .into(),
            );
            g.push(
                &reviewer,
                None,
                SheetReviewed {
                    period: period.clone(),
                    unit: unit.clone(),
                    decision: ReviewDecision::Approved,
                    comment: String::new(),
                }
                .into(),
            );
        }
        stage(&mut g, Stage::Review, Stage::Published);
        for (u, unit) in units.iter().enumerate() {
            let sec = actor(&format!("sec{u:04}"), Role::Unit);
            if u % 10 == 0 {
                let appeal: AppealId = id(format!("AP-{period}-{u}"));
                g.push(
                    &sec,
                    None,
                    AppealFiled {
                        files: Vec::new(),
                        appeal: appeal.clone(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: Some(id("A2")),
                        grounds: "理由".into(),
                        evidence: vec![],
                    }
                    .into(),
                );
                g.push(
                    &actor("rv1", Role::Reviewer),
                    Some("不成立"),
                    AppealDismissed {
                        appeal,
                        decision: "不成立".into(),
                    }
                    .into(),
                );
            }
            if u % 5 == 0 {
                let r: RectificationId = id(format!("RC-{period}-{u}"));
                g.push(
                    &actor("rv2", Role::Reviewer),
                    None,
                    RectificationRaised {
                        rectification: r.clone(),
                        period: period.clone(),
                        unit: unit.clone(),
                        item: id("F5"),
                        responsible: id("discipline-committee"),
                        due_on: NaiveDate::from_ymd_opt(year, month + 2, 28).unwrap(),
                        finding: "问题".into(),
                        origin: RectificationOrigin::Deduction,
                    }
                    .into(),
                );
                g.push(
                    &sec,
                    None,
                    RectificationSubmitted {
                        files: Vec::new(),
                        rectification: r.clone(),
                        note: String::new(),
                        evidence: vec!["fix.pdf".into()],
                    }
                    .into(),
                );
                g.push(
                    &actor("rv3", Role::Reviewer),
                    None,
                    RectificationVerified {
                        rectification: r,
                        comment: String::new(),
                    }
                    .into(),
                );
            }
        }
    }
    g.log
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Measures and prints the figures (an ignored test: it proves nothing by itself, it measures).
#[test]
#[ignore = "a benchmark: run on a release build with --ignored --nocapture"]
fn read_models_on_a_large_ledger() {
    let target: usize = std::env::var("READ_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let log = generate(target);
    let events = log.len();
    eprintln!(
        "synthetic ledger: {events} events ({} build)",
        if cfg!(debug_assertions) {
            "DEBUG"
        } else {
            "release"
        }
    );

    // Baseline: the domain fold alone (State::evolve with Meta::from_envelope); the best of two
    // rounds, the first of which also warms the allocator up.
    let mut fold = Duration::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        let mut state = State::default();
        for (e, ev) in &log {
            state.evolve(&Meta::from_envelope(e), ev);
        }
        fold = fold.min(started.elapsed());
        drop(state);
    }

    for every in [0, DEFAULT_CHECKPOINT_EVERY] {
        let before = live();
        let started = Instant::now();
        let mut model = ReadModel::with_checkpoints_every(every);
        for (e, ev) in &log {
            model.apply(e, ev).unwrap();
        }
        let elapsed = started.elapsed();
        let bytes = live() - before;
        let report = model.memory();
        let state = model.state();
        eprintln!(
            "state: {} periods, {} sheets, {} scores, {} streams",
            state.periods.len(),
            state.sheets.len(),
            state.sheets.values().map(|s| s.scores.len()).sum::<usize>(),
            state.revisions.len()
        );
        eprintln!(
            "apply, checkpoints every {every}: {:.0} events/s ({} for {events}); domain fold alone {:.0} events/s (ratio {:.2}); \
             memory {} = {:.0} bytes/event (change log {} = {:.1} bytes/event; {} checkpoints)",
            events as f64 / elapsed.as_secs_f64(),
            ms(elapsed),
            events as f64 / fold.as_secs_f64(),
            elapsed.as_secs_f64() / fold.as_secs_f64(),
            mib(bytes),
            bytes as f64 / events as f64,
            mib(report.change_log_bytes),
            report.change_log_bytes as f64 / events as f64,
            report.checkpoints,
        );
        if every == 0 {
            continue;
        }

        // As-of queries at pseudo-random positions: plan, fold the tail, standings of the period
        // then running, a page of the change log, one person's accountability.
        let mut x: u64 = 12_345;
        let mut latencies = Vec::new();
        let mut parts = [Duration::ZERO; 4];
        let mut folded = 0;
        let today = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        for _ in 0..300 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let p = 1 + (x >> 33) % events as u64;
            let started = Instant::now();
            let plan = model.plan(AsOf::Position(p));
            let tail = log[plan.base as usize..plan.position as usize]
                .iter()
                .map(|(e, ev)| (e, ev));
            let view = model.view_as_of(&plan, tail).unwrap();
            let t1 = Instant::now();
            let period = view.periods().pop();
            let standings = period.as_ref().and_then(|p| view.standings(p));
            let t2 = Instant::now();
            let page = view.changes(&ChangeFilter::default(), None, 50);
            let t3 = Instant::now();
            let duty = match &period {
                Some(p) => {
                    view.accountability(&id("discipline-committee"), today, &Scope::period(p))
                }
                None => view.accountability(&id("discipline-committee"), today, &Scope::all()),
            };
            let t4 = Instant::now();
            latencies.push(t4 - started);
            for (part, d) in parts
                .iter_mut()
                .zip([t1 - started, t2 - t1, t3 - t2, t4 - t3])
            {
                *part += d;
            }
            folded += plan.events;
            assert!(standings.is_some() || period.is_none());
            assert!(!page.positions.is_empty());
            std::hint::black_box((standings, duty));
        }
        latencies.sort();
        eprintln!(
            "as-of (plan + fold ≤ {every} events + standings of the last period + a page + accountability in that period), 300 queries: \
             p50 {}, p99 {}, max {}; {:.0} events folded on average; mean parts: fold {}, standings {}, page {}, accountability {}",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            ms(*latencies.last().unwrap()),
            folded as f64 / 300.0,
            ms(parts[0] / 300),
            ms(parts[1] / 300),
            ms(parts[2] / 300),
            ms(parts[3] / 300),
        );

        // Change-log pages: newest first, unfiltered and with filters that scan far.
        let view = model.view();
        for (name, filter) in [
            ("no filter", ChangeFilter::default()),
            (
                "one unit, corrections",
                ChangeFilter {
                    unit: Some(id("U0042")),
                    kinds: vec![ledger_projections::read::ChangeKind::ScoreCorrected],
                    ..Default::default()
                },
            ),
            (
                "one sheet",
                ChangeFilter {
                    period: Some(id("P003")),
                    unit: Some(id("U0042")),
                    ..Default::default()
                },
            ),
            (
                "rubric adjustments (rare: scans the whole log)",
                ChangeFilter {
                    kinds: vec![ledger_projections::read::ChangeKind::RubricAdjusted],
                    ..Default::default()
                },
            ),
            (
                "an aspect in one unit",
                ChangeFilter {
                    unit: Some(id("U0007")),
                    aspect: Some(id("F")),
                    ..Default::default()
                },
            ),
        ] {
            let started = Instant::now();
            let page = view.changes(&filter, None, 50);
            eprintln!(
                "change log page of 50, {name}: {} ({} found)",
                ms(started.elapsed()),
                page.positions.len()
            );
        }
    }
}
