//! Write handlers: extract, turn the wire body into a domain command, execute it as the caller, and
//! answer with what was recorded. The domain decides; errors map through `error.rs`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ledger_projections::domain::Command;
use ledger_schemas::envelope::Role;
use ledger_schemas::ids::{
    AppealId, ItemCode, PeriodId, PersonId, RectificationId, RubricId, TokenId, UnitId, stream,
};
use uuid::Uuid;

use super::Api;
use super::auth::Caller;
use super::error::ApiError;
use super::etag::{self, IfMatch};
use super::evidence::EvidenceLimits;
use super::extract::{JsonBody, Params};
use super::views::{IssuedTokenView, Recorded};
use super::wire::*;
use crate::app::Executed;
use crate::app::tokens::issue_token_as;
use crate::store::EventStore;

type Shared<S> = State<Arc<Api<S>>>;
type Answer = Result<Response, ApiError>;
/// The evidence limits the router carries (`ServeOptions::evidence`).
type Limits = Option<axum::Extension<EvidenceLimits>>;

/// The files a write cites, resolved from the store; the caller is recorded as their uploader.
async fn cited<S: EventStore>(
    api: &Api<S>,
    limits: &Limits,
    caller: &Caller,
    files: Vec<FileRef>,
) -> Result<Vec<ledger_schemas::values::EvidenceFile>, ApiError> {
    let limits = limits.as_ref().map(|l| l.0).unwrap_or_default();
    super::evidence::resolve(api, limits, caller.person(), files).await
}

/// What a write answers: the recorded events, the new revision of `stream` as the ETag (when the
/// write touched it), and the new resource's address on a create.
fn recorded(
    status: StatusCode,
    executed: &Executed,
    stream: Option<&str>,
    location: Option<String>,
) -> Response {
    let mut response = (status, axum::Json(Recorded::from(executed))).into_response();
    let headers = response.headers_mut();
    if let Some(revision) = stream.and_then(|s| {
        executed
            .revisions
            .iter()
            .find(|(name, _)| name == s)
            .map(|(_, r)| *r)
    }) && let Ok(value) = HeaderValue::from_str(&etag::format(revision))
    {
        headers.insert(ETAG, value);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(LOCATION, location);
    }
    response
}

fn created(executed: &Executed, location: String) -> Response {
    recorded(StatusCode::CREATED, executed, None, Some(location))
}

fn done(executed: &Executed) -> Response {
    recorded(StatusCode::OK, executed, None, None)
}

/// The period and unit of a sheet route.
fn sheet_path(params: &Params) -> Result<SheetPath, ApiError> {
    Ok(SheetPath {
        period: params.get::<PeriodId>("period")?,
        unit: params.get::<UnitId>("unit")?,
    })
}

// ---- units, people, access, tokens ----

pub async fn register_unit<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    JsonBody(body): JsonBody<RegisterUnitRequest>,
) -> Answer {
    let location = format!("/api/v1/units/{}", body.unit);
    let executed = api.execute(&caller, body.into()).await?;
    Ok(created(&executed, location))
}

pub async fn update_unit<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<UpdateUnitRequest>,
) -> Answer {
    let unit = params.get::<UnitId>("unit")?;
    let executed = api.execute(&caller, body.into_command(unit)).await?;
    Ok(done(&executed))
}

pub async fn register_person<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    JsonBody(body): JsonBody<RegisterPersonRequest>,
) -> Answer {
    let location = format!("/api/v1/people/{}", body.person);
    let executed = api.execute(&caller, body.into()).await?;
    Ok(created(&executed, location))
}

pub async fn grant_role<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<GrantRoleRequest>,
) -> Answer {
    let (person, role) = (
        params.get::<PersonId>("person")?,
        params.get::<Role>("role")?,
    );
    let executed = api
        .execute(&caller, body.into_command(person, role))
        .await?;
    Ok(done(&executed))
}

pub async fn revoke_role<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<RevocationRequest>,
) -> Answer {
    let (person, role) = (
        params.get::<PersonId>("person")?,
        params.get::<Role>("role")?,
    );
    let command = Command::RevokeAccess {
        person,
        role,
        reason: body.reason.map(String::from),
    };
    let executed = api.execute(&caller, command).await?;
    Ok(done(&executed))
}

