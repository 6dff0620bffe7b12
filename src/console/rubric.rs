//! The rubric: each version with its aspects and items, and the difference between two versions,
//! highlighted (added, removed, changed) in the list and in the table.

use std::collections::BTreeSet;

use axum::extract::Query;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use ledger_projections::rubric::{AnnualRuleLabel, KindLabel, PolicyLabel, RubricDiff};
use ledger_schemas::rubric::{GradeBand, ItemKind, LadderStep};
use ledger_schemas::values::{Points, Text};

use super::client::{Failure, Session};
use super::format::{self, seg};
use super::i18n::Lang;
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

/// One difference between two versions, in the reader's language (the API's `description` holds
/// both languages at once). `person` names a person by id.
pub fn describe(lang: Lang, d: &RubricDiff, person: &dyn Fn(&str) -> String) -> String {
    use RubricDiff as D;
    let t = |zh: &'static str, en: &'static str| lang.t(zh, en);
    let text = |x: &Text| lang.text(x);
    let weight = |w: &Option<Points>| match w {
        Some(w) => w.to_string(),
        None => t("不计权重", "unweighted").to_owned(),
    };
    let kind = |k: &ItemKind| lang.said(&KindLabel(k).to_string());
    let codes = |c: &[String]| c.join(", ");
    match d {
        D::TitleChanged { old, new } => {
            format!(
                "{}: {} → {}",
                t("细则名称", "Rubric title"),
                text(old),
                text(new)
            )
        }
        D::AspectAdded {
            aspect,
            title,
            weight: w,
        } => format!(
            "{} {aspect} {}, {} {}",
            t("新增大方面", "Aspect added:"),
            text(title),
            t("权重", "weight"),
            weight(w)
        ),
        D::AspectRemoved {
            aspect,
            title,
            weight: w,
        } => format!(
            "{} {aspect} {}, {} {}",
            t("删除大方面", "Aspect removed:"),
            text(title),
            t("权重", "weight"),
            weight(w)
        ),
        D::AspectRetitled { aspect, old, new } => format!(
            "{} {aspect} {}: {} → {}",
            t("大方面", "Aspect"),
            t("名称", "title"),
            text(old),
            text(new)
        ),
        D::AspectReweighted { aspect, old, new } => format!(
            "{} {aspect} {}: {} → {}",
            t("大方面", "Aspect"),
            t("权重", "weight"),
            weight(old),
            weight(new)
        ),
        D::AspectsReordered { old, new } => format!(
            "{}: {} → {}",
            t("大方面顺序", "Order of the aspects"),
            codes(&old.iter().map(ToString::to_string).collect::<Vec<_>>()),
            codes(&new.iter().map(ToString::to_string).collect::<Vec<_>>())
        ),
        D::ItemAdded {
            aspect,
            item,
            title,
            kind: k,
        } => format!(
            "{} {aspect} {} {item} {}, {}",
            t("大方面", "Aspect"),
            t("新增子项目", "gains item"),
            text(title),
            kind(k)
        ),
        D::ItemRemoved {
            aspect,
            item,
            title,
            kind: k,
        } => format!(
            "{} {aspect} {} {item} {}, {}",
            t("大方面", "Aspect"),
            t("删除子项目", "loses item"),
            text(title),
            kind(k)
        ),
        D::ItemMoved { item, from, to } => format!(
            "{} {item} {} {from} → {to}",
            t("子项目", "Item"),
            t("所属大方面", "moves from aspect"),
        ),
        D::ItemRetitled { item, old, new } => format!(
            "{} {item} {}: {} → {}",
            t("子项目", "Item"),
            t("名称", "title"),
            text(old),
            text(new)
        ),
        D::ItemRepointed { item, old, new } => format!(
            "{} {item} {}: {} → {}",
            t("子项目", "Item"),
            t("计分方式", "scoring"),
            kind(old),
            kind(new)
        ),
        D::ItemDescribed {
            item,
            field,
            old,
            new,
        } => format!(
            "{} {item} {}: “{old}” → “{new}”",
            t("子项目", "Item"),
            lang.label(field.label())
        ),
        D::ResponsibleChanged { item, old, new } => format!(
            "{} {item} {}: {} → {}",
            t("子项目", "Item"),
            t("责任人", "responsible person"),
            person(old.as_str()),
            person(new.as_str())
        ),
        D::ItemsReordered { aspect, old, new } => format!(
            "{} {aspect} {}: {} → {}",
            t("大方面", "Aspect"),
            t("子项目顺序", "order of items"),
            codes(&old.iter().map(ToString::to_string).collect::<Vec<_>>()),
            codes(&new.iter().map(ToString::to_string).collect::<Vec<_>>())
        ),
        D::LadderChanged { old, new } => {
            let ladder = |steps: &[LadderStep]| {
                steps
                    .iter()
                    .map(|s| format!("{} {}%", text(&s.label), s.percent))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            format!(
                "{}: {} → {}",
                t("定性评价等级", "Ladder"),
                ladder(old),
                ladder(new)
            )
        }
        D::GradeBandsChanged { old, new } => {
            let bands = |bands: &[GradeBand]| {
                bands
                    .iter()
                    .map(|b| format!("{} ≥ {}", text(&b.label), b.min))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            format!(
                "{}: {} → {}",
                t("等次划分", "Grade bands"),
                bands(old),
                bands(new)
            )
        }
        D::DualPolicyChanged { old, new } => format!(
            "{}: {} → {}",
            t("双考核计算方式", "Dual policy"),
            lang.said(&PolicyLabel(old).to_string()),
            lang.said(&PolicyLabel(new).to_string())
        ),
        D::AnnualRuleChanged { old, new } => format!(
            "{}: {} → {}",
            t("年度考核规则", "Annual rule"),
            lang.said(&AnnualRuleLabel(old).to_string()),
            lang.said(&AnnualRuleLabel(new).to_string())
        ),
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
    let names = super::names::people(&session).await;
    let person = |id: &str| names.of(id);
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
                            li class=(class_of(kind)) data-diff=(kind) {
                                @match serde_json::from_value::<RubricDiff>(c.change.clone()) {
                                    Ok(d) => (describe(lang, &d, &person)),
                                    Err(_) => (lang.said(&c.description)),
                                }
                            }
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
                            td { (format::kind(lang, &item.kind)) } td { (names.show(item.responsible.as_str())) }
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
