//! The gRPC services: `event_store.client.streams.Streams` (`Read`, `Append`),
//! `event_store.client.server_features.ServerFeatures` (`GetSupportedMethods`) and
//! `event_store.client.gossip.Gossip` (`Read`), with what the real server checks around them:
//! credentials (`authorization: Basic …`), the `$all` read permission, the leader
//! (`requires-leader: true` on a follower gets "not leader" and the leader's address), and an
//! append that the client cancels writing nothing.
//!
//! Written as plain `tower` services over `tonic::server::Grpc`, the same shape `tonic-build` would
//! generate, so that no code generator is needed. Every other method of those services answers
//! `UNIMPLEMENTED`, and every other service too (tonic's router does that), which is what a client
//! sees from a server without that feature.

// tonic's own signatures return `Result<_, Status>`, and `Status` is large; boxing it here would
// only add conversions at every call.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::codec::{ProstCodec, Streaming};
use tonic::codegen::{Body, BoxFuture, Context, Poll, Service, StdError, http};
use tonic::metadata::MetadataMap;
use tonic::server::{
    ClientStreamingService, Grpc, NamedService, ServerStreamingService, UnaryService,
};
use tonic::{Code, Request, Response, Status};

use crate::log::{AllFrom, AppendResult, Expected, Log, Proposed, Record, RevFrom};
use crate::proto::{self, Empty, read_req, read_resp};
use crate::{TlsIdentity, User};

/// Injected faults, for tests of what a client does when the network fails.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Appends still to be stored and then answered with `UNAVAILABLE`, as when the connection drops
    /// after the server committed but before the client heard so.
    pub lose_acks: u32,
    /// Whether a lost acknowledgement also empties the idempotence cache, as when the node
    /// restarts between committing and the client's retry.
    pub restart_after_lost_ack: bool,
    /// Appends still to be refused with `UNAVAILABLE` before anything is stored.
    pub refuse: u32,
    /// Appends still to be slowed down (see `TestServer::stall_next_appends`).
    pub stall: Option<Stall>,
}

/// Slow appends: how many more, how slow, and whether the delay comes after the commit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stall {
    pub remaining: u32,
    pub delay: Duration,
    pub after_commit: bool,
}

/// One node of a (possibly one-node) cluster.
#[derive(Debug)]
pub(crate) struct Node {
    pub index: usize,
    pub addr: SocketAddr,
    pub instance_id: uuid::Uuid,
    /// `false` while the node is stopped: its live subscriptions end with `UNAVAILABLE` and gossip
    /// reports it dead.
    pub running: watch::Sender<bool>,
}

impl Node {
    pub(crate) fn new(index: usize, addr: SocketAddr, instance_id: uuid::Uuid) -> Arc<Self> {
        Arc::new(Node {
            index,
            addr,
            instance_id,
            running: watch::channel(true).0,
        })
    }
}

/// What the services share with the handles in `lib.rs`: the log, which every node of a cluster
/// serves (replication is instant here), and the cluster's state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub log: Mutex<Log>,
    /// Bumped after every write; subscriptions wait on it.
    pub written: watch::Sender<u64>,
    /// The index of the node that leads.
    pub leader: watch::Sender<usize>,
    pub nodes: Vec<Arc<Node>>,
    pub faults: Mutex<Faults>,
    pub server_features: bool,
    pub max_append_size: usize,
    pub users: Vec<User>,
    pub tls: Option<TlsIdentity>,
}

