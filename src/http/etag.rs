//! ETags are stream revisions: optimistic concurrency made visible.
//!
//! A score sheet (and each of its items, which live in the sheet's stream) and a period answer with
//! `ETag: "{revision}"`, the revision of the stream's last event (from 0; a sheet nothing was recorded
//! on yet has no ETag). A write that sends `If-Match: "{revision}"` is decided only if the stream is
//! still at that revision; otherwise it is refused with 409 and the current revision. `If-Match: *`
//! and no `If-Match` mean "whatever it is now". Weak tags (`W/"3"`) are refused: a weak comparison
//! cannot guard a write (RFC 9110 §13.1.1).

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::IF_MATCH;
use axum::http::request::Parts;

use super::error::ApiError;

/// The revision a write's `If-Match` requires (`None`: no condition).
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if_match(&parts.headers).map(IfMatch)
    }
}

/// The ETag of a stream revision.
pub fn format(revision: u64) -> String {
    format!("\"{revision}\"")
}

/// The revision `If-Match` requires, if it requires one.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let mut values = headers.get_all(IF_MATCH).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let refuse = |why: &str| {
        Err(ApiError::bad_request(
            "invalid-if-match",
            "header.If-Match",
            format!(
                "If-Match 须为单个强 ETag, 如 \"3\", 或 * ({why}) (If-Match must be one strong ETag such as \"3\", or *)"
            ),
        ))
    };
    if values.next().is_some() {
        return refuse("多个 If-Match 头 / several If-Match headers");
    }
    let Ok(text) = value.to_str() else {
        return refuse("非 ASCII / not ASCII");
    };
    let text = text.trim();
    if text == "*" {
        return Ok(None);
    }
    if text.starts_with("W/") {
        return refuse("弱 ETag 不能用于写入 / a weak ETag cannot guard a write");
    }
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return refuse("缺少引号 / not quoted");
    };
    match inner.parse::<u64>() {
        Ok(revision) if !inner.starts_with('+') => Ok(Some(revision)),
        _ => refuse("不是本账本发出的 ETag / not an ETag this ledger issued"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn parse(value: &str) -> Result<Option<u64>, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(IF_MATCH, HeaderValue::from_str(value).unwrap());
        if_match(&headers)
    }

    /// `If-Match` takes one strong tag or `*`; weak, unquoted, signed or listed tags are a 400.
    #[test]
    fn if_match_accepts_one_strong_tag_or_star() {
        assert_eq!(parse("\"3\"").unwrap(), Some(3));
        assert_eq!(parse("*").unwrap(), None);
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        for bad in ["3", "W/\"3\"", "\"x\"", "\"+3\"", "\"1\", \"2\"", "\"\""] {
            assert_eq!(parse(bad).unwrap_err().status.as_u16(), 400, "{bad}");
        }
    }
}
