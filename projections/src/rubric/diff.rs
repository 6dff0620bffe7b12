//! The difference between two rubric versions, as a typed, ordered list.
//!
//! [`diff`] is exact: it is empty if and only if the two definitions are equal, and every entry names
//! the old and the new value. The order is fixed: the title; removed aspects (in the old order); added
//! and changed aspects (in the new order); a reordering of aspects; removed items (old order); added,
//! moved and changed items (new order); a reordering of items within an aspect; the ladder; the grade
//! bands; the dual policy; the annual rule.

use std::collections::BTreeMap;
use std::fmt;

use ledger_schemas::ids::{AspectCode, ItemCode, PersonId};
use ledger_schemas::rubric::{
    AnnualRule, Aspect, DualPolicy, GradeBand, Item, ItemKind, LadderStep, RubricDefinition,
};
use ledger_schemas::values::{Points, Text};
use serde::{Deserialize, Serialize};

/// One descriptive field of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescribedField {
    /// 考评内容.
    Content,
    /// 评分标准.
    Standard,
    /// 考评方式.
    Method,
    /// 佐证材料.
    Evidence,
}

impl DescribedField {
    pub const fn label(self) -> &'static str {
        match self {
            Self::Content => "考评内容 content",
            Self::Standard => "评分标准 scoring standard",
            Self::Method => "考评方式 method",
            Self::Evidence => "佐证材料 evidence",
        }
    }
}

/// One difference between two rubric versions, old → new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "diff", rename_all = "snake_case")]
pub enum RubricDiff {
    TitleChanged {
        old: Text,
        new: Text,
    },
    AspectAdded {
        aspect: AspectCode,
        title: Text,
        weight: Option<Points>,
    },
    AspectRemoved {
        aspect: AspectCode,
        title: Text,
        weight: Option<Points>,
    },
    AspectRetitled {
        aspect: AspectCode,
        old: Text,
        new: Text,
    },
    AspectReweighted {
        aspect: AspectCode,
        old: Option<Points>,
        new: Option<Points>,
    },
    AspectsReordered {
        old: Vec<AspectCode>,
        new: Vec<AspectCode>,
    },
    ItemAdded {
        aspect: AspectCode,
        item: ItemCode,
        title: Text,
        kind: ItemKind,
    },
    ItemRemoved {
        aspect: AspectCode,
        item: ItemCode,
        title: Text,
        kind: ItemKind,
    },
    /// The item now belongs to another aspect.
    ItemMoved {
        item: ItemCode,
        from: AspectCode,
        to: AspectCode,
    },
    ItemRetitled {
        item: ItemCode,
        old: Text,
        new: Text,
    },
    /// How the item is scored changed: its maximum, cap, amount per case, or kind.
    ItemRepointed {
        item: ItemCode,
        old: ItemKind,
        new: ItemKind,
    },
    /// One descriptive field changed; a change of several fields gives one entry each.
    ItemDescribed {
        item: ItemCode,
        field: DescribedField,
        old: String,
        new: String,
    },
    ResponsibleChanged {
        item: ItemCode,
        old: PersonId,
        new: PersonId,
    },
    ItemsReordered {
        aspect: AspectCode,
        old: Vec<ItemCode>,
        new: Vec<ItemCode>,
    },
    LadderChanged {
        old: Vec<LadderStep>,
        new: Vec<LadderStep>,
    },
    GradeBandsChanged {
        old: Vec<GradeBand>,
        new: Vec<GradeBand>,
    },
    DualPolicyChanged {
        old: DualPolicy,
        new: DualPolicy,
    },
    AnnualRuleChanged {
        old: AnnualRule,
        new: AnnualRule,
    },
}

