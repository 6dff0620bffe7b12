//! Tests of the rubric rules: the default template, every refusal of [`validate`] and [`apply`],
//! [`diff`] and rubric files.

use ledger_schemas::ids::{AspectCode, GradeCode, ItemCode, LevelCode, PersonId};
use ledger_schemas::rubric::{
    AnnualRule, Aspect, DualPolicy, GradeBand, Item, ItemKind, LadderStep, PeriodSlot,
    RubricChange, RubricDefinition, SlotWeight,
};
use ledger_schemas::values::{Points, Text};

use super::*;

fn p(text: &str) -> Points {
    text.parse().unwrap()
}
fn aspect_code(code: &str) -> AspectCode {
    AspectCode::new(code).unwrap()
}
fn item_code(code: &str) -> ItemCode {
    ItemCode::new(code).unwrap()
}
fn aspect<'a>(def: &'a mut RubricDefinition, code: &str) -> &'a mut Aspect {
    def.aspects
        .iter_mut()
        .find(|a| a.code.as_str() == code)
        .unwrap()
}
fn item<'a>(def: &'a mut RubricDefinition, code: &str) -> &'a mut Item {
    def.aspects
        .iter_mut()
        .flat_map(|a| a.items.iter_mut())
        .find(|i| i.code.as_str() == code)
        .unwrap()
}
fn new_item(code: &str, kind: ItemKind) -> Item {
    Item {
        code: item_code(code),
        title: Text::new("新子项目", "new item"),
        content: "内容".into(),
        standard: "标准".into(),
        method: "方式".into(),
        evidence: "材料".into(),
        responsible: PersonId::new("secretary").unwrap(),
        kind,
    }
}
/// The template with one mutation, checked: its problems.
fn problems_after(mutate: impl FnOnce(&mut RubricDefinition)) -> Vec<RubricRejection> {
    let mut def = default_template();
    mutate(&mut def);
    problems(&def)
}

/// The shipped template is exactly DOMAIN.md's table: aspects, weights, item codes, maxima and
/// types (Q → points, L → ladder), the G items, the ladder, the bands and the policy, and it is valid.
#[test]
fn default_template_is_the_domain_table() {
    let def = default_template();
    assert_eq!(validate(&def), Ok(()));
    assert_eq!(def.aspects.len(), 7);
    assert_eq!(def.aspects.iter().map(|a| a.items.len()).sum::<usize>(), 33);

    let table = [
        ("A", Some(10), "A1 2Q A2 3Q A3 3Q A4 2Q"),
        ("B", Some(20), "B1 4Q B2 5L B3 4L B4 3L B5 4L"),
        ("C", Some(20), "C1 4Q C2 4L C3 4Q C4 4Q C5 4Q"),
        ("D", Some(15), "D1 3Q D2 3Q D3 3L D4 3Q D5 3Q"),
        ("E", Some(15), "E1 3Q E2 3Q E3 3Q E4 3L E5 3Q"),
        ("F", Some(20), "F1 4L F2 4Q F3 4L F4 4Q F5 4Q"),
    ];
    for ((code, weight, items), aspect) in table.iter().zip(&def.aspects) {
        assert_eq!(aspect.code.as_str(), *code);
        assert_eq!(
            aspect.weight,
            weight.map(Points::from_int),
            "weight of {code}"
        );
        let actual: Vec<String> = aspect
            .items
            .iter()
            .map(|i| match &i.kind {
                ItemKind::Points { max } => format!("{} {max}Q", i.code),
                ItemKind::Ladder { max } => format!("{} {max}L", i.code),
                other => format!("{} {other:?}", i.code),
            })
            .collect();
        assert_eq!(actual.join(" "), *items, "items of {code}");
    }

    let g = &def.aspects[6];
    assert_eq!(g.code.as_str(), "G");
    assert_eq!(g.weight, None);
    let kinds: Vec<(&str, &ItemKind)> =
        g.items.iter().map(|i| (i.code.as_str(), &i.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (
                "G1",
                &ItemKind::Bonus {
                    cap: p("3"),
                    highest_only: false
                }
            ),
            (
                "G2",
                &ItemKind::Bonus {
                    cap: p("2"),
                    highest_only: true
                }
            ),
            (
                "G3",
                &ItemKind::Deduction {
                    per_case: p("1"),
                    cap: Some(p("10"))
                }
            ),
            ("G4", &ItemKind::Veto),
        ]
    );

    let ladder: Vec<(&str, &str, Points)> = def
        .ladder
        .iter()
        .map(|s| (s.level.as_str(), s.label.zh.as_str(), s.percent))
        .collect();
    assert_eq!(
        ladder,
        vec![
            ("good", "好", p("100")),
            ("fairly_good", "较好", p("75")),
            ("average", "一般", p("50")),
            ("poor", "差", p("0")),
        ]
    );
    let bands: Vec<(&str, &str, Points)> = def
        .grade_bands
        .iter()
        .map(|b| (b.grade.as_str(), b.label.zh.as_str(), b.min))
        .collect();
    assert_eq!(
        bands,
        vec![
            ("excellent", "优秀", p("90")),
            ("good", "良好", p("80")),
            ("fair", "一般", p("60")),
            ("poor", "较差", p("0")),
        ]
    );
    assert_eq!(
        def.dual_policy,
        DualPolicy::PointsShare {
            party_percent: p("30")
        }
    );
}

