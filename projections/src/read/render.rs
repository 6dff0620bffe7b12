//! Rendering one change for people, on demand, from its envelope: the change log and the histories
//! keep only compact entries, and the caller supplies the envelopes of the page it shows.
//!
//! Every text is zh-CN first, then English ([`Text`]). "Old → new" comes from the payload where it
//! names the old value (a correction's `previous`, a stage change's `from`, a rubric move's
//! `from_version`), and otherwise from what the read model kept when it applied the event (the
//! replaced draft or business result, the unit's old name, the role's old units, the old due date,
//! the item's review state before a review).

use chrono::{DateTime, Utc};
use ledger_schemas::envelope::{Envelope, Role};
use ledger_schemas::events::{Event, RectificationOrigin};
use ledger_schemas::ids::{AspectCode, ItemCode, PeriodId, PersonId, UnitId};
use ledger_schemas::rubric::RubricDefinition;
use ledger_schemas::values::{EvidenceFile, Points, ReviewDecision, ScoreSource, ScoreValue, Text};
use serde::Serialize;

use super::ReadModel;
use super::changes::{
    Entry, NONE16, NONE32, Prior, ReviewAtTime, StandingAtTime, rectification_from_code,
};
use crate::domain::RectificationStatus;

/// One change as people read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeView {
    pub position: u64,
    pub recorded_at: DateTime<Utc>,
    /// The stored event type, e.g. `ScoreCorrected`.
    pub event_type: &'static str,
    /// What kind of change it is, zh-CN first.
    pub kind_label: &'static str,
    /// Who recorded it, in which role.
    pub actor: PersonId,
    pub role: Role,
    pub period: Option<PeriodId>,
    pub unit: Option<UnitId>,
    pub item: Option<ItemCode>,
    /// The item's aspect under the period's rubric version at the time.
    pub aspect: Option<AspectCode>,
    /// The period's rubric version at the time (for a rubric event, the version it made).
    pub rubric_version: Option<u32>,
    /// One line saying what happened.
    pub summary: Text,
    /// The value before and after, for people.
    pub old: Option<Text>,
    pub new: Option<Text>,
    /// The score values before and after, for score events.
    pub old_value: Option<ScoreValue>,
    pub new_value: Option<ScoreValue>,
    /// Why (the envelope's reason).
    pub reason: Option<String>,
    /// The note, comment, grounds, decision or finding the event carries.
    pub note: Option<String>,
    pub evidence: Vec<String>,
    /// The evidence files the event cites (uploaded by its actor, recorded at its time).
    pub files: Vec<EvidenceFile>,
    pub source: Option<ScoreSource>,
    /// The item's review state and standing right after the event.
    pub review: Option<ReviewAtTime>,
    pub standing: Option<StandingAtTime>,
}

/// Why an envelope cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "读模型中没有位置 {position} 的事件 (the read model holds no event at position {position})"
    )]
    NotInLog { position: u64 },
    #[error(
        "位置 {position} 的事件类型是 {expected}, 而不是 {found} (the event at position {position} is a {expected}, not a {found})"
    )]
    Mismatch {
        position: u64,
        expected: &'static str,
        found: String,
    },
    #[error("事件无法解码 (the event cannot be decoded): {0}")]
    Contract(#[from] ledger_schemas::ContractError),
}

fn t(zh: impl Into<String>, en: impl Into<String>) -> Text {
    Text::new(zh, en)
}