impl Shared {
    pub(crate) fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-changed (every change is one
        // insert or a whole append computed first), so a poisoned lock is still usable.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The host name clients should use for a node: with TLS the name the test certificate is
    /// issued to, else the address it listens on.
    fn host_of(&self, node: &Node) -> String {
        if self.tls.is_some() {
            "localhost".into()
        } else {
            node.addr.ip().to_string()
        }
    }

    /// Who is calling: `Ok(None)` when the server needs no credentials, the user when the
    /// `authorization` header names a known one, else `UNAUTHENTICATED`.
    fn authenticate(&self, metadata: &MetadataMap) -> Result<Option<&User>, Status> {
        if self.users.is_empty() {
            return Ok(None);
        }
        let bad = || Status::unauthenticated("Bad credentials.");
        let header = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("Authentication is required."))?;
        let encoded = header.strip_prefix("Basic ").ok_or_else(bad)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| bad())?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (login, password) = text.split_once(':').ok_or_else(bad)?;
        self.users
            .iter()
            .find(|u| u.login == login && u.password == password)
            .map(Some)
            .ok_or_else(bad)
    }

    /// The real server's "not leader" error: `NOT_FOUND` with the leader's endpoint in the
    /// trailers, which the client follows.
    fn not_leader(&self) -> Status {
        let leader = &self.nodes[*self.leader.borrow()];
        let mut metadata = MetadataMap::new();
        metadata.insert("exception", "not-leader".parse().expect("ascii"));
        metadata.insert(
            "leader-endpoint-host",
            self.host_of(leader).parse().expect("ascii"),
        );
        metadata.insert(
            "leader-endpoint-port",
            leader.addr.port().to_string().parse().expect("ascii"),
        );
        Status::with_metadata(Code::NotFound, "Leader info available", metadata)
    }

    /// Refuses a call that requires the leader (`requires-leader: true`, the client's default)
    /// on a node that does not lead.
    fn check_leader(&self, node: &Node, metadata: &MetadataMap) -> Result<bool, Status> {
        let required = metadata
            .get("requires-leader")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if required && *self.leader.borrow() != node.index {
            return Err(self.not_leader());
        }
        Ok(required)
    }
}

fn access_denied() -> Status {
    let mut metadata = MetadataMap::new();
    metadata.insert("exception", "access-denied".parse().expect("ascii"));
    Status::with_metadata(Code::PermissionDenied, "Access Denied", metadata)
}

fn unimplemented_response() -> http::Response<tonic::body::Body> {
    let mut response = http::Response::new(tonic::body::Body::default());
    let headers = response.headers_mut();
    headers.insert(Status::GRPC_STATUS, (Code::Unimplemented as i32).into());
    headers.insert(
        http::header::CONTENT_TYPE,
        tonic::metadata::GRPC_CONTENT_TYPE,
    );
    response
}

/// `event_store.client.streams.Streams` on one node.
#[derive(Clone)]
pub(crate) struct StreamsService {
    shared: Arc<Shared>,
    node: Arc<Node>,
}

impl StreamsService {
    pub(crate) fn new(shared: Arc<Shared>, node: Arc<Node>) -> Self {
        StreamsService { shared, node }
    }
}

/// How the body of a client-streaming call ended, as [`Tracked`] saw it.
const BODY_OPEN: u8 = 0;
const BODY_ENDED: u8 = 1;
const BODY_BROKEN: u8 = 2;

/// A request body that remembers whether it ended with the client's end-of-stream or was cut off
/// (reset, connection lost). tonic hands a cancelled request stream to the handler as a normal end
/// of stream, so without this an append the client dropped half-way would commit the events
/// received so far; the real server writes nothing for it.
struct Tracked<B> {
    inner: Pin<Box<B>>,
    state: Arc<AtomicU8>,
}

impl<B> Body for Tracked<B>
where
    B: Body,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = self.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(None) => {
                let _ = self.state.compare_exchange(
                    BODY_OPEN,
                    BODY_ENDED,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
            }
            Poll::Ready(Some(Err(_))) => self.state.store(BODY_BROKEN, Ordering::SeqCst),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl NamedService for StreamsService {
    const NAME: &'static str = "event_store.client.streams.Streams";
}

impl<B> Service<http::Request<B>> for StreamsService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let (shared, node) = (self.shared.clone(), self.node.clone());
        match req.uri().path() {
            "/event_store.client.streams.Streams/Read" => Box::pin(async move {
                let mut grpc = Grpc::new(ProstCodec::<proto::ReadResp, proto::ReadReq>::default());
                Ok(grpc.server_streaming(ReadSvc { shared, node }, req).await)
            }),
            "/event_store.client.streams.Streams/Append" => Box::pin(async move {
                let body = Arc::new(AtomicU8::new(BODY_OPEN));
                let req = req.map(|inner| Tracked {
                    inner: Box::pin(inner),
                    state: body.clone(),
                });
                let mut grpc =
                    Grpc::new(ProstCodec::<proto::AppendResp, proto::AppendReq>::default());
                let svc = AppendSvc { shared, node, body };
                Ok(grpc.client_streaming(svc, req).await)
            }),
            _ => Box::pin(async move { Ok(unimplemented_response()) }),
        }
    }
}

