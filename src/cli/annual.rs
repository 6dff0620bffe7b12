//! `ledger annual`: the year's result (年度考核) for people (an aligned table), scripts (`--json`,
//! the read model's own shape) and the file (`--csv`, one row per unit), now or as of a past point.
//! It reads through the read side like `ledger standings`, so it shows what the API serves.

use std::io::Write;

use anyhow::bail;
use clap::Args;
use ledger_projections::read::{AnnualResult, Span, periods_span, year_span};
use ledger_projections::rubric::AnnualRuleLabel;
use ledger_schemas::ids::{PeriodId, RubricId};

use super::LedgerArg;
use super::read::{AsOfArgs, FormatArgs, opt, recorded_at, time_text, unit_names, with_reads};
use super::table::{Align, Table};

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("span").required(true).args(["year", "periods"]))]
pub struct AnnualArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 年度 The year: every period of the rubric that ends in it.
    #[arg(long)]
    pub year: Option<i32>,
    /// 考核周期 Instead of a year, the periods to combine (repeat, or separate with commas).
    #[arg(long, value_delimiter = ',')]
    pub periods: Vec<PeriodId>,
    /// 考评细则 The rubric, when periods of several rubrics end in the year.
    #[arg(long)]
    pub rubric: Option<RubricId>,
    #[command(flatten)]
    pub at: AsOfArgs,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// What `annual` prints: the result, the unit names at that point, and when the point was.
