//! Rubric rules: checking a definition ([`validate`], [`problems`]), applying an adjustment
//! ([`apply`]), the difference between two versions ([`diff`]), the default template shipped as
//! `data/default-rubric.json` ([`default_template`]) and users' own rubric files
//! ([`parse_rubric_file`]).
//!
//! The rubric types themselves are the event contract's (`ledger_schemas::rubric`); this module only
//! holds the rules. What a score is worth under a rubric lives in [`crate::scoring`].
//!
//! # The rules a definition obeys
//!
//! - Aspect codes are unique, and item codes are unique across the whole rubric.
//! - A **weighted** aspect (`weight: Some(w)`, `w > 0`) holds only points and ladder items, whose maxima
//!   add up to `w`; the weights of all weighted aspects sum to exactly 100 (the 100-point base).
//! - An **unweighted** aspect (`weight: None`) holds only bonus, deduction and veto items.
//! - Maxima, bonus caps, deduction amounts per case and deduction caps are positive.
//! - The ladder is non-empty, its levels are unique and their percentages lie within 0–100.
//! - The grade bands are non-empty with unique grades and distinct minima, none below 0, and one band
//!   starts at 0, so every score has a grade.
//! - A points-share policy gives the party-building score a share within 0–100 %.
//! - A weighted annual rule lists at least one slot, each once, with a weight above 0.
//!
//! # Adjustments
//!
//! [`apply`] applies the changes of one adjustment in order and then checks the result as a whole, so
//! re-weighting an aspect and re-pointing its items is one adjustment. On top of the rules above it
//! refuses unknown aspects and items, codes that already exist, removing an aspect that still holds
//! items (remove or move its items first, each one explicitly: removing an item drops the scores
//! entered on it, which must never happen as a side effect), and an adjustment that changes nothing
//! (it would make a new version identical to the old one).

mod diff;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

use ledger_schemas::ids::{AspectCode, GradeCode, ItemCode, LevelCode};
use ledger_schemas::rubric::{
    AnnualRule, Aspect, DualPolicy, GradeBand, Item, ItemKind, LadderStep, PeriodSlot,
    RubricChange, RubricDefinition,
};
use ledger_schemas::values::Points;
use rust_decimal::Decimal;

pub use diff::{AnnualRuleLabel, DescribedField, KindLabel, PolicyLabel, RubricDiff, diff};

