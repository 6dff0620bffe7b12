//! What the console's entry forms share: reading a posted form, sending its write to the API, showing
//! the API's refusal next to the fields it names, and the table of where each API write has its form.
//!
//! Every console form names the API operations it issues in `data-ops` (their OpenAPI `operationId`s),
//! and [`PLACES`] says on which console page a role finds each one. The route-walk test
//! (`tests/it/console_places.rs`) renders those pages for every role the API admits and looks for
//! the form, so a new API write without a console place, or a form that lost its page, fails it.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::Method;
use ledger_schemas::envelope::Role;
use maud::{Markup, html};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::{Failure, Session};
use super::i18n::Lang;
use super::sheet::{Entered, spread};

/// A posted form (`application/x-www-form-urlencoded`), every pair as sent.
#[derive(Debug, Default, Clone)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Reads a form body; an unreadable one is refused with a message, never a crash.
    pub fn parse(lang: Lang, body: &Bytes) -> Result<Form, Failure> {
        let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).map_err(|e| {
            Failure::bad_request(
                lang,
                "body",
                format!("{}: {e}", lang.t("表单无法读取", "The form cannot be read")),
            )
        })?;
        Ok(Form { pairs })
    }

    /// A form of these pairs (the text fields of a multipart post).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form { pairs }
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> String {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// Every non-empty value of `name` (a multiple choice).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The non-empty lines of `name` (evidence references, one a line).
    pub fn lines(&self, name: &str) -> Vec<String> {
        super::sheet::lines(&self.get(name))
    }

    /// `name` as JSON: `null` when left empty, so the API applies its own default.
    pub fn opt(&self, name: &str) -> Value {
        match self.get(name) {
            s if s.is_empty() => Value::Null,
            s => Value::String(s),
        }
    }

    /// The fields as a map (the last value of a name wins), to show a refused form again.
    pub fn map(&self) -> BTreeMap<String, String> {
        self.pairs.iter().cloned().collect()
    }

    /// The fields named `{prefix}/{field}`, as `field` (one row of a grid).
    pub fn row(&self, prefix: &str) -> BTreeMap<String, String> {
        let start = format!("{prefix}/");
        self.pairs
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&start).map(|f| (f.to_owned(), v.clone())))
            .collect()
    }
}

/// Sends a write: `Ok(Ok(answer))` when recorded, `Ok(Err(refusal))` when the API refused what was
/// entered (a 4xx, shown at the fields), `Err` when the API failed (the error page).
pub async fn send<T: DeserializeOwned>(
    session: &Session,
    method: Method,
    uri: &str,
    body: &Value,
    if_match: Option<u64>,
) -> Result<Result<T, Failure>, Failure> {
    match session.send_for::<T>(method, uri, body, if_match).await {
        Ok(answer) => Ok(Ok(answer)),
        Err(failure) if failure.status.is_client_error() => Ok(Err(failure)),
        Err(failure) => Err(failure),
    }
}

/// A refused form, keyed by which form of the page sent it (`key`), with the API's messages spread
/// over the fields the form has (`known`).
pub fn refused(
    failure: &Failure,
    key: &str,
    fields: BTreeMap<String, String>,
    known: &[&str],
) -> Entered {
    let (errors, general) = spread(failure, known);
    Entered {
        action: key.to_owned(),
        fields,
        errors,
        general,
    }
}

/// The entered form if it is the one keyed `key`.
fn mine<'a>(entered: Option<&'a Entered>, key: &str) -> Option<&'a Entered> {
    entered.filter(|e| e.action == key)
}

/// The API's message for `field` of the form keyed `key`, next to the field.
pub fn field_error(entered: Option<&Entered>, key: &str, field: &str) -> Markup {
    html! {
        @if let Some(m) = mine(entered, key).and_then(|e| e.errors.get(field)) {
            p.field-error data-field=(field) { (m) }
        }
    }
}

/// The API's messages that name no field of the form keyed `key`.
pub fn general(entered: Option<&Entered>, key: &str) -> Markup {
    html! {
        @if let Some(e) = mine(entered, key).filter(|e| !e.general.is_empty()) {
            div.form-error role="alert" { @for m in &e.general { p { (m) } } }
        }
    }
}

/// What was typed into `name` of the form keyed `key`, kept after a refusal.
pub fn kept(entered: Option<&Entered>, key: &str, name: &str) -> String {
    mine(entered, key)
        .and_then(|e| e.fields.get(name).cloned())
        .unwrap_or_default()
}

/// Refuses a form page to a role the API would refuse its writes to (it would only show forms that
/// cannot be sent), with the API's own word for it: 403.
pub fn only(session: &Session, roles: &[Role]) -> Result<(), Failure> {
    if roles.contains(&session.role()) {
        return Ok(());
    }
    let lang = session.lang;
    Err(Failure::forbidden(
        lang,
        "role-not-allowed",
        lang.t(
            "您的角色不能办理此页的事项.",
            "Your role cannot do the work of this page.",
        )
        .to_owned(),
    ))
}