/// `event_store.client.server_features.ServerFeatures`; answers `UNIMPLEMENTED` when the server was
/// started without it, as servers before 21.10 do.
#[derive(Clone)]
pub(crate) struct FeaturesService(Arc<Shared>);

impl FeaturesService {
    pub(crate) fn new(shared: Arc<Shared>, _node: Arc<Node>) -> Self {
        FeaturesService(shared)
    }
}

impl NamedService for FeaturesService {
    const NAME: &'static str = "event_store.client.server_features.ServerFeatures";
}

impl<B> Service<http::Request<B>> for FeaturesService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let enabled = self.0.server_features;
        match req.uri().path() {
            "/event_store.client.server_features.ServerFeatures/GetSupportedMethods" if enabled => {
                Box::pin(async move {
                    let mut grpc =
                        Grpc::new(ProstCodec::<proto::SupportedMethods, Empty>::default());
                    Ok(grpc.unary(FeaturesSvc, req).await)
                })
            }
            _ => Box::pin(async move { Ok(unimplemented_response()) }),
        }
    }
}

struct FeaturesSvc;

impl UnaryService<Empty> for FeaturesSvc {
    type Response = proto::SupportedMethods;
    type Future = BoxFuture<Response<Self::Response>, Status>;

    fn call(&mut self, _request: Request<Empty>) -> Self::Future {
        let method = |name: &str, service: &str| proto::SupportedMethod {
            method_name: name.to_owned(),
            service_name: service.to_owned(),
            features: Vec::new(),
        };
        Box::pin(async move {
            Ok(Response::new(proto::SupportedMethods {
                methods: vec![
                    method("read", "event_store.client.streams.streams"),
                    method("append", "event_store.client.streams.streams"),
                    method(
                        "getsupportedmethods",
                        "event_store.client.server_features.serverfeatures",
                    ),
                ],
                // A version the client parses (digits and dots); the subset is that of 24.10.
                event_store_server_version: "24.10.0".to_owned(),
            }))
        })
    }
}

fn invalid(message: impl Into<String>) -> Status {
    Status::invalid_argument(message)
}

fn shutting_down() -> Status {
    Status::unavailable("Server is shutting down.")
}

struct AppendSvc {
    shared: Arc<Shared>,
    node: Arc<Node>,
    body: Arc<AtomicU8>,
}

impl ClientStreamingService<proto::AppendReq> for AppendSvc {
    type Response = proto::AppendResp;
    type Future = BoxFuture<Response<Self::Response>, Status>;

    fn call(&mut self, request: Request<Streaming<proto::AppendReq>>) -> Self::Future {
        let (shared, node, body) = (self.shared.clone(), self.node.clone(), self.body.clone());
        Box::pin(async move {
            shared.authenticate(request.metadata())?;
            shared.check_leader(&node, request.metadata())?;
            append(&shared, &node, &body, request.into_inner())
                .await
                .map(Response::new)
        })
    }
}