/// Why a rubric definition or adjustment is refused, in the user's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RubricRejection {
    #[error(
        "加权大方面的权重之和须为 100, 实际为 {sum} (the weights of the weighted aspects must sum to 100, they sum to {sum})"
    )]
    WeightsDoNotSumTo100 { sum: Points },
    #[error(
        "大方面 {aspect} 的子项目分值之和须等于其权重 {weight}, 实际为 {sum} (the item maxima of aspect {aspect} must add up to its weight {weight}, they add up to {sum})"
    )]
    ItemMaximaDoNotMatchWeight {
        aspect: AspectCode,
        weight: Points,
        sum: Points,
    },
    #[error("未知的子项目 {item} (unknown item {item})")]
    UnknownItem { item: ItemCode },
    #[error("未知的大方面 {aspect} (unknown aspect {aspect})")]
    UnknownAspect { aspect: AspectCode },

    #[error("大方面编码 {aspect} 重复 (aspect code {aspect} is used more than once)")]
    DuplicateAspect { aspect: AspectCode },
    #[error("子项目编码 {item} 重复 (item code {item} is used more than once)")]
    DuplicateItem { item: ItemCode },
    #[error(
        "大方面 {aspect} 的权重须大于 0, 实际为 {weight}; 不计权重的大方面请不设权重 (the weight of aspect {aspect} must be above 0, it is {weight}; leave the weight out for an unweighted aspect)"
    )]
    NonPositiveWeight { aspect: AspectCode, weight: Points },
    #[error(
        "加权大方面 {aspect} 只能包含定量或定性子项目, 子项目 {item} 是{} (weighted aspect {aspect} holds only points and ladder items, item {item} is a {kind} item)",
        kind_zh(.kind)
    )]
    KindNotAllowedInWeightedAspect {
        aspect: AspectCode,
        item: ItemCode,
        kind: &'static str,
    },
    #[error(
        "不计权重的大方面 {aspect} 只能包含加分、扣分或一票否决子项目, 子项目 {item} 是{} (unweighted aspect {aspect} holds only bonus, deduction and veto items, item {item} is a {kind} item)",
        kind_zh(.kind)
    )]
    KindNotAllowedInUnweightedAspect {
        aspect: AspectCode,
        item: ItemCode,
        kind: &'static str,
    },
    #[error(
        "子项目 {item} 的{} 须大于 0, 实际为 {value} (the {field} of item {item} must be above 0, it is {value})",
        field_zh(.field)
    )]
    NonPositiveAmount {
        item: ItemCode,
        /// `max`, `cap` or `per_case`.
        field: &'static str,
        value: Points,
    },
    #[error("定性评价等级不能为空 (the ladder must have at least one level)")]
    EmptyLadder,
    #[error("定性评价等级 {level} 重复 (ladder level {level} is used more than once)")]
    DuplicateLevel { level: LevelCode },
    #[error(
        "定性评价等级 {level} 的比例须在 0 至 100 之间, 实际为 {percent} (the percentage of ladder level {level} must lie within 0–100, it is {percent})"
    )]
    LevelPercentOutOfRange { level: LevelCode, percent: Points },
    #[error("等次划分不能为空 (there must be at least one grade band)")]
    NoGradeBands,
    #[error("等次 {grade} 重复 (grade {grade} is used more than once)")]
    DuplicateGrade { grade: GradeCode },
    #[error(
        "等次 {grade} 的下限 {min} 与其他等次相同 (grade {grade} starts at {min}, as another band does)"
    )]
    DuplicateBandMin { grade: GradeCode, min: Points },
    #[error(
        "等次 {grade} 的下限不能低于 0, 实际为 {min} (grade {grade} cannot start below 0, it starts at {min})"
    )]
    NegativeBandMin { grade: GradeCode, min: Points },
    #[error(
        "须有一个等次从 0 分起, 使每个得分都有等次; 最低的下限为 {lowest} (one grade band must start at 0 so that every score has a grade; the lowest starts at {lowest})"
    )]
    NoBandAtZero { lowest: Points },
    #[error(
        "党建得分占比须在 0 至 100 之间, 实际为 {percent} (the party-building share must lie within 0–100, it is {percent})"
    )]
    PartyPercentOutOfRange { percent: Points },
    #[error(
        "按时段加权的年度规则须至少列出一个时段 (a weighted annual rule must list at least one slot)"
    )]
    NoSlotWeights,
    #[error("年度规则中时段 {slot} 重复 (slot {slot} appears more than once in the annual rule)")]
    DuplicateSlot { slot: PeriodSlot },
    #[error(
        "年度规则中时段 {slot} 的权重须大于 0, 实际为 {weight}; 不计入的时段请不列出 (the weight of slot {slot} in the annual rule must be above 0, it is {weight}; leave a slot out to give it no weight)"
    )]
    NonPositiveSlotWeight { slot: PeriodSlot, weight: Points },
    #[error(
        "大方面 {aspect} 仍有子项目 {}, 须先逐项删除或移出 (aspect {aspect} still holds items {}; remove or move them first, one by one)",
        codes(.items), codes(.items)
    )]
    AspectNotEmpty {
        aspect: AspectCode,
        items: Vec<ItemCode>,
    },
    #[error("本次调整未改变任何内容 (the adjustment changes nothing)")]
    NothingChanged,
}

fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "points" => "定量子项目",
        "ladder" => "定性子项目",
        "bonus" => "加分子项目",
        "deduction" => "扣分子项目",
        "veto" => "一票否决子项目",
        _ => "其他子项目",
    }
}

fn field_zh(field: &str) -> &'static str {
    match field {
        "max" => "分值",
        "cap" => "上限",
        "per_case" => "每起扣分",
        _ => "数值",
    }
}

