//! Sign-in with a token (as `ledger token issue` prints it), and sign-out.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::Console;
use super::client::{TOKEN_COOKIE, call};
use super::i18n::Lang;
use super::layout;
use crate::http::error::Problem;

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    expired: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// Only a path on this site ([`super::guard::local_target`]): never an open redirect, nor back to
/// signing in.
fn local(next: &str) -> &str {
    match super::guard::local_target(next) {
        Some(next) if !next.starts_with("/sign-") => next,
        _ => "/todo",
    }
}

fn render(lang: Lang, next: &str, message: Option<&str>, status: StatusCode) -> Response {
    let body = html! {
        p { (lang.t(
            "请输入访问令牌. 令牌由考核办管理员签发, 只显示一次.",
            "Enter your access token. The assessment office's administrator issues it; it is shown once."
        )) }
        form #sign-in method="post" action="/sign-in" {
            input type="hidden" name="next" value=(next);
            label for="token" { (lang.t("访问令牌", "Access token")) }
            input #token type="password" name="token" autocomplete="off" required autofocus;
            @if let Some(message) = message {
                p.field-error data-field="token" { (message) }
            }
            button type="submit" { (lang.t("登录", "Sign in")) }
        }
    };
    let mut response = layout::bare(lang, lang.t("登录", "Sign in"), body);
    *response.status_mut() = status;
    response
}

/// Why a token was refused, in office words (the API's `code` says which case it is; its detail
/// speaks of the token's format, which nobody signing in needs to know).
fn refusal(lang: Lang, code: &str) -> &'static str {
    match code {
        "malformed-token" => lang.t(
            "令牌不完整或有误: 请完整复制管理员发给您的令牌.",
            "The token is incomplete or mistyped: copy the whole token the administrator gave you.",
        ),
        "revoked-token" | "expired-token" | "role-revoked" => lang.t(
            "令牌已失效或已被撤销: 请向考核办管理员申请新的令牌.",
            "The token has expired or was revoked: ask the assessment office for a new one.",
        ),
        _ => lang.t(
            "没有这个令牌: 请检查是否复制完整, 或向考核办管理员申请新的令牌.",
            "There is no such token: check that it was copied whole, or ask the assessment office for a new one.",
        ),
    }
}

/// `GET /sign-in`.
pub async fn form_page(headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    let lang = Lang::of(&headers);
    let expired = q.expired.is_some().then(|| {
        lang.t(
            "令牌已失效或已被撤销, 请重新登录.",
            "The token has expired or was revoked; sign in again.",
        )
    });
    render(
        lang,
        local(q.next.as_deref().unwrap_or("/todo")),
        expired,
        StatusCode::OK,
    )
}

/// `POST /sign-in`: checks the token with the API, then keeps it in an `HttpOnly` cookie.
pub async fn submit(State(console): State<Console>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::of(&headers);
    let input: SignInForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let next = local(&input.next).to_owned();
    let token = input.token.trim();
    if token.is_empty() {
        return render(
            lang,
            &next,
            Some(lang.t("请填写访问令牌.", "Enter a token.")),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let answer = match call(&console.api, token, Method::GET, "/api/v1/me", None, None).await {
        Ok(answer) => answer,
        Err(e) => {
            return render(lang, &next, Some(&e), StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    if !answer.status.is_success() {
        let code = serde_json::from_slice::<Problem>(&answer.body)
            .map(|p| p.code)
            .unwrap_or_default();
        return render(
            lang,
            &next,
            Some(refusal(lang, &code)),
            StatusCode::UNAUTHORIZED,
        );
    }
    // The token is a bearer secret: printable ASCII only, so it fits a cookie as it is. Over HTTPS
    // `guard::layer` makes the cookie `Secure`.
    let Ok(cookie) = HeaderValue::from_str(&format!(
        "{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    )) else {
        return render(
            lang,
            &next,
            Some(refusal(lang, "malformed-token")),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// A `Set-Cookie` that removes `name`.
pub fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("ledger_token=; Path=/; Max-Age=0"))
}

/// `POST /sign-out`.
pub async fn sign_out() -> Response {
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(TOKEN_COOKIE));
    response
}