fn join(items: &[UnitId]) -> String {
    if items.is_empty() {
        return "—".into();
    }
    items
        .iter()
        .map(UnitId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A score value for people, with the ladder's labels when the rubric version is known.
pub fn value_text(def: Option<&RubricDefinition>, value: &ScoreValue) -> Text {
    match value {
        ScoreValue::Points { points } => t(format!("{points} 分"), format!("{points} points")),
        ScoreValue::Level { level } => {
            match def.and_then(|d| d.ladder.iter().find(|s| &s.level == level)) {
                Some(step) => t(
                    format!("{}（{}%）", step.label.zh, step.percent),
                    format!(
                        "{} ({}%)",
                        step.label.en.as_deref().unwrap_or(level.as_str()),
                        step.percent
                    ),
                ),
                None => t(format!("等级 {level}"), format!("level {level}")),
            }
        }
        ScoreValue::Awards { awards } if awards.is_empty() => t("无加分事项", "no awards"),
        ScoreValue::Awards { awards } => {
            let list: Vec<String> = awards
                .iter()
                .map(|a| format!("{} {}", a.title, a.points))
                .collect();
            t(
                format!("加分 {} 项: {}", awards.len(), list.join("; ")),
                format!("{} awards: {}", awards.len(), list.join("; ")),
            )
        }
        ScoreValue::Cases { cases } => t(format!("{cases} 起"), format!("{cases} cases")),
        ScoreValue::Veto { vetoed: true } => t("否决", "vetoed"),
        ScoreValue::Veto { vetoed: false } => t("不否决", "not vetoed"),
    }
}

fn business_text(score: Points, vetoed: bool) -> Text {
    if vetoed {
        t(
            format!("{score} 分（否决）"),
            format!("{score} points (vetoed)"),
        )
    } else {
        t(format!("{score} 分"), format!("{score} points"))
    }
}

fn label_text(label: &str) -> Text {
    // Labels are "中文 English": split at the first ASCII letter.
    match label.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t(label[..i].trim_end(), &label[i..]),
        None => t(label, label),
    }
}

fn review_text(code: u8) -> Option<Text> {
    ReviewAtTime::from_code(code).map(|r| label_text(r.label()))
}

fn rectification_text(code: u8) -> Option<Text> {
    rectification_from_code(code).map(|s: RectificationStatus| label_text(s.label()))
}

fn decision_text(decision: ReviewDecision) -> Text {
    match decision {
        ReviewDecision::Approved => t("通过", "approved"),
        ReviewDecision::Rejected => t("退回", "rejected"),
    }
}

fn origin_text(origin: RectificationOrigin) -> (&'static str, &'static str) {
    match origin {
        RectificationOrigin::Deduction => ("扣分", "a deduction"),
        RectificationOrigin::Review => ("审核退回", "a rejected review"),
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// Renders the change an envelope records. The envelope must be one the read model applied.
pub fn render_change(model: &ReadModel, envelope: &Envelope) -> Result<ChangeView, RenderError> {
    let log = &model.log;
    let entry: Entry = *log
        .entry_at(envelope.position)
        .ok_or(RenderError::NotInLog {
            position: envelope.position,
        })?;
    if entry.kind.name() != envelope.event_type {
        return Err(RenderError::Mismatch {
            position: envelope.position,
            expected: entry.kind.name(),
            found: envelope.event_type.clone(),
        });
    }
    let event = envelope.decode()?;
    let period = (entry.period != NONE32)
        .then(|| log.periods.name(entry.period))
        .flatten()
        .and_then(|p| PeriodId::new(p).ok());
    let unit = (entry.unit != NONE32)
        .then(|| log.units.name(entry.unit))
        .flatten()
        .and_then(|u| UnitId::new(u).ok());
    let item = (entry.item != NONE16)
        .then(|| log.items.name(u32::from(entry.item)))
        .flatten()
        .and_then(|i| ItemCode::new(i).ok());
    let aspect = (entry.aspect != NONE16)
        .then(|| log.aspects.name(u32::from(entry.aspect)))
        .flatten()
        .and_then(|a| AspectCode::new(a).ok());
    // The rubric version of the period at the time (rubric versions never change once made).
    let state = model.state();
    let def: Option<&RubricDefinition> = period
        .as_ref()
        .and_then(|p| state.periods.get(p))
        .and_then(|p| state.definition(&p.rubric, u32::from(entry.version)));
    let prior = log.priors.get(&envelope.position);
    let prior_value = match prior {
        Some(Prior::Value(v)) => Some(v.clone()),
        _ => None,
    };
    let at = |p: &Option<PeriodId>, u: &Option<UnitId>| match (p, u) {
        (Some(p), Some(u)) => (format!("{u}（{p}）"), format!("{u} ({p})")),
        (Some(p), None) => (p.to_string(), p.to_string()),
        _ => (String::new(), String::new()),
    };
    let (where_zh, where_en) = at(&period, &unit);
    let item_s = item.as_ref().map_or("", ItemCode::as_str);

    let mut view = ChangeView {
        position: envelope.position,
        recorded_at: envelope.recorded_at,
        event_type: entry.kind.name(),
        kind_label: entry.kind.label(),
        actor: envelope.actor.person.clone(),
        role: envelope.actor.role,
        period: period.clone(),
        unit: unit.clone(),
        item: item.clone(),
        aspect,
        rubric_version: (entry.version != 0).then_some(u32::from(entry.version)),
        summary: t(entry.kind.label(), entry.kind.label()),
        old: None,
        new: None,
        old_value: None,
        new_value: None,
        reason: envelope.reason.clone(),
        note: None,
        evidence: Vec::new(),
        files: event.files().to_vec(),
        source: None,
        review: ReviewAtTime::from_code(entry.review),
        standing: StandingAtTime::from_code(entry.standing),
    };

    match &event {
        Event::BusinessZoneSet(e) => {
            view.summary = t(
                format!("设定业务时区 {}", e.zone),
                format!("business zone set to {}", e.zone),
            );
            view.new = Some(t(e.zone.clone(), e.zone.clone()));
        }
        Event::UnitRegistered(e) => {
            view.summary = t(
                format!("登记单位 {}「{}」", e.unit, e.name),
                format!("unit {} \"{}\" registered", e.unit, e.name),
            );
            view.new = Some(t(
                format!(
                    "{}，上级 {}",
                    e.name,
                    e.parent.as_ref().map_or("—", UnitId::as_str)
                ),
                format!(
                    "{}, parent {}",
                    e.name,
                    e.parent.as_ref().map_or("—", UnitId::as_str)
                ),
            ));
        }
        Event::UnitUpdated(e) => {
            view.summary = t(
                format!("更新单位 {}", e.unit),
                format!("unit {} updated", e.unit),
            );
            let show = |name: &str, parent: &Option<UnitId>| {
                let parent = parent.as_ref().map_or("—", UnitId::as_str);
                t(
                    format!("{name}，上级 {parent}"),
                    format!("{name}, parent {parent}"),
                )
            };
            if let Some(Prior::Unit { name, parent }) = prior {
                view.old = Some(show(name, parent));
            }
            view.new = Some(show(&e.name, &e.parent));
        }
        Event::PersonRegistered(e) => {
            view.summary = t(
                format!("登记人员 {}「{}」", e.person, e.name),
                format!("person {} \"{}\" registered", e.person, e.name),
            );
        }
        Event::AccessGranted(e) => {
            view.summary = t(
                format!("授予 {} {}角色", e.person, label_text(e.role.label()).zh),
                format!("{} granted the role {}", e.person, e.role),
            );
            if let Some(Prior::Units(units)) = prior {
                view.old = Some(t(
                    format!("覆盖单位 {}", join(units)),
                    format!("units {}", join(units)),
                ));
            }
            view.new = Some(t(
                format!("覆盖单位 {}", join(&e.units)),
                format!("units {}", join(&e.units)),
            ));
        }
        Event::AccessRevoked(e) => {
            view.summary = t(
                format!("撤销 {} 的{}角色", e.person, label_text(e.role.label()).zh),
                format!("{} lost the role {}", e.person, e.role),
            );
        }
        Event::TokenIssued(e) => {
            view.summary = t(
                format!(
                    "为 {} 签发{}令牌 {}",
                    e.person,
                    label_text(e.role.label()).zh,
                    e.token
                ),
                format!("token {} issued to {} as {}", e.token, e.person, e.role),
            );
        }
        Event::TokenRevoked(e) => {
            view.summary = t(
                format!("吊销令牌 {}", e.token),
                format!("token {} revoked", e.token),
            );
        }
        Event::RubricDefined(e) => {
            view.summary = t(
                format!(
                    "制定考评细则 {}「{}」第 1 版",
                    e.rubric, e.definition.title.zh
                ),
                format!("rubric {} version 1 defined", e.rubric),
            );
            view.new = Some(t("第 1 版", "version 1"));
        }
        Event::RubricAdjusted(e) => {
            view.summary = t(
                format!(
                    "调整考评细则 {}：第 {} 版 → 第 {} 版，{} 项调整，批准人 {}",
                    e.rubric,
                    e.from_version,
                    e.version,
                    e.changes.len(),
                    e.approver
                ),
                format!(
                    "rubric {} adjusted: version {} → {}, {} changes, approved by {}",
                    e.rubric,
                    e.from_version,
                    e.version,
                    e.changes.len(),
                    e.approver
                ),
            );
            view.old = Some(version_text(e.from_version));
            view.new = Some(version_text(e.version));
        }
        Event::PeriodOpened(e) => {
            view.summary = t(
                format!(
                    "开启考核周期 {}「{}」，细则 {} 第 {} 版，{} 个单位",
                    e.period,
                    e.name,
                    e.rubric,
                    e.rubric_version,
                    e.units.len()
                ),
                format!(
                    "period {} \"{}\" opened on rubric {} version {}, {} units",
                    e.period,
                    e.name,
                    e.rubric,
                    e.rubric_version,
                    e.units.len()
                ),
            );
        }
        Event::PeriodStageChanged(e) => {
            view.summary = t(
                format!(
                    "考核周期 {} 由「{}」进入「{}」",
                    e.period,
                    label_text(e.from.label()).zh,
                    label_text(e.to.label()).zh
                ),
                format!(
                    "period {} moved from {} to {}",
                    e.period,
                    label_text(e.from.label()).en.unwrap_or_default(),
                    label_text(e.to.label()).en.unwrap_or_default()
                ),
            );
            view.old = Some(label_text(e.from.label()));
            view.new = Some(label_text(e.to.label()));
        }
        Event::PeriodRubricChanged(e) => {
            view.summary = t(
                format!(
                    "考核周期 {} 改用细则第 {} 版（原第 {} 版）",
                    e.period, e.to_version, e.from_version
                ),
                format!(
                    "period {} moved to rubric version {} (from {})",
                    e.period, e.to_version, e.from_version
                ),
            );
            view.old = Some(version_text(e.from_version));
            view.new = Some(version_text(e.to_version));
        }
        Event::SelfAssessmentRecorded(e) => {
            let new = value_text(def, &e.value);
            view.summary = t(
                format!("{where_zh} {item_s} 自评：{}", new.zh),
                format!(
                    "self-assessment of {item_s} for {where_en}: {}",
                    new.en.clone().unwrap_or_default()
                ),
            );
            view.old = prior_value.as_ref().map(|v| value_text(def, v));
            view.old_value = prior_value;
            view.new = Some(new);
            view.new_value = Some(e.value.clone());
            view.note = non_empty(&e.note);
            view.evidence = e.evidence.clone();
        }
        Event::ScoreRecorded(e) => {
            let new = value_text(def, &e.value);
            view.summary = t(
                format!("{where_zh} {item_s} 考评得分：{}", new.zh),
                format!(
                    "score of {item_s} for {where_en}: {}",
                    new.en.clone().unwrap_or_default()
                ),
            );
            view.old = prior_value.as_ref().map(|v| value_text(def, v));
            view.old_value = prior_value;
            view.new = Some(new);
            view.new_value = Some(e.value.clone());
            view.note = non_empty(&e.note);
            view.evidence = e.evidence.clone();
            view.source = Some(e.source);
        }
        Event::ScoreCorrected(e) => {
            let old_value = prior_value.unwrap_or_else(|| e.previous.clone());
            let (old, new) = (value_text(def, &old_value), value_text(def, &e.value));
            let appeal = e
                .appeal
                .as_ref()
                .map(|a| (format!("（申诉 {a}）"), format!(" (appeal {a})")))
                .unwrap_or_default();
            view.summary = t(
                format!(
                    "{where_zh} {item_s} 更正：{} → {}{}",
                    old.zh, new.zh, appeal.0
                ),
                format!(
                    "score of {item_s} for {where_en} corrected: {} → {}{}",
                    old.en.clone().unwrap_or_default(),
                    new.en.clone().unwrap_or_default(),
                    appeal.1
                ),
            );
            view.old = Some(old);
            view.new = Some(new);
            view.old_value = Some(old_value);
            view.new_value = Some(e.value.clone());
            view.note = non_empty(&e.note);
            view.evidence = e.evidence.clone();
            view.source = Some(e.source);
        }
        Event::ItemReviewed(e) => {
            let decision = decision_text(e.decision);
            view.summary = t(
                format!("{where_zh} {item_s} 审核{}", decision.zh),
                format!(
                    "{item_s} for {where_en} {}",
                    decision.en.clone().unwrap_or_default()
                ),
            );
            view.old = review_text(entry.before);
            view.new = review_text(entry.after);
            view.note = non_empty(&e.comment);
        }
        Event::SheetReviewed(e) => {
            let decision = decision_text(e.decision);
            view.summary = t(
                format!("{where_zh} 整张评分表审核{}", decision.zh),
                format!(
                    "whole sheet of {where_en} {}",
                    decision.en.clone().unwrap_or_default()
                ),
            );
            view.new = Some(decision);
            view.note = non_empty(&e.comment);
        }
        Event::BusinessResultRecorded(e) => {
            let new = business_text(e.score, e.vetoed);
            view.summary = t(
                format!("{where_zh} 经营业绩：{}", new.zh),
                format!(
                    "business result of {where_en}: {}",
                    new.en.clone().unwrap_or_default()
                ),
            );
            if let Some(Prior::Business { score, vetoed }) = prior {
                view.old = Some(business_text(*score, *vetoed));
            }
            view.new = Some(new);
            view.note = non_empty(&e.source);
        }
        Event::AppealFiled(e) => {
            let target = e.item.as_ref().map_or_else(
                || ("整张评分表".to_owned(), "the whole sheet".to_owned()),
                |i| (i.to_string(), i.to_string()),
            );
            view.summary = t(
                format!("{where_zh} 就 {} 提出申诉 {}", target.0, e.appeal),
                format!(
                    "appeal {} filed against {} of {where_en}",
                    e.appeal, target.1
                ),
            );
            view.new = Some(t("待处理", "pending"));
            view.note = non_empty(&e.grounds);
            view.evidence = e.evidence.clone();
        }
        Event::AppealUpheld(e) => {
            view.summary = t(
                format!("申诉 {} 成立（{where_zh}）", e.appeal),
                format!("appeal {} upheld ({where_en})", e.appeal),
            );
            view.old = Some(t("待处理", "pending"));
            view.new = Some(t("成立", "upheld"));
            view.note = non_empty(&e.decision);
        }
        Event::AppealDismissed(e) => {
            view.summary = t(
                format!("申诉 {} 驳回（{where_zh}）", e.appeal),
                format!("appeal {} dismissed ({where_en})", e.appeal),
            );
            view.old = Some(t("待处理", "pending"));
            view.new = Some(t("驳回", "dismissed"));
            view.note = non_empty(&e.decision);
        }
        Event::RectificationRaised(e) => {
            let (origin_zh, origin_en) = origin_text(e.origin);
            view.summary = t(
                format!(
                    "{where_zh} {item_s} 因{origin_zh}下达整改 {}，责任人 {}，期限 {}",
                    e.rectification, e.responsible, e.due_on
                ),
                format!(
                    "rectification {} of {item_s} for {where_en} raised from {origin_en}, responsible {}, due {}",
                    e.rectification, e.responsible, e.due_on
                ),
            );
            view.new = rectification_text(entry.after);
            view.note = non_empty(&e.finding);
        }
        Event::RectificationSubmitted(e) => {
            view.summary = t(
                format!("提交整改 {}（{where_zh} {item_s}）", e.rectification),
                format!(
                    "rectification {} submitted ({item_s}, {where_en})",
                    e.rectification
                ),
            );
            view.old = rectification_text(entry.before);
            view.new = rectification_text(entry.after);
            view.note = non_empty(&e.note);
            view.evidence = e.evidence.clone();
        }
        Event::RectificationVerified(e) => {
            view.summary = t(
                format!("验证整改 {} 并关闭（{where_zh} {item_s}）", e.rectification),
                format!(
                    "rectification {} verified and closed ({item_s}, {where_en})",
                    e.rectification
                ),
            );
            view.old = rectification_text(entry.before);
            view.new = rectification_text(entry.after);
            view.note = non_empty(&e.comment);
        }
        Event::RectificationSentBack(e) => {
            let due = match (prior, e.due_on) {
                (Some(Prior::Due(old)), Some(new)) => (
                    format!("，期限 {old} → {new}"),
                    format!(", due {old} → {new}"),
                ),
                _ => (String::new(), String::new()),
            };
            view.summary = t(
                format!(
                    "退回整改 {}（{where_zh} {item_s}）{}",
                    e.rectification, due.0
                ),
                format!(
                    "rectification {} sent back ({item_s}, {where_en}){}",
                    e.rectification, due.1
                ),
            );
            view.old = rectification_text(entry.before);
            view.new = rectification_text(entry.after);
            view.note = non_empty(&e.comment);
        }
    }
    Ok(view)
}

/// Renders a change as a step of one item's history ([`super::View::item_history`]): as
/// [`render_change`], and a step that names no item (a whole-sheet review, a rubric move) shows the
/// item's review state and standing right after it, as every other step does.
pub fn render_in_history(
    model: &ReadModel,
    envelope: &Envelope,
    period: &PeriodId,
    unit: &UnitId,
    item: &ItemCode,
) -> Result<ChangeView, RenderError> {
    let mut view = render_change(model, envelope)?;
    if view.item.is_none()
        && let Some((review, standing)) =
            model
                .log
                .item_state_at(envelope.position, period, unit, item)
    {
        view.review = ReviewAtTime::from_code(review);
        view.standing = StandingAtTime::from_code(standing);
    }
    Ok(view)
}

fn version_text(version: u32) -> Text {
    t(format!("第 {version} 版"), format!("version {version}"))
}

#[cfg(test)]
mod tests {
    use super::super::changes::ChangeKind;
    use super::*;

    /// Kind labels and state labels split into a Chinese and an English half, in that order.
    #[test]
    fn labels_are_chinese_then_english() {
        for kind in ChangeKind::ALL {
            let text = label_text(kind.label());
            assert!(!text.zh.is_empty() && !text.zh.is_ascii(), "{:?}", kind);
            assert!(
                text.en.as_deref().is_some_and(|en| en.is_ascii()),
                "{kind:?}"
            );
        }
        assert_eq!(
            ChangeKind::ALL.len(),
            ledger_schemas::events::CATALOGUE
                .iter()
                .filter(|c| c.current)
                .count()
        );
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::from_name(kind.name()), Some(kind));
        }
    }
}
