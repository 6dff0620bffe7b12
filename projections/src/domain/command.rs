//! What a person (or the ledger itself) asks the ledger to record, and the context it asks in.
//!
//! Commands carry ids chosen by the caller and every value the events will hold; the acting person
//! and the clock come in the [`Context`]. Commands on a sheet or a period may carry the
//! `expected_revision` of that stream the caller last saw: a stale one is refused with the current
//! revision, so two people never overwrite each other unknowingly.

use chrono::{DateTime, NaiveDate, Utc};
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::events::RectificationOrigin;
use ledger_schemas::ids::{
    AppealId, ItemCode, PeriodId, PersonId, RectificationId, RubricId, TokenId, UnitId,
};
use ledger_schemas::integrity::Digest;
use ledger_schemas::rubric::{RubricChange, RubricDefinition};
use ledger_schemas::values::{
    Cadence, EvidenceFile, Points, ReviewDecision, ScoreSource, ScoreValue, Stage, UnitKind,
};

/// Who asks, and when. Nothing inside `decide` reads a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub actor: Actor,
    pub now: DateTime<Utc>,
    /// The ledger's calendar day (for due dates and overdue rectifications).
    pub today: NaiveDate,
    /// The SHA-256 (lowercase hex) of the file the command was read from (`ledger import`): how it
    /// arrived, like the actor. Score events with the source `import`, and business results,
    /// record it.
    pub file_sha256: Option<String>,
}

/// The revised score an upheld appeal records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub item: ItemCode,
    pub value: ScoreValue,
    pub note: String,
    pub evidence: Vec<String>,
}

/// Every command the ledger decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    // ---- the ledger itself ----
    /// Records the ledger's business zone (an IANA name of `ledger_schemas::zone::ZONES`): only as
    /// the ledger's first event.
    SetBusinessZone {
        zone: String,
    },
    // ---- units, people, access ----
    RegisterUnit {
        unit: UnitId,
        name: String,
        kind: UnitKind,
        parent: Option<UnitId>,
    },
    UpdateUnit {
        unit: UnitId,
        name: String,
        parent: Option<UnitId>,
        reason: Option<String>,
    },
    RegisterPerson {
        person: PersonId,
        name: String,
        unit: Option<UnitId>,
    },
    /// Grants a role, or changes the units an already granted role covers.
    GrantAccess {
        person: PersonId,
        role: Role,
        units: Vec<UnitId>,
        reason: Option<String>,
    },
    RevokeAccess {
        person: PersonId,
        role: Role,
        reason: Option<String>,
    },
    /// Issues a token; the secret itself never reaches the ledger, only its SHA-256.
    IssueToken {
        token: TokenId,
        person: PersonId,
        role: Role,
        secret_sha256: Digest,
        expires_at: Option<DateTime<Utc>>,
    },
    RevokeToken {
        token: TokenId,
        reason: Option<String>,
    },

    // ---- rubrics ----
    DefineRubric {
        rubric: RubricId,
        definition: RubricDefinition,
    },
    /// Adjusts the latest version (动态调整) into a new one.
    AdjustRubric {
        rubric: RubricId,
        from_version: u32,
        changes: Vec<RubricChange>,
        approver: PersonId,
        reason: String,
    },

    // ---- periods ----
    OpenPeriod {
        period: PeriodId,
        name: String,
        cadence: Cadence,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        rubric: RubricId,
        rubric_version: u32,
        units: Vec<UnitId>,
    },
    /// Moves a period one stage forwards.
    AdvanceStage {
        period: PeriodId,
        to: Stage,
        expected_revision: Option<u64>,
    },
    /// Reopens a published period, back to scoring or review.
    ReopenPeriod {
        period: PeriodId,
        to: Stage,
        reason: String,
        expected_revision: Option<u64>,
    },
    /// Moves a running period to a newer version of its rubric.
    MovePeriodRubric {
        period: PeriodId,
        to_version: u32,
        reason: String,
        expected_revision: Option<u64>,
    },

    // ---- sheets ----
    RecordSelfAssessment {
        period: PeriodId,
        unit: UnitId,
        item: ItemCode,
        value: ScoreValue,
        note: String,
        evidence: Vec<String>,
        /// Evidence files cited, already stored and described by the upload (see `EvidenceFile`).
        files: Vec<EvidenceFile>,
        expected_revision: Option<u64>,
    },
    RecordScore {
        period: PeriodId,
        unit: UnitId,
        item: ItemCode,
        value: ScoreValue,
        note: String,
        evidence: Vec<String>,
        /// Evidence files cited, already stored and described by the upload (see `EvidenceFile`).
        files: Vec<EvidenceFile>,
        source: ScoreSource,
        expected_revision: Option<u64>,
    },
    /// Replaces the current value of a score, which it must name.
    CorrectScore {
        period: PeriodId,
        unit: UnitId,
        item: ItemCode,
        previous: ScoreValue,
        value: ScoreValue,
        note: String,
        evidence: Vec<String>,
        /// Evidence files cited, already stored and described by the upload (see `EvidenceFile`).
        files: Vec<EvidenceFile>,
        source: ScoreSource,
        reason: String,
        expected_revision: Option<u64>,
    },
    ReviewItem {
        period: PeriodId,
        unit: UnitId,
        item: ItemCode,
        decision: ReviewDecision,
        comment: String,
        expected_revision: Option<u64>,
    },
    ReviewSheet {
        period: PeriodId,
        unit: UnitId,
        decision: ReviewDecision,
        comment: String,
        expected_revision: Option<u64>,
    },
    RecordBusinessResult {
        period: PeriodId,
        unit: UnitId,
        score: Points,
        vetoed: bool,
        source: String,
        /// Required when it replaces a result already recorded.
        reason: Option<String>,
        expected_revision: Option<u64>,
    },

    // ---- appeals ----
    FileAppeal {
        appeal: AppealId,
        period: PeriodId,
        unit: UnitId,
        item: Option<ItemCode>,
        grounds: String,
        evidence: Vec<String>,
        /// Evidence files cited, already stored and described by the upload (see `EvidenceFile`).
        files: Vec<EvidenceFile>,
    },
    UpholdAppeal {
        appeal: AppealId,
        decision: String,
        /// The revised score; required when the appeal is against one item.
        revised: Option<Revision>,
    },
    DismissAppeal {
        appeal: AppealId,
        decision: String,
    },

    // ---- closed loop ----
    /// Raises a rectification for the item's responsible person (from the period's rubric version).
    RaiseRectification {
        rectification: RectificationId,
        period: PeriodId,
        unit: UnitId,
        item: ItemCode,
        due_on: NaiveDate,
        finding: String,
        origin: RectificationOrigin,
    },
    SubmitRectification {
        rectification: RectificationId,
        note: String,
        evidence: Vec<String>,
        /// Evidence files cited, already stored and described by the upload (see `EvidenceFile`).
        files: Vec<EvidenceFile>,
    },
    VerifyRectification {
        rectification: RectificationId,
        comment: String,
    },
    SendBackRectification {
        rectification: RectificationId,
        comment: String,
        due_on: Option<NaiveDate>,
    },
}

