//! Units (a hierarchy without cycles), people, roles and tokens.

use std::collections::BTreeSet;

use ledger_schemas::envelope::Role;
use ledger_schemas::events::{
    AccessGranted, AccessRevoked, BusinessZoneSet, PersonRegistered, TokenIssued, TokenRevoked,
    UnitRegistered, UnitUpdated,
};
use ledger_schemas::ids::UnitId;
use ledger_schemas::zone::Zone;

use super::{Decision, optional_reason, require};
use crate::domain::command::{Command, Context};
use crate::domain::rejection::Rejection;
use crate::domain::state::State;

pub(super) fn decide(
    state: &State,
    ctx: &Context,
    command: Command,
) -> Result<Decision, Rejection> {
    match command {
        // Once, first: a zone changed later would read the times already typed and the due dates
        // already judged on another clock than the one they were meant on.
        Command::SetBusinessZone { zone } => {
            let Some(known) = Zone::named(&zone) else {
                return Err(Rejection::UnknownZone {
                    zone,
                    known: Zone::known_names(),
                });
            };
            if state.position > 0 {
                return Err(Rejection::ZoneAfterEvents {
                    events: state.position,
                });
            }
            Ok(Decision::one(
                state,
                BusinessZoneSet {
                    zone: known.name.to_owned(),
                },
                None,
            ))
        }
        Command::RegisterUnit {
            unit,
            name,
            kind,
            parent,
        } => {
            if state.units.contains_key(&unit) {
                return Err(Rejection::UnitExists { unit });
            }
            require(&name, "单位名称 unit name")?;
            if let Some(parent) = &parent {
                require_unit(state, parent)?;
            }
            Ok(Decision::one(
                state,
                UnitRegistered {
                    unit,
                    name,
                    kind,
                    parent,
                },
                None,
            ))
        }
        Command::UpdateUnit {
            unit,
            name,
            parent,
            reason,
        } => {
            require_unit(state, &unit)?;
            require(&name, "单位名称 unit name")?;
            if let Some(parent) = &parent {
                require_unit(state, parent)?;
                // The new parent may be neither the unit itself nor anything below it.
                if parent == &unit || state.ancestors(parent).contains(&unit) {
                    return Err(Rejection::HierarchyCycle {
                        unit,
                        parent: parent.clone(),
                    });
                }
            }
            Ok(Decision::one(
                state,
                UnitUpdated { unit, name, parent },
                optional_reason(reason),
            ))
        }
        Command::RegisterPerson { person, name, unit } => {
            if state.people.contains_key(&person) {
                return Err(Rejection::PersonExists { person });
            }
            require(&name, "姓名 name")?;
            if let Some(unit) = &unit {
                require_unit(state, unit)?;
            }
            Ok(Decision::one(
                state,
                PersonRegistered { person, name, unit },
                None,
            ))
        }
        Command::GrantAccess {
            person,
            role,
            units,
            reason,
        } => {
            if role == Role::System {
                return Err(Rejection::SystemRoleReserved);
            }
            let Some(holder) = state.people.get(&person) else {
                return Err(Rejection::UnknownPerson { person });
            };
            let scoped = matches!(role, Role::Assessor | Role::Unit);
            if scoped && units.is_empty() {
                return Err(Rejection::UnitsRequired { role });
            }
            if !scoped && !units.is_empty() {
                return Err(Rejection::UnitsNotApplicable { role });
            }
            let mut seen = BTreeSet::new();
            for unit in &units {
                require_unit(state, unit)?;
                if !seen.insert(unit.clone()) {
                    return Err(Rejection::DuplicateUnit { unit: unit.clone() });
                }
            }
            if holder.roles.get(&role) == Some(&seen) {
                return Err(Rejection::AlreadyGranted { person, role });
            }
            Ok(Decision::one(
                state,
                AccessGranted {
                    person,
                    role,
                    units,
                },
                optional_reason(reason),
            ))
        }
        Command::RevokeAccess {
            person,
            role,
            reason,
        } => {
            if !state.people.contains_key(&person) {
                return Err(Rejection::UnknownPerson { person });
            }
            if !state.holds(&person, role) {
                return Err(Rejection::NotGranted { person, role });
            }
            Ok(Decision::one(
                state,
                AccessRevoked { person, role },
                optional_reason(reason),
            ))
        }
        Command::IssueToken {
            token,
            person,
            role,
            secret_sha256,
            expires_at,
        } => {
            if role == Role::System {
                return Err(Rejection::SystemRoleReserved);
            }
            if state.tokens.contains_key(&token) {
                return Err(Rejection::TokenExists { token });
            }
            if !state.people.contains_key(&person) {
                return Err(Rejection::UnknownPerson { person });
            }
            if !state.holds(&person, role) {
                return Err(Rejection::NotGranted { person, role });
            }
            if let Some(expires_at) = expires_at
                && expires_at <= ctx.now
            {
                return Err(Rejection::ExpiryInPast {
                    expires_at,
                    now: ctx.now,
                });
            }
            Ok(Decision::one(
                state,
                TokenIssued {
                    token,
                    person,
                    role,
                    secret_sha256,
                    expires_at,
                },
                None,
            ))
        }
        Command::RevokeToken { token, reason } => {
            let Some(existing) = state.tokens.get(&token) else {
                return Err(Rejection::UnknownToken { token });
            };
            if existing.revoked {
                return Err(Rejection::TokenAlreadyRevoked { token });
            }
            Ok(Decision::one(
                state,
                TokenRevoked { token },
                optional_reason(reason),
            ))
        }
        other => unreachable!("not an organisation command: {}", other.label()),
    }
}

fn require_unit(state: &State, unit: &UnitId) -> Result<(), Rejection> {
    if state.units.contains_key(unit) {
        Ok(())
    } else {
        Err(Rejection::UnknownUnit { unit: unit.clone() })
    }
}
