//! Property tests of the rubric rules and of scoring on the default template:
//!
//! - scoring a random valid sheet keeps its laws: base = Σ aspect points, each aspect within its
//!   weight, party score = max(0, base + bonus − deductions), the combined score within its bounds,
//!   a veto caps the grade, `complete` means every weighted item is scored;
//! - `check_value` accepts exactly the values in range;
//! - an adjustment made of random touches diffs as exactly those touches, and `diff(a, a)` is empty.

use std::collections::BTreeMap;

use ledger_projections::rubric::{
    DEFAULT_TEMPLATE_PEOPLE, DescribedField, RubricDiff, RubricRejection, apply, default_template,
    diff, validate,
};
use ledger_projections::scoring::{BusinessInput, GradeBasis, band_for, check_value, score_sheet};
use ledger_schemas::ids::{ItemCode, LevelCode, PersonId};
use ledger_schemas::rubric::{DualPolicy, ItemKind, RubricChange, RubricDefinition};
use ledger_schemas::values::{Award, Points, ScoreValue, Text};
use proptest::prelude::*;
use rust_decimal::Decimal;

const LEVELS: [&str; 4] = ["good", "fairly_good", "average", "poor"];

fn cents(value: i64) -> Points {
    Points::from_cents(value)
}

/// A value for one item, in range for its kind, or `None` (unscored).
fn value_for(kind: &ItemKind) -> BoxedStrategy<Option<ScoreValue>> {
    let award = (0i64..=300).prop_map(|c| Award {
        title: "award".into(),
        points: cents(c),
    });
    let value = match kind.clone() {
        ItemKind::Points { max } => {
            let max_cents = (max.decimal() * Decimal::ONE_HUNDRED).trunc().to_string();
            let max_cents: i64 = max_cents.parse().unwrap();
            (0..=max_cents)
                .prop_map(|c| ScoreValue::Points { points: cents(c) })
                .boxed()
        }
        ItemKind::Ladder { .. } => prop::sample::select(LEVELS.to_vec())
            .prop_map(|l| ScoreValue::Level {
                level: LevelCode::new(l).unwrap(),
            })
            .boxed(),
        ItemKind::Bonus { .. } => prop::collection::vec(award, 0..4)
            .prop_map(|awards| ScoreValue::Awards { awards })
            .boxed(),
        ItemKind::Deduction { .. } => (0u32..15)
            .prop_map(|cases| ScoreValue::Cases { cases })
            .boxed(),
        ItemKind::Veto => prop::bool::weighted(0.2)
            .prop_map(|vetoed| ScoreValue::Veto { vetoed })
            .boxed(),
    };
    prop::option::weighted(0.9, value).boxed()
}

fn sheet_strategy(def: &RubricDefinition) -> BoxedStrategy<BTreeMap<ItemCode, ScoreValue>> {
    let items: Vec<(ItemCode, BoxedStrategy<Option<ScoreValue>>)> = def
        .aspects
        .iter()
        .flat_map(|a| a.items.iter())
        .map(|i| (i.code.clone(), value_for(&i.kind)))
        .collect();
    let (codes, strategies): (Vec<_>, Vec<_>) = items.into_iter().unzip();
    strategies
        .prop_map(move |values| {
            codes
                .iter()
                .cloned()
                .zip(values)
                .filter_map(|(c, v)| v.map(|v| (c, v)))
                .collect()
        })
        .boxed()
}

fn policy_strategy() -> impl Strategy<Value = DualPolicy> {
    prop_oneof![
        (0i64..=10_000).prop_map(|c| DualPolicy::PointsShare {
            party_percent: cents(c)
        }),
        Just(DualPolicy::Coefficient),
        Just(DualPolicy::VetoOnly),
    ]
}