async fn append(
    shared: &Shared,
    node: &Node,
    body: &AtomicU8,
    mut messages: Streaming<proto::AppendReq>,
) -> Result<proto::AppendResp, Status> {
    use proto::append_req::{Content, ExpectedStreamRevision as E};

    let options = match messages.message().await? {
        Some(proto::AppendReq {
            content: Some(Content::Options(options)),
        }) => options,
        _ => return Err(invalid("The first append message must carry the options.")),
    };
    let stream = stream_name(options.stream_identifier.as_ref())?;
    let expected = match options.expected_stream_revision {
        Some(E::Revision(r)) => Expected::Exact(r),
        Some(E::NoStream(_)) => Expected::NoStream,
        Some(E::Any(_)) => Expected::Any,
        Some(E::StreamExists(_)) => Expected::StreamExists,
        None => return Err(invalid("An expected stream revision is required.")),
    };
    let mut events = Vec::new();
    let mut size = 0usize;
    while let Some(message) = messages.message().await? {
        let Some(Content::ProposedMessage(event)) = message.content else {
            return Err(invalid("Only the first append message may carry options."));
        };
        let event_id = event
            .id
            .as_ref()
            .and_then(proto::Uuid::decode)
            .ok_or_else(|| invalid("Every proposed event needs an id."))?;
        let event_type = event
            .metadata
            .get("type")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| invalid("type is required"))?
            .clone();
        let content_type = event
            .metadata
            .get("content-type")
            .ok_or_else(|| invalid("content-type is required"))?
            .clone();
        size += event.data.len() + event.custom_metadata.len();
        events.push(Proposed {
            event_id,
            event_type,
            content_type,
            custom_metadata: event.custom_metadata,
            data: event.data,
        });
    }
    if body.load(Ordering::SeqCst) != BODY_ENDED {
        // The client went away before ending its stream: like the real server (whose read of the
        // request stream throws on cancellation), write nothing.
        return Err(Status::cancelled(
            "The append was cancelled by the client before it ended; nothing was written.",
        ));
    }
    if size > shared.max_append_size {
        let mut status = invalid(format!(
            "Maximum Append Size of {} Exceeded.",
            shared.max_append_size
        ));
        status.metadata_mut().insert(
            "exception",
            "maximum-append-size-exceeded".parse().expect("ascii"),
        );
        return Err(status);
    }
    if !*node.running.borrow() {
        return Err(shutting_down());
    }
    let stall = {
        let mut faults = shared.faults();
        if faults.refuse > 0 {
            faults.refuse -= 1;
            return Err(Status::unavailable(
                "injected fault: append refused, nothing stored",
            ));
        }
        match &mut faults.stall {
            Some(stall) if stall.remaining > 0 => {
                stall.remaining -= 1;
                Some(*stall)
            }
            _ => None,
        }
    };
    if let Some(stall) = stall.filter(|s| !s.after_commit) {
        // Dropped here by the deadline (tonic enforces the client's `grpc-timeout`) if it passes.
        tokio::time::sleep(stall.delay).await;
    }
    let result = shared.log().append(&stream, expected, events);
    shared.written.send_modify(|n| *n += 1);
    if let Some(stall) = stall.filter(|s| s.after_commit) {
        tokio::time::sleep(stall.delay).await;
    }
    {
        let mut faults = shared.faults();
        if faults.lose_acks > 0 {
            faults.lose_acks -= 1;
            if faults.restart_after_lost_ack {
                shared.log().forget_cache();
            }
            return Err(Status::unavailable(
                "injected fault: connection lost after the append was stored",
            ));
        }
    }
    Ok(append_response(result))
}

fn append_response(result: AppendResult) -> proto::AppendResp {
    use proto::append_resp::{
        Current, CurrentRevision, Expected as X, LegacyCurrent, LegacyExpected, Position,
        PositionOption, Result as R, Success, WrongExpectedVersion,
    };
    let result = match result {
        AppendResult::Success { current, position } => R::Success(Success {
            current_revision_option: Some(match current {
                Some(r) => CurrentRevision::CurrentRevision(r),
                None => CurrentRevision::NoStream(Empty {}),
            }),
            position_option: Some(match position {
                Some(p) => PositionOption::Position(Position {
                    commit_position: p,
                    prepare_position: p,
                }),
                None => PositionOption::NoPosition(Empty {}),
            }),
        }),
        AppendResult::WrongExpectedVersion { current, expected } => {
            R::WrongExpectedVersion(WrongExpectedVersion {
                current_revision_option_20_6_0: Some(match current {
                    Some(r) => LegacyCurrent::CurrentRevision(r),
                    None => LegacyCurrent::NoStream(Empty {}),
                }),
                expected_revision_option_20_6_0: match expected {
                    Expected::Exact(r) => Some(LegacyExpected::ExpectedRevision(r)),
                    Expected::Any => Some(LegacyExpected::Any(Empty {})),
                    Expected::StreamExists => Some(LegacyExpected::StreamExists(Empty {})),
                    // The legacy field had no "no stream" case; the server sends u64::MAX there.
                    Expected::NoStream => Some(LegacyExpected::ExpectedRevision(u64::MAX)),
                },
                current_revision_option: Some(match current {
                    Some(r) => Current::CurrentRevision(r),
                    None => Current::CurrentNoStream(Empty {}),
                }),
                expected_revision_option: Some(match expected {
                    Expected::Exact(r) => X::ExpectedRevision(r),
                    Expected::Any => X::ExpectedAny(Empty {}),
                    Expected::StreamExists => X::ExpectedStreamExists(Empty {}),
                    Expected::NoStream => X::ExpectedNoStream(Empty {}),
                }),
            })
        }
    };
    proto::AppendResp {
        result: Some(result),
    }
}

