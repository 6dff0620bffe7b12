//! The change log: who changed what and when, filtered by person, unit, item, aspect, event type and
//! time range (Beijing time), newest first, paged with the API's cursor, and exported as CSV.

use axum::extract::Query;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ledger_projections::read::ChangeKind;
use maud::html;
use serde::Deserialize;

use super::client::{Failure, Session};
use super::format::{self, query};
use super::i18n::Lang;
use super::layout::{self, Nav};
use crate::http::views::{
    ChangeEntryView, ChangesView, MilestonesView, PeriodList, PersonList, RubricList,
    RubricVersionView, UnitList,
};

/// The filters, as the form sends them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ChangesForm {
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub aspect: String,
    #[serde(default)]
    pub kind: String,
    /// A typed time, Beijing time.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: String,
    /// Any value: the CSV without a byte-order mark (plain UTF-8, for scripts).
    #[serde(default)]
    pub plain: String,
}

impl ChangesForm {
    /// The API's query string for these filters (times converted to RFC 3339), without the cursor.
    fn api_query(&self, lang: Lang) -> Result<Vec<(&'static str, String)>, Failure> {
        let time = |name: &str, text: &str| -> Result<String, Failure> {
            if text.trim().is_empty() {
                return Ok(String::new());
            }
            // From the start of the minute typed, to its end.
            let parsed = if name == "from" {
                crate::app::clock::parse_since(text).ok()
            } else {
                format::parse_time_input(text)
            };
            parsed
                .map(|t| t.to_rfc3339())
                .ok_or_else(|| {
                    Failure::bad_request(
                        lang,
                        name,
                        format!("“{text}”不是有效的时间, 例如 2026-10-01 08:30 (not a valid time such as 2026-10-01 08:30)"),
                    )
                })
        };
        Ok(vec![
            ("person", self.person.trim().to_owned()),
            ("period", self.period.trim().to_owned()),
            ("unit", self.unit.trim().to_owned()),
            ("item", self.item.trim().to_owned()),
            ("aspect", self.aspect.trim().to_owned()),
            ("kind", self.kind.trim().to_owned()),
            ("from", time("from", &self.from)?),
            ("to", time("to", &self.to)?),
        ])
    }

    /// This page's own query string, with `before` set to `cursor`.
    fn page_query(&self, cursor: Option<u64>) -> String {
        let cursor = cursor.map(|c| c.to_string()).unwrap_or_default();
        query(&[
            ("person", &self.person),
            ("period", &self.period),
            ("unit", &self.unit),
            ("item", &self.item),
            ("aspect", &self.aspect),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
            ("before", &cursor),
        ])
    }
}

fn encode(pairs: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    query(&pairs)
}

