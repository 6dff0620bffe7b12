//! The rubric (考评细则) as events carry it: aspects, items, the ladder, grade bands, the
//! dual-assessment policy and the annual rule. These are data only; the rules that check and apply
//! them live in the `ledger-projections` crate.
//!
//! [`v1`] holds the shapes version 1 of `RubricDefined` and `RubricAdjusted` carried (before the
//! annual rule), for reading old events.

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
    /// How the periods of a year combine into the year's result (年度考核). Absent: the mean of the
    /// periods (the default, never written out, so a rubric without a rule of its own reads as
    /// version 1 wrote it).
    #[serde(default, skip_serializing_if = "AnnualRule::is_mean")]
    pub annual_rule: AnnualRule,
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

/// How the periods of a span (a year: 年度考核) combine into one result per unit. Each period gives
/// its figure (the combined dual score, or the party-building score without a business result) and
/// a veto in any period counts for the span.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum AnnualRule {
    /// The mean of the periods' figures, each period counting once.
    #[default]
    Mean,
    /// A weighted mean: each period weighs by its slot of the year (a period whose slot is not listed
    /// weighs nothing). Weights are relative: a unit's result is Σ weight × figure / Σ weight over the
    /// periods it was assessed in.
    Weighted { weights: Vec<SlotWeight> },
}

impl AnnualRule {
    /// Whether this is the default rule, the mean (which is never written out).
    pub fn is_mean(&self) -> bool {
        *self == AnnualRule::Mean
    }
}

/// The weight of one slot of the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotWeight {
    pub slot: PeriodSlot,
    /// Above 0; only the ratios between weights matter (e.g. 20, 20, 20, 40).
    pub weight: Points,
}

/// A period's place in its year: the quarter of a quarterly period (`Q1`–`Q4`), the month of a
/// monthly one (`M1`–`M12`), `Y` for an annual period; read from the period's cadence and first day.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum PeriodSlot {
    Q1,
    Q2,
    Q3,
    Q4,
    M1,
    M2,
    M3,
    M4,
    M5,
    M6,
    M7,
    M8,
    M9,
    M10,
    M11,
    M12,
    Y,
}

impl PeriodSlot {
    pub const QUARTERS: [PeriodSlot; 4] = [Self::Q1, Self::Q2, Self::Q3, Self::Q4];
    pub const MONTHS: [PeriodSlot; 12] = [
        Self::M1,
        Self::M2,
        Self::M3,
        Self::M4,
        Self::M5,
        Self::M6,
        Self::M7,
        Self::M8,
        Self::M9,
        Self::M10,
        Self::M11,
        Self::M12,
    ];

    /// The slot's name as written in JSON (`Q1`, `M12`, `Y`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Q1 => "Q1",
            Self::Q2 => "Q2",
            Self::Q3 => "Q3",
            Self::Q4 => "Q4",
            Self::M1 => "M1",
            Self::M2 => "M2",
            Self::M3 => "M3",
            Self::M4 => "M4",
            Self::M5 => "M5",
            Self::M6 => "M6",
            Self::M7 => "M7",
            Self::M8 => "M8",
            Self::M9 => "M9",
            Self::M10 => "M10",
            Self::M11 => "M11",
            Self::M12 => "M12",
            Self::Y => "Y",
        }
    }
}

impl std::fmt::Display for PeriodSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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
    /// Changes how the periods of a year combine into the year's result.
    ChangeAnnualRule {
        annual_rule: AnnualRule,
    },
}

pub mod v1 {
    //! The rubric as version 1 of `RubricDefined` and `RubricAdjusted` carried it: no annual rule,
    //! and no change of it. Never written any more; read and converted to the current shape (whose
    //! annual rule is then the default, the mean). The schema names and descriptions are those the
    //! version 1 schema files were written with, so those files stay as they were.

    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    use super::{Aspect, DualPolicy, GradeBand, Item, ItemKind, LadderStep};
    use crate::ids::{AspectCode, ItemCode, PersonId};
    use crate::values::{Points, Text};

    /// A rubric version without an annual rule.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[schemars(rename = "RubricDefinition", description = "A whole rubric version.")]
    pub struct RubricDefinitionV1 {
        pub title: Text,
        /// Weighted aspects (their weights sum to 100) and unweighted ones (bonus, deduction, veto).
        pub aspects: Vec<Aspect>,
        /// The qualitative ladder, e.g. 好 100% / 较好 75% / 一般 50% / 差 0%.
        pub ladder: Vec<LadderStep>,
        /// Grade bands, any order; the band with the lowest `min` is the one a veto caps the grade at.
        pub grade_bands: Vec<GradeBand>,
        pub dual_policy: DualPolicy,
    }

    impl From<RubricDefinitionV1> for super::RubricDefinition {
        fn from(v1: RubricDefinitionV1) -> Self {
            super::RubricDefinition {
                title: v1.title,
                aspects: v1.aspects,
                ladder: v1.ladder,
                grade_bands: v1.grade_bands,
                dual_policy: v1.dual_policy,
                annual_rule: super::AnnualRule::Mean,
            }
        }
    }

    /// A change of version 1: every current change but the annual rule's.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields, tag = "change", rename_all = "snake_case")]
    #[schemars(
        rename = "RubricChange",
        description = "One change within a rubric adjustment. An adjustment applies its changes in order and is checked\nas a whole, so re-weighting an aspect and re-pointing its items can be one adjustment."
    )]
    pub enum RubricChangeV1 {
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
            content: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            standard: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            method: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
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

    impl From<RubricChangeV1> for super::RubricChange {
        fn from(v1: RubricChangeV1) -> Self {
            use super::RubricChange as C;
            match v1 {
                RubricChangeV1::AddAspect { aspect } => C::AddAspect { aspect },
                RubricChangeV1::RemoveAspect { aspect } => C::RemoveAspect { aspect },
                RubricChangeV1::ReweightAspect { aspect, weight } => {
                    C::ReweightAspect { aspect, weight }
                }
                RubricChangeV1::RetitleAspect { aspect, title } => {
                    C::RetitleAspect { aspect, title }
                }
                RubricChangeV1::AddItem { aspect, item } => C::AddItem { aspect, item },
                RubricChangeV1::RemoveItem { item } => C::RemoveItem { item },
                RubricChangeV1::RetitleItem { item, title } => C::RetitleItem { item, title },
                RubricChangeV1::RepointItem { item, kind } => C::RepointItem { item, kind },
                RubricChangeV1::DescribeItem {
                    item,
                    content,
                    standard,
                    method,
                    evidence,
                } => C::DescribeItem {
                    item,
                    content,
                    standard,
                    method,
                    evidence,
                },
                RubricChangeV1::ChangeResponsible { item, responsible } => {
                    C::ChangeResponsible { item, responsible }
                }
                RubricChangeV1::ChangeLadder { ladder } => C::ChangeLadder { ladder },
                RubricChangeV1::ChangeGradeBands { grade_bands } => {
                    C::ChangeGradeBands { grade_bands }
                }
                RubricChangeV1::ChangeDualPolicy { dual_policy } => {
                    C::ChangeDualPolicy { dual_policy }
                }
            }
        }
    }
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
            | RubricChange::ChangeDualPolicy { .. }
            | RubricChange::ChangeAnnualRule { .. } => Ok(()),
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
