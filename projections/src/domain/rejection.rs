//! Why a command is refused: one variant per rule, each saying in the user's terms (zh-CN first, then
//! English) what was wrong and the values that matter (the current stage, the current revision, the
//! value on record, ...).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use ledger_schemas::envelope::Role;
use ledger_schemas::events::RectificationOrigin;
use ledger_schemas::ids::{
    AppealId, ItemCode, PeriodId, PersonId, RectificationId, RubricId, TokenId, UnitId,
};
use ledger_schemas::text::TextRefusal;
use ledger_schemas::values::{Points, ReviewDecision, ScoreValue, Stage};

use super::state::{AppealOutcome, RectificationStatus};
use crate::rubric::RubricRejection;
use crate::scoring::ValueRejection;

/// The items of one unit's sheet that hold something up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetGap {
    pub unit: UnitId,
    pub items: Vec<ItemCode>,
}

impl fmt::Display for SheetGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<&str> = self.items.iter().map(ItemCode::as_str).collect();
        write!(f, "{}: {}", self.unit, items.join(", "))
    }
}

/// A command refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    // ---- who may do it ----
    #[error("{} 不能执行“{command}”, 可执行的角色: {} (role {role} may not {command}; allowed: {})", zh(.role.label()), roles(.allowed, true), roles(.allowed, false))]
    RoleNotAllowed {
        role: Role,
        command: &'static str,
        allowed: &'static [Role],
    },
    #[error("{person} 未被授予{}角色 ({person} does not hold the role {role})", zh(.role.label()))]
    RoleNotHeld { person: PersonId, role: Role },
    #[error(
        "考评员 {person} 未被分配考评单位 {unit} (assessor {person} is not assigned to unit {unit})"
    )]
    NotAssignedToUnit { person: PersonId, unit: UnitId },
    #[error(
        "{person} 只能代表自己的单位操作, 不能代表单位 {unit} ({person} acts only for its own units, not for {unit})"
    )]
    NotYourUnit { person: PersonId, unit: UnitId },
    #[error(
        "整改 {rectification} 只能由单位 {unit} 或责任人 {responsible} 提交, 不能由 {person} 提交 (only unit {unit} or the responsible person {responsible} may submit rectification {rectification}, not {person})"
    )]
    NotYourRectification {
        rectification: RectificationId,
        unit: UnitId,
        responsible: PersonId,
        person: PersonId,
    },

    // ---- the ledger itself ----
    #[error(
        "未知的时区“{zone}”, 可选: {known} (unknown time zone {zone:?}; the business clock knows: {known})"
    )]
    UnknownZone { zone: String, known: String },
    #[error(
        "账本已有 {events} 个事件, 不能再设定业务时区 (已记录的时间与日期都按原时区读写); 请在新建账本时选择时区 (the ledger already holds {events} events: its business zone can only be chosen when it is created, since every time already typed and every due date already judged was read in the zone it had)"
    )]
    ZoneAfterEvents { events: u64 },

    // ---- what every command needs ----
    #[error("“{command}”必须说明理由 ({command} must carry a reason)")]
    ReasonRequired { command: &'static str },
    #[error("{field}不能为空 ({field} must not be empty)")]
    Missing { field: &'static str },
    /// A text that breaks its rule (`ledger_schemas::text`): too long, a control or bidirectional
    /// formatting character. Checked on every event decided, whichever way the command came.
    #[error(transparent)]
    Text(#[from] TextRefusal),
    #[error("流 {stream} 已更新: 期望版本 {expected}, 当前版本为 {}; 请重新读取后再操作 (stream {stream} has moved on: expected revision {expected}, it is at {}; re-read and retry)", revision(.current), revision(.current))]
    StaleRevision {
        stream: String,
        expected: u64,
        current: Option<u64>,
    },

    // ---- units and people ----
    #[error("单位 {unit} 已存在 (unit {unit} already exists)")]
    UnitExists { unit: UnitId },
    #[error("没有单位 {unit} (there is no unit {unit})")]
    UnknownUnit { unit: UnitId },
    #[error(
        "不能把 {parent} 设为 {unit} 的上级: {parent} 就是 {unit} 或在其之下, 会形成循环 (unit {parent} is {unit} itself or below it, so it cannot be its parent: the hierarchy would have a cycle)"
    )]
    HierarchyCycle { unit: UnitId, parent: UnitId },
    #[error("人员 {person} 已存在 (person {person} already exists)")]
    PersonExists { person: PersonId },
    #[error("没有人员 {person} (there is no person {person})")]
    UnknownPerson { person: PersonId },

    // ---- access and tokens ----
    #[error(
        "系统角色不能授予, 也不能为其签发令牌 (the system role cannot be granted, nor a token issued for it)"
    )]
    SystemRoleReserved,
    #[error("{}角色必须指定其覆盖的单位 (the role {role} must name the units it covers)", zh(.role.label()))]
    UnitsRequired { role: Role },
    #[error("{}角色不按单位划分, 不能指定单位 (the role {role} is not scoped by unit; name no units)", zh(.role.label()))]
    UnitsNotApplicable { role: Role },
    #[error("{person} 已持有{}角色且覆盖单位相同 ({person} already holds the role {role} with these units)", zh(.role.label()))]
    AlreadyGranted { person: PersonId, role: Role },
    #[error("{person} 未持有{}角色 ({person} does not hold the role {role})", zh(.role.label()))]
    NotGranted { person: PersonId, role: Role },
    #[error("令牌 {token} 已存在 (token {token} already exists)")]
    TokenExists { token: TokenId },
    #[error("没有令牌 {token} (there is no token {token})")]
    UnknownToken { token: TokenId },
    #[error("令牌 {token} 已被吊销 (token {token} is already revoked)")]
    TokenAlreadyRevoked { token: TokenId },
    #[error(
        "令牌有效期 {expires_at} 早于当前时间 {now} (the expiry {expires_at} is not after now, {now})"
    )]
    ExpiryInPast {
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },

    // ---- rubrics ----
    #[error("考评细则 {rubric} 已存在 (rubric {rubric} already exists)")]
    RubricExists { rubric: RubricId },
    #[error("没有考评细则 {rubric} (there is no rubric {rubric})")]
    UnknownRubric { rubric: RubricId },
    #[error(
        "考评细则 {rubric} 没有第 {version} 版, 最新为第 {latest} 版 (rubric {rubric} has no version {version}; the latest is {latest})"
    )]
    UnknownRubricVersion {
        rubric: RubricId,
        version: u32,
        latest: u32,
    },
    #[error(
        "只能在最新版本上调整: 考评细则 {rubric} 最新为第 {latest} 版, 而调整基于第 {from_version} 版 (adjust the latest version: rubric {rubric} is at version {latest}, the adjustment starts from version {from_version})"
    )]
    StaleRubricVersion {
        rubric: RubricId,
        from_version: u32,
        latest: u32,
    },
    #[error(
        "对考评细则 {rubric} 的调整没有任何变更 (the adjustment of rubric {rubric} changes nothing)"
    )]
    NoChanges { rubric: RubricId },
    #[error(transparent)]
    Rubric(#[from] RubricRejection),

    // ---- periods ----
    #[error("考核周期 {period} 已存在 (period {period} already exists)")]
    PeriodExists { period: PeriodId },
    #[error("没有考核周期 {period} (there is no period {period})")]
    UnknownPeriod { period: PeriodId },
    #[error(
        "结束日期 {ends_on} 早于开始日期 {starts_on} (the period ends on {ends_on}, before it starts on {starts_on})"
    )]
    DatesReversed {
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error("单位 {unit} 重复列出 (unit {unit} is listed twice)")]
    DuplicateUnit { unit: UnitId },
    #[error("考核周期 {period} 当前为{}阶段, 只能进入下一阶段{}, 不能进入{} (period {period} is in stage {}; it can only move on to {}, not to {})", zh(.current.label()), zh(.next.label()), zh(.requested.label()), en(.current.label()), en(.next.label()), en(.requested.label()))]
    StageNotNext {
        period: PeriodId,
        current: Stage,
        requested: Stage,
        next: Stage,
    },
    #[error(
        "考核周期 {period} 已公示, 已冻结: 只有支持申诉或明确说明理由的重新开启才能更改 (period {period} is published and frozen: only an upheld appeal or an explicit, reasoned reopening changes it)"
    )]
    PeriodFrozen { period: PeriodId },
    #[error("只有已公示的考核周期才能重新开启, 考核周期 {period} 当前为{}阶段 (only a published period can be reopened; period {period} is in stage {})", zh(.current.label()), en(.current.label()))]
    NotPublished { period: PeriodId, current: Stage },
    #[error("重新开启只能回到评分或审核阶段, 不能回到{} (a reopened period goes back to scoring or review, not to {})", zh(.requested.label()), en(.requested.label()))]
    ReopenTarget { requested: Stage },
    #[error(
        "考核周期 {period} 使用第 {current} 版细则, 只能更换为更新的版本, 不能更换为第 {requested} 版 (period {period} uses version {current}; it can only move to a newer version, not to {requested})"
    )]
    NotNewerVersion {
        period: PeriodId,
        current: u32,
        requested: u32,
    },
    #[error("考核周期 {period} 的评分表尚未完成 (未评分或需重新评分的子项目) — {} (period {period} has incomplete sheets, items unscored or awaiting re-scoring: {})", list(.gaps), list(.gaps))]
    SheetsIncomplete {
        period: PeriodId,
        gaps: Vec<SheetGap>,
    },
    #[error("考核周期 {period} 尚有未审核通过的子项目 — {} (period {period} has items not approved yet: {})", list(.gaps), list(.gaps))]
    SheetsNotApproved {
        period: PeriodId,
        gaps: Vec<SheetGap>,
    },
    #[error("考核周期 {period} 当前为{}阶段, 此操作只能在{}阶段进行 (period {period} is in stage {}; this can only be done in {})", zh(.current.label()), stages(.allowed, true), en(.current.label()), stages(.allowed, false))]
    WrongStage {
        period: PeriodId,
        current: Stage,
        allowed: &'static [Stage],
    },
    #[error(
        "单位 {unit} 不在考核周期 {period} 中 (unit {unit} is not assessed in period {period})"
    )]
    UnitNotInPeriod { period: PeriodId, unit: UnitId },

    // ---- scores ----
    #[error(transparent)]
    Value(#[from] ValueRejection),
    #[error("子项目 {item} 已有得分 {}; 如需更改请提交更正 (item {item} is already scored {}; change it with a correction)", show_value(.value, true), show_value(.value, false))]
    AlreadyScored { item: ItemCode, value: ScoreValue },
    #[error("子项目 {item} 尚无得分 (item {item} has no score)")]
    NotScored { item: ItemCode },
    #[error("更正须指明被替换的现值: 子项目 {item} 的现值为 {}, 而不是 {} (a correction names the value it replaces: item {item} is on record as {}, not {})", show_value(.on_record, true), show_value(.named, true), show_value(.on_record, false), show_value(.named, false))]
    StaleValue {
        item: ItemCode,
        named: ScoreValue,
        on_record: ScoreValue,
    },
    #[error("子项目 {item} 的现值已是 {}, 无需更正 (item {item} already has the value {}; nothing to correct)", show_value(.value, true), show_value(.value, false))]
    NothingToCorrect { item: ItemCode, value: ScoreValue },
    #[error(
        "来源“申诉”只能由支持申诉产生 (the source appeal is recorded only by upholding an appeal)"
    )]
    AppealSourceReserved,
    #[error(
        "子项目 {item} 已审核通过, 审核阶段不能更改; 须先由审核人退回 (item {item} is approved and cannot change in review; a reviewer must reject it first)"
    )]
    ItemApproved { item: ItemCode },
    #[error("职责分离: {person} 录入或更正过子项目 {}, 不能审核通过 (separation of duties: {person} recorded or corrected {} and may not approve it)", list(.items), list(.items))]
    SelfApproval {
        person: PersonId,
        items: Vec<ItemCode>,
    },
    #[error("子项目 {item} 已是{}状态 (item {item} is already {})", show_decision(.decision), show_decision(.decision))]
    AlreadyReviewed {
        item: ItemCode,
        decision: ReviewDecision,
    },
    #[error(
        "子项目 {item} 的得分需按现行细则重新评分, 不能审核通过: {why} (item {item} awaits re-scoring under the current rubric and cannot be approved)"
    )]
    NeedsRescoring { item: ItemCode, why: ValueRejection },
    #[error("经营业绩得分 {score} 超出 [0, 100] (the business score {score} is outside [0, 100])")]
    BusinessScoreOutOfRange { score: Points },

    // ---- appeals ----
    #[error("申诉 {appeal} 已存在 (appeal {appeal} already exists)")]
    AppealExists { appeal: AppealId },
    #[error("没有申诉 {appeal} (there is no appeal {appeal})")]
    UnknownAppeal { appeal: AppealId },
    #[error("同一内容已有未决申诉 {appeal} (appeal {appeal} on the same score is still pending)")]
    AppealPending { appeal: AppealId },
    #[error("申诉 {appeal} 已有决定: {} (appeal {appeal} is already decided: {})", zh(.outcome.label()), en(.outcome.label()))]
    AppealDecided {
        appeal: AppealId,
        outcome: AppealOutcome,
    },
    #[error(
        "申诉 {appeal} 针对子项目 {item}, 支持申诉须给出修订后的得分 (appeal {appeal} is against item {item}; upholding it needs the revised score)"
    )]
    RevisionRequired { appeal: AppealId, item: ItemCode },
    #[error(
        "申诉 {appeal} 针对子项目 {appealed}, 不能修订子项目 {revised} (appeal {appeal} is against item {appealed}, not {revised})"
    )]
    RevisionItemMismatch {
        appeal: AppealId,
        appealed: ItemCode,
        revised: ItemCode,
    },

    // ---- closed loop ----
    #[error("整改 {rectification} 已存在 (rectification {rectification} already exists)")]
    RectificationExists { rectification: RectificationId },
    #[error("没有整改 {rectification} (there is no rectification {rectification})")]
    UnknownRectification { rectification: RectificationId },
    #[error("子项目 {item} 没有{}, 不能据此下达整改 (item {item} has no {} to raise a rectification from)", finding(.origin, true), finding(.origin, false))]
    NoFinding {
        item: ItemCode,
        origin: RectificationOrigin,
    },
    #[error("整改期限 {due_on} 早于今天 {today} (the due date {due_on} is before today, {today})")]
    DueDateInPast { due_on: NaiveDate, today: NaiveDate },
    #[error("整改 {rectification} 当前为{}, 不能提交 (rectification {rectification} is {}; it cannot be submitted)", zh(.status.label()), en(.status.label()))]
    RectificationNotOpen {
        rectification: RectificationId,
        status: RectificationStatus,
    },
    #[error("整改 {rectification} 当前为{}, 尚无待验证的提交 (rectification {rectification} is {}; there is no submission to verify)", zh(.status.label()), en(.status.label()))]
    RectificationNotSubmitted {
        rectification: RectificationId,
        status: RectificationStatus,
    },
    #[error(
        "职责分离: {person} 提交了整改 {rectification}, 不能自行验证 (separation of duties: {person} submitted rectification {rectification} and may not verify it)"
    )]
    OwnSubmission {
        rectification: RectificationId,
        person: PersonId,
    },
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The Chinese half of a bilingual label "中文 English" (or the English half): each half of a
/// message speaks one language.
fn zh(label: &'static str) -> &'static str {
    label.split_once(' ').map_or(label, |(zh, _)| zh)
}

fn en(label: &'static str) -> &'static str {
    label.split_once(' ').map_or(label, |(_, en)| en)
}

fn half(label: &'static str, chinese: bool) -> &'static str {
    if chinese { zh(label) } else { en(label) }
}

fn roles(roles: &[Role], chinese: bool) -> String {
    roles
        .iter()
        .map(|r| half(r.label(), chinese))
        .collect::<Vec<_>>()
        .join(", ")
}

fn stages(stages: &[Stage], chinese: bool) -> String {
    stages
        .iter()
        .map(|s| half(s.label(), chinese))
        .collect::<Vec<_>>()
        .join(", ")
}

fn revision(current: &Option<u64>) -> String {
    match current {
        Some(r) => r.to_string(),
        None => "无 (none)".to_owned(),
    }
}

fn show_decision(decision: &ReviewDecision) -> &'static str {
    match decision {
        ReviewDecision::Approved => "审核通过 approved",
        ReviewDecision::Rejected => "审核退回 rejected",
    }
}

fn finding(origin: &RectificationOrigin, chinese: bool) -> &'static str {
    half(
        match origin {
            RectificationOrigin::Deduction => "扣分 deduction",
            RectificationOrigin::Review => "审核退回 rejected review",
        },
        chinese,
    )
}

/// A score value as people read it, in one language: `2.5 分` or `2.5 points`, `等级 good` or
/// `level good` (the level's code: the rubric's label is not at hand here), ...
pub fn show_value(value: &ScoreValue, chinese: bool) -> String {
    let t = |zh: &'static str, en: &'static str| if chinese { zh } else { en };
    match value {
        ScoreValue::Points { points } => format!("{points} {}", t("分", "points")),
        ScoreValue::Level { level } => format!("{} {level}", t("等级", "level")),
        ScoreValue::Awards { awards } => {
            let shown: Vec<String> = awards
                .iter()
                .map(|a| format!("{} +{}", a.title, a.points))
                .collect();
            format!("{} [{}]", t("加分", "awards"), shown.join(", "))
        }
        ScoreValue::Cases { cases } => format!("{cases} {}", t("起", "cases")),
        ScoreValue::Veto { vetoed: true } => t("否决", "vetoed").to_owned(),
        ScoreValue::Veto { vetoed: false } => t("未否决", "not vetoed").to_owned(),
    }
}
