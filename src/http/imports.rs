//! `POST /api/v1/periods/{period}/score-imports` and `.../business-result-imports`: a score sheet
//! or a business-results file (CSV or `.xlsx`, base64 in JSON) checked all or nothing by
//! `crate::import`, previewed (`dry_run`) or recorded as the caller with the file's SHA-256 (scores
//! with source `import`).
//!
//! A preview answers every row as it would be recorded and every error at its row and column, and
//! the plan's fingerprint (`plan`). A recording that names `expected_plan` records only if the
//! file, checked again against the ledger as it is now, makes the same plan: what is recorded is
//! what was previewed (409 `import_changed` otherwise, nothing recorded).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use ledger_projections::domain::Context;
use ledger_schemas::ids::{ItemCode, PeriodId, UnitId};
use ledger_schemas::values::{Points, ScoreValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Api;
use super::auth::Caller;
use super::error::{ApiError, FieldError};
use super::extract::{JsonBody, Params};
use crate::import::business::{self, BusinessPlan};
use crate::import::{self, Action, ImportPlan, RowsRefused};
use crate::store::EventStore;

/// A file to import (a score sheet, business results) to check, and record unless `dry_run`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// The file's name as uploaded; a name ending in `.xlsx` is read as a workbook.
    #[schemars(length(max = 255))]
    pub file_name: String,
    /// The file's bytes, base64 (RFC 4648, with padding).
    #[schemars(extend("contentEncoding" = "base64"))]
    pub content: String,
    /// Check and answer the plan; record nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The `plan` a preview answered: record only that plan.
    #[serde(default)]
    pub expected_plan: Option<String>,
}

/// One row as it will be (or was) recorded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ImportRowView {
    /// The spreadsheet's row number (the header is row 1).
    pub row: u64,
    pub unit: UnitId,
    pub item: ItemCode,
    pub value: ScoreValue,
    /// The value as the file wrote it.
    pub value_text: String,
    pub note: String,
    pub evidence: Vec<String>,
    pub reason: String,
    /// `record`, `correct` or `unchanged`.
    pub action: String,
}

/// One problem of the file, where it is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ImportErrorView {
    pub row: u64,
    /// The column's letter, and its header as written; none for the row as a whole.
    pub column: Option<String>,
    pub header: Option<String>,
    pub message: String,
}

/// The answer: the plan, or every problem; what was recorded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScoreImportView {
    pub period: PeriodId,
    pub file_name: String,
    pub file_sha256: String,
    /// The plan's fingerprint; none when the file has problems.
    pub plan: Option<String>,
    pub rows: Vec<ImportRowView>,
    pub errors: Vec<ImportErrorView>,
    /// Whether the rows were recorded (never on a dry run or with problems).
    pub recorded: bool,
    /// The correlation id of the recorded events.
    pub correlation_id: Option<Uuid>,
}

fn rows(plan: &import::Plan) -> Vec<ImportRowView> {
    plan.rows
        .iter()
        .map(|p| ImportRowView {
            row: p.row,
            unit: p.unit.clone(),
            item: p.item.clone(),
            value: p.value.clone(),
            value_text: p.value_text.clone(),
            note: p.note.clone(),
            evidence: p.evidence.clone(),
            reason: p.reason.clone(),
            action: match p.action {
                Action::Record(_) => "record",
                Action::Correct(_) => "correct",
                Action::Unchanged => "unchanged",
            }
            .to_owned(),
        })
        .collect()
}

/// One business-results row as it will be (or was) recorded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BusinessImportRowView {
    /// The spreadsheet's row number (the header is row 1).
    pub row: u64,
    pub unit: UnitId,
    /// The business score, 0–100.
    pub score: Points,
    pub vetoed: bool,
    /// Where the figure comes from.
    pub source: String,
    /// Why a recorded result is replaced (empty for a new one).
    pub reason: String,
    /// `record`, `replace` or `unchanged`.
    pub action: String,
}

/// The answer of a business-results import: the plan, or every problem; what was recorded.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BusinessImportView {
    pub period: PeriodId,
    pub file_name: String,
    pub file_sha256: String,
    /// The plan's fingerprint; none when the file has problems.
    pub plan: Option<String>,
    pub rows: Vec<BusinessImportRowView>,
    pub errors: Vec<ImportErrorView>,
    /// Whether the rows were recorded (never on a dry run or with problems).
    pub recorded: bool,
    /// The correlation id of the recorded events.
    pub correlation_id: Option<Uuid>,
}

/// What an import request came to, of either import: the file's hash, the plan and its
/// fingerprint (none when the file has problems), the problems of a previewed file, and the
/// correlation id of what was recorded.
struct Outcome<P> {
    file_sha256: String,
    plan: Option<(P, String)>,
    errors: Vec<ImportErrorView>,
    correlation_id: Option<Uuid>,
}