/// Every aspect and item of the template has a zh-CN title with an English gloss and non-empty
/// descriptive text, and its responsible persons are exactly the documented ones.
#[test]
fn default_template_texts_and_people_are_complete() {
    let def = default_template();
    let documented: BTreeSet<&str> = DEFAULT_TEMPLATE_PEOPLE.iter().map(|(id, ..)| *id).collect();
    for (id, ..) in DEFAULT_TEMPLATE_PEOPLE {
        assert!(PersonId::new(*id).is_ok(), "{id} is a valid person id");
    }
    let mut used = BTreeSet::new();
    for aspect in &def.aspects {
        assert!(!aspect.title.zh.is_empty() && aspect.title.en.is_some());
        for item in &aspect.items {
            assert!(!item.title.zh.is_empty(), "{}", item.code);
            assert!(item.title.en.as_deref().is_some_and(|en| !en.is_empty()));
            for text in [&item.content, &item.standard, &item.method, &item.evidence] {
                assert!(!text.trim().is_empty(), "{} has an empty text", item.code);
            }
            assert!(
                documented.contains(item.responsible.as_str()),
                "{} names an undocumented person {}",
                item.code,
                item.responsible
            );
            used.insert(item.responsible.as_str());
        }
    }
    assert_eq!(
        used, documented,
        "every documented person is responsible for something"
    );
    let a2 = find_item(&def, &item_code("A2")).unwrap().1;
    assert_eq!(a2.standard, "每少开1次扣0.5分, 扣完为止。");
}

/// The template survives a JSON round trip unchanged, so the data file and the types agree.
#[test]
fn default_template_round_trips_through_json() {
    let def = default_template();
    let text = serde_json::to_string_pretty(&def).unwrap();
    assert_eq!(parse_rubric_file(&text), Ok(def));
}

/// Weights that do not sum to 100 are refused with the actual sum, and the aspect whose items no
/// longer match its weight is reported with both figures.
#[test]
fn weights_must_sum_to_100() {
    let found = problems_after(|d| aspect(d, "A").weight = Some(p("12.5")));
    assert_eq!(
        found,
        vec![
            RubricRejection::WeightsDoNotSumTo100 { sum: p("102.5") },
            RubricRejection::ItemMaximaDoNotMatchWeight {
                aspect: aspect_code("A"),
                weight: p("12.5"),
                sum: p("10"),
            },
        ]
    );
    let mut def = default_template();
    aspect(&mut def, "A").weight = Some(p("12.5"));
    assert_eq!(
        validate(&def),
        Err(RubricRejection::WeightsDoNotSumTo100 { sum: p("102.5") })
    );
}

/// Item maxima that do not add up to their aspect's weight are refused with the actual sum.
#[test]
fn item_maxima_must_match_the_weight() {
    let found = problems_after(|d| item(d, "B2").kind = ItemKind::Ladder { max: p("4.5") });
    assert_eq!(
        found,
        vec![RubricRejection::ItemMaximaDoNotMatchWeight {
            aspect: aspect_code("B"),
            weight: p("20"),
            sum: p("19.5"),
        }]
    );
    let message = found[0].to_string();
    assert!(message.starts_with("大方面 B 的子项目分值之和须等于其权重 20, 实际为 19.5"));
    assert!(message.contains(
        "(the item maxima of aspect B must add up to its weight 20, they add up to 19.5)"
    ));
}

