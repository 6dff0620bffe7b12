//! The rows every export shares: the standings, a unit's sheet and the closed loop as typed
//! [`Cell`]s with `(english, chinese)` column names, built once from the API's views so the CLI and
//! the console, CSV and xlsx, say the same thing in the same words. (The change log's rows are
//! `csv_out::change_row`.)
//!
//! One language per file: in Chinese every word comes from the console's glossary
//! (`console::i18n`, `console::format`); in English the stable codes scripts rely on, or the
//! glossary's English words where no code exists.

use std::collections::BTreeMap;

use ledger_schemas::rubric::RubricDefinition;
use ledger_schemas::values::ScoreValue;

use crate::console::i18n::Lang;
use crate::csv_out::{Cell, yes_no};
use crate::http::views::{GradeBasisView, RectificationView, SheetView, StandingsView};

/// Column names as `(english, chinese)` pairs.
pub type Columns = Vec<(String, String)>;

fn cols(pairs: &[(&str, &str)]) -> Columns {
    pairs
        .iter()
        .map(|(e, z)| ((*e).to_owned(), (*z).to_owned()))
        .collect()
}

fn text_or_empty(text: Option<String>) -> Cell {
    text.filter(|t| !t.is_empty())
        .map_or(Cell::Empty, Cell::Text)
}

/// The standings, one row per unit: `names` by unit id.
pub fn standings(
    s: &StandingsView,
    names: &BTreeMap<String, String>,
    lang: Lang,
) -> (Columns, Vec<Vec<Cell>>) {
    let mut columns = cols(&[
        ("period", "考核周期"),
        ("rank", "名次"),
        ("unit", "单位"),
        ("unit_name", "单位名称"),
    ]);
    columns.extend(s.aspects.iter().map(|a| {
        (
            format!("aspect_{}", a.aspect),
            format!("{} {}", a.aspect, a.title.zh),
        )
    }));
    columns.extend(cols(&[
        ("base", "基础分"),
        ("bonus", "加分"),
        ("deduction", "扣分"),
        ("party_score", "党建得分"),
        ("business_score", "经营业绩"),
        ("combined", "综合得分"),
        ("ranked_on", "排名依据"),
        ("ranked_score", "排名分"),
        ("grade", "等次代码"),
        ("grade_label", "等次"),
        ("capped_by_veto", "一票否决"),
        ("complete", "评分完成"),
        ("as_of_position", "截至记录序号"),
    ]));
    let zh = lang == Lang::Zh;
    let rows = s
        .units
        .iter()
        .map(|u| {
            let mut row = vec![
                Cell::text(s.period.as_str()),
                Cell::Whole(u.rank.into()),
                Cell::text(u.unit.as_str()),
                text_or_empty(names.get(u.unit.as_str()).cloned()),
            ];
            // In the rubric's aspect order, whatever order the sheet's score lists them in.
            row.extend(s.aspects.iter().map(|a| {
                u.score
                    .aspects
                    .iter()
                    .find(|x| x.aspect == a.aspect)
                    .map_or(Cell::Empty, |x| Cell::figure(&x.points.0))
            }));
            let ranked_on = match (u.ranked_on, zh) {
                (GradeBasisView::Combined, true) => "综合得分",
                (GradeBasisView::PartyScore, true) => "党建得分",
                (GradeBasisView::Combined, false) => "combined",
                (GradeBasisView::PartyScore, false) => "party_score",
            };
            row.extend([
                Cell::figure(&u.score.base.0),
                Cell::figure(&u.score.bonus.0),
                Cell::figure(&u.score.deduction.0),
                Cell::figure(&u.score.party_score.0),
                Cell::figure_or_empty(u.score.business_score.as_ref().map(|f| &f.0)),
                Cell::figure_or_empty(u.score.combined.as_ref().map(|f| &f.0)),
                Cell::text(ranked_on),
                Cell::figure(&u.ranked_score.0),
                Cell::text(u.score.grade.as_str()),
                Cell::Text(lang.text(&u.grade_label)),
                yes_no(lang, u.score.capped_by_veto),
                yes_no(lang, u.score.complete),
                Cell::Whole(s.as_of),
            ]);
            row
        })
        .collect();
    (columns, rows)
}

