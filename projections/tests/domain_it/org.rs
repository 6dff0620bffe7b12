//! Units, people, access and tokens; and the role checks every command starts with.

use chrono::Duration;
use ledger_projections::domain::{Command, Expected, Rejection, StreamExpectation};
use ledger_schemas::envelope::Role;
use ledger_schemas::events::*;
use ledger_schemas::integrity::Digest;
use ledger_schemas::values::{Stage, UnitKind};

use crate::dsl::*;

fn register_unit(id: &str, parent: Option<&str>) -> Command {
    Command::RegisterUnit {
        unit: unit(id),
        name: format!("单位 {id}"),
        kind: UnitKind::Branch,
        parent: parent.map(unit),
    }
}

fn update_unit(id: &str, parent: Option<&str>) -> Command {
    Command::UpdateUnit {
        unit: unit(id),
        name: "新名称".into(),
        parent: parent.map(unit),
        reason: Some("机构调整 reorganisation".into()),
    }
}

fn grant(p: &str, role: Role, units: &[&str]) -> Command {
    Command::GrantAccess {
        person: person(p),
        role,
        units: units.iter().map(|u| unit(u)).collect(),
        reason: None,
    }
}

fn issue(token: &str, p: &str, role: Role) -> Command {
    Command::IssueToken {
        token: token_id(token),
        person: person(p),
        role,
        secret_sha256: Digest([7; 32]),
        expires_at: Some(now() + Duration::days(30)),
    }
}

/// A new unit under an existing parent is registered, on a new stream.
#[test]
fn a_unit_is_registered_under_its_parent() {
    let decision = world()
        .when(&admin(), register_unit("SH-09", Some(HQ)))
        .then([UnitRegistered {
            unit: unit("SH-09"),
            name: "单位 SH-09".into(),
            kind: UnitKind::Branch,
            parent: Some(unit(HQ)),
        }
        .into()]);
    assert_eq!(
        decision.expected,
        vec![StreamExpectation {
            stream: "unit-SH-09".into(),
            expected: Expected::NoStream
        }]
    );
}

/// Registering an existing unit, a blank name or an unknown parent is refused.
#[test]
fn unit_registration_refusals() {
    rejects!(
        world().when(&admin(), register_unit(SH01, None)),
        Rejection::UnitExists { unit } if unit.as_str() == SH01
    );
    rejects!(
        world().when(
            &admin(),
            Command::RegisterUnit {
                unit: unit("X"),
                name: "  ".into(),
                kind: UnitKind::Company,
                parent: None
            }
        ),
        Rejection::Missing { .. }
    );
    rejects!(
        world().when(&admin(), register_unit("SH-09", Some("NOPE"))),
        Rejection::UnknownUnit { unit } if unit.as_str() == "NOPE"
    );
}

/// A unit moves under another unit; the reason goes on the envelope and the expected revision is the
/// unit stream's current one.
#[test]
fn a_unit_moves_in_the_hierarchy() {
    let decision = world()
        .when(&admin(), update_unit(SH03, Some(SH02)))
        .then([UnitUpdated {
            unit: unit(SH03),
            name: "新名称".into(),
            parent: Some(unit(SH02)),
        }
        .into()]);
    assert_eq!(decision.reason.as_deref(), Some("机构调整 reorganisation"));
    assert_eq!(decision.expected[0].expected, Expected::Revision(0));
}

/// A unit cannot become its own parent nor move below its own descendant; the hierarchy stays a tree.
#[test]
fn the_hierarchy_has_no_cycles() {
    rejects!(
        world().when(&admin(), update_unit(SH01, Some(SH01))),
        Rejection::HierarchyCycle { .. }
    );
    // SH-03 is below SH-01: moving SH-01 under SH-03 would close a loop; so would HQ under SH-03.
    rejects!(
        world().when(&admin(), update_unit(SH01, Some(SH03))),
        Rejection::HierarchyCycle { unit, parent } if unit.as_str() == SH01 && parent.as_str() == SH03
    );
    rejects!(
        world().when(&admin(), update_unit(HQ, Some(SH03))),
        Rejection::HierarchyCycle { .. }
    );
    rejects!(
        world().when(&admin(), update_unit("NOPE", None)),
        Rejection::UnknownUnit { .. }
    );
    rejects!(
        world().when(&admin(), update_unit(SH03, Some("NOPE"))),
        Rejection::UnknownUnit { .. }
    );
}

/// A person is registered in a unit; a duplicate, a blank name or an unknown unit is refused.
#[test]
fn people_are_registered() {
    let cmd = |p: &str, name: &str, of: &str| Command::RegisterPerson {
        person: person(p),
        name: name.into(),
        unit: Some(unit(of)),
    };
    world()
        .when(&admin(), cmd("zhang", "张三", SH01))
        .then([PersonRegistered {
            person: person("zhang"),
            name: "张三".into(),
            unit: Some(unit(SH01)),
        }
        .into()]);
    rejects!(
        world().when(&admin(), cmd("as1", "x", SH01)),
        Rejection::PersonExists { .. }
    );
    rejects!(
        world().when(&admin(), cmd("zhang", "", SH01)),
        Rejection::Missing { .. }
    );
    rejects!(
        world().when(&admin(), cmd("zhang", "张三", "NOPE")),
        Rejection::UnknownUnit { .. }
    );
}

