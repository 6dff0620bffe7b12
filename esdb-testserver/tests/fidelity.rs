//! The test server behaves like the real server where the ledger's adapter relies on it (facts
//! taken from the server's source: `Streams.Append.cs`, `IndexWriter.CheckCommit`): a repeated
//! append is answered with the original write's position; an append the client cancels writes
//! nothing; a client deadline that passes on the server leaves nothing written, or, when the write
//! completed first, the events stored.

use std::time::Duration;

use esdb_testserver::proto::{self, append_req};
use kurrentdb::{AppendToStreamOptions, EventData, StreamState};

async fn server() -> esdb_testserver::TestServer {
    esdb_testserver::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn events(n: usize) -> Vec<EventData> {
    (0..n)
        .map(|i| {
            EventData::json("Probe", &serde_json::json!({ "i": i }))
                .unwrap()
                .id(uuid::Uuid::new_v4())
        })
        .collect()
}

fn stored(server: &esdb_testserver::TestServer, stream: &str) -> usize {
    server
        .records()
        .iter()
        .filter(|r| r.stream == stream)
        .count()
}

/// The same append again (same ids, same expectation) is acknowledged without writing, with the
/// stream's revision and the `$all` position of the original write's last event.
#[tokio::test]
async fn a_repeated_append_gets_the_original_position() {
    let server = server().await;
    let client = kurrentdb::Client::new(server.connection_string().parse().unwrap()).unwrap();
    let batch = events(3);
    let options = AppendToStreamOptions::default().stream_state(StreamState::NoStream);
    let first = client
        .append_to_stream("repeat-1", &options, batch.clone())
        .await
        .unwrap();
    client
        .append_to_stream("other-1", &AppendToStreamOptions::default(), events(1))
        .await
        .unwrap();
    let again = client
        .append_to_stream("repeat-1", &options, batch)
        .await
        .unwrap();
    assert_eq!(again.next_expected_version, 2);
    assert_eq!(again.position, first.position);
    assert_ne!(first.position, kurrentdb::Position::start());
    assert_eq!(stored(&server, "repeat-1"), 3);
}

/// An append whose request stream the client abandons after sending the options and two events
/// (HTTP/2 `RST_STREAM`, as when its future is dropped) writes nothing; the same messages with the
/// stream ended are written.
#[tokio::test]
async fn a_cancelled_append_writes_nothing() {
    let server = server().await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let messages = |stream: &str| {
        let options = proto::AppendReq {
            content: Some(append_req::Content::Options(append_req::Options {
                stream_identifier: Some(proto::StreamIdentifier::new(stream)),
                expected_stream_revision: Some(append_req::ExpectedStreamRevision::Any(
                    proto::Empty {},
                )),
            })),
        };
        let event = |n: u8| proto::AppendReq {
            content: Some(append_req::Content::ProposedMessage(
                append_req::ProposedMessage {
                    id: Some(proto::Uuid::structured(uuid::Uuid::new_v4())),
                    metadata: [("type", "Probe"), ("content-type", "application/json")]
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                    custom_metadata: Vec::new(),
                    data: format!("{{\"n\":{n}}}").into_bytes(),
                },
            )),
        };
        vec![options, event(1), event(2)]
    };
    let call = |stream: &'static str, end: bool| {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        let items = messages(stream);
        async move {
            grpc.ready().await.unwrap();
            let body = futures::stream::iter(items).chain(futures::stream::unfold(
                end,
                |end| async move {
                    if end {
                        None
                    } else {
                        std::future::pending::<Option<(proto::AppendReq, bool)>>().await
                    }
                },
            ));
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(
                "/event_store.client.streams.Streams/Append",
            );
            grpc.client_streaming::<_, proto::AppendReq, proto::AppendResp, _>(
                tonic::Request::new(body),
                path,
                tonic::codec::ProstCodec::<proto::AppendReq, proto::AppendResp>::default(),
            )
            .await
        }
    };
    use futures::StreamExt as _;
    // Abandoned: the server has the options and both events when the client goes.
    let abandoned =
        tokio::time::timeout(Duration::from_millis(300), call("cancelled-1", false)).await;
    assert!(abandoned.is_err(), "the call was still open");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stored(&server, "cancelled-1"), 0, "nothing written");
    // Ended: written.
    call("ended-1", true).await.unwrap();
    assert_eq!(stored(&server, "ended-1"), 2);
}

/// A server slower than the client's deadline: stalled before committing, the call ends with a
/// deadline error and nothing is stored; stalled after committing, the events are stored although
/// the client heard of a deadline (so a client must treat a deadline like a lost acknowledgement).
#[tokio::test]
async fn a_deadline_passing_on_the_server() {
    let server = server().await;
    let client = kurrentdb::Client::new(server.connection_string().parse().unwrap()).unwrap();
    let options = AppendToStreamOptions::default().deadline(Duration::from_millis(200));

    server.stall_next_appends(1, Duration::from_millis(800), false);
    let err = client
        .append_to_stream("slow-1", &options, events(2))
        .await
        .unwrap_err();
    assert!(matches!(err, kurrentdb::Error::DeadlineExceeded), "{err:?}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(stored(&server, "slow-1"), 0);

    server.stall_next_appends(1, Duration::from_millis(800), true);
    let err = client
        .append_to_stream("slow-2", &options, events(2))
        .await
        .unwrap_err();
    assert!(matches!(err, kurrentdb::Error::DeadlineExceeded), "{err:?}");
    assert_eq!(stored(&server, "slow-2"), 2);
}