/// What differs between `old` and `new`, in the order described in the module docs.
pub fn diff(old: &RubricDefinition, new: &RubricDefinition) -> Vec<RubricDiff> {
    use RubricDiff as D;
    let mut out = Vec::new();
    if old.title != new.title {
        out.push(D::TitleChanged {
            old: old.title.clone(),
            new: new.title.clone(),
        });
    }

    // Aspects.
    let old_aspects: BTreeMap<&AspectCode, &Aspect> =
        old.aspects.iter().map(|a| (&a.code, a)).collect();
    let new_aspects: BTreeMap<&AspectCode, &Aspect> =
        new.aspects.iter().map(|a| (&a.code, a)).collect();
    for aspect in &old.aspects {
        if !new_aspects.contains_key(&aspect.code) {
            out.push(D::AspectRemoved {
                aspect: aspect.code.clone(),
                title: aspect.title.clone(),
                weight: aspect.weight,
            });
        }
    }
    for aspect in &new.aspects {
        match old_aspects.get(&aspect.code) {
            None => out.push(D::AspectAdded {
                aspect: aspect.code.clone(),
                title: aspect.title.clone(),
                weight: aspect.weight,
            }),
            Some(before) => {
                if before.title != aspect.title {
                    out.push(D::AspectRetitled {
                        aspect: aspect.code.clone(),
                        old: before.title.clone(),
                        new: aspect.title.clone(),
                    });
                }
                if before.weight != aspect.weight {
                    out.push(D::AspectReweighted {
                        aspect: aspect.code.clone(),
                        old: before.weight,
                        new: aspect.weight,
                    });
                }
            }
        }
    }
    let kept_old: Vec<&AspectCode> = old
        .aspects
        .iter()
        .map(|a| &a.code)
        .filter(|c| new_aspects.contains_key(c))
        .collect();
    let kept_new: Vec<&AspectCode> = new
        .aspects
        .iter()
        .map(|a| &a.code)
        .filter(|c| old_aspects.contains_key(c))
        .collect();
    if kept_old != kept_new {
        out.push(D::AspectsReordered {
            old: old.aspects.iter().map(|a| a.code.clone()).collect(),
            new: new.aspects.iter().map(|a| a.code.clone()).collect(),
        });
    }

    // Items, keyed by code across the whole rubric.
    let locate = |def: &'_ RubricDefinition| -> Vec<(AspectCode, Item)> {
        def.aspects
            .iter()
            .flat_map(|a| a.items.iter().map(|i| (a.code.clone(), i.clone())))
            .collect()
    };
    let old_items = locate(old);
    let new_items = locate(new);
    let old_by_code: BTreeMap<&ItemCode, (&AspectCode, &Item)> =
        old_items.iter().map(|(a, i)| (&i.code, (a, i))).collect();
    let new_by_code: BTreeMap<&ItemCode, (&AspectCode, &Item)> =
        new_items.iter().map(|(a, i)| (&i.code, (a, i))).collect();
    for (aspect, item) in &old_items {
        if !new_by_code.contains_key(&item.code) {
            out.push(D::ItemRemoved {
                aspect: aspect.clone(),
                item: item.code.clone(),
                title: item.title.clone(),
                kind: item.kind.clone(),
            });
        }
    }
    for (aspect, item) in &new_items {
        let Some((old_aspect, before)) = old_by_code.get(&item.code) else {
            out.push(D::ItemAdded {
                aspect: aspect.clone(),
                item: item.code.clone(),
                title: item.title.clone(),
                kind: item.kind.clone(),
            });
            continue;
        };
        item_changes(&mut out, old_aspect, before, aspect, item);
    }
    for aspect in &new.aspects {
        let Some(before) = old_aspects.get(&aspect.code) else {
            continue;
        };
        let stayed = |from: &Aspect, other: &Aspect| -> Vec<ItemCode> {
            from.items
                .iter()
                .filter(|i| other.items.iter().any(|o| o.code == i.code))
                .map(|i| i.code.clone())
                .collect()
        };
        if stayed(before, aspect) != stayed(aspect, before) {
            out.push(D::ItemsReordered {
                aspect: aspect.code.clone(),
                old: before.items.iter().map(|i| i.code.clone()).collect(),
                new: aspect.items.iter().map(|i| i.code.clone()).collect(),
            });
        }
    }

    if old.ladder != new.ladder {
        out.push(D::LadderChanged {
            old: old.ladder.clone(),
            new: new.ladder.clone(),
        });
    }
    if old.grade_bands != new.grade_bands {
        out.push(D::GradeBandsChanged {
            old: old.grade_bands.clone(),
            new: new.grade_bands.clone(),
        });
    }
    if old.dual_policy != new.dual_policy {
        out.push(D::DualPolicyChanged {
            old: old.dual_policy.clone(),
            new: new.dual_policy.clone(),
        });
    }
    if old.annual_rule != new.annual_rule {
        out.push(D::AnnualRuleChanged {
            old: old.annual_rule.clone(),
            new: new.annual_rule.clone(),
        });
    }
    out
}

