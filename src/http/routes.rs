//! The route table: every operation of the API, once. [`super::app`] builds the router from it, the
//! OpenAPI document is generated from it, and the authorisation-matrix test walks it, so the three
//! cannot drift apart.
//!
//! An operation names its method and path, who may call it ([`Gate`]), whether it writes (writes get
//! the `Idempotency-Key` layer), its request body, query and response shapes (schemars), whether it
//! carries an ETag, and its handler. The write gates repeat `Command::allowed_roles` of the command
//! each write issues (less `system`, which has no tokens); the domain still decides scope.

use std::sync::Arc;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use ledger_schemas::envelope::Role;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::auth::{EVERY_ROLE, Gate};
use super::error::Problem;
use super::{Api, handlers as w, queries as r, views::*, wire::*};
use crate::store::EventStore;

/// A schema, generated into the document's components.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Whether an operation reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

/// One operation of the API.
pub struct Operation<S: EventStore> {
    pub method: Method,
    pub path: &'static str,
    /// The OpenAPI `operationId`.
    pub id: &'static str,
    pub tag: &'static str,
    /// zh-CN first, then English.
    pub summary: &'static str,
    pub gate: Gate,
    pub kind: Kind,
    pub request: Option<SchemaFn>,
    /// A struct whose fields are the query parameters.
    pub query: Option<SchemaFn>,
    /// The success status and body.
    pub status: u16,
    pub response: SchemaFn,
    /// Answers with an ETag (reads) or accepts `If-Match` (writes).
    pub etag: bool,
    /// A write that takes `Idempotency-Key` (not the evidence upload: its body may be megabytes,
    /// and storing the same bytes twice is harmless, they are stored once).
    pub replayable: bool,
    pub handler: MethodRouter<Arc<Api<S>>>,
}

impl<S: EventStore> Operation<S> {
    #[allow(clippy::too_many_arguments)]
    fn new<H, T>(
        method: Method,
        path: &'static str,
        id: &'static str,
        tag: &'static str,
        summary: &'static str,
        gate: Gate,
        handler: H,
    ) -> Self
    where
        H: Handler<T, Arc<Api<S>>>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        let kind = if method == Method::GET {
            Kind::Read
        } else {
            Kind::Write
        };
        Operation {
            method,
            path,
            id,
            tag,
            summary,
            gate,
            kind,
            request: None,
            query: None,
            status: 200,
            response: schema::<Recorded>,
            etag: false,
            replayable: true,
            handler: on(filter, handler),
        }
    }

    fn body<T: JsonSchema>(mut self) -> Self {
        self.request = Some(schema::<T>);
        self
    }

    fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(schema::<T>);
        self
    }

    fn returns<T: JsonSchema>(mut self, status: u16) -> Self {
        self.status = status;
        self.response = schema::<T>;
        self
    }

    fn etag(mut self) -> Self {
        self.etag = true;
        self
    }

    fn not_replayable(mut self) -> Self {
        self.replayable = false;
        self
    }

    /// No body limit of the router's: the upload checks its own limits as the body streams in
    /// ([`super::evidence::EvidenceLimits`]).
    fn unlimited_body(mut self) -> Self {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::disable());
        self
    }
}

use Role::{Admin, Assessor, Auditor, Responsible, Reviewer, Unit};

/// Units, people, access, tokens, rubrics, periods.
const ADMIN: Gate = Gate::Roles(&[Admin]);
/// Self-assessment, appeals.
const UNIT: Gate = Gate::Roles(&[Unit]);
/// Scores and corrections.
const ASSESSOR: Gate = Gate::Roles(&[Assessor]);
/// Reviews, appeal decisions, verifying and sending back rectifications.
const REVIEWER: Gate = Gate::Roles(&[Reviewer]);
const BUSINESS: Gate = Gate::Roles(&[Admin, Assessor]);
const RAISE: Gate = Gate::Roles(&[Assessor, Reviewer]);
/// The unit, or the responsible person in whatever role they hold (not as auditor).
const SUBMIT: Gate = Gate::Roles(&[Unit, Admin, Assessor, Reviewer, Responsible]);
/// Reads every role may make (scoped by `auth::Caller`).
const ANYONE: Gate = Gate::Roles(EVERY_ROLE);
/// Reads of one unit's records (sheets, items, histories, business results, an appeal): every role
/// with a unit scope or all units. A responsible person reads no unit's records as such: what they
/// answer for reaches them through their accountability, 待办 and rectifications.
const UNIT_READS: Gate = Gate::Roles(&[Admin, Assessor, Reviewer, Auditor, Unit]);
/// The people list and the change log.
const STAFF: Gate = Gate::Roles(&[Admin, Reviewer, Auditor]);
const TOKENS: Gate = Gate::Roles(&[Admin, Auditor]);
/// The raw log.
const AUDITOR: Gate = Gate::Roles(&[Auditor]);