/// An assessor role is granted for named units, and can later be re-scoped; the new scope replaces the
/// old one.
#[test]
fn access_is_granted_and_rescoped() {
    let (_, after) = world()
        .when(&admin(), grant("rv1", Role::Assessor, &[SH02]))
        .accepted();
    assert!(
        after
            .state
            .covers(&person("rv1"), Role::Assessor, &unit(SH02))
    );
    let (decision, after) = after
        .when(&admin(), grant("rv1", Role::Assessor, &[SH03]))
        .accepted();
    assert_eq!(
        decision.events,
        vec![granted("rv1", Role::Assessor, &[SH03])]
    );
    assert!(
        !after
            .state
            .covers(&person("rv1"), Role::Assessor, &unit(SH02))
    );
    assert!(
        after
            .state
            .covers(&person("rv1"), Role::Assessor, &unit(SH03))
    );
}

/// Grants are refused for the system role, unknown people, scoped roles without units, unscoped roles
/// with units, repeated units and grants that change nothing.
#[test]
fn access_grant_refusals() {
    rejects!(
        world().when(&admin(), grant("as1", Role::System, &[])),
        Rejection::SystemRoleReserved
    );
    rejects!(
        world().when(&admin(), grant("nobody", Role::Reviewer, &[])),
        Rejection::UnknownPerson { .. }
    );
    rejects!(
        world().when(&admin(), grant("rv1", Role::Assessor, &[])),
        Rejection::UnitsRequired {
            role: Role::Assessor
        }
    );
    rejects!(
        world().when(&admin(), grant("as1", Role::Reviewer, &[SH01])),
        Rejection::UnitsNotApplicable {
            role: Role::Reviewer
        }
    );
    rejects!(
        world().when(&admin(), grant("rv1", Role::Unit, &[SH01, SH01])),
        Rejection::DuplicateUnit { .. }
    );
    rejects!(
        world().when(&admin(), grant("rv1", Role::Unit, &["NOPE"])),
        Rejection::UnknownUnit { .. }
    );
    rejects!(
        world().when(&admin(), grant("as1", Role::Assessor, &[SH02, SH01])),
        Rejection::AlreadyGranted {
            role: Role::Assessor,
            ..
        }
    );
}

/// A revoked role is gone: the person can no longer act in it.
#[test]
fn access_is_revoked_and_the_role_stops_working() {
    let cmd = Command::RevokeAccess {
        person: person("as1"),
        role: Role::Assessor,
        reason: Some("调岗 transferred".into()),
    };
    let (decision, after) = world().when(&admin(), cmd).accepted();
    assert_eq!(
        decision.events,
        vec![Event::from(AccessRevoked {
            person: person("as1"),
            role: Role::Assessor
        })]
    );
    assert_eq!(decision.reason.as_deref(), Some("调岗 transferred"));
    rejects!(
        after
            .at(Stage::Scoring)
            .when(&as1(), record(SH01, "A1", pts(20))),
        Rejection::RoleNotHeld {
            role: Role::Assessor,
            ..
        }
    );
}

/// Revoking a role the person does not hold, or of an unknown person, is refused.
#[test]
fn access_revocation_refusals() {
    let cmd = |p: &str, role| Command::RevokeAccess {
        person: person(p),
        role,
        reason: None,
    };
    rejects!(
        world().when(&admin(), cmd("as1", Role::Reviewer)),
        Rejection::NotGranted {
            role: Role::Reviewer,
            ..
        }
    );
    rejects!(
        world().when(&admin(), cmd("nobody", Role::Reviewer)),
        Rejection::UnknownPerson { .. }
    );
}

/// A token is issued for a role the person holds; only the secret's hash is recorded.
#[test]
fn a_token_is_issued() {
    world()
        .when(&admin(), issue("t1", "rv1", Role::Reviewer))
        .then([TokenIssued {
            token: token_id("t1"),
            person: person("rv1"),
            role: Role::Reviewer,
            secret_sha256: Digest([7; 32]),
            expires_at: Some(now() + Duration::days(30)),
        }
        .into()]);
}

/// Tokens are refused for the system role, an existing token id, an unknown person, a role the person
/// does not hold, and an expiry that is not in the future.
#[test]
fn token_issue_refusals() {
    let with_token = world().run(&admin(), issue("t1", "rv1", Role::Reviewer));
    rejects!(
        world().when(&admin(), issue("t1", "rv1", Role::System)),
        Rejection::SystemRoleReserved
    );
    rejects!(
        with_token.when(&admin(), issue("t1", "rv2", Role::Reviewer)),
        Rejection::TokenExists { .. }
    );
    rejects!(
        world().when(&admin(), issue("t2", "nobody", Role::Reviewer)),
        Rejection::UnknownPerson { .. }
    );
    rejects!(
        world().when(&admin(), issue("t2", "rv1", Role::Admin)),
        Rejection::NotGranted {
            role: Role::Admin,
            ..
        }
    );
    let expired = Command::IssueToken {
        token: token_id("t3"),
        person: person("rv1"),
        role: Role::Reviewer,
        secret_sha256: Digest::ZERO,
        expires_at: Some(now()),
    };
    rejects!(
        world().when(&admin(), expired),
        Rejection::ExpiryInPast { expires_at, now: at } if expires_at == at
    );
}