fn codes(items: &[ItemCode]) -> String {
    items
        .iter()
        .map(ItemCode::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON name of an item kind (`points`, `ladder`, `bonus`, `deduction`, `veto`).
pub fn kind_name(kind: &ItemKind) -> &'static str {
    match kind {
        ItemKind::Points { .. } => "points",
        ItemKind::Ladder { .. } => "ladder",
        ItemKind::Bonus { .. } => "bonus",
        ItemKind::Deduction { .. } => "deduction",
        ItemKind::Veto => "veto",
    }
}

/// The maximum of a points or ladder item, the part of the base it carries; `None` for the others.
pub fn item_max(kind: &ItemKind) -> Option<Points> {
    match kind {
        ItemKind::Points { max } | ItemKind::Ladder { max } => Some(*max),
        _ => None,
    }
}

fn sum_points(values: impl IntoIterator<Item = Points>) -> Points {
    let exact: Decimal = values.into_iter().map(Points::decimal).sum();
    // Sums of two-place decimals keep two places; a sum beyond ±100000 cannot come from a sensible
    // rubric, and is reported saturated rather than wrapped.
    Points::new(exact).unwrap_or_else(|_| {
        Points::from_int(if exact.is_sign_negative() {
            -Points::MAX_ABS
        } else {
            Points::MAX_ABS
        })
    })
}

/// Every rule a definition breaks, in a fixed order: codes, item kinds and amounts aspect by aspect,
/// then the weights, then each weighted aspect's item maxima, then the ladder, the grade bands, the
/// dual policy and the annual rule. Empty when the definition is valid.
pub fn problems(def: &RubricDefinition) -> Vec<RubricRejection> {
    use RubricRejection as R;
    let mut out = Vec::new();
    let mut aspect_codes = BTreeSet::new();
    let mut item_codes = BTreeSet::new();
    let mut reported = BTreeSet::new();

    for aspect in &def.aspects {
        if !aspect_codes.insert(&aspect.code) && reported.insert(aspect.code.as_str()) {
            out.push(R::DuplicateAspect {
                aspect: aspect.code.clone(),
            });
        }
        if let Some(weight) = aspect.weight
            && weight <= Points::ZERO
        {
            out.push(R::NonPositiveWeight {
                aspect: aspect.code.clone(),
                weight,
            });
        }
        for item in &aspect.items {
            if !item_codes.insert(&item.code) && reported.insert(item.code.as_str()) {
                out.push(R::DuplicateItem {
                    item: item.code.clone(),
                });
            }
            let weighted_kind = item_max(&item.kind).is_some();
            match (aspect.weight.is_some(), weighted_kind) {
                (true, false) => out.push(R::KindNotAllowedInWeightedAspect {
                    aspect: aspect.code.clone(),
                    item: item.code.clone(),
                    kind: kind_name(&item.kind),
                }),
                (false, true) => out.push(R::KindNotAllowedInUnweightedAspect {
                    aspect: aspect.code.clone(),
                    item: item.code.clone(),
                    kind: kind_name(&item.kind),
                }),
                _ => {}
            }
            let mut positive = |field, value: Points| {
                if value <= Points::ZERO {
                    out.push(R::NonPositiveAmount {
                        item: item.code.clone(),
                        field,
                        value,
                    });
                }
            };
            match &item.kind {
                ItemKind::Points { max } | ItemKind::Ladder { max } => positive("max", *max),
                ItemKind::Bonus { cap, .. } => positive("cap", *cap),
                ItemKind::Deduction { per_case, cap } => {
                    positive("per_case", *per_case);
                    if let Some(cap) = cap {
                        positive("cap", *cap);
                    }
                }
                ItemKind::Veto => {}
            }
        }
    }

    let weight_sum = sum_points(def.aspects.iter().filter_map(|a| a.weight));
    if weight_sum != Points::from_int(100) {
        out.push(R::WeightsDoNotSumTo100 { sum: weight_sum });
    }
    for aspect in &def.aspects {
        if let Some(weight) = aspect.weight {
            let sum = sum_points(aspect.items.iter().filter_map(|i| item_max(&i.kind)));
            if sum != weight {
                out.push(R::ItemMaximaDoNotMatchWeight {
                    aspect: aspect.code.clone(),
                    weight,
                    sum,
                });
            }
        }
    }

    out.extend(ladder_problems(&def.ladder));
    out.extend(band_problems(&def.grade_bands));
    if let DualPolicy::PointsShare { party_percent } = def.dual_policy
        && !(Points::ZERO..=Points::from_int(100)).contains(&party_percent)
    {
        out.push(R::PartyPercentOutOfRange {
            percent: party_percent,
        });
    }
    out.extend(annual_rule_problems(&def.annual_rule));
    out
}

fn annual_rule_problems(rule: &AnnualRule) -> Vec<RubricRejection> {
    let AnnualRule::Weighted { weights } = rule else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if weights.is_empty() {
        out.push(RubricRejection::NoSlotWeights);
    }
    let mut seen = BTreeSet::new();
    for w in weights {
        if !seen.insert(w.slot) {
            out.push(RubricRejection::DuplicateSlot { slot: w.slot });
        }
        if w.weight <= Points::ZERO {
            out.push(RubricRejection::NonPositiveSlotWeight {
                slot: w.slot,
                weight: w.weight,
            });
        }
    }
    out
}

fn ladder_problems(ladder: &[LadderStep]) -> Vec<RubricRejection> {
    let mut out = Vec::new();
    if ladder.is_empty() {
        out.push(RubricRejection::EmptyLadder);
    }
    let mut seen = BTreeSet::new();
    for step in ladder {
        if !seen.insert(&step.level) {
            out.push(RubricRejection::DuplicateLevel {
                level: step.level.clone(),
            });
        }
        if !(Points::ZERO..=Points::from_int(100)).contains(&step.percent) {
            out.push(RubricRejection::LevelPercentOutOfRange {
                level: step.level.clone(),
                percent: step.percent,
            });
        }
    }
    out
}

fn band_problems(bands: &[GradeBand]) -> Vec<RubricRejection> {
    let mut out = Vec::new();
    let Some(lowest) = bands.iter().map(|b| b.min).min() else {
        return vec![RubricRejection::NoGradeBands];
    };
    let mut grades = BTreeSet::new();
    let mut mins = BTreeSet::new();
    for band in bands {
        if !grades.insert(&band.grade) {
            out.push(RubricRejection::DuplicateGrade {
                grade: band.grade.clone(),
            });
        }
        if !mins.insert(band.min) {
            out.push(RubricRejection::DuplicateBandMin {
                grade: band.grade.clone(),
                min: band.min,
            });
        }
        if band.min < Points::ZERO {
            out.push(RubricRejection::NegativeBandMin {
                grade: band.grade.clone(),
                min: band.min,
            });
        }
    }
    if lowest > Points::ZERO {
        out.push(RubricRejection::NoBandAtZero { lowest });
    }
    out
}

/// Checks a whole definition: the first of its [`problems`], if any.
pub fn validate(def: &RubricDefinition) -> Result<(), RubricRejection> {
    match problems(def).into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// Applies an adjustment's changes in order and checks the result as a whole.
///
/// Refuses an unknown aspect or item, an aspect or item code that already exists, removing an aspect
/// that still holds items, an adjustment whose result equals `def`, and a result that breaks any rule
/// of [`validate`]. An added item goes to the end of its aspect, an added aspect to the end of the
/// rubric.
pub fn apply(
    def: &RubricDefinition,
    changes: &[RubricChange],
) -> Result<RubricDefinition, RubricRejection> {
    let mut next = def.clone();
    for change in changes {
        apply_one(&mut next, change)?;
    }
    if &next == def {
        return Err(RubricRejection::NothingChanged);
    }
    validate(&next)?;
    Ok(next)
}

fn aspect_mut<'a>(
    def: &'a mut RubricDefinition,
    code: &AspectCode,
) -> Result<&'a mut Aspect, RubricRejection> {
    def.aspects
        .iter_mut()
        .find(|a| &a.code == code)
        .ok_or_else(|| RubricRejection::UnknownAspect {
            aspect: code.clone(),
        })
}

