//! `ledger demo --ledger FILE [--serve --listen ADDR:PORT]`: builds the demo ledger ([`crate::demo`])
//! into a new or empty ledger file and prints what it holds, a token per role and, with `--serve`,
//! the URL it serves on.
//!
//! It never writes into a ledger that already holds events, and never deletes one: the demo's ids
//! would clash with what is there, and a demo mixed into real records would be worse than useless.
//! Choose another `--ledger` file (or serve the existing one with `ledger serve`).

use std::io::Write;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use unicode_width::UnicodeWidthStr;

use super::LedgerArg;
use super::table::{Align, Table, pad};
use crate::demo::{self, DemoSummary};
use crate::store::{EventStore, SqliteStore};

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub ledger: LedgerArg,
    /// 同时提供 HTTP 接口 Serve the demo ledger over HTTP as well, until Ctrl-C.
    #[arg(long)]
    pub serve: bool,
    /// 监听地址 With `--serve`: the address and port to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080", requires = "serve")]
    pub listen: String,
    /// 输出 JSON Print the summary (milestones, tokens) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where the demo's evidence files are stored (default: FILE.evidence/ beside the ledger).
    #[command(flatten)]
    pub evidence: crate::evidence::EvidenceArgs,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    let path = args.ledger.path.clone();
    let started = Instant::now();
    let (summary, evidence) = rt.block_on(async {
        let store = SqliteStore::open(&path).with_context(|| {
            format!("无法打开账本 (cannot open the ledger) {}", path.display())
        })?;
        let head = store.head().await;
        // The demo creates the ledger on its own clock (see `crate::demo`): this handle only looks.
        store.close().await;
        let head = head?;
        if head > 0 {
            bail!(
                "{}: 账本已有 {head} 个事件, 演示数据只写入新的或空的账本 (the ledger already holds {head} events; the demo is built only into a new or empty ledger); 请换一个 --ledger 文件, 或用 `ledger serve` 提供现有账本 (choose another --ledger file, or serve this one with `ledger serve`)",
                path.display()
            );
        }
        let bar = ProgressBar::new(demo::PLANNED_COMMANDS);
        bar.set_style(
            ProgressStyle::with_template("{msg:40} [{bar:40}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message("构建演示账本 building the demo");
        let evidence = args.evidence.open(&path)?;
        let summary = demo::create_with_evidence(&path, &evidence, &bar).await;
        bar.finish_and_clear();
        anyhow::Ok((summary?, evidence))
    })?;
    let elapsed = started.elapsed();

    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&args, &summary, elapsed)?;
    }
    if !args.serve {
        return Ok(());
    }
    let json = args.json;
    // The server serves the files the demo cites, and takes uploads, from the store it wrote them to.
    let mut config = crate::server::ServeConfig::new(path.to_string_lossy(), args.listen.clone());
    config.evidence = Some(evidence);
    rt.block_on(async {
        crate::server::serve(
        &config,
        super::serve::shutdown_signal(),
        move |addr| {
            if json {
                // Scripts read the address from standard error, keeping stdout one JSON document.
                eprintln!("http://{addr}/api/v1");
            } else {
                println!();
                println!("网页控制台 Web console: http://{addr}/   (用上面任一令牌登录 sign in with a token above)");
                println!("接口地址 URL: http://{addr}/api/v1   (接口说明 OpenAPI: http://{addr}/api/v1/openapi.json)");
                println!("例如 e.g.: curl -H \"Authorization: Bearer <token>\" http://{addr}/api/v1/periods/{}/standings", demo::PUBLISHED_PERIOD);
                println!("按 Ctrl-C 停止 (Ctrl-C stops the server)");
            }
            let _ = std::io::stdout().flush();
        },
    )
        .await
    })
}

fn print_summary(
    args: &DemoArgs,
    summary: &DemoSummary,
    elapsed: std::time::Duration,
) -> anyhow::Result<()> {
    let file = args.ledger.path.display();
    println!(
        "已构建演示账本 {file}: {} 条命令, {} 个事件, 用时 {:.1} 秒 (built the demo ledger {file}: {} commands, {} events, {:.1} s)",
        summary.commands,
        summary.head,
        elapsed.as_secs_f64(),
        summary.commands,
        summary.head,
        elapsed.as_secs_f64()
    );
    println!(
        "考核周期 periods: {} 已公示 (published), {} 审核中 (in review)",
        demo::PUBLISHED_PERIOD,
        demo::REVIEW_PERIOD
    );
    println!();
    println!(
        "时间节点, 日期可用于 --as-of 与控制台的日期选择 (milestones: each date works in --as-of and in the console's date picker):"
    );
    let mut table = Table::new(&[
        ("日期 date", Align::Left),
        ("记录时间 recorded at (北京时间 Beijing time)", Align::Left),
        ("位置 position", Align::Right),
        ("节点 milestone", Align::Left),
    ]);
    for m in &summary.milestones {
        table.row(vec![
            m.date.to_string(),
            crate::app::clock::business_time(m.recorded_at),
            m.position.to_string(),
            m.label.to_owned(),
        ]);
    }
    table.print()?;
    if let Some(published) = summary
        .milestones
        .iter()
        .find(|m| m.label.starts_with("2026Q3 公示"))
    {
        println!(
            "例如 e.g.: ledger standings --ledger {file} --period {} --as-of {}",
            demo::PUBLISHED_PERIOD,
            published.date
        );
    }
    println!(
        "年度考核 the year's result (2026Q4 counts once published): ledger annual --ledger {file} --year 2026"
    );
    println!(
        "佐证材料 evidence: {} 个文件存于 {} ({} files stored in {}), 被自评、申诉与整改引用 (cited by a self-assessment, an appeal and a rectification); 校验 check them: ledger verify --ledger {file}",
        summary.evidence.len(),
        summary.evidence_store,
        summary.evidence.len(),
        summary.evidence_store
    );
    println!();
    println!("每个角色一个令牌, 只显示这一次 (one token per role, shown this once):");
    // Tokens are long: printed whole, not in a table that would shorten them.
    let role_width = summary
        .tokens
        .iter()
        .map(|t| t.role.label().width())
        .max()
        .unwrap_or(0);
    for t in &summary.tokens {
        println!(
            "  {}  {}  {}",
            pad(t.role.label(), role_width),
            t.token,
            t.name
        );
    }
    if !args.serve {
        println!();
        println!(
            "提供接口 serve it: ledger serve --ledger {file}   (或下次直接 or next time: ledger demo --serve)"
        );
    }
    Ok(())
}
