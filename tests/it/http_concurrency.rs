//! Optimistic concurrency and idempotency, as a client sees them: ETags and `If-Match` (a stale one
//! is a 409 with the current revision), racing writers, and `Idempotency-Key` replays that record
//! nothing new.

use hyper::Method;
use serde_json::{Value, json};

use crate::http_support::{Reply, Server, cast, scoring_period};

const SHEET: &str = "/api/v1/periods/2026Q1/units/SH-01";

async fn score_with(
    server: &Server,
    token: &str,
    item: &str,
    points: &str,
    headers: &[(&str, &str)],
) -> Reply {
    server
        .call_with(
            Method::POST,
            &format!("{SHEET}/items/{item}/score"),
            Some(token),
            Some(&json!({"value": {"kind": "points", "points": points}})),
            headers,
        )
        .await
}

/// A sheet and its items answer with the sheet's revision as ETag; a write with the current ETag
/// succeeds and answers with the next one; a write with a stale ETag is refused with 409, the
/// current revision in the body and the ETag header, and records nothing; `If-Match: *` always
/// matches. A period's stage changes are guarded the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_if_match_is_a_409_with_the_current_revision() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    scoring_period(&server, &cast).await;
    let first = score_with(&server, &cast.assessor, "A1", "2", &[]).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let sheet = server.get(SHEET, &cast.assessor).await;
    let etag = sheet.header("etag").unwrap().to_owned();
    assert_eq!(etag, "\"0\"");
    assert_eq!(first.header("etag"), Some(etag.as_str()));
    let item = server
        .get(&format!("{SHEET}/items/A1"), &cast.assessor)
        .await;
    assert_eq!(item.header("etag"), Some(etag.as_str()));

    let second = score_with(&server, &cast.assessor, "A2", "3", &[("if-match", &etag)]).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.header("etag"), Some("\"1\""));

    let before = server.log_len().await;
    let stale = score_with(&server, &cast.assessor, "A3", "3", &[("if-match", &etag)]).await;
    assert_eq!(stale.status, 409, "{}", stale.text);
    assert_eq!(stale.assert_problem(), "stale-revision");
    assert_eq!(stale.json["current_revision"], 1);
    assert_eq!(stale.header("etag"), Some("\"1\""));
    assert_eq!(server.log_len().await, before);

    let any = score_with(&server, &cast.assessor, "A3", "3", &[("if-match", "*")]).await;
    assert_eq!(any.status, 200, "{}", any.text);

    // A sheet nothing was recorded on has no revision: any If-Match is stale.
    let empty = server
        .get("/api/v1/periods/2026Q1/units/SH-02", &cast.assessor)
        .await;
    assert!(empty.header("etag").is_none());
    let reply = server
        .call_with(
            Method::POST,
            "/api/v1/periods/2026Q1/units/SH-02/items/A1/score",
            Some(&cast.assessor),
            Some(&json!({"value": {"kind": "points", "points": "1"}})),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert_eq!(reply.json["current_revision"], Value::Null);

    let period = server.get("/api/v1/periods/2026Q1", &cast.admin).await;
    let period_etag = period.header("etag").unwrap().to_owned();
    let reply = server
        .call_with(
            Method::POST,
            "/api/v1/periods/2026Q1/stage",
            Some(&cast.admin),
            Some(&json!({"to": "review"})),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert_eq!(reply.header("etag"), Some(period_etag.as_str()));
    server.stop().await;
}

/// Two clients that read the same revision and write at once: exactly one wins, the other gets 409
/// and its write is not recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writers_on_one_revision_one_wins() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    scoring_period(&server, &cast).await;
    let first = score_with(&server, &cast.assessor, "A1", "2", &[]).await;
    let etag = first.header("etag").unwrap().to_owned();
    let before = server.log_len().await;
    let items = ["A2", "A3", "A4", "B1", "C1", "C3", "C4", "C5"];
    let guard = [("if-match", etag.as_str())];
    let replies = futures_util::future::join_all(
        items
            .iter()
            .map(|item| score_with(&server, &cast.assessor, item, "1", &guard)),
    )
    .await;
    let won = replies.iter().filter(|r| r.status == 200).count();
    let lost = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!((won, lost), (1, items.len() - 1), "{replies:?}");
    assert_eq!(server.log_len().await, before + 1);
    server.stop().await;
}

/// A write retried with the same `Idempotency-Key` gets the first answer (status, body, ETag,
/// Location) marked as a replay, and the log does not grow; the same key with another request is
/// refused with 422; another person's identical key is theirs; a refusal is replayed too; and many
/// concurrent retries of one request record it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_replay_the_first_answer_and_record_nothing_new() {
    let server = Server::start().await;
    let cast = cast(&server).await;
    scoring_period(&server, &cast).await;
    let key = [("idempotency-key", "score-A1-7f3a")];
    let first = score_with(&server, &cast.assessor, "A1", "2", &key).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.header("idempotency-replayed").is_none());
    let after_first = server.log_len().await;
    for _ in 0..3 {
        let again = score_with(&server, &cast.assessor, "A1", "2", &key).await;
        assert_eq!(again.status, 200, "{}", again.text);
        assert_eq!(again.text, first.text);
        assert_eq!(again.header("etag"), first.header("etag"));
        assert_eq!(again.header("idempotency-replayed"), Some("true"));
    }
    assert_eq!(server.log_len().await, after_first);

    let other = score_with(&server, &cast.assessor, "A1", "1.5", &key).await;
    assert_eq!(other.status, 422, "{}", other.text);
    assert_eq!(other.assert_problem(), "idempotency-key-reused");
    assert_eq!(server.log_len().await, after_first);

    // Without the key the same request is a second score: refused by the domain, as it should be.
    let unkeyed = score_with(&server, &cast.assessor, "A1", "2", &[]).await;
    assert_eq!(unkeyed.status, 409, "{}", unkeyed.text);

    // A refusal is kept and replayed as well.
    let refused_key = [("idempotency-key", "bad-1")];
    let refused = score_with(&server, &cast.assessor, "A2", "99", &refused_key).await;
    assert_eq!(refused.status, 422);
    let replayed = score_with(&server, &cast.assessor, "A2", "99", &refused_key).await;
    assert_eq!(replayed.status, 422);
    assert_eq!(replayed.text, refused.text);
    assert_eq!(replayed.header("idempotency-replayed"), Some("true"));

    // Creates replay their Location; many concurrent retries record one unit.
    let before = server.log_len().await;
    let body = json!({"unit": "SH-09", "name": "九支部", "kind": "branch"});
    let replies = futures_util::future::join_all((0..8).map(|_| {
        server.call_with(
            Method::POST,
            "/api/v1/units",
            Some(&cast.admin),
            Some(&body),
            &[("idempotency-key", "unit-SH-09")],
        )
    }))
    .await;
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.text);
        assert_eq!(reply.header("location"), Some("/api/v1/units/SH-09"));
        assert_eq!(reply.text, replies[0].text);
    }
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.header("idempotency-replayed").is_none())
            .count(),
        1
    );
    assert_eq!(server.log_len().await, before + 1);

    // The same key from another person is another key.
    let mine = server
        .call_with(
            Method::POST,
            "/api/v1/units",
            Some(
                &server
                    .token("admin-2", ledger_schemas::Role::Admin, &[])
                    .await,
            ),
            Some(&json!({"unit": "SH-10", "name": "十支部", "kind": "branch"})),
            &[("idempotency-key", "unit-SH-09")],
        )
        .await;
    assert_eq!(mine.status, 201, "{}", mine.text);
    server.stop().await;
}