fn item_mut<'a>(
    def: &'a mut RubricDefinition,
    code: &ItemCode,
) -> Result<&'a mut Item, RubricRejection> {
    def.aspects
        .iter_mut()
        .flat_map(|a| a.items.iter_mut())
        .find(|i| &i.code == code)
        .ok_or_else(|| RubricRejection::UnknownItem { item: code.clone() })
}

fn refuse_existing_item(def: &RubricDefinition, code: &ItemCode) -> Result<(), RubricRejection> {
    match find_item(def, code) {
        Some(_) => Err(RubricRejection::DuplicateItem { item: code.clone() }),
        None => Ok(()),
    }
}

fn apply_one(def: &mut RubricDefinition, change: &RubricChange) -> Result<(), RubricRejection> {
    match change {
        RubricChange::AddAspect { aspect } => {
            if def.aspects.iter().any(|a| a.code == aspect.code) {
                return Err(RubricRejection::DuplicateAspect {
                    aspect: aspect.code.clone(),
                });
            }
            for item in &aspect.items {
                refuse_existing_item(def, &item.code)?;
            }
            def.aspects.push(aspect.clone());
        }
        RubricChange::RemoveAspect { aspect } => {
            let index = def
                .aspects
                .iter()
                .position(|a| &a.code == aspect)
                .ok_or_else(|| RubricRejection::UnknownAspect {
                    aspect: aspect.clone(),
                })?;
            let held = &def.aspects[index].items;
            if !held.is_empty() {
                return Err(RubricRejection::AspectNotEmpty {
                    aspect: aspect.clone(),
                    items: held.iter().map(|i| i.code.clone()).collect(),
                });
            }
            def.aspects.remove(index);
        }
        RubricChange::ReweightAspect { aspect, weight } => {
            aspect_mut(def, aspect)?.weight = *weight;
        }
        RubricChange::RetitleAspect { aspect, title } => {
            aspect_mut(def, aspect)?.title = title.clone();
        }
        RubricChange::AddItem { aspect, item } => {
            refuse_existing_item(def, &item.code)?;
            aspect_mut(def, aspect)?.items.push(item.clone());
        }
        RubricChange::RemoveItem { item } => {
            item_mut(def, item)?;
            for aspect in &mut def.aspects {
                aspect.items.retain(|i| &i.code != item);
            }
        }
        RubricChange::RetitleItem { item, title } => {
            item_mut(def, item)?.title = title.clone();
        }
        RubricChange::RepointItem { item, kind } => {
            item_mut(def, item)?.kind = kind.clone();
        }
        RubricChange::DescribeItem {
            item,
            content,
            standard,
            method,
            evidence,
        } => {
            let target = item_mut(def, item)?;
            for (field, value) in [
                (&mut target.content, content),
                (&mut target.standard, standard),
                (&mut target.method, method),
                (&mut target.evidence, evidence),
            ] {
                if let Some(value) = value {
                    field.clone_from(value);
                }
            }
        }
        RubricChange::ChangeResponsible { item, responsible } => {
            item_mut(def, item)?.responsible = responsible.clone();
        }
        RubricChange::ChangeLadder { ladder } => def.ladder = ladder.clone(),
        RubricChange::ChangeGradeBands { grade_bands } => def.grade_bands = grade_bands.clone(),
        RubricChange::ChangeDualPolicy { dual_policy } => def.dual_policy = dual_policy.clone(),
        RubricChange::ChangeAnnualRule { annual_rule } => def.annual_rule = annual_rule.clone(),
    }
    Ok(())
}

