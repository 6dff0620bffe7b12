//! The first thing every request meets, API and console alike, before any route or token is looked
//! at:
//!
//! - a `Content-Encoding` other than `identity` is refused with 415 (and `Accept-Encoding: identity`):
//!   the server decodes no compression, and reading a gzip body as if it were plain would record
//!   something other than what was sent; a `Transfer-Encoding` other than `chunked` is refused with
//!   501 for the same reason;
//! - a body must arrive whole within the body timeout ([`super::serve::Limits::body_timeout`]) and
//!   within [`super::extract::BODY_LIMIT`]: it is read here, so that a client trickling a body a byte
//!   at a time holds a connection for a bounded time, whichever handler would read it. A
//!   `multipart/form-data` body (evidence files, from the API's upload or a console form) may be as
//!   large as the evidence limit per request plus [`super::extract::BODY_LIMIT`] for its other
//!   fields, and has the body timeout plus the time its size takes at [`MIN_UPLOAD_RATE`]: a 20 MiB
//!   scan cannot arrive in the seconds a JSON body gets, and the handler then checks the exact
//!   limits and names the file;
//! - every answer says `X-Content-Type-Options: nosniff`.

use std::time::Duration;

use axum::body::{Body, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_ENCODING, TRANSFER_ENCODING};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{BODY_LIMIT, read_body_within};

/// The slowest upload rate a multipart body is given time for: 512 KiB/s (4 Mbit/s).
pub const MIN_UPLOAD_RATE: f64 = 512.0 * 1024.0;

/// What the edge allows a body.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// The body timeout of every request ([`super::serve::Limits::body_timeout`]).
    pub body_timeout: Duration,
    /// The evidence limit per request ([`super::evidence::EvidenceLimits::max_request`]).
    pub upload_limit: u64,
}

impl Edge {
    /// The size and the time a body may take: a multipart body is given room for its files.
    fn allowance(&self, request: &Request) -> (usize, Duration) {
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"multipart/form-data"));
        if !multipart {
            return (BODY_LIMIT, self.body_timeout);
        }
        let limit = usize::try_from(self.upload_limit)
            .unwrap_or(usize::MAX)
            .saturating_add(BODY_LIMIT);
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(limit, |n| (n as usize).min(limit));
        let transfer = Duration::from_secs_f64(declared as f64 / MIN_UPLOAD_RATE);
        (limit, self.body_timeout + transfer)
    }
}

/// Refuses encodings the server does not decode, reads the body within its time, marks the answer.
pub async fn layer(State(edge): State<Edge>, request: Request, next: Next) -> Response {
    if let Some(refusal) = refuse_encodings(&request) {
        return refusal.into_response();
    }
    let request = if request.body().size_hint().exact() == Some(0) {
        request
    } else {
        let (limit, timeout) = edge.allowance(&request);
        let (parts, body) = request.into_parts();
        let bytes = match tokio::time::timeout(timeout, read_body_within(Request::new(body), limit))
            .await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(refusal)) => return refusal.into_response(),
            Err(_) => return ApiError::body_timeout(timeout).into_response(),
        };
        Request::from_parts(parts, Body::from(bytes))
    };
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The refusal of a content or transfer coding the server does not decode, if there is one.
fn refuse_encodings(request: &Request) -> Option<ApiError> {
    let codings = |name| -> Vec<String> {
        request
            .headers()
            .get_all(name)
            .iter()
            .flat_map(|value| value.as_bytes().split(|b| *b == b','))
            .map(|coding| String::from_utf8_lossy(coding).trim().to_ascii_lowercase())
            .filter(|coding| !coding.is_empty())
            .collect()
    };
    if let Some(coding) = codings(CONTENT_ENCODING)
        .into_iter()
        .find(|c| c != "identity")
    {
        return Some(ApiError::unsupported_content_encoding(&coding));
    }
    // hyper decodes `chunked` itself and refuses a body it cannot frame; any other coding would reach
    // a handler still encoded.
    if let Some(coding) = codings(TRANSFER_ENCODING)
        .into_iter()
        .find(|c| c != "chunked")
    {
        return Some(ApiError::unsupported_transfer_encoding(&coding));
    }
    None
}
