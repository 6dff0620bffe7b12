//! The rubric (考评细则) as events carry it: aspects, items, the ladder, grade bands and the
//! dual-assessment policy. These are data only; the rules that check and apply them live in the
//! `ledger-projections` crate.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{AspectCode, GradeCode, ItemCode, LevelCode, PersonId};
use crate::text::{TextRefusal, TextRule};
use crate::values::{Points, Text};

/// A whole rubric version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricDefinition {
    pub title: Text,
    /// Weighted aspects (their weights sum to 100) and unweighted ones (bonus, deduction, veto).
    pub aspects: Vec<Aspect>,
    /// The qualitative ladder, e.g. 好 100% / 较好 75% / 一般 50% / 差 0%.
    pub ladder: Vec<LadderStep>,
    /// Grade bands, any order; the band with the lowest `min` is the one a veto caps the grade at.
    pub grade_bands: Vec<GradeBand>,
    pub dual_policy: DualPolicy,
}

/// An aspect (大方面).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aspect {
    pub code: AspectCode,
    pub title: Text,
    /// Its share of the 100-point base; `None` for the unweighted aspect of bonuses, deductions and
    /// vetoes.
    pub weight: Option<Points>,
    pub items: Vec<Item>,
}

/// An item (子项目).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub code: ItemCode,
    /// 考评项目.
    pub title: Text,
    /// 考评内容.
    #[schemars(with = "crate::text::Note")]
    pub content: String,
    /// 评分标准, e.g. "每少开1次扣0.5分, 扣完为止".
    #[schemars(with = "crate::text::Note")]
    pub standard: String,
    /// 考评方式: documents, minutes, visits, spot checks.
    #[schemars(with = "crate::text::Note")]
    pub method: String,
    /// 佐证材料.
    #[schemars(with = "crate::text::Note")]
    pub evidence: String,
    /// 责任人.
    pub responsible: PersonId,
    pub kind: ItemKind,
}

/// How an item is scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum ItemKind {
    /// Quantitative (定量): points within [0, max].
    Points { max: Points },
    /// Qualitative (定性): a ladder level, worth that level's percentage of `max`.
    Ladder { max: Points },
    /// Bonus (加分) outside the base, capped; with `highest_only` only the largest award counts.
    Bonus { cap: Points, highest_only: bool },
    /// Deduction (扣分) per case outside the base, optionally capped.
    Deduction {
        per_case: Points,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<Points>,
    },
    /// Veto (一票否决): when it applies, the grade is capped at the lowest band.
    Veto,
}

/// One level of the qualitative ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LadderStep {
    pub level: LevelCode,
    pub label: Text,
    /// Share of the item's maximum, 0–100.
    pub percent: Points,
}

/// A grade band: a combined score at or above `min` earns `grade`, unless a higher band applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeBand {
    pub grade: GradeCode,
    pub label: Text,
    pub min: Points,
}

/// How the party-building score and the business score combine (双考核).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum DualPolicy {
    /// combined = p·party + (1 − p)·business, with `party_percent` = 100·p.
    PointsShare { party_percent: Points },
    /// combined = business × party / 100.
    Coefficient,
    /// combined = party score; the business result only matters through its veto.
    VetoOnly,
}

/// One change within a rubric adjustment. An adjustment applies its changes in order and is checked
/// as a whole, so re-weighting an aspect and re-pointing its items can be one adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, tag = "change", rename_all = "snake_case")]
pub enum RubricChange {
    AddAspect {
        aspect: Aspect,
    },
    RemoveAspect {
        aspect: AspectCode,
    },
    ReweightAspect {
        aspect: AspectCode,
        weight: Option<Points>,
    },
    RetitleAspect {
        aspect: AspectCode,
        title: Text,
    },
    AddItem {
        aspect: AspectCode,
        item: Item,
    },
    RemoveItem {
        item: ItemCode,
    },
    RetitleItem {
        item: ItemCode,
        title: Text,
    },
    /// Changes how an item is scored: its maximum, or its kind.
    RepointItem {
        item: ItemCode,
        kind: ItemKind,
    },
    /// Changes the descriptive text of an item; absent fields stay as they were.
    DescribeItem {
        item: ItemCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "Option<crate::text::Note>")]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "Option<crate::text::Note>")]
        standard: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "Option<crate::text::Note>")]
        method: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "Option<crate::text::Note>")]
        evidence: Option<String>,
    },
    ChangeResponsible {
        item: ItemCode,
        responsible: PersonId,
    },
    ChangeLadder {
        ladder: Vec<LadderStep>,
    },
    ChangeGradeBands {
        grade_bands: Vec<GradeBand>,
    },
    ChangeDualPolicy {
        dual_policy: DualPolicy,
    },
}