/// A unit's sheet, one row per item in rubric order: the value as the office reads it, the points
/// of a quantitative item as a number, its review and its source.
pub fn sheet(
    sheet: &SheetView,
    def: &RubricDefinition,
    people: &BTreeMap<String, String>,
    lang: Lang,
) -> (Columns, Vec<Vec<Cell>>) {
    let columns = cols(&[
        ("aspect", "大方面"),
        ("item", "子项目"),
        ("title", "考评项目"),
        ("kind", "类型"),
        ("responsible", "责任人"),
        ("responsible_name", "责任人姓名"),
        ("self_assessment", "自评"),
        ("value", "评分"),
        ("points", "分数"),
        ("source", "来源"),
        ("review", "审核"),
        ("last_by", "评分人"),
    ]);
    let rows = sheet
        .items
        .iter()
        .map(|i| {
            let value = |v: &ScoreValue| crate::console::format::value(lang, v, &def.ladder);
            vec![
                text_or_empty(i.aspect.as_ref().map(|a| a.to_string())),
                Cell::text(i.item.as_str()),
                text_or_empty(i.title.as_ref().map(|t| lang.text(t))),
                text_or_empty(
                    i.kind
                        .as_ref()
                        .map(|k| crate::console::format::kind(lang, k)),
                ),
                text_or_empty(i.responsible.as_ref().map(|p| p.to_string())),
                text_or_empty(
                    i.responsible
                        .as_ref()
                        .and_then(|p| people.get(p.as_str()))
                        .cloned(),
                ),
                text_or_empty(i.self_assessment.as_ref().map(|s| value(&s.value))),
                text_or_empty(i.score.as_ref().map(|s| value(&s.value))),
                match i.score.as_ref().map(|s| &s.value) {
                    Some(ScoreValue::Points { points }) => Cell::figure(points),
                    _ => Cell::Empty,
                },
                text_or_empty(
                    i.score
                        .as_ref()
                        .map(|s| crate::console::format::source(lang, s.source).to_owned()),
                ),
                text_or_empty(i.score.as_ref().map(|s| {
                    crate::console::sheet::review_label(lang, s.review.status).to_owned()
                })),
                text_or_empty(i.score.as_ref().map(|s| s.last_by.to_string())),
            ]
        })
        .collect();
    (columns, rows)
}

/// The closed loop, one row per rectification: who answers for it, its due date as a date, its
/// status in the glossary's words, and how often it was sent back.
pub fn closed_loop(
    list: &[RectificationView],
    people: &BTreeMap<String, String>,
    lang: Lang,
) -> (Columns, Vec<Vec<Cell>>) {
    let columns = cols(&[
        ("rectification", "编号"),
        ("period", "考核周期"),
        ("unit", "单位"),
        ("item", "子项目"),
        ("responsible", "责任人"),
        ("responsible_name", "责任人姓名"),
        ("finding", "问题"),
        ("raised_at", "提出时间"),
        ("due_on", "期限"),
        ("status", "状态"),
        ("sent_back", "退回次数"),
        ("evidence", "佐证材料"),
    ]);
    let rows = list
        .iter()
        .map(|r| {
            vec![
                Cell::text(r.rectification.as_str()),
                Cell::text(r.period.as_str()),
                Cell::text(r.unit.as_str()),
                Cell::text(r.item.as_str()),
                Cell::text(r.responsible.as_str()),
                text_or_empty(people.get(r.responsible.as_str()).cloned()),
                Cell::text(r.finding.clone()),
                Cell::Time(r.raised_at),
                Cell::Date(r.due_on),
                Cell::text(crate::console::closed_loop::status(lang, r)),
                Cell::Whole(r.sent_back.into()),
                text_or_empty(Some(r.evidence.join("; "))),
            ]
        })
        .collect();
    (columns, rows)
}
