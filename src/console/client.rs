//! The in-process API client and the signed-in session.
//!
//! The browser holds the bearer token in an `HttpOnly`, `SameSite=Strict` cookie (so page scripts
//! cannot read it and other sites cannot send it); every page request presents it to the API router
//! as `Authorization: Bearer …`, exactly as any other client would.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use http_body_util::BodyExt;
use ledger_schemas::envelope::Role;
use serde::de::DeserializeOwned;
use tower_service::Service;

use super::Console;
use super::i18n::Lang;
use crate::http::error::Problem;
use crate::http::views::MeView;

/// The cookie that holds the token.
pub const TOKEN_COOKIE: &str = "ledger_token";

/// Why a call to the API did not give what a page needs: the API's problem, as it sent it.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub problem: Box<Problem>,
    pub lang: Lang,
}

impl Failure {
    /// A problem in the reader's language: the API writes titles "中文 English" and details and
    /// field reasons "中文 (English)"; a page shows one half.
    fn new(lang: Lang, status: StatusCode, mut problem: Box<Problem>) -> Self {
        problem.title = lang.label(&problem.title);
        problem.detail = lang.said(&problem.detail);
        for e in &mut problem.errors {
            e.reason = lang.said(&e.reason);
        }
        Failure {
            status,
            problem,
            lang,
        }
    }

    /// A failure the console finds itself, shaped like the API's problems.
    fn own(lang: Lang, status: StatusCode, code: &str, title: &str, detail: String) -> Self {
        Self::new(
            lang,
            status,
            Box::new(Problem {
                kind: format!("urn:ledger:problem:{code}"),
                title: title.to_owned(),
                status: status.as_u16(),
                detail,
                code: code.to_owned(),
                errors: Vec::new(),
                current_revision: None,
            }),
        )
    }

    /// A failure of the console itself (an answer it could not read).
    pub fn internal(lang: Lang, detail: impl Into<String>) -> Self {
        let title = "控制台无法显示此页 The console cannot show this page";
        Self::own(
            lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "console",
            title,
            detail.into(),
        )
    }

    /// Something the page was asked for that does not exist.
    pub fn not_found(lang: Lang, detail: impl Into<String>) -> Self {
        let title = "未找到 Not found";
        Self::own(
            lang,
            StatusCode::NOT_FOUND,
            "not-found",
            title,
            detail.into(),
        )
    }

    /// A request the console refuses before asking the API (a malformed time, say).
    pub fn bad_request(lang: Lang, field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let title = "请求有误 The request is invalid";
        let mut failure = Self::own(
            lang,
            StatusCode::BAD_REQUEST,
            "invalid-query",
            title,
            reason.clone(),
        );
        failure.problem.errors.push(crate::http::error::FieldError {
            field: field.to_owned(),
            reason: lang.said(&reason),
        });
        failure
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        super::layout::error_page(&self)
    }
}

/// An API answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The `Ledger-Position` the read was taken at.
    pub fn position(&self) -> Option<u64> {
        self.headers
            .get(crate::http::queries::POSITION_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }
}

/// Calls the API router in process as the holder of `token`.
pub async fn call(
    api: &Router,
    token: &str,
    method: Method,
    uri: &str,
    body: Option<Vec<u8>>,
    if_match: Option<u64>,
) -> Result<Answer, String> {
    let content_type = body.is_some().then_some("application/json");
    call_typed(api, token, method, uri, content_type, body, if_match).await
}

/// As [`call`], with a body of any type (a multipart upload).
async fn call_typed(
    api: &Router,
    token: &str,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
    if_match: Option<u64>,
) -> Result<Answer, String> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    if let Some(revision) = if_match {
        request = request.header(header::IF_MATCH, crate::http::etag::format(revision));
    }
    let request = request
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .map_err(|e| e.to_string())?;
    let mut router = api.clone();
    let Ok(response) = router.call(request).await;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// The signed-in person: their token, who the API says they are, and the language they read.
pub struct Session {
    pub api: Router,
    pub token: String,
    pub me: MeView,
    pub lang: Lang,
    /// The path and query of this request, to come back to after switching language.
    pub here: String,
}

impl Session {
    pub fn role(&self) -> Role {
        self.me.role
    }