/// The one flow of both imports: decode the file, check it against the ledger as it is now
/// (`check`), answer a preview, or record the plan (only the previewed one, when the request names
/// it) as the caller with the file's SHA-256.
async fn run<S: EventStore, P: ImportPlan>(
    api: &Api<S>,
    caller: &Caller,
    body: &ImportRequest,
    check: impl FnOnce(&ledger_projections::domain::State, &Context, &[u8]) -> anyhow::Result<P>,
) -> Result<Outcome<P>, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.content.trim())
        .map_err(|e| {
            ApiError::invalid_field(
                "content",
                format!("不是有效的 base64 ({e}) (not valid base64: {e})"),
            )
        })?;
    let file_sha256 = crate::audit::bundle::sha256_hex(&bytes);
    let now = api.ledger.clock().now();
    let ctx = Context {
        actor: caller.actor.clone(),
        now,
        today: crate::app::clock::business_date(now),
        file_sha256: Some(file_sha256.clone()),
    };
    // A copy of the state (cheap: shared maps), so no guard is held across the awaits below.
    let state = api.ledger.folded().state.clone();
    let mut outcome = Outcome {
        file_sha256,
        plan: None,
        errors: Vec::new(),
        correlation_id: None,
    };
    let plan = match check(&state, &ctx, &bytes) {
        Ok(plan) => plan,
        Err(err) => {
            outcome.errors = refused(err, body.dry_run)?;
            return Ok(outcome);
        }
    };
    let digest = plan.digest(&outcome.file_sha256);
    if !body.dry_run {
        same_plan(body.expected_plan.as_ref(), &digest)?;
        let correlation = import::execute(
            &api.ledger,
            &caller.actor,
            &outcome.file_sha256,
            &plan,
            || {},
        )
        .await
        .map_err(interrupted)?;
        outcome.correlation_id = Some(correlation);
    }
    outcome.plan = Some((plan, digest));
    Ok(outcome)
}

/// A file the check refused: its row errors for a preview (`Ok`), else the refusal: 422
/// `import_refused` with every row error, or `import_unreadable` for a file refused as a whole.
fn refused(err: anyhow::Error, dry_run: bool) -> Result<Vec<ImportErrorView>, ApiError> {
    match err.downcast::<RowsRefused>() {
        Ok(RowsRefused(errors)) => {
            if dry_run {
                return Ok(errors
                    .iter()
                    .map(|e| ImportErrorView {
                        row: e.row,
                        column: e.column.as_ref().map(|c| c.0.clone()),
                        header: e.column.as_ref().map(|c| c.1.clone()),
                        message: e.message.clone(),
                    })
                    .collect());
            }
            let summary = RowsRefused(errors.clone()).to_string();
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "import_refused",
                "导入被拒绝 Import refused",
                summary,
            )
            .with_errors(
                errors
                    .iter()
                    .map(|e| FieldError {
                        field: format!("content.row[{}]", e.row),
                        reason: e.to_string(),
                    })
                    .collect(),
            ))
        }
        Err(err) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_unreadable",
            "文件无法导入 The file cannot be imported",
            format!("{err:#}"),
        )),
    }
}

/// 409 `import_changed` unless the plan to record is the one the preview answered.
fn same_plan(expected: Option<&String>, digest: &str) -> Result<(), ApiError> {
    match expected {
        Some(expected) if expected != digest => Err(ApiError::new(
            StatusCode::CONFLICT,
            "import_changed",
            "预览后已有变化 Changed since the preview",
            "文件或账本在预览后已有变化, 将记录的内容与预览不同, 未记录任何内容; 请重新预览 (the file or the ledger changed since the preview, so what would be recorded differs from what was previewed; nothing was recorded: preview again)",
        )),
        _ => Ok(()),
    }
}

fn interrupted(e: anyhow::Error) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "import_interrupted",
        "导入中断 Import interrupted",
        format!("{e:#}"),
    )
}

pub async fn import_scores<S: EventStore>(
    State(api): State<Arc<Api<S>>>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<ImportRequest>,
) -> Result<Response, ApiError> {
    let period = params.get::<PeriodId>("period")?;
    let o = run(&api, &caller, &body, |state, ctx, bytes| {
        import::check_scores(state, ctx, &period, &body.file_name, bytes)
    })
    .await?;
    Ok(Json(ScoreImportView {
        period,
        file_name: body.file_name,
        file_sha256: o.file_sha256,
        rows: o.plan.as_ref().map(|(p, _)| rows(p)).unwrap_or_default(),
        plan: o.plan.map(|(_, digest)| digest),
        errors: o.errors,
        recorded: o.correlation_id.is_some(),
        correlation_id: o.correlation_id,
    })
    .into_response())
}

fn business_rows(plan: &BusinessPlan) -> Vec<BusinessImportRowView> {
    plan.rows
        .iter()
        .map(|r| BusinessImportRowView {
            row: r.row,
            unit: r.unit.clone(),
            score: r.score,
            vetoed: r.vetoed,
            source: r.source.clone(),
            reason: r.reason.clone(),
            action: r.action.code().to_owned(),
        })
        .collect()
}

pub async fn import_business<S: EventStore>(
    State(api): State<Arc<Api<S>>>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<ImportRequest>,
) -> Result<Response, ApiError> {
    let period = params.get::<PeriodId>("period")?;
    let o = run(&api, &caller, &body, |state, ctx, bytes| {
        business::check_business(state, ctx, &period, &body.file_name, bytes)
    })
    .await?;
    Ok(Json(BusinessImportView {
        period,
        file_name: body.file_name,
        file_sha256: o.file_sha256,
        rows: o
            .plan
            .as_ref()
            .map(|(p, _)| business_rows(p))
            .unwrap_or_default(),
        plan: o.plan.map(|(_, digest)| digest),
        errors: o.errors,
        recorded: o.correlation_id.is_some(),
        correlation_id: o.correlation_id,
    })
    .into_response())
}
