//! Business results (经营业绩) from a file: one row a unit, all rows or none, read and checked by
//! the same machinery as score sheets (`super`: the header, CSV in any of Excel's encodings, the
//! workbook's cell rules, full-width forms, the row/column report, the decision of every row
//! against a copy of the state). Used by `ledger import business` and the import API.
//!
//! | column | also | required | what |
//! |---|---|---|---|
//! | `unit` | 单位, 单位编码, 考核单位 | yes | the unit's id (`SH-CZ-B1`), or its name as registered when no other unit has it |
//! | `score` | 得分, 经营业绩得分, 业绩得分 | yes | 0–100, two decimals at most (`86.5`, `86.5分`) |
//! | `vetoed` | 否决, 一票否决, 是否否决 | no | 是/否, yes/no, 1/0, TRUE/FALSE; empty is 否 |
//! | `source` | 依据, 数据来源, 来源 | yes | where the figure comes from, e.g. the 经营目标责任书 and its clause |
//! | `reason` | 原因, 修改原因, 更正原因 | no | needed only when a row replaces a result already recorded |
//! | `unit_name` | 单位名称 | no | what the template shows beside each unit; ignored here |
//!
//! A workbook is read from its sheet `经营业绩` (or `business`). A row whose score, veto, source
//! and reason are all empty is left out (a template row not filled in). A row equal to the result
//! on record is left alone; a row that differs replaces it, which the domain records only with a
//! reason, so the file gives it in the `原因` column, row by row (a replacement without one is
//! refused at its row, naming that column). Every result is recorded as the importing person (an
//! admin, or an assessor whose units cover the rows) with the file's SHA-256.

use std::collections::HashMap;

use anyhow::bail;
use ledger_projections::domain::{Command, Context, Rejection, State};
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::ids::{PeriodId, PersonId, UnitId, stream};
use ledger_schemas::values::{Points, Stage};

use super::{
    Column, Header, ImportPlan, Row, RowError, digest, importer_in, not_yes_no, parse_yes_no,
    period_of, read_table, resolve_unit, simulate,
};

/// A column of a business-results file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BusinessField {
    Unit,
    /// The template's unit name, for people to read; ignored on import.
    Name,
    Score,
    Vetoed,
    Source,
    Reason,
}

impl Column for BusinessField {
    const ALL: &'static [Self] = &[
        BusinessField::Unit,
        BusinessField::Name,
        BusinessField::Score,
        BusinessField::Vetoed,
        BusinessField::Source,
        BusinessField::Reason,
    ];
    const SHEETS: &'static [&'static str] = &["经营业绩", "business"];

    fn name(self) -> &'static str {
        match self {
            BusinessField::Unit => "unit",
            BusinessField::Name => "unit_name",
            BusinessField::Score => "score",
            BusinessField::Vetoed => "vetoed",
            BusinessField::Source => "source",
            BusinessField::Reason => "reason",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            BusinessField::Unit => &["unit", "单位", "单位编码", "考核单位"],
            BusinessField::Name => &["unit_name", "单位名称"],
            BusinessField::Score => &["score", "得分", "经营业绩得分", "业绩得分"],
            BusinessField::Vetoed => &["vetoed", "否决", "一票否决", "是否否决"],
            BusinessField::Source => &["source", "依据", "数据来源", "来源"],
            BusinessField::Reason => &["reason", "原因", "修改原因", "更正原因"],
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            BusinessField::Unit | BusinessField::Score | BusinessField::Source
        )
    }

    fn is_code(self) -> bool {
        self == BusinessField::Unit
    }

    fn is_entry(self) -> bool {
        !matches!(self, BusinessField::Unit | BusinessField::Name)
    }
}

/// What a good row will do.
#[derive(Debug, Clone)]
pub enum BusinessAction {
    /// The unit has no result yet.
    Record(Command),
    /// The unit's recorded result is replaced (with the row's reason).
    Replace(Command),
    /// The unit already has this result: nothing to record.
    Unchanged,
}

impl BusinessAction {
    /// `record`, `replace` or `unchanged`, as the API and the preview say.
    pub fn code(&self) -> &'static str {
        match self {
            BusinessAction::Record(_) => "record",
            BusinessAction::Replace(_) => "replace",
            BusinessAction::Unchanged => "unchanged",
        }
    }
}

/// A good row as it will be recorded: what the preview shows.
#[derive(Debug, Clone)]
pub struct BusinessRow {
    pub row: u64,
    pub unit: UnitId,
    pub score: Points,
    pub vetoed: bool,
    pub source: String,
    pub reason: String,
    pub action: BusinessAction,
}

