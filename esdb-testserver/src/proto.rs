//! The subset of the EventStoreDB/KurrentDB gRPC protocol that this server speaks, written by hand as
//! `prost` messages.
//!
//! Written from the public protocol definitions (`shared.proto`, `streams.proto`,
//! `serverfeatures.proto`, `gossip.proto` of the `event_store.client` packages); the field numbers and `oneof` layout
//! are the wire contract, the Rust names are ours. Hand-written rather than generated so that the
//! build needs no `protoc` and no `prost-build`: the subset is small, and these definitions change
//! only when the protocol does. Messages and fields that the subset never reads or writes (batch
//! append, delete, tombstone, persistent subscriptions, filters' window settings) are left out;
//! prost skips unknown fields on decode, exactly as protobuf requires.
//!
//! `event_store.client.Empty` and `google.protobuf.Empty` have the same (empty) encoding, so both are
//! [`Empty`] here.

/// `event_store.client.Empty` (also stands for `google.protobuf.Empty`).
#[derive(Clone, Copy, PartialEq, Eq, ::prost::Message)]
pub struct Empty {}

/// `event_store.client.UUID`: either two signed 64-bit halves or the hyphenated text.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Uuid {
    #[prost(oneof = "uuid::Value", tags = "1, 2")]
    pub value: Option<uuid::Value>,
}

pub mod uuid {
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Value {
        #[prost(message, tag = "1")]
        Structured(Structured),
        #[prost(string, tag = "2")]
        String(String),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct Structured {
        #[prost(int64, tag = "1")]
        pub most_significant_bits: i64,
        #[prost(int64, tag = "2")]
        pub least_significant_bits: i64,
    }
}

impl Uuid {
    /// The structured form (what clients send).
    pub fn structured(id: ::uuid::Uuid) -> Self {
        let value = id.as_u128();
        Uuid {
            value: Some(uuid::Value::Structured(uuid::Structured {
                most_significant_bits: (value >> 64) as u64 as i64,
                least_significant_bits: value as u64 as i64,
            })),
        }
    }

    /// The text form (what a reader asks for with `uuid_option.string`).
    pub fn string(id: ::uuid::Uuid) -> Self {
        Uuid {
            value: Some(uuid::Value::String(id.hyphenated().to_string())),
        }
    }

    /// Decodes either form; `None` when absent or malformed.
    pub fn decode(&self) -> Option<::uuid::Uuid> {
        match self.value.as_ref()? {
            uuid::Value::Structured(s) => Some(::uuid::Uuid::from_u128(
                ((s.most_significant_bits as u64 as u128) << 64)
                    | s.least_significant_bits as u64 as u128,
            )),
            uuid::Value::String(s) => s.parse().ok(),
        }
    }
}

/// `event_store.client.StreamIdentifier`: the stream name as bytes (tags 1 and 2 are reserved).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct StreamIdentifier {
    #[prost(bytes = "vec", tag = "3")]
    pub stream_name: Vec<u8>,
}

impl StreamIdentifier {
    pub fn new(name: &str) -> Self {
        StreamIdentifier {
            stream_name: name.as_bytes().to_vec(),
        }
    }
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, ::prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `event_store.client.streams.ReadReq`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ReadReq {
    #[prost(message, optional, tag = "1")]
    pub options: Option<read_req::Options>,
}

pub mod read_req {
    use super::{Empty, StreamIdentifier};

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct Options {
        #[prost(oneof = "StreamOption", tags = "1, 2")]
        pub stream_option: Option<StreamOption>,
        /// 0 forwards, 1 backwards.
        #[prost(int32, tag = "3")]
        pub read_direction: i32,
        #[prost(bool, tag = "4")]
        pub resolve_links: bool,
        #[prost(oneof = "CountOption", tags = "5, 6")]
        pub count_option: Option<CountOption>,
        #[prost(oneof = "FilterOption", tags = "7, 8")]
        pub filter_option: Option<FilterOption>,
        #[prost(message, optional, tag = "9")]
        pub uuid_option: Option<UuidOption>,
        #[prost(message, optional, tag = "10")]
        pub control_option: Option<ControlOption>,
    }

    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum StreamOption {
        #[prost(message, tag = "1")]
        Stream(StreamOptions),
        #[prost(message, tag = "2")]
        All(AllOptions),
    }

    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum CountOption {
        #[prost(uint64, tag = "5")]
        Count(u64),
        #[prost(message, tag = "6")]
        Subscription(Empty),
    }

