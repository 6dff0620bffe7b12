//! What keeps the console's pages and forms to this site: same-origin form posts, local redirect
//! targets, and the headers that tell the browser what a page may do.
//!
//! - **Forms from this site only** ([`layer`]). Every console `POST` must come from a page of this
//!   site: `Sec-Fetch-Site` must be `same-origin` (or `none`, a request the person made themselves);
//!   a browser that does not send it is checked by `Origin`, then by `Referer`, against the `Host`
//!   (or `X-Forwarded-Host`, which a proxy sets and a page cannot) it was sent to. Another site's form
//!   is refused with 403 before anything is decided. A request with none of these headers comes from
//!   a program, not a page of another site (browsers have sent `Origin` on every `POST` since 2020),
//!   and the token cookie is `SameSite=Strict` besides. A token on a form is not needed then.
//! - **Redirects stay on this site** ([`local_target`]): a `back=` or `next=` target must be a path
//!   of this site, whatever a browser would make of it (`/\evil`, `/\t/evil`, `//evil`, a CR or LF).
//! - **Headers on every page**: a `Content-Security-Policy` that allows only this site's one script
//!   and one style sheet (no inline script, style or event handler), forms posted to this site, no
//!   framing (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for older browsers);
//!   `Referrer-Policy: same-origin`; `nosniff` (set for every answer by `http::edge`).
//! - **`Secure` cookies over HTTPS**: every cookie the console sets gets `Secure` when the site is
//!   served over HTTPS ([`Settings::https`], the one switch a TLS listener flips) or the request says
//!   it came that way (`X-Forwarded-Proto: https`, `Forwarded: proto=https`).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::client::Failure;
use super::i18n::Lang;

/// How the console is reached.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    /// The site is served over HTTPS: cookies are always `Secure`.
    pub https: bool,
    /// The evidence limits, to bound what a form with files may post before the API checks it.
    pub evidence: crate::http::evidence::EvidenceLimits,
}

/// The console's Content-Security-Policy: this site's script and style sheet, nothing inline.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Refuses a cross-site form post; adds the security headers and `Secure` to cookies.
pub async fn layer(State(settings): State<Settings>, request: Request, next: Next) -> Response {
    let https = settings.https || came_over_https(request.headers());
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) && let Err(why) = same_origin(request.headers())
    {
        let lang = Lang::of(request.headers());
        return Failure::forbidden(
            lang,
            "cross-origin",
            format!(
                "此表单不是从本站页面提交的, 已拒绝 ({why}) (the form was not sent from a page of this site, so it was refused)"
            ),
        )
        .into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if https {
        secure_cookies(headers);
    }
    response
}

/// Whether the request says it came over HTTPS (through a proxy that terminates TLS).
fn came_over_https(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
    };
    text("x-forwarded-proto")
        .iter()
        .any(|p| p.split(',').next().is_some_and(|p| p.trim() == "https"))
        || text("forwarded").iter().any(|f| {
            f.split([';', ',']).any(|pair| {
                pair.trim()
                    .strip_prefix("proto=")
                    .is_some_and(|p| p.trim_matches('"') == "https")
            })
        })
}

/// Adds `Secure` to every cookie the answer sets.
fn secure_cookies(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let secured = match cookie.to_str() {
            Ok(text)
                if !text
                    .split(';')
                    .any(|a| a.trim().eq_ignore_ascii_case("secure")) =>
            {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        headers.append(header::SET_COOKIE, secured);
    }
}

/// Whether a non-`GET` request was sent by a page of this site (see the module docs), or why not.
fn same_origin(headers: &HeaderMap) -> Result<(), String> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return match site.trim() {
            "same-origin" | "none" => Ok(()),
            other => Err(format!("Sec-Fetch-Site: {other}")),
        };
    }
    let host = get("x-forwarded-host")
        .and_then(|h| h.split(',').next())
        .or_else(|| get("host"))
        .map(|h| h.trim().to_ascii_lowercase());
    let authority = |url: &str| {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Some(rest[..end].to_ascii_lowercase())
    };
    let (what, from) = match (get("origin"), get("referer")) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => return Ok(()),
    };
    match (authority(from.trim()), host) {
        (Some(from_host), Some(host)) if from_host == host => Ok(()),
        _ => Err(format!("{what}: {from}")),
    }
}

