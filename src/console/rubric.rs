//! The rubric: each version with its aspects and items, and the difference between two versions,
//! highlighted (added, removed, changed) in the list and in the table.

use std::collections::BTreeSet;

use axum::extract::Query;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::{self, seg};
use super::layout::{self, Nav};
use crate::http::views::{RubricDiffView, RubricList, RubricVersionList, RubricVersionView};

#[derive(Debug, Default, Deserialize)]
pub struct RubricQuery {
    #[serde(default)]
    pub rubric: Option<String>,
    #[serde(default)]
    pub version: Option<u32>,
    /// The version to compare with (default: the one before).
    #[serde(default)]
    pub from: Option<u32>,
}

/// The class of a difference: `added`, `removed` or `changed`.
fn class_of(diff: &str) -> &'static str {
    if diff.ends_with("_added") {
        "added"
    } else if diff.ends_with("_removed") {
        "removed"
    } else {
        "changed"
    }
}

/// `GET /rubrics?rubric=&version=&from=`.
pub async fn page(session: Session, Query(q): Query<RubricQuery>) -> Result<Response, Failure> {
    let lang = session.lang;
    let list: RubricList = session.get("/api/v1/rubrics").await?;
    let summary = match q.rubric.as_deref() {
        Some(r) => Some(
            list.rubrics
                .iter()
                .find(|s| s.rubric.as_str() == r)
                .ok_or_else(|| {
                    Failure::not_found(lang, format!("没有评分细则 {r} (there is no rubric {r})"))
                })?,
        ),
        None => list.rubrics.first(),
    };
    let Some(summary) = summary else {
        let body = html! { p.empty { (lang.t("还没有评分细则.", "There is no rubric yet.")) } };
        return Ok(layout::page(
            &session,
            Nav::Rubric,
            lang.t("评分细则", "Rubric"),
            body,
        ));
    };
    let rubric = summary.rubric.as_str();
    let versions: RubricVersionList = session
        .get(&format!("/api/v1/rubrics/{}/versions", seg(rubric)))
        .await?;
    let version = q.version.unwrap_or(summary.latest_version);
    let shown: RubricVersionView = session
        .get(&format!(
            "/api/v1/rubrics/{}/versions/{version}",
            seg(rubric)
        ))
        .await?;
    let from = q.from.or((version > 1).then(|| version - 1));
    let diff = match from.filter(|f| *f != version) {
        Some(from) => Some(
            session
                .get::<RubricDiffView>(&format!(
                    "/api/v1/rubrics/{}/diff?from={from}&to={version}",
                    seg(rubric)
                ))
                .await?,
        ),
        None => None,
    };
    let touched: BTreeSet<String> = diff
        .iter()
        .flat_map(|d| &d.changes)
        .filter_map(|c| {
            c.change
                .get("item")
                .and_then(|i| i.as_str())
                .map(str::to_owned)
        })
        .collect();
    let def = &shown.definition;
    let body = html! {
        form.controls #rubric-form method="get" action="/rubrics" {
            input type="hidden" name="rubric" value=(rubric);
            label for="version" { (lang.t("版本", "Version")) }
            select #version name="version" {
                @for v in &versions.versions {
                    option value=(v.version) selected[v.version == version] { "v" (v.version) " " (lang.text(&v.title)) }
                }
            }
            label for="from" { (lang.t("对比版本", "Compare with")) }
            select #from name="from" {
                @for v in &versions.versions {
                    option value=(v.version) selected[Some(v.version) == from] { "v" (v.version) }
                }
            }
            button type="submit" { (lang.t("查看", "Show")) }
        }
        @if let Some(d) = &diff {
            section.diff #diff {
                h2 { (lang.t("版本差异", "Differences")) " v" (d.from) " → v" (d.to) }
                @if d.changes.is_empty() {
                    p.empty { (lang.t("两个版本相同.", "The two versions are the same.")) }
                } @else {
                    ul {
                        @for c in &d.changes {
                            @let kind = c.change.get("diff").and_then(|k| k.as_str()).unwrap_or("");
                            li class=(class_of(kind)) data-diff=(kind) { (c.description) }
                        }
                    }
                }
            }
        }
        p.meta { (lang.text(&def.title)) " · v" (shown.version) " / " (lang.t("最新", "latest")) " v" (shown.latest_version) }
        @for aspect in &def.aspects {
            h2.aspect { (aspect.code) " " (lang.text(&aspect.title))
                @if let Some(w) = aspect.weight { span.points { " " (lang.t("权重 ", "weight ")) (w) } } }
            table.rubric {
                thead { tr {
                    th { (lang.t("编号", "Item")) } th { (lang.t("考评项目", "Title")) } th { (lang.t("考评内容", "Content")) }
                    th { (lang.t("分值", "Worth")) } th { (lang.t("责任人", "Responsible")) }
                } }
                tbody {
                    @for item in &aspect.items {
                        tr data-item=(item.code) class=[touched.contains(item.code.as_str()).then_some("changed")] {
                            td { (item.code) } td { (lang.text(&item.title)) } td { (item.content) }
                            td { (format::kind(lang, &item.kind)) } td { (item.responsible) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        &session,
        Nav::Rubric,
        lang.t("评分细则", "Rubric"),
        body,
    ))
}