fn stream_name(identifier: Option<&proto::StreamIdentifier>) -> Result<String, Status> {
    let identifier = identifier.ok_or_else(|| invalid("A stream identifier is required."))?;
    let name = String::from_utf8(identifier.stream_name.clone())
        .map_err(|_| invalid("The stream name is not UTF-8."))?;
    if name.is_empty() {
        return Err(invalid("The stream name must not be empty."));
    }
    Ok(name)
}

struct ReadSvc {
    shared: Arc<Shared>,
    node: Arc<Node>,
}

type ReadStream = std::pin::Pin<
    Box<dyn futures_core::Stream<Item = Result<proto::ReadResp, Status>> + Send + 'static>,
>;

impl ServerStreamingService<proto::ReadReq> for ReadSvc {
    type Response = proto::ReadResp;
    type ResponseStream = ReadStream;
    type Future = BoxFuture<Response<Self::ResponseStream>, Status>;

    fn call(&mut self, request: Request<proto::ReadReq>) -> Self::Future {
        let (shared, node) = (self.shared.clone(), self.node.clone());
        Box::pin(async move {
            let caller = shared.authenticate(request.metadata())?.cloned();
            let leader_only = shared.check_leader(&node, request.metadata())?;
            let who = Caller {
                // Without users every call is allowed, as on an `--insecure` server.
                read_all: caller.is_none_or(|u| u.read_all),
                leader_only,
            };
            read(shared, node, who, request.into_inner()).map(Response::new)
        })
    }
}

/// How an event id goes out: the text form when the reader asked for it, else the structured one.
#[derive(Clone, Copy)]
struct Ids {
    as_string: bool,
}

