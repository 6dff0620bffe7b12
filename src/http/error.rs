//! Every error the API answers, as `application/problem+json` (RFC 9457), mapped in this one place.
//!
//! A [`Problem`] has the RFC's members (`type`, `title`, `status`, `detail`) and three of its own:
//! `code`, a stable slug a program can match on (the `type` is `urn:ledger:problem:{code}`); `errors`,
//! one entry per invalid field (which field, and why); and `current_revision` on a 409 caused by a
//! stale `If-Match`, so a client can re-read and retry. Titles are for people, zh-CN first, then
//! English; the detail is the domain's own wording of the refusal.
//!
//! The mapping of domain refusals to statuses: who may not do it → 403; an id that names nothing →
//! 404 (whether the id came from the path or the body, the detail names it); the resource is not in
//! a state that allows it (exists already, wrong stage, already decided, a stale revision or value) →
//! 409; the request is well-formed but breaks a rule (a missing reason, a value out of range, a rubric
//! whose sums do not add up) → 422. A store that cannot be written (disk full, locked, shut down) is
//! 503; only an unexpected failure is 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ledger_projections::domain::Rejection;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::app::AppError;
use crate::app::reads::ReadError;
use crate::app::tokens::{AppAuthError, AuthFailure, IssueError};
use crate::store::{ActualRevision, StoreError};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request: where it is and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FieldError {
    /// The field, as a path into the request: `value.points`, `units[2]`, `path.unit`, `query.as_of`,
    /// `header.If-Match`; empty for the body as a whole.
    pub field: String,
    /// Why it was refused, zh-CN first, then English.
    pub reason: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// `urn:ledger:problem:{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong, for a person: zh-CN first, then English.
    pub title: String,
    /// The HTTP status, repeated.
    pub status: u16,
    /// This occurrence, in the domain's own words.
    pub detail: String,
    /// A stable slug for programs.
    pub code: String,
    /// The invalid fields, when the request was refused for its content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On a stale `If-Match`: the resource's current revision (`null` while it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<Option<u64>>,
}

/// An error on its way to becoming a problem response (boxed: handlers return it on every path, and
/// a small `Err` keeps their results small).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ProblemResponse>);

/// The parts of a problem response.
#[derive(Debug, Clone)]
pub struct ProblemResponse {
    pub status: StatusCode,
    pub problem: Problem,
    /// Extra headers: `WWW-Authenticate` on 401, `ETag` of the current revision on a stale write.
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl std::ops::Deref for ApiError {
    type Target = ProblemResponse;
    fn deref(&self) -> &ProblemResponse {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ProblemResponse {
        &mut self.0
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemResponse {
            status,
            problem: Problem {
                kind: format!("urn:ledger:problem:{code}"),
                title: title.to_owned(),
                status: status.as_u16(),
                detail: detail.into(),
                code: code.to_owned(),
                errors: Vec::new(),
                current_revision: None,
            },
            headers: Vec::new(),
        }))
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.problem.errors = errors;
        self
    }

    fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// A request whose content is refused: one entry per invalid field.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| {
                if e.field.is_empty() {
                    e.reason.clone()
                } else {
                    format!("{}: {}", e.field, e.reason)
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "请求内容无效 The request is invalid",
            detail,
        )
        .with_errors(errors)
    }

    /// One invalid field.
    pub fn invalid_field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError {
            field: field.into(),
            reason: reason.into(),
        }])
    }

    /// A request that cannot be read at all (syntax, encoding, a malformed header).
    pub fn bad_request(code: &str, field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            StatusCode::BAD_REQUEST,
            code,
            "请求无法解读 The request cannot be read",
            reason.clone(),
        )
        .with_errors(vec![FieldError {
            field: field.to_owned(),
            reason,
        }])
    }

    pub fn unsupported_media_type(found: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "请求体须为 JSON The request body must be JSON",
            format!(
                "Content-Type 须为 application/json, 实际为“{found}” (Content-Type must be application/json, not {found:?})"
            ),
        )
    }

    /// A request body in a content coding the server does not decode (RFC 9110 §15.5.16).
    pub fn unsupported_content_encoding(coding: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-content-encoding",
            "不支持此内容编码 The content encoding is not supported",
            format!(
                "服务器不解码 Content-Encoding“{coding}”, 请发送未压缩的请求体 (the server does not decode Content-Encoding {coding:?}; send the body uncompressed)"
            ),
        )
        .with_errors(vec![FieldError {
            field: "header.Content-Encoding".to_owned(),
            reason: "只接受 identity (only identity is accepted)".to_owned(),
        }])
        .with_header(header::ACCEPT_ENCODING, "identity")
    }

    /// A transfer coding other than `chunked` (RFC 9112 §6.1: 501).
    pub fn unsupported_transfer_encoding(coding: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "unsupported-transfer-encoding",
            "不支持此传输编码 The transfer encoding is not supported",
            format!(
                "服务器只支持 chunked 传输编码, 不支持“{coding}” (the server supports only the chunked transfer coding, not {coding:?})"
            ),
        )
    }

    /// A body that did not arrive whole in time.
    pub fn body_timeout(timeout: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body-timeout",
            "请求体未在时限内收齐 The request body took too long",
            format!(
                "请求体须在 {} 秒内收齐 (the request body must arrive within {} seconds)",
                timeout.as_secs(),
                timeout.as_secs()
            ),
        )
        .with_header(header::CONNECTION, "close")
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "请求体过大 The request body is too large",
            format!("请求体不能超过 {limit} 字节 (the request body may not exceed {limit} bytes)"),
        )
    }

    /// A resource named in the path that does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "未找到 Not found",
            detail,
        )
    }

    pub fn route_not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "route-not-found",
            "没有此接口 No such route",
            format!(
                "没有接口 {path}; 接口说明见 /api/v1/openapi.json (there is no route {path}; see /api/v1/openapi.json)"
            ),
        )
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "不支持此方法 Method not allowed",
            format!(
                "{path} 不支持 {method} ({path} does not accept {method}); 见 Allow 头 (see the Allow header)"
            ),
        )
    }

    /// The caller may not read or do this (the HTTP layer's own checks; the domain's come through
    /// [`From<Rejection>`]).
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "无权访问 Forbidden",
            detail,
        )
    }

    pub fn unauthenticated(code: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            code,
            "未认证: 需要有效的访问令牌 Unauthenticated: a valid bearer token is required",
            detail,
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"ledger\", error=\"invalid_token\"",
        )
    }

    /// An `Idempotency-Key` sent again with a different request.
    pub fn idempotency_key_reused() -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "幂等键已用于另一请求 The idempotency key was used for another request",
            "同一 Idempotency-Key 只能用于完全相同的请求 (方法、路径、If-Match 与请求体); 新请求请换新键 (an Idempotency-Key may only be repeated with the identical request: method, path, If-Match and body; use a new key for a new request)",
        )
        .with_errors(vec![FieldError {
            field: "header.Idempotency-Key".to_owned(),
            reason: "已用于另一请求 (already used for another request)".to_owned(),
        }])
    }

    /// The backend lacks an optional capability (signed checkpoints on KurrentDB).
    pub fn not_implemented(code: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            code,
            "此存储不支持 Not supported by this store",
            detail,
        )
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误 Internal server error",
            detail,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ProblemResponse {
            status,
            problem,
            headers: extra,
        } = *self.0;
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in extra {
            headers.insert(name, value);
        }
        response
    }
}

/// The ETag of a revision (see `http::etag`), or none for a stream without events.
fn etag_of(revision: Option<u64>) -> Option<String> {
    revision.map(super::etag::format)
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        use Rejection as R;
        use StatusCode as S;
        let detail = rejection.to_string();
        let (status, code, title) = match &rejection {
            // The same answer as a text the edge refused while parsing the request.
            R::Text(refusal) => {
                return ApiError::invalid_field(refusal.field.clone(), refusal.error.to_string());
            }
            R::StaleRevision { current, .. } => {
                let current = *current;
                let mut error = ApiError::new(
                    S::CONFLICT,
                    "stale-revision",
                    "数据已被他人更新, 请重新读取 The resource has changed; re-read it",
                    detail,
                );
                error.problem.current_revision = Some(current);
                if let Some(etag) = etag_of(current) {
                    error = error.with_header(header::ETAG, &etag);
                }
                return error;
            }
            R::RoleNotAllowed { .. }
            | R::RoleNotHeld { .. }
            | R::NotAssignedToUnit { .. }
            | R::NotYourUnit { .. }
            | R::NotYourRectification { .. } => {
                (S::FORBIDDEN, "forbidden", "无权执行此操作 Not allowed")
            }
            R::SelfApproval { .. } | R::OwnSubmission { .. } => (
                S::FORBIDDEN,
                "separation-of-duties",
                "职责分离: 不能审核自己的工作 Separation of duties",
            ),
            R::UnknownUnit { .. }
            | R::UnknownPerson { .. }
            | R::UnknownToken { .. }
            | R::UnknownRubric { .. }
            | R::UnknownRubricVersion { .. }
            | R::UnknownPeriod { .. }
            | R::UnknownAppeal { .. }
            | R::UnknownRectification { .. } => (S::NOT_FOUND, "not-found", "未找到 Not found"),
            R::UnitExists { .. }
            | R::PersonExists { .. }
            | R::TokenExists { .. }
            | R::RubricExists { .. }
            | R::PeriodExists { .. }
            | R::AppealExists { .. }
            | R::RectificationExists { .. } => {
                (S::CONFLICT, "already-exists", "已存在 It exists already")
            }
            R::StaleRubricVersion { .. } | R::StaleValue { .. } => (
                S::CONFLICT,
                "stale",
                "所依据的内容已过时, 请重新读取 What this is based on has changed; re-read it",
            ),
            R::StageNotNext { .. }
            | R::PeriodFrozen { .. }
            | R::NotPublished { .. }
            | R::WrongStage { .. }
            | R::SheetsIncomplete { .. }
            | R::SheetsNotApproved { .. } => (
                S::CONFLICT,
                "wrong-stage",
                "考核周期当前阶段不允许此操作 Not possible in the period's current stage",
            ),
            R::AlreadyGranted { .. }
            | R::NotGranted { .. }
            | R::TokenAlreadyRevoked { .. }
            | R::AlreadyScored { .. }
            | R::NotScored { .. }
            | R::ItemApproved { .. }
            | R::AlreadyReviewed { .. }
            | R::AppealPending { .. }
            | R::AppealDecided { .. }
            | R::RectificationNotOpen { .. }
            | R::RectificationNotSubmitted { .. } => (
                S::CONFLICT,
                "conflict",
                "当前状态不允许此操作 Not possible in the current state",
            ),
            R::ReasonRequired { .. }
            | R::Missing { .. }
            | R::SystemRoleReserved
            | R::UnitsRequired { .. }
            | R::UnitsNotApplicable { .. }
            | R::ExpiryInPast { .. }
            | R::HierarchyCycle { .. }
            | R::NoChanges { .. }
            | R::Rubric(_)
            | R::DatesReversed { .. }
            | R::DuplicateUnit { .. }
            | R::ReopenTarget { .. }
            | R::NotNewerVersion { .. }
            | R::UnitNotInPeriod { .. }
            | R::Value(_)
            | R::NothingToCorrect { .. }
            | R::AppealSourceReserved
            | R::NeedsRescoring { .. }
            | R::BusinessScoreOutOfRange { .. }
            | R::RevisionRequired { .. }
            | R::RevisionItemMismatch { .. }
            | R::NoFinding { .. }
            | R::DueDateInPast { .. }
            | R::UnknownZone { .. }
            | R::ZoneAfterEvents { .. } => (
                S::UNPROCESSABLE_ENTITY,
                "rule-violated",
                "不符合考核规则 The request breaks a rule of the assessment",
            ),
        };
        let mut error = ApiError::new(status, code, title, detail.clone());
        if let Some(field) = rejected_field(&rejection) {
            error.problem.errors.push(FieldError {
                field: field.to_owned(),
                reason: detail,
            });
        }
        error
    }
}