/// A line saying a write was recorded (`?done=` after the redirect).
pub fn done_note(lang: Lang, done: Option<&str>) -> Markup {
    html! {
        @if let Some(d) = done.filter(|d| !d.is_empty()) {
            p.done #done role="status" data-done=(d) { (lang.t("已记录.", "Recorded.")) }
        }
    }
}

/// A fresh id for a record the console creates (an appeal, a rectification): the prefix, the
/// period and unit, and the time to the millisecond, so two clicks never collide and the id still
/// says what it is.
pub fn new_id(prefix: &str, period: &str, unit: &str) -> String {
    let now = chrono::Utc::now().format("%Y%m%d%H%M%S%3f");
    let id = format!("{prefix}-{period}-{unit}-{now}");
    id.chars().take(ledger_schemas::ids::MAX_ID_LEN).collect()
}

/// Where each API write has its form in the console: the `operationId`, and the page (a template
/// whose `{period}`, `{unit}`, `{rectification}` the route-walk test fills with a record in the
/// state the form needs).
pub const PLACES: &[(&str, &str)] = &[
    ("registerUnit", "/admin/people"),
    ("updateUnit", "/admin/people"),
    ("registerPerson", "/admin/people"),
    ("grantRole", "/admin/people"),
    ("revokeRole", "/admin/people"),
    ("issueToken", "/admin/tokens"),
    ("revokeToken", "/admin/tokens"),
    ("adjustRubric", "/admin/rubric"),
    ("openPeriod", "/admin/periods"),
    ("advanceStage", "/admin/periods"),
    ("reopenPeriod", "/admin/periods"),
    ("movePeriodRubric", "/admin/periods"),
    ("recordBusinessResult", "/periods/{period}/business"),
    ("importScores", "/import"),
    ("importBusinessResults", "/periods/{period}/business/import"),
    (
        "recordSelfAssessment",
        "/periods/{period}/units/{unit}/grid",
    ),
    ("recordScore", "/periods/{period}/units/{unit}/grid"),
    ("correctScore", "/periods/{period}/units/{unit}/grid"),
    ("reviewItem", "/periods/{period}/units/{unit}/grid"),
    ("reviewSheet", "/periods/{period}/units/{unit}/grid"),
    ("fileAppeal", "/appeals/new"),
    ("decideAppeal", "/appeals"),
    ("raiseRectification", "/rectifications/new"),
    ("submitRectification", "/rectifications/{rectification}"),
    ("verifyRectification", "/rectifications/{rectification}"),
    ("sendBackRectification", "/rectifications/{rectification}"),
    ("auditVerify", "/integrity"),
];

/// API writes with no console form, and why.
pub const API_ONLY: &[(&str, &str)] = &[
    // A rubric is a document of some thirty items with their ladders and weights: it is written
    // as a file and loaded with `ledger rubric define` (or this API call by a program), then
    // changed item by item through adjustments, which do have a form.
    (
        "defineRubric",
        "a whole rubric is a file, loaded by the CLI or a program",
    ),
    // A file is uploaded with the form that cites it (self-assessment, score, correction, appeal,
    // rectification): the console calls this operation from those forms' handlers, never alone.
    (
        "uploadEvidence",
        "files are uploaded by the forms that cite them",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_reads_rows_lists_and_empty_fields() {
        let body = Bytes::from_static(
            b"A1%2Fpoints=2.5&A1%2Freason=+why+&A2%2Fpoints=&units=SH-01&units=&units=SH-02&ev=a%0D%0A%0D%0Ab",
        );
        let form = Form::parse(Lang::Zh, &body).unwrap();
        let row = form.row("A1");
        assert_eq!(row.get("points").map(String::as_str), Some("2.5"));
        assert_eq!(row.get("reason").map(String::as_str), Some(" why "));
        assert_eq!(form.all("units"), ["SH-01", "SH-02"]);
        assert_eq!(form.lines("ev"), ["a", "b"]);
        assert_eq!(form.opt("A2/points"), Value::Null);
        assert_eq!(form.opt("A1/reason"), Value::String("why".into()));
    }

    #[test]
    fn new_ids_are_valid_ids_even_for_long_names() {
        let id = new_id(
            "RECT",
            "2026Q4-with-a-very-long-period-name",
            "SH-NY-B2-long-unit",
        );
        assert!(id.len() <= ledger_schemas::ids::MAX_ID_LEN, "{id}");
        assert!(id.parse::<ledger_schemas::ids::AppealId>().is_ok(), "{id}");
    }
}
