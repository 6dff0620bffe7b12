//! `ledger token ...`: issuing, listing and revoking tokens from the command line.

use crate::cli_support::{events, fails_with_one_line, json, ledger, ok, stdout};
use crate::store_support::temp_ledger;

/// `token issue` prints the token alone (one line, `tok-…~` and 64 hex digits), creating the person
/// and granting the role; `token list` shows it without its secret; `token revoke` revokes it once.
#[test]
fn token_issue_prints_only_the_token_and_revoke_works_once() {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    let out = ledger(
        &temp.path,
        &["token", "issue", "--person", "admin-1", "--role", "admin"],
    );
    let text = stdout(ok(&out));
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "{text:?}"
    );
    let token = text.trim_end();
    let (id, secret) = token.split_once('~').expect("id~secret");
    assert!(id.starts_with("tok-"), "{token}");
    assert!(
        secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );
    // Registered, granted, issued: three events.
    assert_eq!(events(&temp.path), 3);

    let list = json(&ledger(&temp.path, &["token", "list", "--json"]));
    assert_eq!(list[0]["token"], id);
    assert_eq!(list[0]["person"], "admin-1");
    assert_eq!(list[0]["role"], "admin");
    assert_eq!(list[0]["revoked"], false);
    assert!(
        !list.to_string().contains(secret),
        "a secret must never be listed"
    );

    // A second token for the same person adds only the issue event.
    ok(&ledger(
        &temp.path,
        &["token", "issue", "--person", "admin-1", "--role", "admin"],
    ));
    assert_eq!(events(&temp.path), 4);

    ok(&ledger(
        &temp.path,
        &["token", "revoke", "--token", token, "--reason", "测试 test"],
    ));
    let list = json(&ledger(&temp.path, &["token", "list", "--json"]));
    let revoked = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["token"] == id)
        .unwrap();
    assert_eq!(revoked["revoked"], true);
    let reason = fails_with_one_line(&ledger(&temp.path, &["token", "revoke", "--token", id]));
    assert!(reason.contains("already revoked"), "{reason}");
}

/// A token for a scoped role without its units, for an unknown unit, or for an unknown role is
/// refused with a one-line reason before anything is recorded (no person is left registered).
#[test]
fn token_issue_refuses_what_it_cannot_grant_and_records_nothing() {
    let temp = temp_ledger();
    ok(&ledger(&temp.path, &["init"]));
    let reason = fails_with_one_line(&ledger(
        &temp.path,
        &["token", "issue", "--person", "p-1", "--role", "assessor"],
    ));
    assert!(reason.contains("--unit"), "{reason}");
    let reason = fails_with_one_line(&ledger(
        &temp.path,
        &[
            "token", "issue", "--person", "p-1", "--role", "unit", "--unit", "NO-SUCH",
        ],
    ));
    assert!(reason.contains("NO-SUCH"), "{reason}");
    let out = ledger(
        &temp.path,
        &["token", "issue", "--person", "p-1", "--role", "boss"],
    );
    assert!(!out.status.success());
    assert_eq!(events(&temp.path), 0);
}
