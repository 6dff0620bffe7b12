//! Languages: zh-CN first, English switchable. The choice is a cookie, so it holds across pages.
//!
//! The ledger's own labels are bilingual strings, "中文 English" (`Stage::label`, `Role::label`, the
//! kind labels of the change log): [`Lang::label`] picks one half. Rubric texts carry both languages
//! ([`Text`]), English optional: [`Lang::text`] falls back to Chinese.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use ledger_schemas::envelope::Role;
use ledger_schemas::values::{Stage, Text};
use serde::Deserialize;

/// The cookie that holds the language.
pub const LANG_COOKIE: &str = "ledger_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The language the request's cookie asks for (Chinese unless it says English).
    pub fn of(headers: &HeaderMap) -> Lang {
        match super::client::cookie(headers, LANG_COOKIE) {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// One of two texts.
    pub fn t(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// One half of a bilingual label "中文 English": the Chinese words before the first space that
    /// follows a non-ASCII character, or the rest.
    pub fn label(self, label: &str) -> String {
        let split = label
            .char_indices()
            .find(|&(i, c)| c == ' ' && label[..i].chars().last().is_some_and(|p| !p.is_ascii()))
            .map(|(i, _)| i);
        match (self, split) {
            (_, None) => label.to_owned(),
            (Lang::Zh, Some(i)) => label[..i].to_owned(),
            (Lang::En, Some(i)) => label[i + 1..].to_owned(),
        }
    }

    /// One half of a bilingual message as the API and the domain write them, "中文 (English)": the
    /// Chinese before the last parenthesis that closes the message, or the English inside it; a
    /// message in one language only is kept whole. Messages joined by "; " are split one by one.
    pub fn said(self, message: &str) -> String {
        let parts: Vec<&str> = message.split("; ").collect();
        if parts.len() > 1 && parts.iter().all(|p| split_said(p).is_some()) {
            return parts
                .into_iter()
                .map(|part| self.said(part))
                .collect::<Vec<_>>()
                .join(self.t("；", "; "));
        }
        match split_said(message) {
            Some((zh, en)) => match self {
                Lang::Zh => zh.to_owned(),
                Lang::En => en.to_owned(),
            },
            None => message.to_owned(),
        }
    }

    /// A rubric text in this language (Chinese when it has no English).
    pub fn text(self, text: &Text) -> String {
        match (self, &text.en) {
            (Lang::En, Some(en)) => en.clone(),
            _ => text.zh.clone(),
        }
    }
}

/// "中文 (English)" → ("中文", "English"): the last parenthesis must close the message, open after
/// a space, and hold no Chinese; the part before it must hold some.
fn split_said(message: &str) -> Option<(&str, &str)> {
    let message = message.trim_end();
    let inner_end = message.strip_suffix(')')?.len();
    let mut depth = 0usize;
    for (i, c) in message[..inner_end].char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let zh = message[..i].strip_suffix(' ')?;
                let en = &message[i + 1..inner_end];
                let chinese = |s: &str| s.chars().any(|c| ('\u{3400}'..='\u{9fff}').contains(&c));
                return (chinese(zh) && !chinese(en)).then_some((zh.trim_end(), en));
            }
            _ => {}
        }
    }
    None
}

// ---- the glossary: the office's words, one per concept, for every page ----
//
// DOMAIN.md's glossary, in the code. A page that names a stage, a role, an appeal's outcome or a
// rectification's state takes the word from here, so the same thing never reads two ways
// (已支持 on one page and 申诉成立 on another).

/// A period's stage as the office says it: the stage a period is *in*.
pub fn stage(lang: Lang, stage: Stage) -> &'static str {
    match stage {
        Stage::Opened => lang.t("已开启", "opened"),
        Stage::SelfAssessment => lang.t("自评中", "self-assessment"),
        Stage::Scoring => lang.t("评分中", "scoring"),
        Stage::Review => lang.t("审核中", "in review"),
        Stage::Published => lang.t("已公示", "published"),
    }
}

/// A role's name.
pub fn role(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Admin => lang.t("考核办管理员", "administrator"),
        Role::Assessor => lang.t("考评员", "assessor"),
        Role::Reviewer => lang.t("审核人", "reviewer"),
        Role::Auditor => lang.t("纪检审计", "auditor"),
        Role::Unit => lang.t("单位党务秘书", "unit secretary"),
        Role::Responsible => lang.t("责任人", "responsible person"),
        Role::System => lang.t("系统", "system"),
    }
}

/// An upheld appeal (申诉成立) and a dismissed one (申诉驳回), and one still to decide.
pub fn appeal_upheld(lang: Lang) -> &'static str {
    lang.t("申诉成立", "upheld")
}

pub fn appeal_dismissed(lang: Lang) -> &'static str {
    lang.t("申诉驳回", "dismissed")
}

pub fn appeal_pending(lang: Lang) -> &'static str {
    lang.t("待决定", "awaiting decision")
}

#[derive(Deserialize)]
pub struct Back {
    #[serde(default)]
    back: Option<String>,
}

/// `GET /lang/{zh|en}?back=/path`: remembers the language and goes back.
pub async fn switch(Path(lang): Path<String>, Query(back): Query<Back>) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    // Only a path on this site: never an open redirect.
    let back = back
        .back
        .as_deref()
        .and_then(super::guard::local_target)
        .unwrap_or("/");
    let mut response = Redirect::to(back).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={value}; Path=/; Max-Age=31536000; SameSite=Lax"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_split_at_the_first_space_after_chinese() {
        assert_eq!(Lang::Zh.label("自评 self-assessment"), "自评");
        assert_eq!(Lang::En.label("自评 self-assessment"), "self-assessment");
        assert_eq!(Lang::En.label("纪检审计 auditor"), "auditor");
        assert_eq!(Lang::Zh.label("评分更正 score corrected"), "评分更正");
        assert_eq!(
            Lang::En.label("评分更正 score corrected"),
            "score corrected"
        );
        assert_eq!(Lang::En.label("plain"), "plain");
    }

    #[test]
    fn messages_split_at_the_closing_parenthesis() {
        let m = "没有单位 SH-X (there is no unit SH-X)";
        assert_eq!(Lang::Zh.said(m), "没有单位 SH-X");
        assert_eq!(Lang::En.said(m), "there is no unit SH-X");
        // A parenthesis inside the Chinese half stays there.
        let m = "张伟 (考评组) 不能审核 (zhang (assessor) may not review)";
        assert_eq!(Lang::Zh.said(m), "张伟 (考评组) 不能审核");
        assert_eq!(Lang::En.said(m), "zhang (assessor) may not review");
        // Joined messages, each split; a label; one language only.
        let m = "缺少理由 (a reason is missing); 分值超出 (out of range)";
        assert_eq!(Lang::Zh.said(m), "缺少理由；分值超出");
        assert_eq!(Lang::En.said(m), "a reason is missing; out of range");
        assert_eq!(Lang::Zh.said("plain (words)"), "plain (words)");
        assert_eq!(Lang::En.said("记录 (档案)"), "记录 (档案)");
    }

    #[test]
    fn texts_fall_back_to_chinese() {
        let both = Text::new("党建", "Party building");
        assert_eq!(Lang::En.text(&both), "Party building");
        assert_eq!(Lang::Zh.text(&both), "党建");
        let zh_only = Text {
            zh: "党建".into(),
            en: None,
        };
        assert_eq!(Lang::En.text(&zh_only), "党建");
    }
}