/// Aspect codes and item codes are unique (item codes across the whole rubric).
#[test]
fn codes_must_be_unique() {
    let found = problems_after(|d| {
        let copy = d.aspects[6].clone();
        d.aspects.push(copy);
    });
    assert!(found.contains(&RubricRejection::DuplicateAspect {
        aspect: aspect_code("G")
    }));
    assert!(found.contains(&RubricRejection::DuplicateItem {
        item: item_code("G1")
    }));

    let found = problems_after(|d| item(d, "B1").code = item_code("A1"));
    assert_eq!(
        found,
        vec![RubricRejection::DuplicateItem {
            item: item_code("A1")
        }]
    );
}

/// A weighted aspect holds only points and ladder items, an unweighted one only bonus, deduction and
/// veto items; a weight must be positive.
#[test]
fn item_kinds_must_fit_their_aspect() {
    let found = problems_after(|d| {
        aspect(d, "A").items.push(new_item("A5", ItemKind::Veto));
    });
    assert_eq!(
        found,
        vec![RubricRejection::KindNotAllowedInWeightedAspect {
            aspect: aspect_code("A"),
            item: item_code("A5"),
            kind: "veto",
        }]
    );
    assert!(
        found[0]
            .to_string()
            .starts_with("加权大方面 A 只能包含定量或定性子项目, 子项目 A5 是一票否决子项目")
    );

    let found = problems_after(|d| {
        aspect(d, "G")
            .items
            .push(new_item("G5", ItemKind::Points { max: p("1") }));
    });
    assert_eq!(
        found,
        vec![RubricRejection::KindNotAllowedInUnweightedAspect {
            aspect: aspect_code("G"),
            item: item_code("G5"),
            kind: "points",
        }]
    );

    let found = problems_after(|d| aspect(d, "A").weight = Some(Points::ZERO));
    assert_eq!(
        found[0],
        RubricRejection::NonPositiveWeight {
            aspect: aspect_code("A"),
            weight: Points::ZERO
        }
    );
}

/// Maxima, caps and amounts per case must be above zero.
#[test]
fn amounts_must_be_positive() {
    let found = problems_after(|d| {
        item(d, "G1").kind = ItemKind::Bonus {
            cap: Points::ZERO,
            highest_only: false,
        };
        item(d, "G3").kind = ItemKind::Deduction {
            per_case: p("-1"),
            cap: Some(Points::ZERO),
        };
    });
    assert_eq!(
        found,
        vec![
            RubricRejection::NonPositiveAmount {
                item: item_code("G1"),
                field: "cap",
                value: Points::ZERO
            },
            RubricRejection::NonPositiveAmount {
                item: item_code("G3"),
                field: "per_case",
                value: p("-1")
            },
            RubricRejection::NonPositiveAmount {
                item: item_code("G3"),
                field: "cap",
                value: Points::ZERO
            },
        ]
    );

    // A zero maximum is refused even when the aspect's sum still matches.
    let found = problems_after(|d| {
        item(d, "A1").kind = ItemKind::Points { max: p("0") };
        item(d, "A2").kind = ItemKind::Points { max: p("5") };
    });
    assert_eq!(
        found,
        vec![RubricRejection::NonPositiveAmount {
            item: item_code("A1"),
            field: "max",
            value: Points::ZERO
        }]
    );
}

/// The ladder must be non-empty, with unique levels and percentages within 0–100.
#[test]
fn ladder_rules() {
    assert_eq!(
        problems_after(|d| d.ladder.clear()),
        vec![RubricRejection::EmptyLadder]
    );
    let found = problems_after(|d| {
        d.ladder[1].level = LevelCode::new("good").unwrap();
        d.ladder[2].percent = p("100.01");
        d.ladder[3].percent = p("-0.01");
    });
    assert_eq!(
        found,
        vec![
            RubricRejection::DuplicateLevel {
                level: LevelCode::new("good").unwrap()
            },
            RubricRejection::LevelPercentOutOfRange {
                level: LevelCode::new("average").unwrap(),
                percent: p("100.01")
            },
            RubricRejection::LevelPercentOutOfRange {
                level: LevelCode::new("poor").unwrap(),
                percent: p("-0.01")
            },
        ]
    );
}