// ---- the text rules (see `crate::text`), for what is recorded from now on ----

impl RubricDefinition {
    /// Checks every title, label and description; `at` is the definition's path.
    pub fn check_text(&self, at: &str) -> Result<(), TextRefusal> {
        self.title.check_text(&format!("{at}.title"))?;
        for (i, aspect) in self.aspects.iter().enumerate() {
            aspect.check_text(&format!("{at}.aspects[{i}]"))?;
        }
        check_ladder(&format!("{at}.ladder"), &self.ladder)?;
        check_bands(&format!("{at}.grade_bands"), &self.grade_bands)
    }
}

impl Aspect {
    pub fn check_text(&self, at: &str) -> Result<(), TextRefusal> {
        self.title.check_text(&format!("{at}.title"))?;
        for (i, item) in self.items.iter().enumerate() {
            item.check_text(&format!("{at}.items[{i}]"))?;
        }
        Ok(())
    }
}

impl Item {
    pub fn check_text(&self, at: &str) -> Result<(), TextRefusal> {
        self.title.check_text(&format!("{at}.title"))?;
        check_description(at, "content", Some(&self.content))?;
        check_description(at, "standard", Some(&self.standard))?;
        check_description(at, "method", Some(&self.method))?;
        check_description(at, "evidence", Some(&self.evidence))
    }
}

impl RubricChange {
    pub fn check_text(&self, at: &str) -> Result<(), TextRefusal> {
        match self {
            RubricChange::AddAspect { aspect } => aspect.check_text(&format!("{at}.aspect")),
            RubricChange::AddItem { item, .. } => item.check_text(&format!("{at}.item")),
            RubricChange::RetitleAspect { title, .. } | RubricChange::RetitleItem { title, .. } => {
                title.check_text(&format!("{at}.title"))
            }
            RubricChange::DescribeItem {
                content,
                standard,
                method,
                evidence,
                ..
            } => {
                check_description(at, "content", content.as_ref())?;
                check_description(at, "standard", standard.as_ref())?;
                check_description(at, "method", method.as_ref())?;
                check_description(at, "evidence", evidence.as_ref())
            }
            RubricChange::ChangeLadder { ladder } => check_ladder(&format!("{at}.ladder"), ladder),
            RubricChange::ChangeGradeBands { grade_bands } => {
                check_bands(&format!("{at}.grade_bands"), grade_bands)
            }
            RubricChange::RemoveAspect { .. }
            | RubricChange::ReweightAspect { .. }
            | RubricChange::RemoveItem { .. }
            | RubricChange::RepointItem { .. }
            | RubricChange::ChangeResponsible { .. }
            | RubricChange::ChangeDualPolicy { .. } => Ok(()),
        }
    }
}

fn check_description(at: &str, field: &str, text: Option<&String>) -> Result<(), TextRefusal> {
    match text {
        Some(text) => TextRule::NOTE.check_field(format_args!("{at}.{field}"), text),
        None => Ok(()),
    }
}

fn check_ladder(at: &str, ladder: &[LadderStep]) -> Result<(), TextRefusal> {
    for (i, step) in ladder.iter().enumerate() {
        step.label.check_text(&format!("{at}[{i}].label"))?;
    }
    Ok(())
}

fn check_bands(at: &str, bands: &[GradeBand]) -> Result<(), TextRefusal> {
    for (i, band) in bands.iter().enumerate() {
        band.label.check_text(&format!("{at}[{i}].label"))?;
    }
    Ok(())
}
