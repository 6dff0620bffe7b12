//! `ledger token ...`: issue, revoke and list bearer tokens from the machine that holds the ledger.
//!
//! The command line acts as the ledger itself (`system`), which is how the first admin token comes
//! into being. `issue` registers the person if the ledger does not know them and grants the role if
//! they do not hold it (every step an event, see `app::tokens::issue_token`), then prints **the token
//! alone** on standard output, so that `TOKEN=$(ledger token issue ...)` works in scripts. The
//! secret is shown this once; the ledger keeps only its SHA-256.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use ledger_projections::domain::Command;
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::ids::{PersonId, TokenId, UnitId};

use super::LedgerArg;
use super::table::{Align, Table};
use crate::app::tokens::{self, SEPARATOR};
use crate::app::{Clock, Ledger};
use crate::store::SqliteStore;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// 签发令牌 Issue a token (creating the person and granting the role if needed); prints the token
    /// alone.
    Issue {
        #[command(flatten)]
        ledger: LedgerArg,
        /// 人员标识 The person's id, e.g. `admin-li`.
        #[arg(long)]
        person: PersonId,
        /// 角色 admin, assessor, reviewer, auditor or unit.
        #[arg(long)]
        role: Role,
        /// 覆盖单位 The units an assessor or unit role covers (repeat the option for several).
        #[arg(long = "unit")]
        units: Vec<UnitId>,
    },
    /// 吊销令牌 Revoke a token, by its id (or the whole token as issued).
    Revoke {
        #[command(flatten)]
        ledger: LedgerArg,
        /// 令牌标识 The token's id (`tok-…`), or the token as issued (`tok-…~secret`).
        #[arg(long)]
        token: String,
        /// 原因 Why it is revoked.
        #[arg(long)]
        reason: Option<String>,
    },
    /// 列出令牌 List the tokens issued: id, person, role, expiry, revoked (never a secret).
    List {
        #[command(flatten)]
        ledger: LedgerArg,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: TokenCommand) -> anyhow::Result<()> {
    let rt = super::runtime()?;
    match command {
        TokenCommand::Issue {
            ledger,
            person,
            role,
            units,
        } => {
            let bearer = rt.block_on(async {
                let store = Arc::new(SqliteStore::open_existing(&ledger.path)?);
                let app = Ledger::open(store.clone(), Clock::System).await?;
                // Bind the check's result first: a guard from `folded()` must not live into the
                // `.await` below, or the fold that `issue_token` triggers would wait on it forever.
                let checked = precheck(&app.folded().state, &person, role, &units);
                let issued = match checked {
                    Err(why) => Err(anyhow::Error::msg(why)),
                    Ok(()) => tokens::issue_token(&app, &person, role, &units)
                        .await
                        .map_err(anyhow::Error::from),
                };
                store.close().await;
                anyhow::Ok(issued.with_context(|| {
                    format!(
                        "无法为 {person} 签发{}令牌 (cannot issue a token for {person} as {role})",
                        role.label()
                    )
                })?)
            })?;
            // The token alone, so that scripts can capture it.
            println!("{bearer}");
            Ok(())
        }
        TokenCommand::Revoke {
            ledger,
            token,
            reason,
        } => {
            let id_part = token.split(SEPARATOR).next().unwrap_or_default();
            let token: TokenId = id_part.parse()?;
            rt.block_on(async {
                let store = Arc::new(SqliteStore::open_existing(&ledger.path)?);
                let app = Ledger::open(store.clone(), Clock::System).await?;
                let result = app
                    .execute(
                        Actor::system(),
                        Command::RevokeToken {
                            token: token.clone(),
                            reason,
                        },
                    )
                    .await;
                store.close().await;
                result?;
                anyhow::Ok(())
            })?;
            println!("已吊销令牌 {token} (revoked token {token})");
            Ok(())
        }
        TokenCommand::List { ledger, json } => {
            let rows = rt.block_on(async {
                let store = Arc::new(SqliteStore::open_existing(&ledger.path)?);
                let app = Ledger::open(store.clone(), Clock::System).await?;
                let rows: Vec<TokenRow> = {
                    let folded = app.folded();
                    let state = &folded.state;
                    state
                        .tokens
                        .iter()
                        .map(|(id, t)| TokenRow {
                            token: id.clone(),
                            person: t.person.clone(),
                            name: state
                                .people
                                .get(&t.person)
                                .map(|p| p.name.clone())
                                .unwrap_or_default(),
                            role: t.role,
                            expires_at: t.expires_at,
                            revoked: t.revoked,
                        })
                        .collect()
                };
                store.close().await;
                anyhow::Ok(rows)
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
                return Ok(());
            }
            if rows.is_empty() {
                println!(
                    "尚未签发令牌 (no tokens yet); 用 `ledger token issue` 签发 (issue one with `ledger token issue`)"
                );
                return Ok(());
            }
            let mut table = Table::new(&[
                ("令牌 token", Align::Left),
                ("人员 person", Align::Left),
                ("姓名 name", Align::Left),
                ("角色 role", Align::Left),
                ("到期 expires", Align::Left),
                ("状态 status", Align::Left),
            ]);
            for r in rows {
                table.row(vec![
                    r.token.to_string(),
                    r.person.to_string(),
                    r.name,
                    r.role.label().to_owned(),
                    r.expires_at
                        .map_or_else(|| "不过期 never".to_owned(), |t| t.to_rfc3339()),
                    if r.revoked {
                        "已吊销 revoked".to_owned()
                    } else {
                        "有效 active".to_owned()
                    },
                ]);
            }
            table.print()?;
            Ok(())
        }
    }
}

/// One token as `token list` shows it.
#[derive(Debug, serde::Serialize)]
struct TokenRow {
    token: TokenId,
    person: PersonId,
    name: String,
    role: Role,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    revoked: bool,
}

/// Refuses, before anything is recorded, what would fail halfway: issuing registers the person and
/// grants the role as separate events, so a grant the domain would refuse must not leave a person
/// registered behind it.
fn precheck(
    state: &ledger_projections::domain::State,
    person: &PersonId,
    role: Role,
    units: &[UnitId],
) -> Result<(), String> {
    if role == Role::System {
        return Err("系统角色不能签发令牌 (no token is issued for the system role)".into());
    }
    if let Some(unknown) = units.iter().find(|u| !state.units.contains_key(*u)) {
        return Err(format!("没有单位 {unknown} (there is no unit {unknown})"));
    }
    let scoped = matches!(role, Role::Assessor | Role::Unit);
    if !scoped && !units.is_empty() {
        return Err(format!(
            "{}角色不按单位划分, 不能指定 --unit (the role {role} is not scoped by unit; give no --unit)",
            role.label()
        ));
    }
    if scoped && units.is_empty() && !state.holds(person, role) {
        return Err(format!(
            "{}角色须用 --unit 指定其覆盖的单位 (the role {role} needs the units it covers: --unit ID, repeatable)",
            role.label()
        ));
    }
    Ok(())
}