fn business_strategy() -> impl Strategy<Value = Option<BusinessInput>> {
    prop::option::weighted(
        0.8,
        (0i64..=10_000, prop::bool::weighted(0.1)).prop_map(|(c, vetoed)| BusinessInput {
            score: cents(c),
            vetoed,
        }),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Scoring a random valid sheet keeps every law of SCORING.md.
    #[test]
    fn sheet_scores_keep_their_laws(
        (values, policy, business) in (
            sheet_strategy(&default_template()),
            policy_strategy(),
            business_strategy(),
        )
    ) {
        let mut def = default_template();
        def.dual_policy = policy.clone();
        let score = score_sheet(&def, &values, business);

        // Each aspect within [0, weight]; base = Σ aspect points (exact on this template, whose
        // figures all have at most two places).
        let mut sum = Decimal::ZERO;
        for aspect in &score.aspects {
            prop_assert!(aspect.points >= Decimal::ZERO);
            prop_assert!(aspect.points <= aspect.max.decimal());
            sum += aspect.points;
        }
        prop_assert_eq!(score.base, sum);
        prop_assert!(score.base <= Decimal::ONE_HUNDRED);
        prop_assert!(score.bonus <= Decimal::from(5) && score.bonus >= Decimal::ZERO);
        prop_assert!(score.deduction <= Decimal::TEN && score.deduction >= Decimal::ZERO);
        prop_assert_eq!(
            score.party_score,
            (score.base + score.bonus - score.deduction).max(Decimal::ZERO)
        );
        prop_assert!(score.party_score <= Decimal::from(105));

        // Complete exactly when every weighted item has a value.
        let weighted_scored = def
            .aspects
            .iter()
            .filter(|a| a.weight.is_some())
            .flat_map(|a| a.items.iter())
            .all(|i| values.contains_key(&i.code));
        prop_assert_eq!(score.complete, weighted_scored);
        prop_assert!(score.ignored.is_empty());

        // The combined score and its bounds.
        match business {
            None => {
                prop_assert_eq!(score.combined, None);
                prop_assert_eq!(score.graded_on, GradeBasis::PartyScore);
            }
            Some(b) => {
                let combined = score.combined.expect("a business result gives a combined score");
                let business = b.score.decimal();
                let party = score.party_score;
                prop_assert!(combined >= Decimal::ZERO);
                match policy {
                    // A weighted mean lies between its two terms.
                    DualPolicy::PointsShare { .. } => {
                        prop_assert!(combined >= party.min(business));
                        prop_assert!(combined <= party.max(business));
                    }
                    // business ≤ 100, so the coefficient never raises the party score, and the
                    // party score ≤ 105 bounds it by 1.05 × business.
                    DualPolicy::Coefficient => {
                        prop_assert!(combined <= party);
                        prop_assert!(combined <= business * Decimal::new(105, 2));
                    }
                    DualPolicy::VetoOnly => prop_assert_eq!(combined, party),
                }
                prop_assert_eq!(score.graded_on, GradeBasis::Combined);
            }
        }

        // The grade: the lowest band under a veto of either assessment, else the band of the figure.
        let vetoed = values.values().any(|v| v == &ScoreValue::Veto { vetoed: true })
            || business.is_some_and(|b| b.vetoed);
        prop_assert_eq!(score.capped_by_veto, vetoed);
        let figure = score.combined.unwrap_or(score.party_score);
        let expected = if vetoed {
            "poor"
        } else if figure >= Decimal::from(90) {
            "excellent"
        } else if figure >= Decimal::from(80) {
            "good"
        } else if figure >= Decimal::from(60) {
            "fair"
        } else {
            "poor"
        };
        prop_assert_eq!(score.grade.as_str(), expected);
        if !vetoed {
            prop_assert_eq!(&band_for(&def, figure).grade, &score.grade);
        }
    }

    /// `check_value` accepts exactly the values that fit: the item's shape, points within [0, max],
    /// a level of the ladder, awards that are not negative.
    #[test]
    fn check_value_accepts_exactly_the_values_in_range(
        item_index in 0usize..33,
        shape in 0u8..5,
        amount in -1_000i64..=1_000,
        level in prop::sample::select(vec!["good", "fairly_good", "average", "poor", "excellent", "bad"]),
        awards in prop::collection::vec(-300i64..=300, 0..4),
        cases in 0u32..100,
        vetoed in any::<bool>(),
    ) {
        let def = default_template();
        let item = def.aspects.iter().flat_map(|a| a.items.iter()).nth(item_index).unwrap();
        let value = match shape {
            0 => ScoreValue::Points { points: cents(amount) },
            1 => ScoreValue::Level { level: LevelCode::new(level).unwrap() },
            2 => ScoreValue::Awards {
                awards: awards
                    .iter()
                    .map(|c| Award { title: "a".into(), points: cents(*c) })
                    .collect(),
            },
            3 => ScoreValue::Cases { cases },
            _ => ScoreValue::Veto { vetoed },
        };
        let fits = match (&item.kind, &value) {
            (ItemKind::Points { max }, ScoreValue::Points { points }) => {
                *points >= Points::ZERO && points <= max
            }
            (ItemKind::Ladder { .. }, ScoreValue::Level { level }) => {
                LEVELS.contains(&level.as_str())
            }
            (ItemKind::Bonus { .. }, ScoreValue::Awards { awards }) => {
                awards.iter().all(|a| a.points >= Points::ZERO)
            }
            (ItemKind::Deduction { .. }, ScoreValue::Cases { .. })
            | (ItemKind::Veto, ScoreValue::Veto { .. }) => true,
            _ => false,
        };
        prop_assert_eq!(check_value(&def, &item.code, &value).is_ok(), fits, "{:?} on {}", value, item.code);
    }

    /// An adjustment made of random touches (retitles, descriptions, responsible persons, kinds and
    /// maxima moved within an aspect, the policy) is accepted and diffs as exactly those touches;
    /// the diff of a version with itself is empty, and the reverse diff has as many entries.
    #[test]
    fn adjustments_diff_as_exactly_what_they_touch(
        item_touches in prop::collection::vec(
            (any::<bool>(), any::<[bool; 4]>(), prop::option::weighted(0.2, 0usize..7), prop::bool::weighted(0.2)),
            33,
        ),
        aspect_retitles in any::<[bool; 7]>(),
        transfer in prop::option::of((0usize..6, 0usize..5, 0usize..5, 1i64..=150)),
        policy in prop::option::weighted(0.3, policy_strategy()),
    ) {
        let def = default_template();
        let mut changes = Vec::new();
        let mut expected = Vec::new();

        for (aspect, retitle) in def.aspects.iter().zip(aspect_retitles) {
            if retitle {
                let title = Text::new(format!("{}·新", aspect.title.zh), "retitled");
                changes.push(RubricChange::RetitleAspect { aspect: aspect.code.clone(), title: title.clone() });
                expected.push(RubricDiff::AspectRetitled {
                    aspect: aspect.code.clone(),
                    old: aspect.title.clone(),
                    new: title,
                });
            }
        }

        // New kinds: the points ↔ ladder toggles, then a transfer of maximum between two items of
        // one weighted aspect, which keeps the aspect's sum.
        let items: Vec<_> = def.aspects.iter().flat_map(|a| a.items.iter()).collect();
        let mut kinds: Vec<ItemKind> = items.iter().map(|i| i.kind.clone()).collect();
        for (kind, touch) in kinds.iter_mut().zip(&item_touches) {
            if touch.3 {
                let toggled = match &*kind {
                    ItemKind::Points { max } => ItemKind::Ladder { max: *max },
                    ItemKind::Ladder { max } => ItemKind::Points { max: *max },
                    other => other.clone(),
                };
                *kind = toggled;
            }
        }
        if let Some((aspect, from, to, amount)) = transfer {
            let offset: usize = def.aspects[..aspect].iter().map(|a| a.items.len()).sum();
            let len = def.aspects[aspect].items.len();
            let (from, to) = (offset + from % len, offset + to % len);
            let max_of = |k: &ItemKind| match k {
                ItemKind::Points { max } | ItemKind::Ladder { max } => *max,
                _ => unreachable!("weighted aspects hold points and ladder items"),
            };
            let from_max = max_of(&kinds[from]).decimal();
            let amount = Decimal::new(amount, 2);
            if from != to && amount < from_max {
                let with_max = |k: &ItemKind, max: Decimal| {
                    let max = Points::new(max).unwrap();
                    match k {
                        ItemKind::Points { .. } => ItemKind::Points { max },
                        _ => ItemKind::Ladder { max },
                    }
                };
                let to_max = max_of(&kinds[to]).decimal();
                kinds[from] = with_max(&kinds[from], from_max - amount);
                kinds[to] = with_max(&kinds[to], to_max + amount);
            }
        }

        for ((item, touch), kind) in items.iter().zip(&item_touches).zip(&kinds) {
            let code = item.code.clone();
            if touch.0 {
                let title = Text::new(format!("{}(修订)", item.title.zh), "revised");
                changes.push(RubricChange::RetitleItem { item: code.clone(), title: title.clone() });
                expected.push(RubricDiff::ItemRetitled { item: code.clone(), old: item.title.clone(), new: title });
            }
            if kind != &item.kind {
                changes.push(RubricChange::RepointItem { item: code.clone(), kind: kind.clone() });
                expected.push(RubricDiff::ItemRepointed { item: code.clone(), old: item.kind.clone(), new: kind.clone() });
            }
            let fields = [
                (DescribedField::Content, &item.content),
                (DescribedField::Standard, &item.standard),
                (DescribedField::Method, &item.method),
                (DescribedField::Evidence, &item.evidence),
            ];
            let mut described: [Option<String>; 4] = Default::default();
            for ((field, old), (slot, touched)) in fields.iter().zip(described.iter_mut().zip(touch.1)) {
                if touched {
                    let new = format!("{old}(修订)");
                    *slot = Some(new.clone());
                    expected.push(RubricDiff::ItemDescribed { item: code.clone(), field: *field, old: (*old).clone(), new });
                }
            }
            if described.iter().any(Option::is_some) {
                let [content, standard, method, evidence] = described;
                changes.push(RubricChange::DescribeItem { item: code.clone(), content, standard, method, evidence });
            }
            if let Some(person) = touch.2 {
                let person = PersonId::new(DEFAULT_TEMPLATE_PEOPLE[person].0).unwrap();
                if person != item.responsible {
                    changes.push(RubricChange::ChangeResponsible { item: code.clone(), responsible: person.clone() });
                    expected.push(RubricDiff::ResponsibleChanged { item: code.clone(), old: item.responsible.clone(), new: person });
                }
            }
        }
        if let Some(policy) = policy
            && policy != def.dual_policy
        {
            changes.push(RubricChange::ChangeDualPolicy { dual_policy: policy.clone() });
            expected.push(RubricDiff::DualPolicyChanged { old: def.dual_policy.clone(), new: policy });
        }

        let result = apply(&def, &changes);
        if changes.is_empty() {
            prop_assert_eq!(result, Err(RubricRejection::NothingChanged));
            return Ok(());
        }
        let next = result.expect("touches that keep the sums are accepted");
        prop_assert_eq!(validate(&next), Ok(()));
        let mut found = diff(&def, &next);
        prop_assert_eq!(found.len(), diff(&next, &def).len());
        prop_assert!(diff(&next, &next).is_empty());
        let key = |d: &RubricDiff| format!("{d:?}");
        found.sort_by_key(key);
        expected.sort_by_key(key);
        prop_assert_eq!(found, expected);
    }
}
