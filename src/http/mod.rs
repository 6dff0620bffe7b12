//! The HTTP API: JSON under `/api/v1`, described by the OpenAPI 3.1 document at
//! `/api/v1/openapi.json`. Only this module knows HTTP.
//!
//! - [`routes`]: the route table, the one list of operations: method, path, who may call it, the
//!   request and response shapes, and the handler. [`app`] builds the router from it and
//!   [`openapi`] the document, so neither can name a route the other lacks.
//! - `handlers` (writes) and `queries` (reads): thin handlers. Extract, convert the wire type
//!   into a domain command or query, call the service once, map the result.
//! - [`auth`]: bearer tokens, the per-operation role gate, and what each role may read.
//! - [`wire`] (request bodies), [`views`] (response bodies), [`extract`] (bodies, path ids, query
//!   strings), [`etag`] (revisions as ETags, `If-Match`), [`idempotency`] (`Idempotency-Key`).
//! - [`error`]: every error as `application/problem+json`, mapped in one place.
//! - [`serve`]: the accept loop and its limits (header and body timeouts, idle keep-alive, a bound on
//!   connections in all and per client, the open-file limit); [`edge`]: what every request meets
//!   first (content encodings, the body deadline, `nosniff`).
//! - [`evidence`]: evidence files: the upload, the download and its access rule, and resolving
//!   the files a write cites.
//!
//! Not here: decisions (the domain's `decide`), storage (`store`), the read models' folds
//! (`ledger_projections::read`).

pub mod auth;
pub mod edge;
pub mod error;
pub mod etag;
pub mod evidence;
pub mod extract;
mod handlers;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod observe;
pub mod openapi;
pub(crate) mod queries;
pub mod routes;
pub mod serve;
pub mod tls;
pub mod views;
pub mod wire;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::app::reads::ReadSide;
use crate::app::tokens::TokenAuthority;
use crate::app::{AppError, Executed, Ledger};
use crate::store::EventStore;
use auth::Caller;
use error::ApiError;
use idempotency::Idempotency;

/// The event hashes read so far and the tree over them.
#[derive(Debug, Default)]
pub struct AuditTree {
    pub event_hashes: Vec<ledger_schemas::integrity::Digest>,
    pub tree: ledger_schemas::merkle::MerkleTree,
}

/// What every handler shares: the ledger service, the read models, the token authority, the
/// idempotency keys, the auditors' tree and last verification.
pub struct Api<S: EventStore> {
    pub ledger: Arc<Ledger<S>>,
    /// The read models, kept current from the same store.
    pub reads: ReadSide<S>,
    pub tokens: TokenAuthority,
    pub idempotency: Idempotency,
    /// The Merkle tree over the log for the auditors' proofs, grown with new events only, so a
    /// proof costs O(log n) after the first request instead of a rebuild from every hash.
    pub audit_tree: tokio::sync::Mutex<AuditTree>,
    /// The last verification an auditor ran through `POST /api/v1/audit/verification` (since start).
    pub last_verification: std::sync::Mutex<Option<views::VerificationView>>,
    /// The witnesses the server sends checkpoints to and their quorum (set once by `ledger serve`;
    /// unset, checkpoints are shown with their cosignatures but none counts as witnessed).
    pub witnessing: std::sync::OnceLock<crate::witness::Witnessing>,
    /// Where evidence files are stored (set once by `ledger serve`, or by a test; unset, uploads and
    /// writes citing files are answered 503).
    pub evidence: std::sync::OnceLock<crate::evidence::EvidenceStore>,
    /// The OpenAPI document, built once.
    openapi: Vec<u8>,
}

impl<S: EventStore> Api<S> {
    pub fn new(ledger: Arc<Ledger<S>>) -> Arc<Self> {
        Arc::new(Api {
            reads: ReadSide::new(ledger.store().clone()),
            ledger,
            tokens: TokenAuthority::new(),
            idempotency: Idempotency::default(),
            audit_tree: tokio::sync::Mutex::new(AuditTree::default()),
            last_verification: std::sync::Mutex::new(None),
            witnessing: std::sync::OnceLock::new(),
            evidence: std::sync::OnceLock::new(),
            openapi: serde_json::to_vec(&openapi::document::<S>()).unwrap_or_default(),
        })
    }