/// `GET /changes?…`.
pub async fn page(session: Session, Query(f): Query<ChangesForm>) -> Result<Response, Failure> {
    let lang = session.lang;
    let mut pairs = f.api_query(lang)?;
    pairs.push(("before", f.before.trim().to_owned()));
    pairs.push(("limit", "50".to_owned()));
    let page: ChangesView = session
        .get(&format!("/api/v1/changes?{}", encode(&pairs)))
        .await?;
    // Pickers, not free text: people, periods and units by name (the id in brackets).
    let people: PersonList = session.get("/api/v1/people").await?;
    let periods: PeriodList = session.get("/api/v1/periods").await?;
    let units: UnitList = session.get("/api/v1/units").await?;
    // Items and aspects by title (pickers, not free text), from the newest rubric version: the
    // codes stay the same across versions, and a removed item is still reachable through a sheet.
    let rubric: Option<RubricVersionView> = match session
        .get::<RubricList>("/api/v1/rubrics")
        .await?
        .rubrics
        .first()
    {
        Some(r) => Some(
            session
                .get(&format!(
                    "/api/v1/rubrics/{}/versions/{}",
                    format::seg(r.rubric.as_str()),
                    r.latest_version
                ))
                .await?,
        ),
        None => None,
    };
    let aspects = rubric
        .as_ref()
        .map(|r| r.definition.aspects.as_slice())
        .unwrap_or_default();
    // A period that names nothing filters to nothing, as before: no marks then.
    let life: Option<MilestonesView> = match f.period.trim() {
        "" => None,
        period => session
            .get(&format!(
                "/api/v1/periods/{}/milestones",
                format::seg(period)
            ))
            .await
            .ok(),
    };
    let unit_names = super::names::Names(
        units
            .units
            .iter()
            .map(|u| (u.unit.to_string(), u.name.clone()))
            .collect(),
    );
    let actor_names: std::collections::BTreeMap<&str, &str> = people
        .people
        .iter()
        .map(|p| (p.person.as_str(), p.name.as_str()))
        .collect();
    let printed = super::print::title_block(
        &session,
        lang.t("变更记录", "Change log"),
        super::print::Printed {
            period: None,
            as_of: Some((page.at_position, None)),
            rubric: None,
        },
    )
    .await;
    let body = html! {
        (printed)
        form.filters #change-filters method="get" action="/changes" {
            label { (lang.t("人员", "Person"))
                select name="person" {
                    option value="" { (lang.t("全部", "all")) }
                    @for p in &people.people {
                        option value=(p.person) title=(p.person) selected[f.person.trim() == p.person.as_str()] { (p.name) }
                    }
                }
            }
            label { (lang.t("考核周期", "Period"))
                select name="period" {
                    option value="" { (lang.t("全部", "all")) }
                    @for p in &periods.periods {
                        option value=(p.period) selected[f.period.trim() == p.period.as_str()] { (p.name) }
                    }
                }
            }
            label { (lang.t("单位", "Unit"))
                select name="unit" {
                    option value="" { (lang.t("全部", "all")) }
                    @for u in &units.units {
                        option value=(u.unit) selected[f.unit.trim() == u.unit.as_str()] { (u.name) }
                    }
                }
            }
            label { (lang.t("子项目", "Item"))
                select name="item" {
                    option value="" { (lang.t("全部", "all")) }
                    @for a in aspects { @for i in &a.items {
                        option value=(i.code) selected[f.item.trim() == i.code.as_str()] { (i.code) " " (lang.text(&i.title)) }
                    } }
                }
            }
            label { (lang.t("大方面", "Aspect"))
                select name="aspect" {
                    option value="" { (lang.t("全部", "all")) }
                    @for a in aspects {
                        option value=(a.code) selected[f.aspect.trim() == a.code.as_str()] { (a.code) " " (lang.text(&a.title)) }
                    }
                }
            }
            label { (lang.t("事件类型", "Event type"))
                select name="kind" {
                    option value="" { (lang.t("全部", "all")) }
                    @for k in ChangeKind::ALL {
                        option value=(k.name()) selected[f.kind == k.name()] { (lang.label(k.label())) }
                    }
                }
            }
            label { (lang.t("自 (北京时间)", "From (Beijing)")) (format::time_field(lang, "from", "from", Some(&f.from))) }
            label { (lang.t("至", "To")) (format::time_field(lang, "to", "to", Some(&f.to))) }
            button type="submit" #filter-go { (lang.t("筛选", "Filter")) }
            a.button #csv href={ "/changes.csv?" (f.page_query(None)) } { (lang.t("导出 CSV", "Export CSV")) }
            a.button #xlsx href={ "/changes.xlsx?" (f.page_query(None)) } { (lang.t("导出 Excel", "Export Excel")) }
        }
        // With a period chosen: its milestones, each reading the log up to that record (the
        // page's cursor: changes before the next one), so up to the publication (按公示时) or
        // any other step of the period. A time would not do: more happens within its second.
        @if let Some(life) = &life {
            (super::standings::milestone_marks(lang, life, &|m| {
                format!("/changes?{}", f.page_query(Some(m.position + 1)))
            }, None))
        }
        p.as-of { (lang.t("读取于记录序号 ", "Read at record ")) (page.at_position) }
        @if page.changes.is_empty() {
            p.empty #no-changes { (lang.t("没有符合条件的变更.", "No change matches.")) }
        } @else {
            table.changes #changes {
                thead { tr {
                    th { "#" } th { (lang.t("时间 (北京)", "When (Beijing)")) } th { (lang.t("人员", "Who")) }
                    th { (lang.t("事项", "What")) } th { (lang.t("对象", "Where")) }
                    th { (lang.t("原值 → 新值", "Old → new")) } th { (lang.t("理由", "Why")) }
                } }
                tbody {
                    @for c in &page.changes { (row(lang, c, actor_names.get(c.actor.as_str()).copied(), &unit_names, session.role() == ledger_schemas::envelope::Role::Auditor)) }
                }
            }
        }
        @if let Some(next) = page.next {
            p { a #next-page href={ "/changes?" (f.page_query(Some(next))) } { (lang.t("更早的变更 →", "Older changes →")) } }
        }
    };
    Ok(layout::page(
        &session,
        Nav::Changes,
        lang.t("变更记录", "Change log"),
        body,
    ))
}