pub async fn issue_token<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    JsonBody(body): JsonBody<IssueTokenRequest>,
) -> Answer {
    let issued = issue_token_as(
        &api.ledger,
        caller.actor.clone(),
        body.person,
        body.role,
        body.expires_at,
        Uuid::now_v7(),
    )
    .await?;
    let location = format!("/api/v1/tokens/{}", issued.token);
    let body = IssuedTokenView {
        recorded: Recorded::from(&issued.executed),
        token: issued.token,
        person: issued.person,
        role: issued.role,
        expires_at: issued.expires_at,
        bearer: issued.bearer,
    };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

pub async fn revoke_token<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<RevocationRequest>,
) -> Answer {
    let token = params.get::<TokenId>("token")?;
    let command = Command::RevokeToken {
        token,
        reason: body.reason.map(String::from),
    };
    let executed = api.execute(&caller, command).await?;
    Ok(done(&executed))
}

// ---- rubrics ----

pub async fn define_rubric<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    JsonBody(body): JsonBody<DefineRubricRequest>,
) -> Answer {
    let location = format!("/api/v1/rubrics/{}/versions/1", body.rubric);
    let executed = api.execute(&caller, Command::try_from(body)?).await?;
    Ok(created(&executed, location))
}

pub async fn adjust_rubric<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<AdjustRubricRequest>,
) -> Answer {
    let rubric = params.get::<RubricId>("rubric")?;
    let location = format!(
        "/api/v1/rubrics/{rubric}/versions/{}",
        body.from_version.0.saturating_add(1)
    );
    let executed = api.execute(&caller, body.into_command(rubric)?).await?;
    Ok(created(&executed, location))
}

// ---- periods ----

pub async fn open_period<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    JsonBody(body): JsonBody<OpenPeriodRequest>,
) -> Answer {
    let location = format!("/api/v1/periods/{}", body.period);
    let stream = stream::period(&body.period);
    let executed = api.execute(&caller, body.into()).await?;
    Ok(recorded(
        StatusCode::CREATED,
        &executed,
        Some(&stream),
        Some(location),
    ))
}

pub async fn advance_stage<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    JsonBody(body): JsonBody<AdvanceStageRequest>,
) -> Answer {
    let period = params.get::<PeriodId>("period")?;
    let stream = stream::period(&period);
    let command = Command::AdvanceStage {
        period,
        to: body.to,
        expected_revision: expected,
    };
    let executed = api.execute(&caller, command).await?;
    Ok(recorded(StatusCode::OK, &executed, Some(&stream), None))
}

pub async fn reopen_period<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    JsonBody(body): JsonBody<ReopenPeriodRequest>,
) -> Answer {
    let period = params.get::<PeriodId>("period")?;
    let stream = stream::period(&period);
    let command = Command::ReopenPeriod {
        period,
        to: body.to,
        reason: body.reason.into(),
        expected_revision: expected,
    };
    let executed = api.execute(&caller, command).await?;
    Ok(recorded(StatusCode::OK, &executed, Some(&stream), None))
}

pub async fn move_period_rubric<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    JsonBody(body): JsonBody<MoveRubricRequest>,
) -> Answer {
    let period = params.get::<PeriodId>("period")?;
    let stream = stream::period(&period);
    let command = Command::MovePeriodRubric {
        period,
        to_version: body.to_version.0,
        reason: body.reason.into(),
        expected_revision: expected,
    };
    let executed = api.execute(&caller, command).await?;
    Ok(recorded(StatusCode::OK, &executed, Some(&stream), None))
}

// ---- sheets and items ----

/// Executes a command on one sheet and answers with the sheet's new revision as the ETag.
async fn on_sheet<S: EventStore>(
    api: &Api<S>,
    caller: &Caller,
    at: &SheetPath,
    command: Command,
) -> Answer {
    let stream = stream::sheet(&at.period, &at.unit);
    let executed = api.execute(caller, command).await?;
    Ok(recorded(StatusCode::OK, &executed, Some(&stream), None))
}

pub async fn record_self_assessment<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    limits: Limits,
    JsonBody(mut body): JsonBody<SelfAssessmentRequest>,
) -> Answer {
    let (at, item) = (sheet_path(&params)?, params.get::<ItemCode>("item")?);
    let files = cited(&api, &limits, &caller, std::mem::take(&mut body.files)).await?;
    let command = body.into_command(at.clone(), item, expected, files)?;
    on_sheet(&api, &caller, &at, command).await
}

