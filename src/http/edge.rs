//! The first thing every request meets, API and console alike, before any route or token is looked
//! at:
//!
//! - a `Content-Encoding` other than `identity` is refused with 415 (and `Accept-Encoding: identity`):
//!   the server decodes no compression, and reading a gzip body as if it were plain would record
//!   something other than what was sent; a `Transfer-Encoding` other than `chunked` is refused with
//!   501 for the same reason;
//! - a body must arrive whole within the body timeout ([`super::serve::Limits::body_timeout`]) and
//!   within [`super::extract::BODY_LIMIT`]: it is read here, so that a client trickling a body a byte
//!   at a time holds a connection for a bounded time, whichever handler would read it;
//! - every answer says `X-Content-Type-Options: nosniff`.

use std::time::Duration;

use axum::body::{Body, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_ENCODING, TRANSFER_ENCODING};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::read_body;

/// Refuses encodings the server does not decode, reads the body within `timeout`, marks the answer.
pub async fn layer(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    if let Some(refusal) = refuse_encodings(&request) {
        return refusal.into_response();
    }
    let request = if request.body().size_hint().exact() == Some(0) {
        request
    } else {
        let (parts, body) = request.into_parts();
        let bytes = match tokio::time::timeout(timeout, read_body(Request::new(body))).await {
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
