//! Authentication and read authorization: who is calling, and what they may see.
//!
//! Every operation declares a [`Gate`] in the route table (`routes.rs`): public, or the roles that may
//! call it. [`gate`] runs before the handler: it reads `Authorization: Bearer {token}`, asks the
//! [`TokenAuthority`](crate::app::tokens::TokenAuthority) whose token it is (401 if no one's), refuses
//! a role outside the gate (403, before the body is even read, so nothing is recorded), and hands the
//! handler a [`Caller`]. The acting person of every event is the caller; no request body can name it.
//!
//! Writes are then decided by the domain, which checks scope (an assessor's units, a unit's own
//! sheet, a rectification's responsible person). Reads are scoped here, by [`Caller::may_read_unit`]
//! and friends, the one place that says what each role may see:
//!
//! | role | reads |
//! |---|---|
//! | admin, reviewer, auditor | everything their gate admits |
//! | assessor | the sheets, items, histories, appeals and rectifications of the units assigned to them |
//! | unit | the same for its own units only; its own unit in the unit list |
//! | responsible | no unit's records; the rectifications raised to them |
//! | anyone | their own accountability (what they are responsible for) |
//!
//! The scope is taken from the ledger's current state, also for reads as of an earlier point: access
//! is judged now, whatever the past looked like.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ledger_schemas::envelope::{Actor, Role};
use ledger_schemas::ids::{PersonId, UnitId};

use super::Api;
use super::error::ApiError;
use super::routes::Kind;
use crate::store::EventStore;

/// Every role a token can be issued for.
pub const EVERY_ROLE: &[Role] = &[
    Role::Admin,
    Role::Assessor,
    Role::Reviewer,
    Role::Auditor,
    Role::Unit,
    Role::Responsible,
];

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// No token needed (the OpenAPI document).
    Public,
    /// A valid token for one of these roles.
    Roles(&'static [Role]),
}

impl Gate {
    pub fn admits(self, role: Role) -> bool {
        match self {
            Gate::Public => true,
            Gate::Roles(roles) => roles.contains(&role),
        }
    }
}

/// What a caller's role lets them see of the units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Units(BTreeSet<UnitId>),
    /// Not computed: a write's scope is the domain's to check, and an assessor may cover thousands
    /// of units (copying them on every score would cost more than the score). Reads nothing.
    Writes,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub scope: Scope,
}

impl Caller {
    pub fn person(&self) -> &PersonId {
        &self.actor.person
    }

    pub fn role(&self) -> Role {
        self.actor.role
    }

    /// Whether the caller may read what belongs to `unit` (its sheets, histories, appeals, ...).
    pub fn may_read_unit(&self, unit: &UnitId) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Units(units) => units.contains(unit),
            Scope::Writes => false,
        }
    }

    /// Refuses a read of another unit's records.
    pub fn require_unit(&self, unit: &UnitId) -> Result<(), ApiError> {
        if self.may_read_unit(unit) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} ({}) 只能查看其负责的单位, 不能查看单位 {unit} ({} ({}) may read only the units in their scope, not {unit})",
                self.person(),
                zh(self.role().label()),
                self.person(),
                self.role()
            )))
        }
    }

    /// Whether the caller may read a person's accountability: their own, or anyone's for roles that
    /// see everything.
    pub fn may_read_person(&self, person: &PersonId) -> bool {
        self.person() == person || self.scope == Scope::All
    }

    pub fn require_person(&self, person: &PersonId) -> Result<(), ApiError> {
        if self.may_read_person(person) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} 只能查看本人的责任事项, 不能查看 {person} 的 ({} may read only their own accountability, not {person}'s)",
                self.person(),
                self.person()
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::internal("路由未经认证网关 (the route has no authentication gate)")
        })
    }
}

/// Authenticates the request and admits it through the operation's gate (see the module docs).
pub async fn gate<S: EventStore>(
    State((api, gate, kind)): State<(Arc<Api<S>>, Gate, Kind)>,
    mut request: Request,
    next: Next,
) -> Response {
    let Gate::Roles(roles) = gate else {
        return next.run(request).await;
    };
    // Copied out, so that no borrow of the request (whose body is not `Sync`) lives across `.await`.
    let presented: Vec<HeaderValue> = request
        .headers()
        .get_all(AUTHORIZATION)
        .iter()
        .cloned()
        .collect();
    match authenticate(&api, &presented, kind).await {
        Ok(caller) if roles.contains(&caller.role()) => {
            super::observe::note_person(caller.person().as_str());
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(caller) => {
            let half = |en: bool| -> Vec<&str> {
                roles
                    .iter()
                    .map(|r| if en { r.as_str() } else { zh(r.label()) })
                    .collect()
            };
            ApiError::forbidden(format!(
                "{}无权进行此操作, 可进行此操作的角色: {} (role {} may not call this operation; allowed: {})",
                zh(caller.role().label()),
                half(false).join("、"),
                caller.role(),
                half(true).join(", ")
            ))
            .into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// The caller of a request, from its bearer token.
async fn authenticate<S: EventStore>(
    api: &Api<S>,
    presented: &[HeaderValue],
    kind: Kind,
) -> Result<Caller, ApiError> {
    let mut values = presented.iter();
    let Some(value) = values.next() else {
        return Err(ApiError::unauthenticated(
            "missing-token",
            "缺少 Authorization: Bearer 访问令牌 (no Authorization: Bearer token)",
        ));
    };
    let malformed = || {
        ApiError::unauthenticated(
            "malformed-authorization",
            "Authorization 头须为“Bearer 令牌” (the Authorization header must be `Bearer <token>`)",
        )
    };
    if values.next().is_some() {
        return Err(malformed());
    }
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed());
    }
    let actor = api.tokens.authenticate(&api.ledger, token.trim()).await?;
    let scope = if kind == Kind::Write {
        Scope::Writes
    } else {
        let folded = api.ledger.folded();
        let covered = |role| {
            folded
                .state
                .people
                .get(&actor.person)
                .and_then(|p| p.roles.get(&role))
                .cloned()
                .unwrap_or_default()
        };
        match actor.role {
            Role::Assessor => Scope::Units(covered(Role::Assessor)),
            Role::Unit => Scope::Units(covered(Role::Unit)),
            // A responsible person reads no unit's records as such: what they answer for comes
            // through their accountability, their 待办 and the rectifications raised to them.
            Role::Responsible => Scope::Units(BTreeSet::new()),
            Role::Admin | Role::Reviewer | Role::Auditor | Role::System => Scope::All,
        }
    };
    Ok(Caller { actor, scope })
}

/// The Chinese half of a bilingual label "中文 English" (`Role::label`).
fn zh(label: &'static str) -> &'static str {
    label.split_once(' ').map_or(label, |(zh, _)| zh)
}