/// Every good row of a checked file, in file order (blank rows left out).
#[derive(Debug, Clone)]
pub struct BusinessPlan {
    pub rows: Vec<BusinessRow>,
}

impl ImportPlan for BusinessPlan {
    fn digest(&self, file_sha256: &str) -> String {
        digest(
            file_sha256,
            self.rows.iter().map(|r| {
                serde_json::json!([
                    r.row,
                    r.unit,
                    r.action.code(),
                    r.score,
                    r.vetoed,
                    r.source,
                    r.reason
                ])
            }),
        )
    }

    fn commands(&self) -> Vec<(u64, &Command)> {
        self.rows
            .iter()
            .filter_map(|r| match &r.action {
                BusinessAction::Record(c) | BusinessAction::Replace(c) => Some((r.row, c)),
                BusinessAction::Unchanged => None,
            })
            .collect()
    }

    /// (new results, replacements, unchanged).
    fn counts(&self) -> (usize, usize, usize) {
        self.rows.iter().fold((0, 0, 0), |acc, r| match r.action {
            BusinessAction::Record(_) => (acc.0 + 1, acc.1, acc.2),
            BusinessAction::Replace(_) => (acc.0, acc.1 + 1, acc.2),
            BusinessAction::Unchanged => (acc.0, acc.1, acc.2 + 1),
        })
    }
}

/// The actor a business-results import records as: `person`, holding the admin or the assessor
/// role (the roles that record business results; admin first, whose scope is every unit).
pub fn importer(state: &State, person: &PersonId) -> anyhow::Result<Actor> {
    importer_in(
        state,
        person,
        &[Role::Admin, Role::Assessor],
        ("经营业绩", "business results"),
    )
}

/// A row that parsed.
struct Parsed {
    row: u64,
    unit: UnitId,
    score: Points,
    vetoed: bool,
    source: String,
    reason: String,
}

fn parse_row(
    state: &State,
    units: &[UnitId],
    period: &PeriodId,
    header: &Header<BusinessField>,
    record: &[String],
    row: u64,
) -> Result<Parsed, Vec<RowError>> {
    use BusinessField as F;
    let mut errors = Vec::new();
    let mut fail = |field: F, message: String| {
        errors.push(RowError {
            row,
            column: header.column(field),
            message,
        });
    };
    let unit = resolve_unit(state, units, period, &header.get_narrow(record, F::Unit))
        .map_err(|m| fail(F::Unit, m))
        .ok();
    let score_text = header.get_narrow(record, F::Score);
    let number = score_text.trim_end_matches('分').trim();
    let score = if number.is_empty() {
        fail(
            F::Score,
            "经营业绩得分为空 (the business score is empty)".into(),
        );
        None
    } else {
        match number.parse::<Points>() {
            Err(e) => {
                fail(F::Score, e.to_string());
                None
            }
            Ok(score) if score < Points::ZERO || score > Points::from_int(100) => {
                fail(
                    F::Score,
                    format!(
                        "经营业绩得分 {score} 不在 0–100 之间 (the business score {score} is not between 0 and 100)"
                    ),
                );
                None
            }
            Ok(score) => Some(score),
        }
    };
    let veto_text = header.get_narrow(record, F::Vetoed);
    let vetoed = if veto_text.is_empty() {
        Some(false)
    } else {
        let parsed = parse_yes_no(&veto_text);
        if parsed.is_none() {
            fail(F::Vetoed, not_yes_no(&veto_text));
        }
        parsed
    };
    let source = header.get(record, F::Source).to_owned();
    if source.is_empty() {
        fail(
            F::Source,
            "依据为空, 请写明数据来源, 如经营目标责任书及条款 (the source is empty: say where the figure comes from, e.g. the responsibility letter and its clause)".into(),
        );
    }
    match (unit, score, vetoed) {
        (Some(unit), Some(score), Some(vetoed)) if errors.is_empty() => Ok(Parsed {
            row,
            unit,
            score,
            vetoed,
            source,
            reason: header.get(record, F::Reason).to_owned(),
        }),
        _ => Err(errors),
    }
}