/// One change; `verify` links it to its in-browser inclusion check (the auditors' page).
fn row(
    lang: Lang,
    c: &ChangeEntryView,
    actor: Option<&str>,
    units: &super::names::Names,
    verify: bool,
) -> maud::Markup {
    // Where: the unit by name (its id on hover), then the item and the period by their codes.
    let place = html! {
        @if let Some(u) = &c.unit { (units.show(u.as_str())) " " }
        @if let Some(i) = &c.item { (i) " " }
        @if let Some(p) = &c.period { (p) }
    };
    let old = c.old.as_ref().map(|t| lang.text(t));
    let new = c.new.as_ref().map(|t| lang.text(t));
    html! {
        tr data-position=(c.position) data-actor=(c.actor) data-type=(c.event_type) {
            td.num {
                (c.position)
                @if verify { br; a.verify href={ "/integrity?position=" (c.position) "#inclusion" } title=(lang.t("在浏览器中验证此事件已记入签名的账本", "verify in the browser that this event is in the signed log")) { (lang.t("验证", "verify")) } }
            }
            td { (format::time(&c.recorded_at)) }
            td { (super::todo::named(actor, c.actor.as_str())) br; small { (super::i18n::role(lang, c.role)) } }
            td { (lang.label(&c.kind_label)) br; small { (lang.text(&c.summary)) } }
            td {
                @if let (Some(p), Some(u)) = (&c.period, &c.unit) {
                    @if let Some(i) = &c.item {
                        a href={ "/periods/" (p) "/units/" (u) "/items/" (i) } { (place) }
                    } @else {
                        a href={ "/periods/" (p) "/units/" (u) } { (place) }
                    }
                } @else { (place) }
            }
            td { @if old.is_some() || new.is_some() { (old.unwrap_or_else(|| "—".into())) " → " (new.unwrap_or_else(|| "—".into())) } }
            td.text { (c.reason.clone().unwrap_or_default()) }
        }
    }
}

/// Every change matching the filters (all pages), read at one position, with the names of people
/// and units as they stood there: what the CSV and xlsx downloads write.
pub(super) async fn all_changes(
    session: &Session,
    f: &ChangesForm,
) -> Result<(Vec<ChangeEntryView>, u64, crate::csv_out::Names), Failure> {
    let filters = f.api_query(session.lang)?;
    let mut rows: Vec<ChangeEntryView> = Vec::new();
    let mut at: Option<u64> = None;
    let mut before: Option<u64> = None;
    loop {
        let mut pairs = filters.clone();
        pairs.push(("limit", crate::http::queries::MAX_PAGE.to_string()));
        if let Some(b) = before {
            pairs.push(("before", b.to_string()));
        }
        // Every page is read at the position of the first, so the file is one consistent state.
        if let Some(at) = at {
            pairs.push(("at_position", at.to_string()));
        }
        let page: ChangesView = session
            .get(&format!("/api/v1/changes?{}", encode(&pairs)))
            .await?;
        at.get_or_insert(page.at_position);
        rows.extend(page.changes);
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    // Names beside ids, as they stand at the position the file was read at.
    let at = at.unwrap_or_default();
    let at_query = encode(&[("at_position", at.to_string())]);
    let people: crate::http::views::PersonList =
        session.get(&format!("/api/v1/people?{at_query}")).await?;
    let units: crate::http::views::UnitList =
        session.get(&format!("/api/v1/units?{at_query}")).await?;
    let names = crate::csv_out::Names {
        people: people
            .people
            .into_iter()
            .map(|p| (p.person.to_string(), p.name))
            .collect(),
        units: units
            .units
            .into_iter()
            .map(|u| (u.unit.to_string(), u.name))
            .collect(),
    };
    Ok((rows, at, names))
}

/// `GET /changes.csv?…`: every matching change (all pages), with the position it was read at in
/// the file name and in a `Ledger-Position` header, so the file can be checked against a checkpoint.
pub async fn csv(session: Session, Query(f): Query<ChangesForm>) -> Result<Response, Failure> {
    let lang = session.lang;
    let (rows, at, names) = all_changes(&session, &f).await?;
    let style = crate::csv_out::CsvStyle {
        bom: f.plain.trim().is_empty(),
        zh: lang == Lang::Zh,
    };
    let mut out = Vec::new();
    crate::csv_out::write_changes(&mut out, &rows, style, &names)
        .map_err(|e| Failure::internal(lang, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"changes-at-{at}.csv\""),
            ),
            (
                header::HeaderName::from_static(crate::http::queries::POSITION_HEADER),
                at.to_string(),
            ),
        ],
        out,
    )
        .into_response())
}