/// The request field a rule refused, where the rule is about one field, so that a form (the web
/// console's) can show the message next to it.
fn rejected_field(rejection: &Rejection) -> Option<&'static str> {
    use ledger_projections::scoring::ValueRejection as V;
    Some(match rejection {
        Rejection::ReasonRequired { .. } => "reason",
        // "申诉理由 grounds": the English word after the label is the wire field's name.
        Rejection::Missing { field } => field.rsplit(' ').next().unwrap_or(field),
        Rejection::Value(V::OutOfRange { .. }) => "value.points",
        Rejection::Value(V::UnknownLevel { .. }) => "value.level",
        Rejection::Value(V::NegativeAward { .. }) => "value.awards",
        Rejection::Value(_) | Rejection::NothingToCorrect { .. } => "value",
        Rejection::BusinessScoreOutOfRange { .. } => "score",
        Rejection::DueDateInPast { .. } => "due_on",
        Rejection::RevisionRequired { .. } => "revised",
        _ => return None,
    })
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let detail = error.to_string();
        match error {
            StoreError::Conflict { actual, .. } => {
                let current = match actual {
                    ActualRevision::NoStream => None,
                    ActualRevision::Exact(r) => Some(r),
                };
                let mut problem = ApiError::new(
                    StatusCode::CONFLICT,
                    "stale-revision",
                    "数据已被他人更新, 请重新读取 The resource has changed; re-read it",
                    detail,
                );
                problem.problem.current_revision = Some(current);
                if let Some(etag) = etag_of(current) {
                    problem = problem.with_header(header::ETAG, &etag);
                }
                problem
            }
            StoreError::DiskFull { .. }
            | StoreError::Busy { .. }
            | StoreError::ReadOnly { .. }
            | StoreError::Closed
            | StoreError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                "账本暂时无法写入, 请稍后重试 The ledger cannot be written now; retry later",
                detail,
            ),
            _ => ApiError::internal(detail),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Rejected(rejection) => rejection.into(),
            AppError::Store(store) => store.into(),
            AppError::Contract(contract) => ApiError::internal(contract.to_string()),
        }
    }
}

impl From<AuthFailure> for ApiError {
    fn from(failure: AuthFailure) -> Self {
        let code = match failure {
            AuthFailure::Malformed => "malformed-token",
            AuthFailure::Unknown => "invalid-token",
            AuthFailure::Revoked { .. } => "revoked-token",
            AuthFailure::Expired { .. } => "expired-token",
            AuthFailure::RoleRevoked { .. } => "role-revoked",
        };
        ApiError::unauthenticated(code, failure.to_string())
    }
}

impl From<AppAuthError> for ApiError {
    fn from(error: AppAuthError) -> Self {
        match error {
            AppAuthError::Refused(failure) => failure.into(),
            AppAuthError::App(app) => app.into(),
        }
    }
}

impl From<IssueError> for ApiError {
    fn from(error: IssueError) -> Self {
        match error {
            IssueError::App(app) => app.into(),
            IssueError::Randomness(detail) => ApiError::internal(detail),
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::App(app) => app.into(),
            other => ApiError::internal(other.to_string()),
        }
    }
}