/// Finds an item and the aspect that holds it.
pub fn find_item<'a>(def: &'a RubricDefinition, item: &ItemCode) -> Option<(&'a Aspect, &'a Item)> {
    def.aspects
        .iter()
        .find_map(|a| a.items.iter().find(|i| &i.code == item).map(|i| (a, i)))
}

/// The default template as shipped, JSON text.
pub const DEFAULT_TEMPLATE_JSON: &str = include_str!("../data/default-rubric.json");

/// The responsible persons (责任人) the default template names, as `(person id, zh-CN role, English
/// role)`: a deployment that loads the template registers these people (or re-assigns the items).
pub const DEFAULT_TEMPLATE_PEOPLE: &[(&str, &str, &str)] = &[
    ("secretary", "党支部书记", "branch secretary"),
    ("org-committee", "组织委员", "organisation committee member"),
    (
        "propaganda-committee",
        "宣传委员",
        "propaganda committee member",
    ),
    (
        "discipline-committee",
        "纪检委员",
        "discipline inspection committee member",
    ),
    ("party-affairs-officer", "党务专干", "party-affairs officer"),
    ("general-manager", "总经理", "general manager"),
    ("union-chair", "工会主席", "trade union chair"),
];

/// The default template of DOMAIN.md: 7 aspects, 33 items, read from `data/default-rubric.json`.
pub fn default_template() -> RubricDefinition {
    parse_rubric_file(DEFAULT_TEMPLATE_JSON)
        .expect("data/default-rubric.json is a valid rubric (a unit test checks it)")
}

/// Why a user's rubric file cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RubricFileError {
    /// The text is not JSON, or not a rubric's shape (a missing field, an invalid code or amount).
    #[error(
        "评分细则文件第 {line} 行第 {column} 列有误: {message} (the rubric file is unreadable at line {line}, column {column}: {message})"
    )]
    Unreadable {
        line: usize,
        column: usize,
        message: String,
    },
    /// The file reads as a rubric that breaks the rules; every broken rule is listed.
    #[error("评分细则文件不符合规则 (the rubric file breaks the rubric rules):{}", ProblemList(.problems))]
    Invalid { problems: Vec<RubricRejection> },
}

struct ProblemList<'a>(&'a [RubricRejection]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// Reads a rubric file (a [`RubricDefinition`] as JSON), reporting where the JSON is wrong, or else
/// every rule the definition breaks.
pub fn parse_rubric_file(text: &str) -> Result<RubricDefinition, RubricFileError> {
    let def: RubricDefinition = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        RubricFileError::Unreadable {
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_owned(),
        }
    })?;
    let problems = problems(&def);
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(RubricFileError::Invalid { problems })
    }
}
