//! Bearer tokens: issuing them and recognising them again.
//!
//! A token as a client holds it is `{token-id}~{secret}`: the token's id (a ledger identifier, which
//! can never contain `~`) and 32 bytes from the operating system's randomness in lowercase hex. The
//! ledger records only the SHA-256 of the secret part, in the `TokenIssued` event; revoking a token is
//! a `TokenRevoked` event. Nothing here knows HTTP: the HTTP layer hands over the string it found after
//! `Bearer `, and the command line prints what [`issue_token`] returns.
//!
//! [`TokenAuthority::authenticate`] turns a presented token into the [`Actor`] it speaks for. The
//! write model knows every token's person, role, expiry and revocation, but not its digest (no
//! decision needs it), so the authority reads the digest from the token's own stream the first time
//! the token is presented and keeps it: a digest never changes, while revocation, expiry and the
//! person's roles are checked against the current state on every request.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use ledger_projections::domain::Command;
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::events::Event;
use ledger_schemas::ids::{PersonId, TokenId, UnitId, stream};
use ledger_schemas::integrity::Digest;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{AppError, Executed, Ledger};
use crate::store::{Direction, EventStore, ReadFrom};

/// Separates a token's id from its secret; no identifier can contain it.
pub const SEPARATOR: char = '~';
/// Random bytes in a secret (256 bits).
const SECRET_BYTES: usize = 32;

/// A freshly issued token. `bearer` is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: TokenId,
    pub person: PersonId,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    /// What the client sends after `Bearer `: `{token}~{secret}`.
    pub bearer: String,
    /// The `TokenIssued` event as recorded.
    pub executed: Executed,
}

/// Why a presented token does not authenticate anyone. The HTTP layer answers all of them with 401
/// and a reason, never with the token's secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error(
        "令牌格式无效, 应为“令牌标识~64位十六进制密钥” (the token is malformed; expected `token-id~64 hex digits`)"
    )]
    Malformed,
    #[error("令牌无效 (the token is not valid)")]
    Unknown,
    #[error("令牌 {token} 已被吊销 (token {token} has been revoked)")]
    Revoked { token: TokenId },
    #[error("令牌 {token} 已于 {at} 过期 (token {token} expired at {at})")]
    Expired { token: TokenId, at: DateTime<Utc> },
    #[error(
        "令牌 {token} 对应的角色 {role} 已被撤销 (the role {role} of token {token} has been revoked from its holder)"
    )]
    RoleRevoked { token: TokenId, role: Role },
}

/// Draws a new secret from the operating system's randomness.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// The SHA-256 of a secret, as `TokenIssued` records it.
pub fn secret_digest(secret: &str) -> Digest {
    Digest(Sha256::digest(secret.as_bytes()).into())
}

/// A new token id: `tok-` and a UUID v7, so ids sort by issue time.
pub fn new_token_id() -> TokenId {
    TokenId::new(format!("tok-{}", Uuid::now_v7().simple())).expect("a valid id")
}

/// Splits `{token}~{secret}`, refusing anything that could not have been issued.
pub fn parse_bearer(presented: &str) -> Result<(TokenId, &str), AuthFailure> {
    let (id, secret) = presented
        .split_once(SEPARATOR)
        .ok_or(AuthFailure::Malformed)?;
    let token = TokenId::new(id).map_err(|_| AuthFailure::Malformed)?;
    let well_formed = secret.len() == SECRET_BYTES * 2
        && secret
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(AuthFailure::Malformed);
    }
    Ok((token, secret))
}

/// Issues a token as `actor` for a person who already holds `role` (the admin's way: access is
/// granted by its own command). The secret is returned once, inside [`IssuedToken::bearer`].
pub async fn issue_token_as<S: EventStore>(
    ledger: &Ledger<S>,
    actor: Actor,
    person: PersonId,
    role: Role,
    expires_at: Option<DateTime<Utc>>,
    correlation_id: Uuid,
) -> Result<IssuedToken, IssueError> {
    let secret = new_secret().map_err(|e| IssueError::Randomness(e.to_string()))?;
    let token = new_token_id();
    let executed = ledger
        .execute_correlated(
            actor,
            Command::IssueToken {
                token: token.clone(),
                person: person.clone(),
                role,
                secret_sha256: secret_digest(&secret),
                expires_at,
            },
            correlation_id,
        )
        .await?;
    let bearer = format!("{token}{SEPARATOR}{secret}");
    Ok(IssuedToken {
        token,
        person,
        role,
        expires_at,
        bearer,
        executed,
    })
}