/// Checks a business-results file against `state` (as `check_scores` does a score sheet) and
/// returns what each row will record. A file with bad rows fails with `RowsRefused`; a file that
/// cannot be read as a whole, or a period that takes no business results, with one message.
pub fn check_business(
    state: &State,
    ctx: &Context,
    period: &PeriodId,
    file_name: &str,
    bytes: &[u8],
) -> anyhow::Result<BusinessPlan> {
    use BusinessField as F;
    let p = period_of(state, period)?;
    if p.stage == Stage::Published {
        bail!(
            "考核周期 {period} 已公示, 不能再导入经营业绩 (period {period} is published; business results are recorded until publication)"
        );
    }
    let (header, rows, mut errors) = read_table::<BusinessField>(file_name, bytes)?.data_rows()?;
    let mut parsed = Vec::new();
    let mut seen: HashMap<UnitId, u64> = HashMap::new();
    for Row { row, cells } in rows {
        match parse_row(state, p.units.as_slice(), period, &header, &cells, row) {
            Ok(r) => match seen.insert(r.unit.clone(), row) {
                Some(first) => errors.push(RowError {
                    row,
                    column: header.column(F::Unit),
                    message: format!(
                        "单位 {} 与第 {first} 行重复 (duplicates row {first} for unit {})",
                        r.unit, r.unit
                    ),
                }),
                None => parsed.push(r),
            },
            Err(mut row_errors) => errors.append(&mut row_errors),
        }
    }

    // Every row decided in file order against a copy of the state.
    let mut sim = state.clone();
    let mut plan = Vec::with_capacity(parsed.len());
    for r in parsed {
        let on_record = sim.sheet(period, &r.unit).and_then(|s| s.business.clone());
        let replaces = match &on_record {
            Some(b) if b.score == r.score && b.vetoed == r.vetoed && b.source == r.source => {
                plan.push(row_of(r, BusinessAction::Unchanged));
                continue;
            }
            Some(b) if r.reason.is_empty() => {
                errors.push(RowError {
                    row: r.row,
                    column: header.column(F::Reason).or(header.column(F::Score)),
                    message: format!(
                        "单位 {} 已有经营业绩 {}{}, 修改须在 原因 列说明原因 (unit {} already has the business result {}{}; replacing it needs a reason in a 原因/reason column)",
                        r.unit,
                        b.score,
                        if b.vetoed { " (否决)" } else { "" },
                        r.unit,
                        b.score,
                        if b.vetoed { " (vetoed)" } else { "" },
                    ),
                });
                continue;
            }
            Some(_) => true,
            None => false,
        };
        let command = Command::RecordBusinessResult {
            period: period.clone(),
            unit: r.unit.clone(),
            score: r.score,
            vetoed: r.vetoed,
            source: r.source.clone(),
            reason: (!r.reason.is_empty()).then(|| r.reason.clone()),
            expected_revision: sim.revision(&stream::sheet(period, &r.unit)),
        };
        match simulate(&mut sim, ctx, command.clone()) {
            Ok(()) => {
                let action = if replaces {
                    BusinessAction::Replace(command)
                } else {
                    BusinessAction::Record(command)
                };
                plan.push(row_of(r, action));
            }
            Err(rejection) => {
                let column = match &rejection {
                    Rejection::UnknownUnit { .. }
                    | Rejection::UnitNotInPeriod { .. }
                    | Rejection::NotAssignedToUnit { .. } => header.column(F::Unit),
                    Rejection::BusinessScoreOutOfRange { .. } => header.column(F::Score),
                    Rejection::ReasonRequired { .. } => header.column(F::Reason),
                    Rejection::Text(refusal) => header.text_column(&refusal.field),
                    _ => None,
                };
                errors.push(RowError {
                    row: r.row,
                    column,
                    message: rejection.to_string(),
                });
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(super::RowsRefused(errors).into());
    }
    if plan.is_empty() {
        bail!(
            "文件的每一行都没有填写经营业绩 (no row of the file has a business result filled in)"
        );
    }
    Ok(BusinessPlan { rows: plan })
}

fn row_of(r: Parsed, action: BusinessAction) -> BusinessRow {
    BusinessRow {
        row: r.row,
        unit: r.unit,
        score: r.score,
        vetoed: r.vetoed,
        source: r.source,
        reason: r.reason,
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every header alias reads as its column, and no alias belongs to two columns.
    #[test]
    fn headers_name_one_column_each() {
        let mut seen = std::collections::HashSet::new();
        for f in BusinessField::ALL {
            for alias in f.aliases() {
                assert!(seen.insert(*alias), "{alias} twice");
                assert_eq!(BusinessField::from_header(alias), Some(*f));
            }
        }
        assert_eq!(
            BusinessField::from_header(" 原因 "),
            Some(BusinessField::Reason)
        );
        assert_eq!(BusinessField::from_header("item"), None);
    }
}