/// A token is revoked once; an unknown or already revoked token is refused.
#[test]
fn a_token_is_revoked_once() {
    let revoke = || Command::RevokeToken {
        token: token_id("t1"),
        reason: None,
    };
    let with_token = world().run(&admin(), issue("t1", "rv1", Role::Reviewer));
    let (_, after) = with_token.when(&admin(), revoke()).accepted();
    assert!(after.state.tokens[&token_id("t1")].revoked);
    rejects!(
        after.when(&admin(), revoke()),
        Rejection::TokenAlreadyRevoked { .. }
    );
    rejects!(
        world().when(&admin(), revoke()),
        Rejection::UnknownToken { .. }
    );
}

/// The auditor reads everything and writes nothing: every command is refused by role, naming the
/// roles that may.
#[test]
fn the_auditor_writes_nothing() {
    let commands = [
        register_unit("X", None),
        grant("rv1", Role::Assessor, &[SH01]),
        record(SH01, "A1", pts(1)),
        review_item(
            SH01,
            "A1",
            ledger_schemas::values::ReviewDecision::Approved,
            "",
        ),
        advance(Stage::SelfAssessment),
    ];
    for command in commands {
        let label = command.label();
        let rejection = rejects!(
            world().when(&aud(), command),
            Rejection::RoleNotAllowed {
                role: Role::Auditor,
                ..
            }
        );
        assert!(rejection.to_string().contains(label), "{rejection}");
    }
}

/// Each command is open only to its roles: an assessor cannot manage units, a unit cannot score, a
/// reviewer cannot open periods; the system may do everything.
#[test]
fn commands_are_open_only_to_their_roles() {
    rejects!(
        world().when(&as1(), register_unit("X", None)),
        Rejection::RoleNotAllowed {
            role: Role::Assessor,
            ..
        }
    );
    rejects!(
        world()
            .at(Stage::Scoring)
            .when(&sec1(), record(SH01, "A1", pts(1))),
        Rejection::RoleNotAllowed {
            role: Role::Unit,
            ..
        }
    );
    rejects!(
        world().when(&rv1(), advance(Stage::SelfAssessment)),
        Rejection::RoleNotAllowed {
            role: Role::Reviewer,
            ..
        }
    );
    world().when(&system(), register_unit("X", None)).accepted();
}

/// Acting in a role one does not hold is refused, whatever the token said.
#[test]
fn a_role_must_be_held() {
    rejects!(
        world().when(&actor("rv1", Role::Admin), register_unit("X", None)),
        Rejection::RoleNotHeld { person, role: Role::Admin } if person.as_str() == "rv1"
    );
}

/// Text that breaks its rule is refused by the domain itself, naming the field and the character,
/// whichever way the command arrived (the API parses first; a CSV import or the demo do not): a
/// bidirectional override or a control character in a name, an over-long name, a control character
/// in a reason (the envelope's), a title deep inside a rubric.
#[test]
fn text_that_breaks_its_rule_is_refused_naming_the_field() {
    let named = |name: String| Command::RegisterUnit {
        unit: unit("SH-09"),
        name,
        kind: UnitKind::Branch,
        parent: None,
    };
    let refused = |command: Command| match world().when(&admin(), command).rejected() {
        Rejection::Text(refusal) => refusal,
        other => panic!("a text refusal expected, got {other:?}"),
    };
    let bidi = refused(named("盛和\u{202E}支部".into()));
    assert_eq!(bidi.field, "name");
    assert!(
        bidi.to_string()
            .contains("U+202E RIGHT-TO-LEFT OVERRIDE at character 3"),
        "{bidi}"
    );
    for bad in ["a\u{0}", "a\u{7}", "\u{1b}[2J", "x\u{2066}y", "two\nlines"] {
        assert_eq!(refused(named(bad.into())).field, "name", "{bad:?}");
    }
    let long = refused(named("名".repeat(300_000)));
    assert!(long.to_string().contains("300000"), "{long}");
    let mut update = update_unit(SH03, None);
    if let Command::UpdateUnit { reason, .. } = &mut update {
        *reason = Some("调整\u{1b}]0;title\u{7}".into());
    }
    assert_eq!(refused(update).field, "reason");
    let mut rubric = small_rubric();
    rubric.aspects[1].items[0].title.zh = "B1\u{202D}".into();
    let refusal = refused(Command::DefineRubric {
        rubric: ledger_schemas::ids::RubricId::new("r2").unwrap(),
        definition: rubric,
    });
    assert_eq!(refusal.field, "definition.aspects[1].items[0].title.zh");
}
