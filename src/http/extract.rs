//! Reading requests: bodies, path ids, query strings, `If-Match`. Every failure becomes a problem
//! (4xx) naming the field, and nothing is decided before the whole request has been read.
//!
//! - [`JsonBody`]: `Content-Type` must be JSON (415); the body may not exceed [`BODY_LIMIT`] (413);
//!   it must be UTF-8 and well-formed JSON (400, with line and column); its shape must fit the wire
//!   type (422, with the field's path: a missing field, an unknown field, a wrong type, an invalid id
//!   or amount of points).
//! - [`Params`]: the path's ids, parsed into the domain's id types (400 `path.{name}`).
//! - [`Query`]: the query string into a wire type; unknown parameters are refused, so a typo such
//!   as `asof=` is not silently ignored (400 `query.{name}`).

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{ApiError, FieldError};

/// The largest request body accepted (a whole rubric definition is some tens of kilobytes).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body parsed into `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        if !is_json(&content_type) {
            return Err(ApiError::unsupported_media_type(&content_type));
        }
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(ApiError::payload_too_large(BODY_LIMIT));
        }
        let bytes = read_body(request).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Reads a whole body, at most [`BODY_LIMIT`] bytes.
pub async fn read_body(request: Request) -> Result<Bytes, ApiError> {
    read_body_within(request, BODY_LIMIT).await
}

/// Reads a whole body, at most `limit` bytes.
pub async fn read_body_within(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|err| {
            let too_large =
                std::iter::successors(Some(&err as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError::payload_too_large(limit)
            } else {
                ApiError::bad_request(
                    "unreadable-body",
                    "",
                    format!("请求体读取失败 (the request body could not be read): {err}"),
                )
            }
        })
}

/// `application/json` or any `+json` type, parameters ignored.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON body: UTF-8, then syntax, then shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid-utf8",
            "",
            format!(
                "请求体不是有效的 UTF-8, 第 {} 字节处有误 (the body is not valid UTF-8 at byte {})",
                e.valid_up_to(),
                e.valid_up_to()
            ),
        )
    })?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        json_error(&path, &inner)
    })?;
    deserializer.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

/// Where a JSON error lies and why, in the API's terms.
fn json_error(path: &str, err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            "malformed-json",
            "",
            format!(
                "请求体不是有效的 JSON, 第 {} 行第 {} 列 (the body is not valid JSON at line {}, column {}): {}",
                err.line(),
                err.column(),
                err.line(),
                err.column(),
                strip_position(err)
            ),
        ),
        Category::Data => {
            let (field, reason) = explain(path, &strip_position(err));
            ApiError::invalid(vec![FieldError { field, reason }])
        }
    }
}

/// serde_json's message without its " at line L column C" suffix.
fn strip_position(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

/// The field and a reason a person understands, from serde's message at `path`.
fn explain(path: &str, message: &str) -> (String, String) {
    let base = if path == "." { "" } else { path };
    let join = |name: &str| {
        if base.is_empty() {
            name.to_owned()
        } else {
            format!("{base}.{name}")
        }
    };
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_owned);
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = quoted(rest).unwrap_or_default();
        return (
            join(&name),
            "缺少必填字段 (required field missing)".to_owned(),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // serde_path_to_error's path already ends at the unknown field.
        let name = quoted(rest).unwrap_or_default();
        let field = if base == name || base.ends_with(&format!(".{name}")) {
            base.to_owned()
        } else {
            join(&name)
        };
        return (field, format!("未知字段 (unknown field): {message}"));
    }
    if message.starts_with("invalid type") {
        return (base.to_owned(), format!("类型错误 (wrong type): {message}"));
    }
    if message.starts_with("unknown variant") {
        return (
            base.to_owned(),
            format!("取值不在可选范围内 (not one of the allowed values): {message}"),
        );
    }
    let has_cjk = message
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let reason = if has_cjk {
        message.to_owned()
    } else {
        format!("取值无效 (invalid value): {message}")
    };
    (base.to_owned(), reason)
}

/// The path's parameters, undecoded names to percent-decoded values.
#[derive(Debug, Clone)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid-path",
                    "path",
                    format!("路径参数无法解读 (a path parameter cannot be read): {e}"),
                )
            })?;
        Ok(Params(
            raw.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ))
    }
}

impl Params {
    /// The parameter `name`, parsed into `T` (an id type, a version number).
    pub fn get<T>(&self, name: &str) -> Result<T, ApiError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let raw = self
            .0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        raw.parse::<T>().map_err(|e| {
            ApiError::bad_request(
                "invalid-path",
                &format!("path.{name}"),
                format!("路径参数 {name} 无效 (the path parameter {name} is invalid): {e}"),
            )
        })
    }
}

/// A query string parsed into `T` (which should deny unknown fields).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let (field, reason) = explain(&path, &message);
                let field = if field.is_empty() {
                    "query".to_owned()
                } else {
                    format!("query.{field}")
                };
                ApiError::bad_request("invalid-query", &field, reason)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    /// Missing, unknown and mistyped fields are 422s naming the field's path; syntax, trailing
    /// garbage and invalid UTF-8 are 400s.
    #[test]
    fn json_errors_name_the_field() {
        let missing = parse_json::<Probe>(br#"{"inner": {"count": 1}}"#).unwrap_err();
        assert_eq!(missing.problem.errors[0].field, "name");
        let wrong = parse_json::<Probe>(br#"{"name": "x", "inner": {"count": -1}}"#).unwrap_err();
        assert_eq!(wrong.status.as_u16(), 422);
        assert_eq!(wrong.problem.errors[0].field, "inner.count");
        let unknown = parse_json::<Probe>(br#"{"name": "x", "inner": {"count": 1, "extra": 2}}"#)
            .unwrap_err();
        assert_eq!(unknown.problem.errors[0].field, "inner.extra");
        let syntax = parse_json::<Probe>(br#"{"name": "#).unwrap_err();
        assert_eq!(syntax.status.as_u16(), 400);
        let utf8 = parse_json::<Probe>(b"{\"name\": \"\xff\"}").unwrap_err();
        assert_eq!(utf8.problem.code, "invalid-utf8");
        let trailing =
            parse_json::<Probe>(br#"{"name": "x", "inner": {"count": 1}} x"#).unwrap_err();
        assert_eq!(trailing.status.as_u16(), 400);
    }

    /// `application/json` (any case, with parameters) and `+json` types are JSON; others are not.
    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