const SHEET: &str = "/api/v1/periods/{period}/units/{unit}";
const ITEM: &str = "/api/v1/periods/{period}/units/{unit}/items/{item}";

/// Every operation of the API.
pub fn operations<S: EventStore>() -> Vec<Operation<S>> {
    use Method as M;
    use Operation as Op;
    vec![
        Op::new(
            M::GET,
            "/api/v1/openapi.json",
            "openapi",
            "meta",
            "接口说明 (OpenAPI 3.1) The OpenAPI 3.1 document",
            Gate::Public,
            super::openapi_json::<S>,
        )
        .returns::<serde_json::Value>(200),
        Op::new(
            M::GET,
            "/api/v1/me",
            "me",
            "meta",
            "当前身份 Who the token belongs to: person, role and the units it may read",
            ANYONE,
            r::me::<S>,
        )
        .returns::<MeView>(200),
        // ---- units ----
        Op::new(
            M::GET,
            "/api/v1/units",
            "listUnits",
            "units",
            "单位列表 List units",
            ANYONE,
            r::list_units::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<UnitList>(200),
        Op::new(
            M::POST,
            "/api/v1/units",
            "registerUnit",
            "units",
            "登记单位 Register a unit",
            ADMIN,
            w::register_unit::<S>,
        )
        .body::<RegisterUnitRequest>()
        .returns::<Recorded>(201),
        Op::new(
            M::GET,
            "/api/v1/units/{unit}",
            "getUnit",
            "units",
            "查看单位 Get a unit",
            UNIT_READS,
            r::get_unit::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<UnitView>(200),
        Op::new(
            M::PUT,
            "/api/v1/units/{unit}",
            "updateUnit",
            "units",
            "修改单位 Update a unit",
            ADMIN,
            w::update_unit::<S>,
        )
        .body::<UpdateUnitRequest>(),
        // ---- people and access ----
        Op::new(
            M::GET,
            "/api/v1/people",
            "listPeople",
            "people",
            "人员列表 List people",
            STAFF,
            r::list_people::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<PersonList>(200),
        Op::new(
            M::GET,
            "/api/v1/people/names",
            "listPersonNames",
            "people",
            "人员姓名 (通讯录, 不含角色) The names directory: every person's name and unit, without roles",
            ANYONE,
            r::list_person_names::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<PersonNames>(200),
        Op::new(
            M::POST,
            "/api/v1/people",
            "registerPerson",
            "people",
            "登记人员 Register a person",
            ADMIN,
            w::register_person::<S>,
        )
        .body::<RegisterPersonRequest>()
        .returns::<Recorded>(201),
        Op::new(
            M::GET,
            "/api/v1/people/{person}",
            "getPerson",
            "people",
            "查看人员及其角色 Get a person and their roles",
            ANYONE,
            r::get_person::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<PersonView>(200),
        Op::new(
            M::PUT,
            "/api/v1/people/{person}/roles/{role}",
            "grantRole",
            "people",
            "授予角色或调整其单位 Grant a role or re-scope it",
            ADMIN,
            w::grant_role::<S>,
        )
        .body::<GrantRoleRequest>(),
        Op::new(
            M::POST,
            "/api/v1/people/{person}/roles/{role}/revocation",
            "revokeRole",
            "people",
            "撤销角色 Revoke a role",
            ADMIN,
            w::revoke_role::<S>,
        )
        .body::<RevocationRequest>(),
        Op::new(
            M::GET,
            "/api/v1/people/{person}/accountability",
            "accountability",
            "read",
            "责任落实: 负责的子项目与整改 What a person is accountable for",
            ANYONE,
            r::accountability::<S>,
        )
        .query::<r::AccountabilityQuery>()
        .returns::<AccountabilityView>(200),
        Op::new(
            M::GET,
            "/api/v1/todo",
            "todo",
            "read",
            "待办与预警: 待评分、待审核、待决定的申诉、临期与逾期整改 The caller's to-do and warnings",
            ANYONE,
            r::todo::<S>,
        )
        .query::<r::TodoQuery>()
        .returns::<TodoView>(200),
        // ---- tokens ----
        Op::new(
            M::GET,
            "/api/v1/tokens",
            "listTokens",
            "tokens",
            "令牌列表 (不含密钥) List tokens (never their secrets)",
            TOKENS,
            r::list_tokens::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<TokenList>(200),
        Op::new(
            M::POST,
            "/api/v1/tokens",
            "issueToken",
            "tokens",
            "签发令牌 Issue a token",
            ADMIN,
            w::issue_token::<S>,
        )
        .body::<IssueTokenRequest>()
        .returns::<IssuedTokenView>(201),
        Op::new(
            M::POST,
            "/api/v1/tokens/{token}/revocation",
            "revokeToken",
            "tokens",
            "吊销令牌 Revoke a token",
            ADMIN,
            w::revoke_token::<S>,
        )
        .body::<RevocationRequest>(),
        // ---- rubrics ----
        Op::new(
            M::GET,
            "/api/v1/rubrics",
            "listRubrics",
            "rubrics",
            "考评细则列表 List rubrics",
            ANYONE,
            r::list_rubrics::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<RubricList>(200),
        Op::new(
            M::POST,
            "/api/v1/rubrics",
            "defineRubric",
            "rubrics",
            "制定考评细则 (第 1 版) Define a rubric (version 1)",
            ADMIN,
            w::define_rubric::<S>,
        )
        .body::<DefineRubricRequest>()
        .returns::<Recorded>(201),
        Op::new(
            M::GET,
            "/api/v1/rubrics/{rubric}",
            "getRubric",
            "rubrics",
            "考评细则最新版本 The latest version of a rubric",
            ANYONE,
            r::get_rubric::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<RubricVersionView>(200),
        Op::new(
            M::GET,
            "/api/v1/rubrics/{rubric}/versions",
            "listRubricVersions",
            "rubrics",
            "考评细则各版本 The versions of a rubric",
            ANYONE,
            r::list_rubric_versions::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<RubricVersionList>(200),
        Op::new(
            M::GET,
            "/api/v1/rubrics/{rubric}/versions/{version}",
            "getRubricVersion",
            "rubrics",
            "考评细则某一版本 One version of a rubric",
            ANYONE,
            r::get_rubric_version::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<RubricVersionView>(200),
        Op::new(
            M::GET,
            "/api/v1/rubrics/{rubric}/diff",
            "diffRubric",
            "rubrics",
            "两版本之差异 What differs between two versions",
            ANYONE,
            r::diff_rubric::<S>,
        )
        .query::<r::DiffQuery>()
        .returns::<RubricDiffView>(200),
        Op::new(
            M::GET,
            "/api/v1/rubrics/{rubric}/adjustments",
            "listAdjustments",
            "rubrics",
            "考评细则调整记录 The adjustments of a rubric",
            ANYONE,
            r::list_adjustments::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<AdjustmentList>(200),
        Op::new(
            M::POST,
            "/api/v1/rubrics/{rubric}/adjustments",
            "adjustRubric",
            "rubrics",
            "调整考评细则 (产生新版本) Adjust a rubric into a new version",
            ADMIN,
            w::adjust_rubric::<S>,
        )
        .body::<AdjustRubricRequest>()
        .returns::<Recorded>(201),
        // ---- periods ----
        Op::new(
            M::GET,
            "/api/v1/periods",
            "listPeriods",
            "periods",
            "考核周期列表 List periods",
            ANYONE,
            r::list_periods::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<PeriodList>(200),
        Op::new(
            M::POST,
            "/api/v1/periods",
            "openPeriod",
            "periods",
            "开启考核周期 Open a period",
            ADMIN,
            w::open_period::<S>,
        )
        .body::<OpenPeriodRequest>()
        .returns::<Recorded>(201),
        Op::new(
            M::GET,
            "/api/v1/periods/{period}",
            "getPeriod",
            "periods",
            "查看考核周期 Get a period",
            ANYONE,
            r::get_period::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<PeriodView>(200)
        .etag(),
        Op::new(
            M::GET,
            "/api/v1/periods/{period}/milestones",
            "periodMilestones",
            "periods",
            "考核周期的里程碑: 开启、阶段变更、公示、重新开启、申诉决定 A period's milestones and when it was published",
            ANYONE,
            r::period_milestones::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<MilestonesView>(200),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/stage",
            "advanceStage",
            "periods",
            "推进考核阶段 Move a period to its next stage",
            ADMIN,
            w::advance_stage::<S>,
        )
        .body::<AdvanceStageRequest>()
        .etag(),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/reopening",
            "reopenPeriod",
            "periods",
            "重新开启已公示的考核周期 Reopen a published period",
            ADMIN,
            w::reopen_period::<S>,
        )
        .body::<ReopenPeriodRequest>()
        .etag(),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/rubric-version",
            "movePeriodRubric",
            "periods",
            "更换考核周期的细则版本 Move a period to a newer rubric version",
            ADMIN,
            w::move_period_rubric::<S>,
        )
        .body::<MoveRubricRequest>()
        .etag(),
        Op::new(
            M::GET,
            "/api/v1/periods/{period}/standings",
            "standings",
            "read",
            "排名与得分 Standings and ranks",
            ANYONE,
            r::standings::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<StandingsView>(200),
        Op::new(
            M::GET,
            "/api/v1/annual",
            "annualResult",
            "read",
            "年度考核结果 The year's result (a span of periods combined per unit)",
            ANYONE,
            r::annual::<S>,
        )
        .query::<r::AnnualQuery>()
        .returns::<AnnualView>(200),
        Op::new(
            M::GET,
            "/api/v1/periods/{period}/business-results",
            "listBusinessResults",
            "sheets",
            "经营业绩 The business results of a period's units",
            UNIT_READS,
            r::business_results::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<BusinessResultList>(200),
        // ---- sheets and items ----
        Op::new(
            M::GET,
            SHEET,
            "getSheet",
            "sheets",
            "评分表 A unit's score sheet",
            UNIT_READS,
            r::get_sheet::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<SheetView>(200)
        .etag(),
        Op::new(
            M::GET,
            "/api/v1/periods/{period}/units/{unit}/history",
            "sheetHistory",
            "read",
            "评分表变更历史 A sheet's history",
            UNIT_READS,
            r::sheet_history::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<HistoryView>(200),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/units/{unit}/review",
            "reviewSheet",
            "sheets",
            "审核整张评分表 Review a whole sheet",
            REVIEWER,
            w::review_sheet::<S>,
        )
        .body::<ReviewRequest>()
        .etag(),
        Op::new(
            M::PUT,
            "/api/v1/periods/{period}/units/{unit}/business-result",
            "recordBusinessResult",
            "sheets",
            "录入经营业绩 Record the business result",
            BUSINESS,
            w::record_business_result::<S>,
        )
        .body::<BusinessResultRequest>()
        .etag(),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/score-imports",
            "importScores",
            "sheets",
            "导入评分表文件 (CSV 或 xlsx): 预览或记录 Import a score sheet file (CSV or xlsx): preview or record",
            ASSESSOR,
            super::imports::import_scores::<S>,
        )
        .body::<super::imports::ImportRequest>()
        .returns::<super::imports::ScoreImportView>(200),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/business-result-imports",
            "importBusinessResults",
            "sheets",
            "导入经营业绩文件 (CSV 或 xlsx): 预览或记录 Import a business-results file (CSV or xlsx): preview or record",
            BUSINESS,
            super::imports::import_business::<S>,
        )
        .body::<super::imports::ImportRequest>()
        .returns::<super::imports::BusinessImportView>(200),
        Op::new(
            M::GET,
            ITEM,
            "getItem",
            "sheets",
            "评分表中的子项目 One item of a sheet",
            UNIT_READS,
            r::get_item::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<ItemView>(200)
        .etag(),
        Op::new(
            M::GET,
            "/api/v1/periods/{period}/units/{unit}/items/{item}/history",
            "itemHistory",
            "read",
            "子项目变更历史 An item's history",
            UNIT_READS,
            r::item_history::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<HistoryView>(200),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/units/{unit}/items/{item}/self-assessment",
            "recordSelfAssessment",
            "sheets",
            "录入自评 Record the unit's self-assessment",
            UNIT,
            w::record_self_assessment::<S>,
        )
        .body::<SelfAssessmentRequest>()
        .etag(),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/units/{unit}/items/{item}/score",
            "recordScore",
            "sheets",
            "录入考评得分 Record a score",
            ASSESSOR,
            w::record_score::<S>,
        )
        .body::<ScoreRequest>()
        .etag(),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/units/{unit}/items/{item}/correction",
            "correctScore",
            "sheets",
            "更正得分 Correct a score",
            ASSESSOR,
            w::correct_score::<S>,
        )
        .body::<CorrectionRequest>()
        .etag(),
        Op::new(
            M::POST,
            "/api/v1/periods/{period}/units/{unit}/items/{item}/review",
            "reviewItem",
            "sheets",
            "审核子项目 Review an item",
            REVIEWER,
            w::review_item::<S>,
        )
        .body::<ReviewRequest>()
        .etag(),
        // ---- appeals ----
        Op::new(
            M::GET,
            "/api/v1/appeals",
            "listAppeals",
            "appeals",
            "申诉列表 List appeals",
            ANYONE,
            r::list_appeals::<S>,
        )
        .query::<r::AppealsQuery>()
        .returns::<AppealList>(200),
        Op::new(
            M::POST,
            "/api/v1/appeals",
            "fileAppeal",
            "appeals",
            "提出申诉 File an appeal",
            UNIT,
            w::file_appeal::<S>,
        )
        .body::<FileAppealRequest>()
        .returns::<Recorded>(201),
        Op::new(
            M::GET,
            "/api/v1/appeals/{appeal}",
            "getAppeal",
            "appeals",
            "查看申诉 Get an appeal",
            UNIT_READS,
            r::get_appeal::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<AppealView>(200),
        Op::new(
            M::POST,
            "/api/v1/appeals/{appeal}/decision",
            "decideAppeal",
            "appeals",
            "支持或驳回申诉 Uphold or dismiss an appeal",
            REVIEWER,
            w::decide_appeal::<S>,
        )
        .body::<DecideAppealRequest>(),
        // ---- rectifications ----
        Op::new(
            M::GET,
            "/api/v1/rectifications",
            "listRectifications",
            "rectifications",
            "整改列表 List rectifications",
            ANYONE,
            r::list_rectifications::<S>,
        )
        .query::<r::RectificationsQuery>()
        .returns::<RectificationList>(200),
        Op::new(
            M::POST,
            "/api/v1/rectifications",
            "raiseRectification",
            "rectifications",
            "下达整改 Raise a rectification",
            RAISE,
            w::raise_rectification::<S>,
        )
        .body::<RaiseRectificationRequest>()
        .returns::<Recorded>(201),
        Op::new(
            M::GET,
            "/api/v1/rectifications/{rectification}",
            "getRectification",
            "rectifications",
            "查看整改 Get a rectification",
            ANYONE,
            r::get_rectification::<S>,
        )
        .query::<r::AtQuery>()
        .returns::<RectificationView>(200),
        Op::new(
            M::POST,
            "/api/v1/rectifications/{rectification}/submission",
            "submitRectification",
            "rectifications",
            "提交整改 Submit a rectification",
            SUBMIT,
            w::submit_rectification::<S>,
        )
        .body::<SubmitRectificationRequest>(),
        // ---- evidence files ----
        Op::new(
            M::POST,
            "/api/v1/evidence",
            "uploadEvidence",
            "evidence",
            "上传佐证材料 (multipart/form-data, 一个或多个文件; 之后在记录的 files 中按 sha256 引用) Upload evidence files (multipart; then cite them by sha256 in a record's files)",
            SUBMIT,
            super::evidence::upload::<S>,
        )
        .returns::<super::evidence::Uploaded>(201)
        .not_replayable()
        .unlimited_body(),
        Op::new(
            M::GET,
            "/api/v1/evidence/{sha256}",
            "getEvidence",
            "evidence",
            "下载佐证材料 (只向可查看引用它的记录的人提供) Get an evidence file (only to whoever may read a record citing it)",
            ANYONE,
            super::evidence::download::<S>,
        ),
        Op::new(
            M::POST,
            "/api/v1/rectifications/{rectification}/verification",
            "verifyRectification",
            "rectifications",
            "验证整改 (关闭) Verify (close) a rectification",
            REVIEWER,
            w::verify_rectification::<S>,
        )
        .body::<VerifyRectificationRequest>(),
        Op::new(
            M::POST,
            "/api/v1/rectifications/{rectification}/send-back",
            "sendBackRectification",
            "rectifications",
            "退回整改 Send a rectification back",
            REVIEWER,
            w::send_back_rectification::<S>,
        )
        .body::<SendBackRectificationRequest>(),
        // ---- audit ----
        Op::new(
            M::GET,
            "/api/v1/changes",
            "changes",
            "read",
            "变更记录 (谁、何时、改了什么) The change log",
            STAFF,
            r::changes::<S>,
        )
        .query::<r::ChangesQuery>()
        .returns::<ChangesView>(200),
        Op::new(
            M::GET,
            "/api/v1/events",
            "events",
            "read",
            "原始事件日志 (含哈希链) The raw event log, hash chain included",
            AUDITOR,
            r::events::<S>,
        )
        .query::<r::EventsQuery>()
        .returns::<EventPage>(200),
        // The fingerprint of the signed checkpoints vouching for a point read: every role, for
        // the title blocks of what it prints and exports (a root hash reveals nothing).
        Op::new(
            M::GET,
            "/api/v1/checkpoints/covering",
            "checkpointCovering",
            "audit",
            "覆盖某记录序号的已签名检查点 (指纹) The signed checkpoints covering a position (fingerprints)",
            ANYONE,
            r::checkpoint_covering::<S>,
        )
        .query::<r::CoveringQuery>()
        .returns::<CoveringCheckpoints>(200),
        // Signed checkpoints and proofs: auditors only (issue 7). Admins run the ledger and hold its
        // key file; the proofs are for the people who must not have to trust them.
        Op::new(
            M::GET,
            "/api/v1/audit/checkpoints",
            "auditCheckpoints",
            "audit",
            "已签名检查点及公钥 The signed checkpoints and the public key",
            AUDITOR,
            r::audit_checkpoints::<S>,
        )
        .returns::<CheckpointList>(200),
        Op::new(
            M::GET,
            "/api/v1/audit/proofs/inclusion",
            "auditInclusionProof",
            "audit",
            "事件包含证明 (RFC 9162) An event's inclusion proof against a signed checkpoint",
            AUDITOR,
            r::audit_inclusion::<S>,
        )
        .query::<r::InclusionQuery>()
        .returns::<InclusionView>(200),
        Op::new(
            M::GET,
            "/api/v1/audit/verification",
            "auditLastVerification",
            "audit",
            "最近一次验证 The last verification run on this server",
            AUDITOR,
            r::audit_last_verification::<S>,
        )
        .returns::<VerificationView>(200),
        Op::new(
            M::POST,
            "/api/v1/audit/verification",
            "auditVerify",
            "audit",
            "立即验证哈希链与全部检查点 Verify the hash chain and every checkpoint now",
            AUDITOR,
            r::audit_verify::<S>,
        )
        .returns::<VerificationView>(200),
        Op::new(
            M::GET,
            "/api/v1/audit/proofs/consistency",
            "auditConsistencyProof",
            "audit",
            "两检查点间的一致性证明 (RFC 9162) A consistency proof between two signed checkpoints",
            AUDITOR,
            r::audit_consistency::<S>,
        )
        .query::<r::ConsistencyQuery>()
        .returns::<ConsistencyView>(200),
    ]
}

/// The problem document's schema, for the document's error responses.
pub fn problem_schema(generator: &mut SchemaGenerator) -> Schema {
    schema::<Problem>(generator)
}