/// The target of a redirect if it is a path of this site, as the browser will read it: it starts
/// with one `/` and holds only visible ASCII, no backslash. A browser reads `\` as `/` and drops tabs
/// and line breaks, so `/\evil.example` and `/\t/evil` would lead to another site; `//evil` does so
/// as written; a CR or LF cannot stand in a header at all. Non-ASCII and spaces would need
/// percent-encoding, which the console's own links always have.
pub fn local_target(target: &str) -> Option<&str> {
    let mut bytes = target.bytes();
    let local = bytes.next() == Some(b'/')
        && !matches!(bytes.next(), Some(b'/' | b'\\'))
        && target.len() <= 2048
        && target.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    local.then_some(target)
}

impl Failure {
    /// A request the console refuses outright (403), with its own problem code.
    pub fn forbidden(lang: Lang, code: &str, detail: String) -> Self {
        let mut failure = Failure::internal(lang, detail);
        failure.status = StatusCode::FORBIDDEN;
        failure.problem.status = StatusCode::FORBIDDEN.as_u16();
        failure.problem.code = code.to_owned();
        failure.problem.kind = format!("urn:ledger:problem:{code}");
        failure.problem.title = lang.t("无权访问", "Forbidden").to_owned();
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_redirect_targets() {
        for good in [
            "/",
            "/standings?period=2026Q3",
            "/periods/P/units/U?at=3#x",
            "/a%2F%2Fb",
        ] {
            assert_eq!(local_target(good), Some(good), "{good:?}");
        }
        for bad in [
            "",
            "standings",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\\\\evil",
            "/x\r\nSet-Cookie: a=b",
            "/x\ny",
            "/ space",
            "/中文",
            "https://evil.example/",
            "\\\\evil",
        ] {
            assert_eq!(local_target(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_form_is_from_this_site_by_fetch_metadata_origin_or_referer() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let host = ("host", "ledger.example:8080");
        assert!(same_origin(&headers(&[host, ("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_origin(&headers(&[host, ("sec-fetch-site", "cross-site")])).is_err());
        assert!(same_origin(&headers(&[host, ("sec-fetch-site", "same-site")])).is_err());
        assert!(same_origin(&headers(&[host, ("origin", "http://ledger.example:8080")])).is_ok());
        assert!(same_origin(&headers(&[host, ("origin", "http://evil.example")])).is_err());
        assert!(same_origin(&headers(&[host, ("origin", "null")])).is_err());
        assert!(
            same_origin(&headers(&[
                host,
                ("referer", "http://ledger.example:8080/appeals")
            ]))
            .is_ok()
        );
        assert!(same_origin(&headers(&[host, ("referer", "http://evil.example/x")])).is_err());
        assert!(same_origin(&headers(&[host])).is_ok(), "not a browser");
        assert!(
            same_origin(&headers(&[
                host,
                ("x-forwarded-host", "ledger.example"),
                ("origin", "https://ledger.example")
            ]))
            .is_ok()
        );
    }

    #[test]
    fn cookies_become_secure_once() {
        let mut headers = HeaderMap::new();
        headers.append(header::SET_COOKIE, HeaderValue::from_static("a=1; Path=/"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Secure"));
        secure_cookies(&mut headers);
        let cookies: Vec<_> = headers.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1; Path=/; Secure", "b=2; Secure"]);
        assert!(came_over_https(&{
            let mut h = HeaderMap::new();
            h.insert(
                "forwarded",
                HeaderValue::from_static("for=1.2.3.4;proto=https"),
            );
            h
        }));
    }
}