    /// Decides and records a command as the caller, correlated by a fresh request id.
    async fn execute(
        &self,
        caller: &Caller,
        command: ledger_projections::domain::Command,
    ) -> Result<Executed, ApiError> {
        // The request's id is the events' correlation id (`observe`).
        let correlation = observe::current_id().unwrap_or_else(uuid::Uuid::now_v7);
        self.ledger
            .execute_correlated(caller.actor.clone(), command, correlation)
            .await
            .map_err(|e: AppError| e.into())
    }
}

/// How the server is reached and what it allows its clients.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    pub limits: serve::Limits,
    /// The site is reached over HTTPS (TLS here or at a proxy in front): the console's cookies are
    /// `Secure` whatever the request says. Without it they are `Secure` when a request says it came
    /// over HTTPS (`X-Forwarded-Proto` or `Forwarded: proto=https`).
    pub https: bool,
    /// The size limits of evidence files (`ledger serve --evidence-max-file/--evidence-max-request`).
    pub evidence: evidence::EvidenceLimits,
}

/// The router with the default options ([`app_with`]).
pub fn app<S: EventStore>(api: Arc<Api<S>>) -> Router {
    app_with(api, &ServeOptions::default())
}

/// The router: every operation of [`routes::operations`], the OpenAPI document, problem+json
/// answers for unknown routes and methods, and the web console (`crate::console`) at `/`; every
/// request passes [`edge::layer`] first.
pub fn app_with<S: EventStore>(api: Arc<Api<S>>, options: &ServeOptions) -> Router {
    let mut router: Router<Arc<Api<S>>> = Router::new();
    for op in routes::operations::<S>() {
        let mut handler = op.handler;
        if op.kind == routes::Kind::Write && op.replayable {
            handler = handler.route_layer(middleware::from_fn_with_state(
                api.clone(),
                idempotency::layer::<S>,
            ));
        }
        handler = handler.route_layer(middleware::from_fn_with_state(
            (api.clone(), op.gate, op.kind),
            auth::gate::<S>,
        ));
        let route = op.path;
        handler = handler.route_layer(middleware::from_fn(
            move |request: Request, next: Next| async move {
                observe::note_route(route);
                next.run(request).await
            },
        ));
        router = router.route(op.path, handler);
    }
    let router = router
        .route("/healthz", axum::routing::get(health::healthz))
        .route("/readyz", axum::routing::get(health::readyz::<S>));
    let api: Router = router
        .fallback(route_not_found)
        .layer(middleware::from_fn(method_not_allowed_as_problem))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(axum::Extension(options.evidence))
        .with_state(api);
    // The web console at `/` calls this same router in process; what it does not serve falls
    // through to it.
    let settings = crate::console::Settings {
        https: options.https,
        evidence: options.evidence,
    };
    crate::console::router(api, settings)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            edge::Edge {
                body_timeout: options.limits.body_timeout,
                upload_limit: options.evidence.max_request,
            },
            edge::layer,
        ))
        .layer(middleware::from_fn(observe::layer))
}

/// The OpenAPI document (public).
pub(crate) async fn openapi_json<S: EventStore>(
    axum::extract::State(api): axum::extract::State<Arc<Api<S>>>,
) -> Response {
    let mut response = api.openapi.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn route_not_found(request: Request) -> ApiError {
    ApiError::route_not_found(request.uri().path())
}

/// axum answers a known path with an unknown method by an empty 405 (with `Allow`); give it a
/// problem body too, keeping its headers.
async fn method_not_allowed_as_problem(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut problem = ApiError::method_not_allowed(method.as_str(), &path).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        problem.headers_mut().insert(header::ALLOW, allow.clone());
    }
    problem
}

/// Serves the API on `listener` with the default options until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve<S: EventStore>(
    listener: TcpListener,
    api: Arc<Api<S>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, api, ServeOptions::default(), shutdown).await
}

/// Serves the API on `listener` as `options` say until `shutdown` completes ([`serve::serve_router`]).
pub async fn serve_with<S: EventStore>(
    listener: TcpListener,
    api: Arc<Api<S>>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve::serve_router(listener, app_with(api, &options), options.limits, shutdown).await
}
