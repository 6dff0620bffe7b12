//! The page shell: head, navigation (only what the role may open), language switch, sign-out, and
//! the error page.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ledger_schemas::envelope::Role;
use maud::{DOCTYPE, Markup, html};

use super::client::{Failure, Session};
use super::format;
use super::i18n::Lang;

/// The sections of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Todo,
    Mine,
    Standings,
    Annual,
    Sheet,
    Changes,
    Rubric,
    ClosedLoop,
    Appeals,
    Charts,
    Integrity,
    /// 办理: the entry forms of the role (issue 15).
    Work,
}

impl Nav {
    fn href(self) -> &'static str {
        match self {
            Nav::Todo => "/todo",
            Nav::Mine => "/mine",
            Nav::Standings => "/standings",
            Nav::Annual => "/annual",
            Nav::Sheet => "/standings",
            Nav::Changes => "/changes",
            Nav::Rubric => "/rubrics",
            Nav::ClosedLoop => "/rectifications",
            Nav::Appeals => "/appeals",
            Nav::Charts => "/charts",
            Nav::Integrity => "/integrity",
            Nav::Work => "/work",
        }
    }

    fn title(self, lang: Lang) -> &'static str {
        match self {
            Nav::Todo => lang.t("待办", "To-do"),
            Nav::Mine => lang.t("我的责任", "My responsibilities"),
            Nav::Standings => lang.t("考核排名", "Standings"),
            Nav::Annual => lang.t("年度考核", "Year"),
            Nav::Sheet => lang.t("评分表", "Sheet"),
            Nav::Changes => lang.t("变更记录", "Change log"),
            Nav::Rubric => lang.t("评分细则", "Rubric"),
            Nav::ClosedLoop => lang.t("整改闭环", "Closed loop"),
            Nav::Appeals => lang.t("申诉", "Appeals"),
            Nav::Charts => lang.t("图表", "Charts"),
            Nav::Integrity => lang.t("完整性", "Integrity"),
            Nav::Work => lang.t("办理", "Work"),
        }
    }

    /// Whether a role may open the section (the API decides what it then sees).
    pub fn open_to(self, role: Role) -> bool {
        match self {
            // Anyone may be named responsible; an auditor answers for nothing.
            Nav::Mine => role != Role::Auditor,
            // A responsible person reads no unit's sheets: standings, the year and the charts would
            // be empty for them.
            Nav::Standings | Nav::Annual | Nav::Charts | Nav::Appeals => role != Role::Responsible,
            Nav::Changes => matches!(role, Role::Admin | Role::Reviewer | Role::Auditor),
            Nav::Integrity => role == Role::Auditor,
            Nav::Sheet => false,
            _ => true,
        }
    }
}

const SECTIONS: [Nav; 11] = [
    Nav::Todo,
    Nav::Work,
    Nav::Mine,
    Nav::Standings,
    Nav::Annual,
    Nav::Changes,
    Nav::Rubric,
    Nav::ClosedLoop,
    Nav::Appeals,
    Nav::Charts,
    Nav::Integrity,
];

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · " (lang.t("双考核审计账本", "Dual-assessment ledger")) }
            link rel="icon" href="/favicon.ico" type="image/svg+xml";
            link rel="stylesheet" href="/assets/console.css";
            script src="/assets/console.js" defer {}
        }
    }
}

/// A whole page for a signed-in person.
pub fn page(session: &Session, section: Nav, title: &str, body: Markup) -> Response {
    let lang = session.lang;
    let other = match lang {
        Lang::Zh => ("en", "English"),
        Lang::En => ("zh", "中文"),
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top {
                    a.brand href="/todo" { (lang.t("双考核审计账本", "Dual-assessment ledger")) }
                    nav {
                        @for s in SECTIONS {
                            @if s.open_to(session.role()) {
                                a href=(s.href()) class=[(s == section).then_some("on")] { (s.title(lang)) }
                            }
                        }
                    }
                    div.who {
                        span #who data-role=(session.role().as_str()) {
                            (session.me.name.as_deref().unwrap_or(session.me.person.as_str()))
                            " · " (super::i18n::role(lang, session.role()))
                        }
                        a #lang href={ "/lang/" (other.0) "?" (format::query(&[("back", &session.here)])) } { (other.1) }
                        form.inline method="post" action="/sign-out" {
                            button type="submit" { (lang.t("退出", "Sign out")) }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    };
    html_response(StatusCode::OK, markup)
}

/// The page for a failure: what the API said, in the reader's language where it has one.
pub fn error_page(failure: &Failure) -> Response {
    let lang = failure.lang;
    let heading = match failure.status {
        StatusCode::FORBIDDEN => lang.t("无权查看", "Not allowed"),
        StatusCode::NOT_FOUND => lang.t("未找到", "Not found"),
        s if s.is_client_error() => lang.t("请求有误", "The request was refused"),
        _ => lang.t("出错了", "Something went wrong"),
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, heading))
            body {
                header.top { a.brand href="/todo" { (lang.t("双考核审计账本", "Dual-assessment ledger")) } }
                main {
                    h1 { (heading) }
                    div.problem #problem data-status=(failure.status.as_u16()) data-code=(failure.problem.code) {
                        p.title { (failure.problem.title) }
                        p { (failure.problem.detail) }
                    }
                    p { a href="/todo" { (lang.t("返回待办", "Back to the to-do list")) } }
                }
            }
        }
    };
    html_response(failure.status, markup)
}

/// A page outside the session (sign-in).
pub fn bare(lang: Lang, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top { span.brand { (lang.t("双考核审计账本", "Dual-assessment ledger")) } }
                main.narrow { h1 { (title) } (body) }
            }
        }
    };
    html_response(StatusCode::OK, markup)
}

pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        markup.into_string(),
    )
        .into_response()
}