fn item_changes(
    out: &mut Vec<RubricDiff>,
    old_aspect: &AspectCode,
    before: &Item,
    aspect: &AspectCode,
    item: &Item,
) {
    use RubricDiff as D;
    let code = || item.code.clone();
    if old_aspect != aspect {
        out.push(D::ItemMoved {
            item: code(),
            from: old_aspect.clone(),
            to: aspect.clone(),
        });
    }
    if before.title != item.title {
        out.push(D::ItemRetitled {
            item: code(),
            old: before.title.clone(),
            new: item.title.clone(),
        });
    }
    if before.kind != item.kind {
        out.push(D::ItemRepointed {
            item: code(),
            old: before.kind.clone(),
            new: item.kind.clone(),
        });
    }
    for (field, old, new) in [
        (DescribedField::Content, &before.content, &item.content),
        (DescribedField::Standard, &before.standard, &item.standard),
        (DescribedField::Method, &before.method, &item.method),
        (DescribedField::Evidence, &before.evidence, &item.evidence),
    ] {
        if old != new {
            out.push(D::ItemDescribed {
                item: code(),
                field,
                old: old.clone(),
                new: new.clone(),
            });
        }
    }
    if before.responsible != item.responsible {
        out.push(D::ResponsibleChanged {
            item: code(),
            old: before.responsible.clone(),
            new: item.responsible.clone(),
        });
    }
}

/// An item kind, zh-CN then English, e.g. `定量 满分 4 (points, max 4)`.
pub struct KindLabel<'a>(pub &'a ItemKind);

impl fmt::Display for KindLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ItemKind::Points { max } => write!(f, "定量 满分 {max} (points, max {max})"),
            ItemKind::Ladder { max } => write!(f, "定性 满分 {max} (ladder, max {max})"),
            ItemKind::Bonus {
                cap,
                highest_only: false,
            } => write!(f, "加分 上限 {cap} (bonus, cap {cap})"),
            ItemKind::Bonus {
                cap,
                highest_only: true,
            } => write!(
                f,
                "加分 上限 {cap}, 只计最高 (bonus, cap {cap}, highest only)"
            ),
            ItemKind::Deduction {
                per_case,
                cap: None,
            } => write!(f, "扣分 每起 {per_case} (deduction, {per_case} per case)"),
            ItemKind::Deduction {
                per_case,
                cap: Some(cap),
            } => write!(
                f,
                "扣分 每起 {per_case}, 最多 {cap} (deduction, {per_case} per case, cap {cap})"
            ),
            ItemKind::Veto => f.write_str("一票否决 (veto)"),
        }
    }
}

struct Weight(Option<Points>);

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(w) => write!(f, "{w}"),
            None => f.write_str("不计权重 unweighted"),
        }
    }
}

struct Ladder<'a>(&'a [LadderStep]);

impl fmt::Display for Ladder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self
            .0
            .iter()
            .map(|s| format!("{} {}%", s.label, s.percent))
            .collect();
        f.write_str(&steps.join(" / "))
    }
}

struct Bands<'a>(&'a [GradeBand]);

impl fmt::Display for Bands<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bands: Vec<String> = self
            .0
            .iter()
            .map(|b| format!("{} ≥ {}", b.label, b.min))
            .collect();
        f.write_str(&bands.join(" / "))
    }
}

/// A dual policy, zh-CN then English.
pub struct PolicyLabel<'a>(pub &'a DualPolicy);

impl fmt::Display for PolicyLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            DualPolicy::PointsShare { party_percent } => write!(
                f,
                "按分值占比, 党建 {party_percent}% (points share, party-building {party_percent}%)"
            ),
            DualPolicy::Coefficient => f.write_str("系数法 (coefficient)"),
            DualPolicy::VetoOnly => f.write_str("仅一票否决 (veto only)"),
        }
    }
}

/// An annual rule for people: `年度平均 (mean of the periods)` or the weights by slot.
pub struct AnnualRuleLabel<'a>(pub &'a AnnualRule);

impl fmt::Display for AnnualRuleLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            AnnualRule::Mean => f.write_str("各期平均 (mean of the periods)"),
            AnnualRule::Weighted { weights } => {
                let list: Vec<String> = weights
                    .iter()
                    .map(|w| format!("{} {}", w.slot, w.weight))
                    .collect();
                write!(
                    f,
                    "按时段加权 {} (weighted by slot: {})",
                    list.join(", "),
                    list.join(", ")
                )
            }
        }
    }
}