/// Grade bands must be non-empty, with unique grades, distinct minima, none below 0 and one at 0.
#[test]
fn grade_band_rules() {
    assert_eq!(
        problems_after(|d| d.grade_bands.clear()),
        vec![RubricRejection::NoGradeBands]
    );
    let found = problems_after(|d| {
        d.grade_bands[1].grade = GradeCode::new("excellent").unwrap();
        d.grade_bands[2].min = p("90");
    });
    assert_eq!(
        found,
        vec![
            RubricRejection::DuplicateGrade {
                grade: GradeCode::new("excellent").unwrap()
            },
            RubricRejection::DuplicateBandMin {
                grade: GradeCode::new("fair").unwrap(),
                min: p("90")
            },
        ]
    );
    assert_eq!(
        problems_after(|d| d.grade_bands[3].min = p("10")),
        vec![RubricRejection::NoBandAtZero { lowest: p("10") }]
    );
    let found = problems_after(|d| d.grade_bands[3].min = p("-5"));
    assert_eq!(
        found,
        vec![RubricRejection::NegativeBandMin {
            grade: GradeCode::new("poor").unwrap(),
            min: p("-5")
        },]
    );
}

/// A points-share policy's party percentage lies within 0–100; 0 and 100 are accepted.
#[test]
fn party_percent_rules() {
    for ok in ["0", "100", "30.5"] {
        assert!(
            problems_after(|d| d.dual_policy = DualPolicy::PointsShare {
                party_percent: p(ok)
            })
            .is_empty()
        );
    }
    assert_eq!(
        problems_after(|d| d.dual_policy = DualPolicy::PointsShare {
            party_percent: p("100.5")
        }),
        vec![RubricRejection::PartyPercentOutOfRange {
            percent: p("100.5")
        }]
    );
}

/// A weighted annual rule lists at least one slot, each once, with a weight above 0; the mean needs
/// nothing. A change of the rule applies, and diffs as the old and new rule in words.
#[test]
fn annual_rule_rules() {
    let weights = |list: &[(PeriodSlot, &str)]| AnnualRule::Weighted {
        weights: list
            .iter()
            .map(|(slot, weight)| SlotWeight {
                slot: *slot,
                weight: p(weight),
            })
            .collect(),
    };
    let quarters = weights(&[
        (PeriodSlot::Q1, "20"),
        (PeriodSlot::Q2, "20"),
        (PeriodSlot::Q3, "20"),
        (PeriodSlot::Q4, "40"),
    ]);
    assert!(problems_after(|d| d.annual_rule = quarters.clone()).is_empty());
    assert!(problems_after(|d| d.annual_rule = weights(&[(PeriodSlot::Y, "1")])).is_empty());
    assert_eq!(
        problems_after(|d| d.annual_rule = weights(&[])),
        vec![RubricRejection::NoSlotWeights]
    );
    assert_eq!(
        problems_after(|d| d.annual_rule = weights(&[
            (PeriodSlot::Q1, "1"),
            (PeriodSlot::Q1, "0"),
            (PeriodSlot::M2, "-1")
        ])),
        vec![
            RubricRejection::DuplicateSlot {
                slot: PeriodSlot::Q1
            },
            RubricRejection::NonPositiveSlotWeight {
                slot: PeriodSlot::Q1,
                weight: p("0")
            },
            RubricRejection::NonPositiveSlotWeight {
                slot: PeriodSlot::M2,
                weight: p("-1")
            },
        ]
    );
    assert_eq!(
        RubricRejection::NonPositiveSlotWeight {
            slot: PeriodSlot::Q4,
            weight: p("0")
        }
        .to_string(),
        "年度规则中时段 Q4 的权重须大于 0, 实际为 0; 不计入的时段请不列出 (the weight of slot Q4 in the annual rule must be above 0, it is 0; leave a slot out to give it no weight)"
    );

    let def = default_template();
    let next = apply(
        &def,
        &[RubricChange::ChangeAnnualRule {
            annual_rule: quarters.clone(),
        }],
    )
    .unwrap();
    assert_eq!(next.annual_rule, quarters);
    let found = diff(&def, &next);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].to_string(),
        "年度考核规则: 各期平均 (mean of the periods) → 按时段加权 Q1 20, Q2 20, Q3 20, Q4 40 (weighted by slot: Q1 20, Q2 20, Q3 20, Q4 40) (annual rule changed)"
    );
    assert_eq!(
        apply(
            &def,
            &[RubricChange::ChangeAnnualRule {
                annual_rule: AnnualRule::Mean
            }]
        ),
        Err(RubricRejection::NothingChanged)
    );
    assert_eq!(
        apply(
            &def,
            &[RubricChange::ChangeAnnualRule {
                annual_rule: weights(&[])
            }]
        ),
        Err(RubricRejection::NoSlotWeights)
    );
}

