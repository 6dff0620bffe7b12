//! Score sheets as files from the console (issue 16): the `.xlsx` template of a rubric version,
//! with the items filled in, offered where an assessor works on a sheet. It is made from the rubric
//! version the API answers (`crate::import::template`), and imports back with `ledger import
//! scores`.

use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::seg;
use crate::http::views::PersonList;

#[derive(Debug, Default, Deserialize)]
pub struct TemplateQuery {
    /// Fill every row's unit cell with this unit.
    #[serde(default)]
    pub unit: Option<String>,
}

/// Where the template of `rubric` at `version` is downloaded, for `unit` when given.
pub fn template_href(rubric: &str, version: u32, unit: Option<&str>) -> String {
    let mut href = format!("/rubrics/{}/{version}/template.xlsx", seg(rubric));
    if let Some(unit) = unit {
        href.push_str(&format!("?unit={}", seg(unit)));
    }
    href
}

/// `GET /rubrics/{rubric}/{version}/template.xlsx[?unit=U]`.
pub async fn template(
    session: Session,
    Path((rubric, version)): Path<(String, u32)>,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, Failure> {
    let lang = session.lang;
    let definition = super::sheet::definition(&session, &rubric, version).await?;
    let unit = match q.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(
            u.parse()
                .map_err(|e| Failure::bad_request(lang, "unit", format!("{e}")))?,
        ),
    };
    let rubric_id = rubric
        .parse()
        .map_err(|e| Failure::bad_request(lang, "rubric", format!("{e}")))?;
    // Names beside the responsible persons' ids where the reader may see people.
    let people = session
        .get::<PersonList>("/api/v1/people")
        .await
        .map(|l| l.people)
        .unwrap_or_default();
    let responsible =
        |p: &ledger_schemas::ids::PersonId| match people.iter().find(|x| &x.person == p) {
            Some(x) => format!("{} ({p})", x.name),
            None => p.to_string(),
        };
    let bytes = crate::import::template::Template {
        rubric: &rubric_id,
        version,
        definition: &definition,
        unit: unit.as_ref(),
        responsible: &responsible,
    }
    .to_bytes()
    .map_err(|e| Failure::internal(lang, format!("{e}")))?;
    let name = match &unit {
        Some(u) => format!("score-template-{rubric}-v{version}-{u}.xlsx"),
        None => format!("score-template-{rubric}-v{version}.xlsx"),
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