fn list(codes: &[impl fmt::Display]) -> String {
    codes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for RubricDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TitleChanged { old, new } => {
                write!(f, "细则名称: {old} → {new} (rubric title: {old} → {new})")
            }
            Self::AspectAdded {
                aspect,
                title,
                weight,
            } => {
                let weight = Weight(*weight);
                write!(
                    f,
                    "新增大方面 {aspect} {title}, 权重 {weight} (aspect {aspect} added, weight {weight})"
                )
            }
            Self::AspectRemoved {
                aspect,
                title,
                weight,
            } => {
                let weight = Weight(*weight);
                write!(
                    f,
                    "删除大方面 {aspect} {title}, 权重 {weight} (aspect {aspect} removed, weight {weight})"
                )
            }
            Self::AspectRetitled { aspect, old, new } => write!(
                f,
                "大方面 {aspect} 名称: {old} → {new} (aspect {aspect} retitled)"
            ),
            Self::AspectReweighted { aspect, old, new } => {
                let (old, new) = (Weight(*old), Weight(*new));
                write!(
                    f,
                    "大方面 {aspect} 权重: {old} → {new} (aspect {aspect} reweighted: {old} → {new})"
                )
            }
            Self::AspectsReordered { old, new } => {
                let (old, new) = (list(old), list(new));
                write!(
                    f,
                    "大方面顺序: {old} → {new} (aspects reordered: {old} → {new})"
                )
            }
            Self::ItemAdded {
                aspect,
                item,
                title,
                kind,
            } => {
                let kind = KindLabel(kind);
                write!(
                    f,
                    "大方面 {aspect} 新增子项目 {item} {title}, {kind} (item {item} added to aspect {aspect})"
                )
            }
            Self::ItemRemoved {
                aspect,
                item,
                title,
                kind,
            } => {
                let kind = KindLabel(kind);
                write!(
                    f,
                    "大方面 {aspect} 删除子项目 {item} {title}, {kind} (item {item} removed from aspect {aspect})"
                )
            }
            Self::ItemMoved { item, from, to } => write!(
                f,
                "子项目 {item} 由大方面 {from} 移至 {to} (item {item} moved from aspect {from} to {to})"
            ),
            Self::ItemRetitled { item, old, new } => write!(
                f,
                "子项目 {item} 名称: {old} → {new} (item {item} retitled)"
            ),
            Self::ItemRepointed { item, old, new } => {
                let (old, new) = (KindLabel(old), KindLabel(new));
                write!(
                    f,
                    "子项目 {item} 计分方式: {old} → {new} (item {item} re-pointed)"
                )
            }
            Self::ItemDescribed {
                item,
                field,
                old,
                new,
            } => {
                let label = field.label();
                write!(
                    f,
                    "子项目 {item} {label}: “{old}” → “{new}” (item {item}: description changed)"
                )
            }
            Self::ResponsibleChanged { item, old, new } => write!(
                f,
                "子项目 {item} 责任人: {old} → {new} (item {item}: responsible person {old} → {new})"
            ),
            Self::ItemsReordered { aspect, old, new } => {
                let (old, new) = (list(old), list(new));
                write!(
                    f,
                    "大方面 {aspect} 子项目顺序: {old} → {new} (items of aspect {aspect} reordered)"
                )
            }
            Self::LadderChanged { old, new } => {
                let (old, new) = (Ladder(old), Ladder(new));
                write!(
                    f,
                    "定性评价等级: {old} → {new} (ladder changed: {old} → {new})"
                )
            }
            Self::GradeBandsChanged { old, new } => {
                let (old, new) = (Bands(old), Bands(new));
                write!(
                    f,
                    "等次划分: {old} → {new} (grade bands changed: {old} → {new})"
                )
            }
            Self::DualPolicyChanged { old, new } => {
                let (old, new) = (PolicyLabel(old), PolicyLabel(new));
                write!(f, "双考核计算方式: {old} → {new} (dual policy changed)")
            }
            Self::AnnualRuleChanged { old, new } => {
                let (old, new) = (AnnualRuleLabel(old), AnnualRuleLabel(new));
                write!(f, "年度考核规则: {old} → {new} (annual rule changed)")
            }
        }
    }
}