/// Re-weighting an aspect alone is refused with the actual sums; re-weighting it together with
/// re-pointing its items in the same adjustment is accepted, and exactly those changes show in the diff.
#[test]
fn reweight_and_repoint_is_one_adjustment() {
    let def = default_template();
    let reweight = [
        RubricChange::ReweightAspect {
            aspect: aspect_code("A"),
            weight: Some(p("12")),
        },
        RubricChange::ReweightAspect {
            aspect: aspect_code("B"),
            weight: Some(p("18")),
        },
    ];
    assert_eq!(
        apply(&def, &reweight),
        Err(RubricRejection::ItemMaximaDoNotMatchWeight {
            aspect: aspect_code("A"),
            weight: p("12"),
            sum: p("10"),
        })
    );
    let mut changes = reweight.to_vec();
    changes.push(RubricChange::RepointItem {
        item: item_code("A1"),
        kind: ItemKind::Points { max: p("4") },
    });
    changes.push(RubricChange::RepointItem {
        item: item_code("B1"),
        kind: ItemKind::Points { max: p("2") },
    });
    let next = apply(&def, &changes).unwrap();
    assert_eq!(
        diff(&def, &next),
        vec![
            RubricDiff::AspectReweighted {
                aspect: aspect_code("A"),
                old: Some(p("10")),
                new: Some(p("12")),
            },
            RubricDiff::AspectReweighted {
                aspect: aspect_code("B"),
                old: Some(p("20")),
                new: Some(p("18")),
            },
            RubricDiff::ItemRepointed {
                item: item_code("A1"),
                old: ItemKind::Points { max: p("2") },
                new: ItemKind::Points { max: p("4") },
            },
            RubricDiff::ItemRepointed {
                item: item_code("B1"),
                old: ItemKind::Points { max: p("4") },
                new: ItemKind::Points { max: p("2") },
            },
        ]
    );
}

/// Every change variant does what it says.
#[test]
fn every_change_applies() {
    let def = default_template();
    let secretary = PersonId::new("secretary").unwrap();
    let new_ladder = vec![
        LadderStep {
            level: LevelCode::new("pass").unwrap(),
            label: Text::new("合格", "pass"),
            percent: p("100"),
        },
        LadderStep {
            level: LevelCode::new("fail").unwrap(),
            label: Text::new("不合格", "fail"),
            percent: p("0"),
        },
    ];
    let new_bands = vec![
        GradeBand {
            grade: GradeCode::new("pass").unwrap(),
            label: Text::new("合格", "pass"),
            min: p("60"),
        },
        GradeBand {
            grade: GradeCode::new("fail").unwrap(),
            label: Text::new("不合格", "fail"),
            min: p("0"),
        },
    ];
    let changes = vec![
        RubricChange::AddAspect {
            aspect: Aspect {
                code: aspect_code("H"),
                title: Text::new("专项加分", "special bonus"),
                weight: None,
                items: vec![new_item(
                    "H1",
                    ItemKind::Bonus {
                        cap: p("1"),
                        highest_only: true,
                    },
                )],
            },
        },
        RubricChange::AddItem {
            aspect: aspect_code("H"),
            item: new_item("H2", ItemKind::Veto),
        },
        RubricChange::RemoveItem {
            item: item_code("H1"),
        },
        RubricChange::RetitleAspect {
            aspect: aspect_code("H"),
            title: Text::new("专项否决", "special veto"),
        },
        RubricChange::RetitleItem {
            item: item_code("C5"),
            title: Text::new("人才「双培养」", "dual cultivation"),
        },
        RubricChange::RepointItem {
            item: item_code("C5"),
            kind: ItemKind::Ladder { max: p("4") },
        },
        RubricChange::DescribeItem {
            item: item_code("A2"),
            content: None,
            standard: Some("每少开1次扣1分, 扣完为止。".into()),
            method: None,
            evidence: Some("会议记录。".into()),
        },
        RubricChange::ChangeResponsible {
            item: item_code("D2"),
            responsible: secretary.clone(),
        },
        RubricChange::ChangeLadder {
            ladder: new_ladder.clone(),
        },
        RubricChange::ChangeGradeBands {
            grade_bands: new_bands.clone(),
        },
        RubricChange::ChangeDualPolicy {
            dual_policy: DualPolicy::Coefficient,
        },
    ];
    let next = apply(&def, &changes).unwrap();
    let h = next.aspects.last().unwrap();
    assert_eq!((h.code.as_str(), h.title.zh.as_str()), ("H", "专项否决"));
    assert_eq!(h.items.len(), 1);
    assert_eq!(h.items[0].code.as_str(), "H2");
    let c5 = find_item(&next, &item_code("C5")).unwrap().1;
    assert_eq!(c5.title.zh, "人才「双培养」");
    assert_eq!(c5.kind, ItemKind::Ladder { max: p("4") });
    let a2 = find_item(&next, &item_code("A2")).unwrap().1;
    let old_a2 = find_item(&def, &item_code("A2")).unwrap().1;
    assert_eq!(
        a2.content, old_a2.content,
        "absent fields stay as they were"
    );
    assert_eq!(a2.method, old_a2.method);
    assert_eq!(a2.standard, "每少开1次扣1分, 扣完为止。");
    assert_eq!(a2.evidence, "会议记录。");
    assert_eq!(
        find_item(&next, &item_code("D2")).unwrap().1.responsible,
        secretary
    );
    assert_eq!(next.ladder, new_ladder);
    assert_eq!(next.grade_bands, new_bands);
    assert_eq!(next.dual_policy, DualPolicy::Coefficient);

    // An aspect emptied in one adjustment can be removed in the next.
    let emptied = apply(
        &next,
        &[
            RubricChange::RemoveItem {
                item: item_code("H2"),
            },
            RubricChange::RemoveAspect {
                aspect: aspect_code("H"),
            },
        ],
    )
    .unwrap();
    assert_eq!(emptied.aspects.len(), 7);
}