pub async fn record_score<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    limits: Limits,
    JsonBody(mut body): JsonBody<ScoreRequest>,
) -> Answer {
    let (at, item) = (sheet_path(&params)?, params.get::<ItemCode>("item")?);
    let files = cited(&api, &limits, &caller, std::mem::take(&mut body.files)).await?;
    let command = body.into_command(at.clone(), item, expected, files)?;
    on_sheet(&api, &caller, &at, command).await
}

pub async fn correct_score<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    limits: Limits,
    JsonBody(mut body): JsonBody<CorrectionRequest>,
) -> Answer {
    let (at, item) = (sheet_path(&params)?, params.get::<ItemCode>("item")?);
    let files = cited(&api, &limits, &caller, std::mem::take(&mut body.files)).await?;
    let command = body.into_command(at.clone(), item, expected, files)?;
    on_sheet(&api, &caller, &at, command).await
}

pub async fn review_item<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    JsonBody(body): JsonBody<ReviewRequest>,
) -> Answer {
    let (at, item) = (sheet_path(&params)?, params.get::<ItemCode>("item")?);
    let command = body.into_item_command(at.clone(), item, expected);
    on_sheet(&api, &caller, &at, command).await
}

pub async fn review_sheet<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    JsonBody(body): JsonBody<ReviewRequest>,
) -> Answer {
    let at = sheet_path(&params)?;
    let command = body.into_sheet_command(at.clone(), expected);
    on_sheet(&api, &caller, &at, command).await
}

pub async fn record_business_result<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    IfMatch(expected): IfMatch,
    JsonBody(body): JsonBody<BusinessResultRequest>,
) -> Answer {
    let at = sheet_path(&params)?;
    let command = body.into_command(at.clone(), expected);
    on_sheet(&api, &caller, &at, command).await
}

// ---- appeals ----

pub async fn file_appeal<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    limits: Limits,
    JsonBody(mut body): JsonBody<FileAppealRequest>,
) -> Answer {
    let location = format!("/api/v1/appeals/{}", body.appeal);
    let files = cited(&api, &limits, &caller, std::mem::take(&mut body.files)).await?;
    let executed = api.execute(&caller, body.into_command(files)).await?;
    Ok(created(&executed, location))
}

pub async fn decide_appeal<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<DecideAppealRequest>,
) -> Answer {
    let appeal = params.get::<AppealId>("appeal")?;
    let command = body.into_command(appeal)?;
    let executed = api.execute(&caller, command).await?;
    Ok(done(&executed))
}

// ---- closed loop ----

pub async fn raise_rectification<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    JsonBody(body): JsonBody<RaiseRectificationRequest>,
) -> Answer {
    let location = format!("/api/v1/rectifications/{}", body.rectification);
    let executed = api.execute(&caller, body.into()).await?;
    Ok(created(&executed, location))
}

pub async fn submit_rectification<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    limits: Limits,
    JsonBody(body): JsonBody<SubmitRectificationRequest>,
) -> Answer {
    let rectification = params.get::<RectificationId>("rectification")?;
    let files = cited(&api, &limits, &caller, body.files).await?;
    let command = Command::SubmitRectification {
        files,
        rectification,
        note: body.note.into(),
        evidence: body.evidence.into_strings(),
    };
    let executed = api.execute(&caller, command).await?;
    Ok(done(&executed))
}

pub async fn verify_rectification<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<VerifyRectificationRequest>,
) -> Answer {
    let command = Command::VerifyRectification {
        rectification: params.get::<RectificationId>("rectification")?,
        comment: body.comment.into(),
    };
    let executed = api.execute(&caller, command).await?;
    Ok(done(&executed))
}

pub async fn send_back_rectification<S: EventStore>(
    State(api): Shared<S>,
    caller: Caller,
    params: Params,
    JsonBody(body): JsonBody<SendBackRectificationRequest>,
) -> Answer {
    let command = Command::SendBackRectification {
        rectification: params.get::<RectificationId>("rectification")?,
        comment: body.comment.into(),
        due_on: body.due_on,
    };
    let executed = api.execute(&caller, command).await?;
    Ok(done(&executed))
}