    /// Only told apart from `NoFilter`: this server refuses filtered reads (see the README).
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum FilterOption {
        #[prost(message, tag = "7")]
        Filter(Empty),
        #[prost(message, tag = "8")]
        NoFilter(Empty),
    }

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct StreamOptions {
        #[prost(message, optional, tag = "1")]
        pub stream_identifier: Option<StreamIdentifier>,
        #[prost(oneof = "RevisionOption", tags = "2, 3, 4")]
        pub revision_option: Option<RevisionOption>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum RevisionOption {
        #[prost(uint64, tag = "2")]
        Revision(u64),
        #[prost(message, tag = "3")]
        Start(Empty),
        #[prost(message, tag = "4")]
        End(Empty),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct AllOptions {
        #[prost(oneof = "AllOption", tags = "1, 2, 3")]
        pub all_option: Option<AllOption>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum AllOption {
        #[prost(message, tag = "1")]
        Position(Position),
        #[prost(message, tag = "2")]
        Start(Empty),
        #[prost(message, tag = "3")]
        End(Empty),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct Position {
        #[prost(uint64, tag = "1")]
        pub commit_position: u64,
        #[prost(uint64, tag = "2")]
        pub prepare_position: u64,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct UuidOption {
        #[prost(oneof = "UuidContent", tags = "1, 2")]
        pub content: Option<UuidContent>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum UuidContent {
        #[prost(message, tag = "1")]
        Structured(Empty),
        #[prost(message, tag = "2")]
        String(Empty),
    }

    /// `compatibility = 1` asks for "stream not found" as a message instead of an error status.
    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct ControlOption {
        #[prost(uint32, tag = "1")]
        pub compatibility: u32,
    }
}

/// `event_store.client.streams.ReadResp`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ReadResp {
    #[prost(oneof = "read_resp::Content", tags = "1, 2, 3, 4, 5, 6, 7, 8, 9")]
    pub content: Option<read_resp::Content>,
}

pub mod read_resp {
    use super::{Empty, StreamIdentifier, Timestamp, Uuid};

    // The event variant is the common one; boxing it would allocate twice per event sent.
    #[allow(clippy::large_enum_variant)]
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Content {
        #[prost(message, tag = "1")]
        Event(ReadEvent),
        #[prost(message, tag = "2")]
        Confirmation(SubscriptionConfirmation),
        #[prost(message, tag = "3")]
        Checkpoint(Checkpoint),
        #[prost(message, tag = "4")]
        StreamNotFound(StreamNotFound),
        #[prost(uint64, tag = "5")]
        FirstStreamPosition(u64),
        #[prost(uint64, tag = "6")]
        LastStreamPosition(u64),
        #[prost(message, tag = "7")]
        LastAllStreamPosition(Position),
        #[prost(message, tag = "8")]
        CaughtUp(CaughtUp),
        #[prost(message, tag = "9")]
        FellBehind(CaughtUp),
    }

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct ReadEvent {
        #[prost(message, optional, tag = "1")]
        pub event: Option<RecordedEvent>,
        #[prost(message, optional, tag = "2")]
        pub link: Option<RecordedEvent>,
        #[prost(oneof = "EventPosition", tags = "3, 4")]
        pub position: Option<EventPosition>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum EventPosition {
        #[prost(uint64, tag = "3")]
        CommitPosition(u64),
        #[prost(message, tag = "4")]
        NoPosition(Empty),
    }

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct RecordedEvent {
        #[prost(message, optional, tag = "1")]
        pub id: Option<Uuid>,
        #[prost(message, optional, tag = "2")]
        pub stream_identifier: Option<StreamIdentifier>,
        #[prost(uint64, tag = "3")]
        pub stream_revision: u64,
        #[prost(uint64, tag = "4")]
        pub prepare_position: u64,
        #[prost(uint64, tag = "5")]
        pub commit_position: u64,
        /// System metadata: `type`, `content-type`, `created` (100 ns ticks since the Unix epoch).
        #[prost(map = "string, string", tag = "6")]
        pub metadata: std::collections::HashMap<String, String>,
        #[prost(bytes = "vec", tag = "7")]
        pub custom_metadata: Vec<u8>,
        #[prost(bytes = "vec", tag = "8")]
        pub data: Vec<u8>,
    }

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct SubscriptionConfirmation {
        #[prost(string, tag = "1")]
        pub subscription_id: String,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct Checkpoint {
        #[prost(uint64, tag = "1")]
        pub commit_position: u64,
        #[prost(uint64, tag = "2")]
        pub prepare_position: u64,
    }

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct StreamNotFound {
        #[prost(message, optional, tag = "1")]
        pub stream_identifier: Option<StreamIdentifier>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct Position {
        #[prost(uint64, tag = "1")]
        pub commit_position: u64,
        #[prost(uint64, tag = "2")]
        pub prepare_position: u64,
    }

    /// `CaughtUp` and `FellBehind` share this layout.
    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct CaughtUp {
        #[prost(message, optional, tag = "1")]
        pub timestamp: Option<Timestamp>,
        #[prost(int64, optional, tag = "2")]
        pub stream_revision: Option<i64>,
        #[prost(message, optional, tag = "3")]
        pub position: Option<Position>,
    }
}

/// `event_store.client.streams.AppendReq`: the first message carries the options, every later one an
/// event.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct AppendReq {
    #[prost(oneof = "append_req::Content", tags = "1, 2")]
    pub content: Option<append_req::Content>,
}

pub mod append_req {
    use super::{Empty, StreamIdentifier, Uuid};

    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Content {
        #[prost(message, tag = "1")]
        Options(Options),
        #[prost(message, tag = "2")]
        ProposedMessage(ProposedMessage),
    }

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct Options {
        #[prost(message, optional, tag = "1")]
        pub stream_identifier: Option<StreamIdentifier>,
        #[prost(oneof = "ExpectedStreamRevision", tags = "2, 3, 4, 5")]
        pub expected_stream_revision: Option<ExpectedStreamRevision>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum ExpectedStreamRevision {
        #[prost(uint64, tag = "2")]
        Revision(u64),
        #[prost(message, tag = "3")]
        NoStream(Empty),
        #[prost(message, tag = "4")]
        Any(Empty),
        #[prost(message, tag = "5")]
        StreamExists(Empty),
    }

    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct ProposedMessage {
        #[prost(message, optional, tag = "1")]
        pub id: Option<Uuid>,
        /// Must hold `type` and `content-type`.
        #[prost(map = "string, string", tag = "2")]
        pub metadata: std::collections::HashMap<String, String>,
        #[prost(bytes = "vec", tag = "3")]
        pub custom_metadata: Vec<u8>,
        #[prost(bytes = "vec", tag = "4")]
        pub data: Vec<u8>,
    }
}

/// `event_store.client.streams.AppendResp`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct AppendResp {
    #[prost(oneof = "append_resp::Result", tags = "1, 2")]
    pub result: Option<append_resp::Result>,
}

pub mod append_resp {
    use super::Empty;

    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Result {
        #[prost(message, tag = "1")]
        Success(Success),
        #[prost(message, tag = "2")]
        WrongExpectedVersion(WrongExpectedVersion),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct Position {
        #[prost(uint64, tag = "1")]
        pub commit_position: u64,
        #[prost(uint64, tag = "2")]
        pub prepare_position: u64,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct Success {
        #[prost(oneof = "CurrentRevision", tags = "1, 2")]
        pub current_revision_option: Option<CurrentRevision>,
        #[prost(oneof = "PositionOption", tags = "3, 4")]
        pub position_option: Option<PositionOption>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum CurrentRevision {
        #[prost(uint64, tag = "1")]
        CurrentRevision(u64),
        #[prost(message, tag = "2")]
        NoStream(Empty),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum PositionOption {
        #[prost(message, tag = "3")]
        Position(Position),
        #[prost(message, tag = "4")]
        NoPosition(Empty),
    }

    /// Servers since 20.6 fill both the legacy (`*_20_6_0`) and the current fields; so does this
    /// one, so that old and new clients read it.
    #[derive(Clone, Copy, PartialEq, ::prost::Message)]
    pub struct WrongExpectedVersion {
        #[prost(oneof = "LegacyCurrent", tags = "1, 2")]
        pub current_revision_option_20_6_0: Option<LegacyCurrent>,
        #[prost(oneof = "LegacyExpected", tags = "3, 4, 5")]
        pub expected_revision_option_20_6_0: Option<LegacyExpected>,
        #[prost(oneof = "Current", tags = "6, 7")]
        pub current_revision_option: Option<Current>,
        #[prost(oneof = "Expected", tags = "8, 9, 10, 11")]
        pub expected_revision_option: Option<Expected>,
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum LegacyCurrent {
        #[prost(uint64, tag = "1")]
        CurrentRevision(u64),
        #[prost(message, tag = "2")]
        NoStream(Empty),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum LegacyExpected {
        #[prost(uint64, tag = "3")]
        ExpectedRevision(u64),
        #[prost(message, tag = "4")]
        Any(Empty),
        #[prost(message, tag = "5")]
        StreamExists(Empty),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum Current {
        #[prost(uint64, tag = "6")]
        CurrentRevision(u64),
        #[prost(message, tag = "7")]
        CurrentNoStream(Empty),
    }

    #[derive(Clone, Copy, PartialEq, ::prost::Oneof)]
    pub enum Expected {
        #[prost(uint64, tag = "8")]
        ExpectedRevision(u64),
        #[prost(message, tag = "9")]
        ExpectedAny(Empty),
        #[prost(message, tag = "10")]
        ExpectedStreamExists(Empty),
        #[prost(message, tag = "11")]
        ExpectedNoStream(Empty),
    }
}

/// `event_store.client.server_features.SupportedMethods`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SupportedMethods {
    #[prost(message, repeated, tag = "1")]
    pub methods: Vec<SupportedMethod>,
    #[prost(string, tag = "2")]
    pub event_store_server_version: String,
}

/// `event_store.client.server_features.SupportedMethod`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SupportedMethod {
    #[prost(string, tag = "1")]
    pub method_name: String,
    #[prost(string, tag = "2")]
    pub service_name: String,
    #[prost(string, repeated, tag = "3")]
    pub features: Vec<String>,
}

/// `event_store.client.gossip.ClusterInfo`: the members a node knows of.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ClusterInfo {
    #[prost(message, repeated, tag = "1")]
    pub members: Vec<MemberInfo>,
}

/// `event_store.client.gossip.EndPoint`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct EndPoint {
    #[prost(string, tag = "1")]
    pub address: String,
    #[prost(uint32, tag = "2")]
    pub port: u32,
}

/// `event_store.client.gossip.MemberInfo`. `state` is the `VNodeState` enum's number: 6 follower,
/// 8 leader (the only two this server reports), 11 shut down.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct MemberInfo {
    #[prost(message, optional, tag = "1")]
    pub instance_id: Option<Uuid>,
    #[prost(int64, tag = "2")]
    pub time_stamp: i64,
    #[prost(int32, tag = "3")]
    pub state: i32,
    #[prost(bool, tag = "4")]
    pub is_alive: bool,
    #[prost(message, optional, tag = "5")]
    pub http_end_point: Option<EndPoint>,
}