/// Unknown aspects and items, existing codes, removing a non-empty aspect, a change that leaves the
/// rubric as it was, and a result that breaks a rule are all refused.
#[test]
fn adjustments_are_refused_in_the_users_terms() {
    let def = default_template();
    let refused = |changes: Vec<RubricChange>| apply(&def, &changes).unwrap_err();
    assert_eq!(
        refused(vec![RubricChange::RetitleAspect {
            aspect: aspect_code("Z"),
            title: Text::new("无", "none"),
        }]),
        RubricRejection::UnknownAspect {
            aspect: aspect_code("Z")
        }
    );
    assert_eq!(
        refused(vec![RubricChange::AddItem {
            aspect: aspect_code("Z"),
            item: new_item("Z1", ItemKind::Veto),
        }]),
        RubricRejection::UnknownAspect {
            aspect: aspect_code("Z")
        }
    );
    assert_eq!(
        refused(vec![RubricChange::RemoveItem {
            item: item_code("Z9")
        }]),
        RubricRejection::UnknownItem {
            item: item_code("Z9")
        }
    );
    assert_eq!(
        refused(vec![RubricChange::ChangeResponsible {
            item: item_code("Z9"),
            responsible: PersonId::new("x").unwrap(),
        }]),
        RubricRejection::UnknownItem {
            item: item_code("Z9")
        }
    );
    assert_eq!(
        refused(vec![RubricChange::AddItem {
            aspect: aspect_code("G"),
            item: new_item("A1", ItemKind::Veto),
        }]),
        RubricRejection::DuplicateItem {
            item: item_code("A1")
        }
    );
    assert_eq!(
        refused(vec![RubricChange::AddAspect {
            aspect: Aspect {
                code: aspect_code("G"),
                title: Text::new("重复", "duplicate"),
                weight: None,
                items: vec![],
            },
        }]),
        RubricRejection::DuplicateAspect {
            aspect: aspect_code("G")
        }
    );
    assert_eq!(
        refused(vec![RubricChange::AddAspect {
            aspect: Aspect {
                code: aspect_code("H"),
                title: Text::new("新", "new"),
                weight: None,
                items: vec![new_item("G4", ItemKind::Veto)],
            },
        }]),
        RubricRejection::DuplicateItem {
            item: item_code("G4")
        }
    );
    let not_empty = refused(vec![RubricChange::RemoveAspect {
        aspect: aspect_code("G"),
    }]);
    assert_eq!(
        not_empty,
        RubricRejection::AspectNotEmpty {
            aspect: aspect_code("G"),
            items: ["G1", "G2", "G3", "G4"].map(item_code).to_vec(),
        }
    );
    assert!(
        not_empty
            .to_string()
            .starts_with("大方面 G 仍有子项目 G1, G2, G3, G4")
    );
    assert_eq!(refused(vec![]), RubricRejection::NothingChanged);
    assert_eq!(
        refused(vec![RubricChange::ChangeDualPolicy {
            dual_policy: def.dual_policy.clone()
        }]),
        RubricRejection::NothingChanged
    );
    assert_eq!(
        refused(vec![RubricChange::ChangeLadder { ladder: vec![] }]),
        RubricRejection::EmptyLadder
    );
    // Un-weighting a weighted aspect breaks both the kinds and the sum; the kinds are reported first.
    assert_eq!(
        refused(vec![RubricChange::ReweightAspect {
            aspect: aspect_code("F"),
            weight: None,
        }]),
        RubricRejection::KindNotAllowedInUnweightedAspect {
            aspect: aspect_code("F"),
            item: item_code("F1"),
            kind: "ladder",
        }
    );
}