struct AnnualAt {
    result: AnnualResult,
    names: Vec<String>,
    recorded_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn run(args: AnnualArgs) -> anyhow::Result<()> {
    super::read::adopt_zone(&args.ledger.path)?;
    let at = args.at.read_at();
    let found = with_reads(&args.ledger.path, async |reads| {
        let answer = reads
            .query(at, |view| {
                let rubric = args.rubric.as_ref();
                let span: Span = match args.year {
                    Some(year) => year_span(view.state(), year, rubric),
                    None => periods_span(view.state(), &args.periods, rubric),
                }
                .map_err(|e| e.to_string())?;
                let result = view
                    .annual(&span)
                    .ok_or_else(|| "the span's rubric version is missing".to_owned())?;
                let names = unit_names(view.state(), result.units.iter().map(|u| &u.unit));
                Ok::<_, String>((result, names))
            })
            .await?;
        match answer {
            Ok((result, names)) => Ok(AnnualAt {
                recorded_at: recorded_at(reads, result.as_of).await?,
                result,
                names,
            }),
            Err(why) => bail!(why),
        }
    })?;
    print(&found, args.year, args.format)
}

fn print(found: &AnnualAt, year: Option<i32>, format: FormatArgs) -> anyhow::Result<()> {
    let AnnualAt {
        result: a,
        names,
        recorded_at,
    } = found;
    let mut out = std::io::stdout().lock();
    if format.json {
        serde_json::to_writer_pretty(&mut out, a)?;
        writeln!(out)?;
        return Ok(());
    }
    let period_figure = |u: &ledger_projections::read::AnnualUnit, period: &PeriodId| {
        u.periods
            .iter()
            .find(|p| &p.period == period)
            .map(|p| p.figure.to_string())
    };
    if format.csv {
        let mut w = crate::csv_out::CsvWriter::new(out, format.csv_style())?;
        // One language per file: yes/no and labels in the file's language.
        let lang = format.csv_style().lang();
        let yes_no = |b: bool| crate::csv_out::yes_no(lang, b).csv_text();
        let mut header: Vec<(String, String)> = [
            ("year", "年度"),
            ("rubric", "评分细则"),
            ("rule_version", "年度规则版本"),
            ("rank", "名次"),
            ("unit", "单位"),
            ("unit_name", "单位名称"),
            ("figure", "年度得分"),
            ("grade", "等次代码"),
            ("grade_label", "等次"),
            ("capped_by_veto", "一票否决"),
            ("vetoed_in", "否决所在周期"),
            ("partial", "周期不全"),
        ]
        .map(|(e, z)| (e.to_owned(), z.to_owned()))
        .to_vec();
        header.extend(
            a.periods
                .iter()
                .map(|p| (format!("period_{}", p.period), format!("{} 得分", p.period))),
        );
        header.extend(
            [("complete", "评分完成"), ("as_of_position", "截至记录序号")]
                .map(|(e, z)| (e.to_owned(), z.to_owned())),
        );
        w.header(header)?;
        for (u, name) in a.units.iter().zip(names) {
            let mut row = vec![
                opt(year),
                a.rubric.to_string(),
                a.rule_version.to_string(),
                opt(u.rank),
                u.unit.to_string(),
                name.clone(),
                opt(u.figure),
                opt(u.grade.as_ref()),
                u.grade_label
                    .as_ref()
                    .map_or_else(String::new, |l| lang.text(l)),
                yes_no(u.capped_by_veto),
                u.vetoed_in
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(";"),
                yes_no(u.partial),
            ];
            row.extend(
                a.periods
                    .iter()
                    .map(|p| period_figure(u, &p.period).unwrap_or_default()),
            );
            row.extend([yes_no(a.complete), a.as_of.to_string()]);
            w.row(row)?;
        }
        w.finish()?;
        return Ok(());
    }

    writeln!(
        out,
        "{} · 评分细则 rubric {} 第 {} 版的规则 (the rule of version {}): {} · 截至位置 as of position {}{}",
        year.map_or_else(
            || "年度考核 the span's result".to_owned(),
            |y| format!("{y} 年度考核 ({y}: the year's result)")
        ),
        a.rubric,
        a.rule_version,
        a.rule_version,
        AnnualRuleLabel(&a.rule),
        a.as_of,
        recorded_at.map_or_else(String::new, |t| format!(" ({})", time_text(t)))
    )?;
    let mut columns: Vec<(String, Align)> = vec![
        ("名次 rank".into(), Align::Right),
        ("单位 unit".into(), Align::Left),
        ("名称 name".into(), Align::Left),
    ];
    columns.extend(a.periods.iter().map(|p| {
        let mark = if p.counted {
            ""
        } else {
            " (未计 not counted)"
        };
        (
            format!("{} ×{}{mark}", p.period, p.weight.normalize()),
            Align::Right,
        )
    }));
    columns.push(("年度 year".into(), Align::Right));
    columns.push(("等次 grade".into(), Align::Left));
    let refs: Vec<(&str, Align)> = columns.iter().map(|(h, a)| (h.as_str(), *a)).collect();
    let mut table = Table::new(&refs);
    for (u, name) in a.units.iter().zip(names) {
        let mut row = vec![
            u.rank.map_or_else(|| "—".into(), |r| r.to_string()),
            u.unit.to_string(),
            name.clone(),
        ];
        for p in &a.periods {
            let vetoed = u.vetoed_in.contains(&p.period);
            row.push(match period_figure(u, &p.period) {
                Some(f) if vetoed => format!("{f} 否决 veto"),
                Some(f) => f,
                None => "—".into(),
            });
        }
        row.push(u.figure.map_or_else(|| "—".into(), |f| f.to_string()));
        let mut grade = u
            .grade_label
            .as_ref()
            .map_or_else(|| "—".into(), |l| l.zh.clone());
        if u.capped_by_veto {
            grade.push_str(" (一票否决 veto)");
        }
        if u.partial {
            grade.push_str(" *");
        }
        row.push(grade);
        table.row(row);
    }
    table.write(&mut out)?;
    if a.units.iter().any(|u| u.partial) {
        writeln!(
            out,
            "* 未参加全部考核周期, 按其参加的周期计算 (not assessed in every period: the year is over the periods it was assessed in)"
        )?;
    }
    let waiting: Vec<String> = a
        .periods
        .iter()
        .filter(|p| !p.counted)
        .map(|p| format!("{} ({})", p.period, p.stage.label()))
        .collect();
    if !waiting.is_empty() {
        writeln!(
            out,
            "未计入 (not counted: not published, or weighing nothing): {}",
            waiting.join(", ")
        )?;
    }
    Ok(())
}