    /// Reads `uri` from the API.
    pub async fn get<T: DeserializeOwned>(&self, uri: &str) -> Result<T, Failure> {
        Ok(self.get_at(uri).await?.0)
    }

    /// Reads `uri` from the API, with the position the answer was read at.
    pub async fn get_at<T: DeserializeOwned>(&self, uri: &str) -> Result<(T, u64), Failure> {
        let answer = self.call(Method::GET, uri, None, None).await?;
        let position = answer.position().unwrap_or_default();
        let value = serde_json::from_slice(&answer.body)
            .map_err(|e| Failure::internal(self.lang, format!("{uri}: unreadable answer: {e}")))?;
        Ok((value, position))
    }

    /// Sends a write; a refusal comes back as the API's problem.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> Result<(), Failure> {
        let body =
            serde_json::to_vec(body).map_err(|e| Failure::internal(self.lang, e.to_string()))?;
        self.call(method, uri, Some(body), if_match).await.map(drop)
    }

    /// Sends a write and reads what the API answered (an issued token, say).
    pub async fn send_for<T: DeserializeOwned>(
        &self,
        method: Method,
        uri: &str,
        body: &serde_json::Value,
        if_match: Option<u64>,
    ) -> Result<T, Failure> {
        let body =
            serde_json::to_vec(body).map_err(|e| Failure::internal(self.lang, e.to_string()))?;
        let answer = self.call(method, uri, Some(body), if_match).await?;
        serde_json::from_slice(&answer.body)
            .map_err(|e| Failure::internal(self.lang, format!("{uri}: unreadable answer: {e}")))
    }

    /// Reads `uri` as it is (a file's bytes and headers); a refusal comes back as the API's problem.
    pub async fn fetch(&self, uri: &str) -> Result<Answer, Failure> {
        self.call(Method::GET, uri, None, None).await
    }

    /// Sends a body of `content_type` (a multipart upload); a refusal comes back as the API's problem.
    pub async fn send_typed(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Answer, Failure> {
        self.call_with(method, uri, Some(content_type), Some(body), None)
            .await
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
        if_match: Option<u64>,
    ) -> Result<Answer, Failure> {
        let content_type = body.is_some().then_some("application/json");
        self.call_with(method, uri, content_type, body, if_match)
            .await
    }

    async fn call_with(
        &self,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
        if_match: Option<u64>,
    ) -> Result<Answer, Failure> {
        let answer = call_typed(
            &self.api,
            &self.token,
            method,
            uri,
            content_type,
            body,
            if_match,
        )
        .await
        .map_err(|e| Failure::internal(self.lang, e))?;
        if answer.status.is_success() {
            return Ok(answer);
        }
        let problem = serde_json::from_slice::<Problem>(&answer.body)
            .map(Box::new)
            .unwrap_or_else(|_| {
                Failure::internal(self.lang, String::from_utf8_lossy(&answer.body)).problem
            });
        Err(Failure::new(self.lang, answer.status, problem))
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Where to send a visitor without a valid session: the sign-in page, then back here.
fn to_sign_in(here: &str, expired: bool) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", here);
    if expired {
        query.append_pair("expired", "1");
    }
    let mut response = Redirect::to(&format!("/sign-in?{}", query.finish())).into_response();
    if expired {
        response.headers_mut().insert(
            header::SET_COOKIE,
            super::sign_in::clear_cookie(TOKEN_COOKIE),
        );
    }
    response
}

impl FromRequestParts<Console> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let lang = Lang::of(&parts.headers);
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let Some(token) = cookie(&parts.headers, TOKEN_COOKIE).map(str::to_owned) else {
            return Err(to_sign_in(&here, false));
        };
        let answer = call(&console.api, &token, Method::GET, "/api/v1/me", None, None)
            .await
            .map_err(|e| Failure::internal(lang, e).into_response())?;
        if answer.status == StatusCode::UNAUTHORIZED {
            return Err(to_sign_in(&here, true));
        }
        let me = serde_json::from_slice::<MeView>(&answer.body)
            .map_err(|e| Failure::internal(lang, e.to_string()).into_response())?;
        Ok(Session {
            api: console.api.clone(),
            token,
            me,
            lang,
            here,
        })
    }
}