/// Moving an item between aspects (remove, then add with the same code) shows as a move, with the
/// two re-weightings that keep the sums right; nothing else is reported.
#[test]
fn a_moved_item_diffs_as_a_move() {
    let def = default_template();
    let a1 = find_item(&def, &item_code("A1")).unwrap().1.clone();
    let next = apply(
        &def,
        &[
            RubricChange::RemoveItem {
                item: item_code("A1"),
            },
            RubricChange::AddItem {
                aspect: aspect_code("B"),
                item: a1,
            },
            RubricChange::ReweightAspect {
                aspect: aspect_code("A"),
                weight: Some(p("8")),
            },
            RubricChange::ReweightAspect {
                aspect: aspect_code("B"),
                weight: Some(p("22")),
            },
        ],
    )
    .unwrap();
    let found = diff(&def, &next);
    assert_eq!(
        found[2],
        RubricDiff::ItemMoved {
            item: item_code("A1"),
            from: aspect_code("A"),
            to: aspect_code("B"),
        }
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_eq!(
        found[2].to_string(),
        "子项目 A1 由大方面 A 移至 B (item A1 moved from aspect A to B)"
    );
}

/// The diff of a version with itself is empty; removing and re-adding an item in the same aspect
/// shows as a reordering; every kind of entry renders zh-CN first, then English.
#[test]
fn diff_is_exact_and_readable() {
    let def = default_template();
    assert!(diff(&def, &def).is_empty());

    let a2 = find_item(&def, &item_code("A2")).unwrap().1.clone();
    let next = apply(
        &def,
        &[
            RubricChange::RemoveItem {
                item: item_code("A2"),
            },
            RubricChange::AddItem {
                aspect: aspect_code("A"),
                item: a2,
            },
        ],
    )
    .unwrap();
    let found = diff(&def, &next);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].to_string(),
        "大方面 A 子项目顺序: A1, A2, A3, A4 → A1, A3, A4, A2 (items of aspect A reordered)"
    );

    let mut other = def.clone();
    other.title = Text::new("新细则", "new rules");
    item(&mut other, "G3").kind = ItemKind::Deduction {
        per_case: p("0.5"),
        cap: None,
    };
    item(&mut other, "F5").responsible = PersonId::new("secretary").unwrap();
    item(&mut other, "F5").method = "抽查".into();
    other.ladder.pop();
    other.grade_bands[0].min = p("95");
    other.dual_policy = DualPolicy::VetoOnly;
    other.aspects.swap(0, 1);
    let rendered: Vec<String> = diff(&def, &other).iter().map(ToString::to_string).collect();
    assert_eq!(
        rendered[0],
        "细则名称: 党建工作考核评分细则 (默认模板) Party-building assessment rules (default template) → 新细则 new rules (rubric title: 党建工作考核评分细则 (默认模板) Party-building assessment rules (default template) → 新细则 new rules)"
    );
    assert_eq!(
        rendered[1],
        "大方面顺序: A, B, C, D, E, F, G → B, A, C, D, E, F, G (aspects reordered: A, B, C, D, E, F, G → B, A, C, D, E, F, G)"
    );
    assert_eq!(
        rendered[2],
        "子项目 F5 考评方式 method: “对照问题清单逐项核查。” → “抽查” (item F5: description changed)"
    );
    let kinds: Vec<&str> = diff(&def, &other)
        .iter()
        .map(|d| match d {
            RubricDiff::TitleChanged { .. } => "title",
            RubricDiff::AspectsReordered { .. } => "aspects_reordered",
            RubricDiff::ItemRepointed { .. } => "repointed",
            RubricDiff::ItemDescribed { .. } => "described",
            RubricDiff::ResponsibleChanged { .. } => "responsible",
            RubricDiff::LadderChanged { .. } => "ladder",
            RubricDiff::GradeBandsChanged { .. } => "bands",
            RubricDiff::DualPolicyChanged { .. } => "policy",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "title",
            "aspects_reordered",
            "described",
            "responsible",
            "repointed",
            "ladder",
            "bands",
            "policy"
        ]
    );
    assert_eq!(
        rendered[4],
        "子项目 G3 计分方式: 扣分 每起 1, 最多 10 (deduction, 1 per case, cap 10) → 扣分 每起 0.5 (deduction, 0.5 per case) (item G3 re-pointed)"
    );
    assert_eq!(
        rendered[5],
        "定性评价等级: 好 good 100% / 较好 fairly good 75% / 一般 average 50% / 差 poor 0% → 好 good 100% / 较好 fairly good 75% / 一般 average 50% (ladder changed: 好 good 100% / 较好 fairly good 75% / 一般 average 50% / 差 poor 0% → 好 good 100% / 较好 fairly good 75% / 一般 average 50%)"
    );
    assert_eq!(
        rendered[7],
        "双考核计算方式: 按分值占比, 党建 30% (points share, party-building 30%) → 仅一票否决 (veto only) (dual policy changed)"
    );
    assert_eq!(
        rendered[3],
        "子项目 F5 责任人: discipline-committee → secretary (item F5: responsible person discipline-committee → secretary)"
    );
}