fn event_message(record: &Record, ids: Ids) -> proto::ReadResp {
    let id = if ids.as_string {
        proto::Uuid::string(record.event_id)
    } else {
        proto::Uuid::structured(record.event_id)
    };
    let metadata = [
        ("type", record.event_type.clone()),
        ("content-type", record.content_type.clone()),
        ("created", record.created_ticks.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    proto::ReadResp {
        content: Some(read_resp::Content::Event(read_resp::ReadEvent {
            event: Some(read_resp::RecordedEvent {
                id: Some(id),
                stream_identifier: Some(proto::StreamIdentifier::new(&record.stream)),
                stream_revision: record.revision,
                prepare_position: record.position,
                commit_position: record.position,
                metadata,
                custom_metadata: record.custom_metadata.clone(),
                data: record.data.clone(),
            }),
            link: None,
            position: Some(read_resp::EventPosition::CommitPosition(record.position)),
        })),
    }
}

/// What the caller may do, and whether its call required the leader.
#[derive(Clone, Copy)]
struct Caller {
    read_all: bool,
    leader_only: bool,
}

fn read(
    shared: Arc<Shared>,
    node: Arc<Node>,
    caller: Caller,
    request: proto::ReadReq,
) -> Result<ReadStream, Status> {
    use read_req::{AllOption, CountOption, FilterOption, RevisionOption, StreamOption};

    if !*node.running.borrow() {
        return Err(shutting_down());
    }
    let options = request
        .options
        .ok_or_else(|| invalid("Read options are required."))?;
    if let Some(FilterOption::Filter(_)) = options.filter_option {
        return Err(Status::unimplemented(
            "esdb-testserver does not support server-side filters; read without a filter.",
        ));
    }
    let forwards = match options.read_direction {
        0 => true,
        1 => false,
        other => return Err(invalid(format!("Unknown read direction {other}."))),
    };
    let ids = Ids {
        as_string: matches!(
            options.uuid_option.and_then(|o| o.content),
            Some(read_req::UuidContent::String(_))
        ),
    };
    let stream_option = options
        .stream_option
        .ok_or_else(|| invalid("A stream or $all is required."))?;
    let system = match &stream_option {
        StreamOption::All(_) => true,
        StreamOption::Stream(s) => stream_name(s.stream_identifier.as_ref())?.starts_with('$'),
    };
    if system && !caller.read_all {
        return Err(access_denied());
    }
    // `compatibility >= 1` (current clients): stream reads end with the stream's last revision.
    let last_position = options.control_option.is_some_and(|c| c.compatibility >= 1);
    match options.count_option {
        Some(CountOption::Count(count)) => {
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            let log = shared.log();
            let messages: Vec<Result<proto::ReadResp, Status>> = match stream_option {
                StreamOption::Stream(options) => {
                    let stream = stream_name(options.stream_identifier.as_ref())?;
                    if !log.stream_exists(&stream) {
                        vec![Ok(proto::ReadResp {
                            content: Some(read_resp::Content::StreamNotFound(
                                read_resp::StreamNotFound {
                                    stream_identifier: options.stream_identifier,
                                },
                            )),
                        })]
                    } else {
                        let from = match options.revision_option {
                            Some(RevisionOption::Revision(r)) => RevFrom::Revision(r),
                            Some(RevisionOption::End(_)) => RevFrom::End,
                            Some(RevisionOption::Start(_)) | None => RevFrom::Start,
                        };
                        let mut out: Vec<_> = log
                            .read_stream(&stream, forwards, from, count)
                            .iter()
                            .map(|r| Ok(event_message(r, ids)))
                            .collect();
                        if last_position && let Some(last) = log.last_revision(&stream) {
                            out.push(Ok(proto::ReadResp {
                                content: Some(read_resp::Content::LastStreamPosition(last)),
                            }));
                        }
                        out
                    }
                }
                StreamOption::All(options) => {
                    let from = match options.all_option {
                        Some(AllOption::Position(p)) => AllFrom::Position(p.commit_position),
                        Some(AllOption::End(_)) => AllFrom::End,
                        Some(AllOption::Start(_)) | None => AllFrom::Start,
                    };
                    log.read_all(forwards, from, count)
                        .iter()
                        .map(|r| Ok(event_message(r, ids)))
                        .collect()
                }
            };
            Ok(Box::pin(futures_util::stream::iter(messages)))
        }
        Some(CountOption::Subscription(_)) => {
            if !forwards {
                return Err(invalid("Subscriptions read forwards only."));
            }
            let target = match stream_option {
                StreamOption::Stream(options) => {
                    let stream = stream_name(options.stream_identifier.as_ref())?;
                    let after = match options.revision_option {
                        Some(RevisionOption::Revision(r)) => Some(r),
                        Some(RevisionOption::End(_)) => shared.log().last_revision(&stream),
                        Some(RevisionOption::Start(_)) | None => None,
                    };
                    Target::Stream { stream, after }
                }
                StreamOption::All(options) => {
                    let after = match options.all_option {
                        Some(AllOption::Position(p)) => Some(p.commit_position),
                        Some(AllOption::End(_)) => shared.log().last_position(),
                        Some(AllOption::Start(_)) | None => None,
                    };
                    Target::All { after }
                }
            };
            let (tx, rx) = mpsc::channel(128);
            tokio::spawn(subscription(shared, node, caller, target, ids, tx));
            Ok(Box::pin(ReceiverStream::new(rx).fuse()))
        }
        None => Err(invalid("A count or subscription option is required.")),
    }
}

/// What a subscription follows, and the last thing it delivered (`None`: nothing yet).
enum Target {
    All { after: Option<u64> },
    Stream { stream: String, after: Option<u64> },
}

fn timestamp_now() -> proto::Timestamp {
    let now = chrono::Utc::now();
    proto::Timestamp {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos() as i32,
    }
}

/// Feeds one subscription: confirmation, catch-up, `CaughtUp`, then live events, until the client
/// goes away, the node stops (then `UNAVAILABLE`, as from a node going down) or, for a
/// subscription that required the leader, the node stops leading (`UNAVAILABLE` too).
async fn subscription(
    shared: Arc<Shared>,
    node: Arc<Node>,
    caller: Caller,
    mut target: Target,
    ids: Ids,
    tx: mpsc::Sender<Result<proto::ReadResp, Status>>,
) {
    let mut written = shared.written.subscribe();
    let mut running = node.running.subscribe();
    let mut leader = shared.leader.subscribe();
    let confirmation = proto::ReadResp {
        content: Some(read_resp::Content::Confirmation(
            read_resp::SubscriptionConfirmation {
                subscription_id: uuid::Uuid::new_v4().to_string(),
            },
        )),
    };
    if tx.send(Ok(confirmation)).await.is_err() {
        return;
    }
    let mut caught_up = false;
    loop {
        if !*running.borrow_and_update() {
            let _ = tx.send(Err(shutting_down())).await;
            return;
        }
        if caller.leader_only && *leader.borrow_and_update() != node.index {
            let _ = tx
                .send(Err(Status::unavailable("Server Is Not Ready")))
                .await;
            return;
        }
        written.borrow_and_update();
        let batch = {
            let log = shared.log();
            match &target {
                Target::All { after } => log.all_after(*after, 256),
                Target::Stream { stream, after } => log.stream_after(stream, *after, 256),
            }
        };
        if batch.is_empty() {
            if !caught_up {
                caught_up = true;
                let (stream_revision, position) = match &target {
                    Target::All { after } => (
                        None,
                        after.map(|p| read_resp::Position {
                            commit_position: p,
                            prepare_position: p,
                        }),
                    ),
                    Target::Stream { after, .. } => (after.map(|r| r as i64), None),
                };
                let message = proto::ReadResp {
                    content: Some(read_resp::Content::CaughtUp(read_resp::CaughtUp {
                        timestamp: Some(timestamp_now()),
                        stream_revision,
                        position,
                    })),
                };
                if tx.send(Ok(message)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = written.changed() => {}
                _ = running.changed() => {}
                _ = leader.changed() => {}
                _ = tx.closed() => return,
                // A backstop against a missed wake-up; costs one empty look per second.
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        for record in batch {
            match &mut target {
                Target::All { after } => *after = Some(record.position),
                Target::Stream { after, .. } => *after = Some(record.revision),
            }
            if tx.send(Ok(event_message(&record, ids))).await.is_err() {
                return;
            }
        }
    }
}

/// `event_store.client.gossip.Gossip`: the cluster's members and who leads, for clients that
/// discover the cluster (multi-host or `+discover` connection strings).
#[derive(Clone)]
pub(crate) struct GossipService(Arc<Shared>);

impl GossipService {
    pub(crate) fn new(shared: Arc<Shared>, _node: Arc<Node>) -> Self {
        GossipService(shared)
    }
}

impl NamedService for GossipService {
    const NAME: &'static str = "event_store.client.gossip.Gossip";
}

impl<B> Service<http::Request<B>> for GossipService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let shared = self.0.clone();
        match req.uri().path() {
            "/event_store.client.gossip.Gossip/Read" => Box::pin(async move {
                let mut grpc = Grpc::new(ProstCodec::<proto::ClusterInfo, Empty>::default());
                Ok(grpc.unary(GossipSvc(shared), req).await)
            }),
            _ => Box::pin(async move { Ok(unimplemented_response()) }),
        }
    }
}

struct GossipSvc(Arc<Shared>);

impl UnaryService<Empty> for GossipSvc {
    type Response = proto::ClusterInfo;
    type Future = BoxFuture<Response<Self::Response>, Status>;

    fn call(&mut self, _request: Request<Empty>) -> Self::Future {
        let shared = self.0.clone();
        Box::pin(async move {
            let leader = *shared.leader.borrow();
            let now = chrono::Utc::now().timestamp_micros() * 10;
            let members = shared
                .nodes
                .iter()
                .map(|node| {
                    let alive = *node.running.borrow();
                    proto::MemberInfo {
                        instance_id: Some(proto::Uuid::structured(node.instance_id)),
                        time_stamp: now,
                        // VNodeState: 8 leader, 6 follower, 11 shut down.
                        state: match (alive, node.index == leader) {
                            (false, _) => 11,
                            (true, true) => 8,
                            (true, false) => 6,
                        },
                        is_alive: alive,
                        http_end_point: Some(proto::EndPoint {
                            address: shared.host_of(node),
                            port: u32::from(node.addr.port()),
                        }),
                    }
                })
                .collect();
            Ok(Response::new(proto::ClusterInfo { members }))
        })
    }
}