impl Command {
    /// The command's name for people, zh-CN first.
    pub const fn label(&self) -> &'static str {
        match self {
            Command::SetBusinessZone { .. } => "设定业务时区 set the business zone",
            Command::RegisterUnit { .. } => "登记单位 register unit",
            Command::UpdateUnit { .. } => "修改单位 update unit",
            Command::RegisterPerson { .. } => "登记人员 register person",
            Command::GrantAccess { .. } => "授予角色 grant access",
            Command::RevokeAccess { .. } => "撤销角色 revoke access",
            Command::IssueToken { .. } => "签发令牌 issue token",
            Command::RevokeToken { .. } => "吊销令牌 revoke token",
            Command::DefineRubric { .. } => "制定考评细则 define rubric",
            Command::AdjustRubric { .. } => "调整考评细则 adjust rubric",
            Command::OpenPeriod { .. } => "开启考核周期 open period",
            Command::AdvanceStage { .. } => "推进考核阶段 advance stage",
            Command::ReopenPeriod { .. } => "重新开启考核周期 reopen period",
            Command::MovePeriodRubric { .. } => {
                "更换考核周期的细则版本 move period to rubric version"
            }
            Command::RecordSelfAssessment { .. } => "录入自评 record self-assessment",
            Command::RecordScore { .. } => "录入考评得分 record score",
            Command::CorrectScore { .. } => "更正得分 correct score",
            Command::ReviewItem { .. } => "审核子项目 review item",
            Command::ReviewSheet { .. } => "审核评分表 review sheet",
            Command::RecordBusinessResult { .. } => "录入经营业绩 record business result",
            Command::FileAppeal { .. } => "提出申诉 file appeal",
            Command::UpholdAppeal { .. } => "支持申诉 uphold appeal",
            Command::DismissAppeal { .. } => "驳回申诉 dismiss appeal",
            Command::RaiseRectification { .. } => "下达整改 raise rectification",
            Command::SubmitRectification { .. } => "提交整改 submit rectification",
            Command::VerifyRectification { .. } => "验证整改 verify rectification",
            Command::SendBackRectification { .. } => "退回整改 send back rectification",
        }
    }

    /// The roles that may issue the command at all. Scope rules (an assessor's units, a unit's own
    /// sheet, a rectification's responsible person) are checked on top of this by `decide`.
    pub const fn allowed_roles(&self) -> &'static [Role] {
        use Role::*;
        match self {
            // Chosen where the ledger is created (`ledger init --zone`), never through the API.
            Command::SetBusinessZone { .. } => &[System],
            Command::RegisterUnit { .. }
            | Command::UpdateUnit { .. }
            | Command::RegisterPerson { .. }
            | Command::GrantAccess { .. }
            | Command::RevokeAccess { .. }
            | Command::IssueToken { .. }
            | Command::RevokeToken { .. }
            | Command::DefineRubric { .. }
            | Command::AdjustRubric { .. }
            | Command::OpenPeriod { .. }
            | Command::AdvanceStage { .. }
            | Command::ReopenPeriod { .. }
            | Command::MovePeriodRubric { .. } => &[Admin, System],
            Command::RecordSelfAssessment { .. } | Command::FileAppeal { .. } => &[Unit, System],
            Command::RecordScore { .. } | Command::CorrectScore { .. } => &[Assessor, System],
            Command::ReviewItem { .. }
            | Command::ReviewSheet { .. }
            | Command::UpholdAppeal { .. }
            | Command::DismissAppeal { .. }
            | Command::VerifyRectification { .. }
            | Command::SendBackRectification { .. } => &[Reviewer, System],
            Command::RecordBusinessResult { .. } => &[Admin, Assessor, System],
            Command::RaiseRectification { .. } => &[Assessor, Reviewer, System],
            // The unit, or the responsible person in whatever role they hold (checked by decide).
            Command::SubmitRectification { .. } => {
                &[Unit, Admin, Assessor, Reviewer, Responsible, System]
            }
        }
    }
}