/// A file that is not JSON, or not a rubric's shape, is reported with serde's line and column; a
/// file that reads as a rubric but breaks rules lists every broken rule.
#[test]
fn rubric_files_report_where_and_what() {
    let broken = "{\n  \"title\": {\"zh\": \"x\"},\n  \"aspects\": [,]\n}";
    match parse_rubric_file(broken) {
        Err(RubricFileError::Unreadable { line, column, .. }) => {
            assert_eq!((line, column), (3, 15))
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }

    let bad_points =
        DEFAULT_TEMPLATE_JSON.replacen("\"weight\": \"10\"", "\"weight\": \"10.005\"", 1);
    let err = parse_rubric_file(&bad_points).unwrap_err();
    let RubricFileError::Unreadable { line, message, .. } = &err else {
        panic!("expected a shape error, got {err:?}");
    };
    assert_eq!(*line, 13, "the line of aspect A's weight");
    assert!(message.contains("10.005"), "{message}");
    assert!(err.to_string().starts_with("评分细则文件第 13 行第"));

    // A misspelt field is not silently ignored (which would leave aspect A unweighted).
    let typo = DEFAULT_TEMPLATE_JSON.replacen("\"weight\": \"10\"", "\"wieght\": \"10\"", 1);
    let err = parse_rubric_file(&typo).unwrap_err();
    let RubricFileError::Unreadable { line, message, .. } = &err else {
        panic!("expected a shape error, got {err:?}");
    };
    assert_eq!(*line, 13);
    assert!(message.contains("wieght"), "{message}");

    let mut def = default_template();
    aspect(&mut def, "A").weight = Some(p("11"));
    def.ladder.clear();
    let text = serde_json::to_string(&def).unwrap();
    let err = parse_rubric_file(&text).unwrap_err();
    assert_eq!(
        err,
        RubricFileError::Invalid {
            problems: vec![
                RubricRejection::WeightsDoNotSumTo100 { sum: p("101") },
                RubricRejection::ItemMaximaDoNotMatchWeight {
                    aspect: aspect_code("A"),
                    weight: p("11"),
                    sum: p("10"),
                },
                RubricRejection::EmptyLadder,
            ]
        }
    );
    let message = err.to_string();
    assert_eq!(message.lines().count(), 4, "{message}");
    assert!(
        message
            .lines()
            .nth(3)
            .unwrap()
            .starts_with("  - 定性评价等级不能为空")
    );
}