/// Issues a token from the machine that holds the ledger (the command line, acting as `system`):
/// registers the person if the ledger does not know them (named by their id), grants `role` if they
/// do not hold it (for `assessor` and `unit`, over `units`; with no `units` an existing grant is kept
/// as it is), and returns the bearer string `{token}~{secret}`. Every step is an event.
pub async fn issue_token<S: EventStore>(
    ledger: &Ledger<S>,
    person: &PersonId,
    role: Role,
    units: &[UnitId],
) -> Result<String, IssueError> {
    let system = Actor::system();
    let (known, held) = {
        let folded = ledger.folded();
        let holder = folded.state.people.get(person);
        (
            holder.is_some(),
            holder.and_then(|p| p.roles.get(&role).cloned()),
        )
    };
    if !known {
        ledger
            .execute(
                system.clone(),
                Command::RegisterPerson {
                    person: person.clone(),
                    name: person.to_string(),
                    unit: None,
                },
            )
            .await?;
    }
    let wanted: std::collections::BTreeSet<UnitId> = units.iter().cloned().collect();
    let grant = match &held {
        None => true,
        Some(current) => !units.is_empty() && *current != wanted,
    };
    if grant {
        ledger
            .execute(
                system.clone(),
                Command::GrantAccess {
                    person: person.clone(),
                    role,
                    units: units.to_vec(),
                    reason: Some("命令行签发令牌 (token issued from the command line)".to_owned()),
                },
            )
            .await?;
    }
    let issued = issue_token_as(ledger, system, person.clone(), role, None, Uuid::now_v7()).await?;
    Ok(issued.bearer)
}

/// Recognises presented tokens (see the module docs for what is cached and what is checked each time).
#[derive(Debug, Default)]
pub struct TokenAuthority {
    digests: RwLock<HashMap<TokenId, Digest>>,
}

impl TokenAuthority {
    pub fn new() -> Self {
        Self::default()
    }

    /// The actor a presented token speaks for, or why it speaks for no one.
    pub async fn authenticate<S: EventStore>(
        &self,
        ledger: &Ledger<S>,
        presented: &str,
    ) -> Result<Actor, AppAuthError> {
        let (token, secret) = parse_bearer(presented)?;
        if !ledger.folded().state.tokens.contains_key(&token) {
            // Issued by another process (the command line) since this one last folded the log.
            ledger.catch_up().await?;
        }
        let (person, role, expires_at, revoked) = {
            let folded = ledger.folded();
            let Some(t) = folded.state.tokens.get(&token) else {
                return Err(AuthFailure::Unknown.into());
            };
            (t.person.clone(), t.role, t.expires_at, t.revoked)
        };
        let expected = self.digest_of(ledger, &token).await?;
        if !constant_time_eq(&expected.0, &secret_digest(secret).0) {
            return Err(AuthFailure::Unknown.into());
        }
        if revoked {
            return Err(AuthFailure::Revoked { token }.into());
        }
        if let Some(at) = expires_at
            && at <= ledger.clock().now()
        {
            return Err(AuthFailure::Expired { token, at }.into());
        }
        if !ledger.folded().state.holds(&person, role) {
            return Err(AuthFailure::RoleRevoked { token, role }.into());
        }
        Ok(Actor::new(person, role))
    }

    /// The recorded digest of a token's secret: from the cache, or from its `TokenIssued` event.
    async fn digest_of<S: EventStore>(
        &self,
        ledger: &Ledger<S>,
        token: &TokenId,
    ) -> Result<Digest, AppAuthError> {
        if let Some(digest) = self
            .digests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
        {
            return Ok(*digest);
        }
        let first = ledger
            .store()
            .read_stream(
                &stream::token(token),
                Direction::Forwards,
                ReadFrom::Edge,
                1,
            )
            .await
            .map_err(AppError::from)?;
        let digest = match first.first().map(|e| e.decode()) {
            Some(Ok(Event::TokenIssued(issued))) => issued.secret_sha256,
            Some(Err(err)) => return Err(AppError::from(err).into()),
            _ => return Err(AuthFailure::Unknown.into()),
        };
        self.digests
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), digest);
        Ok(digest)
    }
}

/// Why no token was issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The ledger refused or failed (an unknown person, a role not held, ...).
    #[error(transparent)]
    App(#[from] AppError),
    #[error("操作系统随机数不可用 (the operating system's randomness is unavailable): {0}")]
    Randomness(String),
}

/// Authentication either refuses the token or could not look (the store failed).
#[derive(Debug, thiserror::Error)]
pub enum AppAuthError {
    #[error(transparent)]
    Refused(#[from] AuthFailure),
    #[error(transparent)]
    App(#[from] AppError),
}

/// Compares two digests without an early exit, so the time taken says nothing about where they differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only `{token-id}~{64 lowercase hex}` parses; anything else is `Malformed`.
    #[test]
    fn bearer_strings_parse_only_in_the_issued_shape() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 64);
        let bearer = format!("tok-1~{secret}");
        let (token, parsed) = parse_bearer(&bearer).unwrap();
        assert_eq!(token.as_str(), "tok-1");
        assert_eq!(parsed, secret);
        for bad in [
            "",
            "tok-1",
            "tok-1~",
            "~abc",
            "tok 1~00",
            &format!("tok-1~{}", "A".repeat(64)),
            &format!("tok-1~{}", "0".repeat(63)),
        ] {
            assert_eq!(parse_bearer(bad), Err(AuthFailure::Malformed), "{bad:?}");
        }
    }

    /// Secrets come from the OS and differ; their digests differ and compare equal to themselves.
    #[test]
    fn two_secrets_differ_and_only_their_digest_is_kept() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert_ne!(secret_digest(&a), secret_digest(&b));
        assert!(constant_time_eq(&secret_digest(&a).0, &secret_digest(&a).0));
    }
}
