//! The witness's HTTP face: `POST /add-checkpoint` (C2SP tlog-witness) and `GET /latest?origin=`,
//! this project's extension for monitors: the latest checkpoint the witness cosigned for a log, as
//! a signed note carrying the log's signature and the witness's cosignature (404 when it has none).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::net::TcpListener;

use super::state::Witness;

/// The largest request body: 63 proof lines and a checkpoint note with its signatures fit in a
/// few KiB.
const MAX_BODY: usize = 64 * 1024;

/// The witness's routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", axum::routing::post(add_checkpoint))
        .route("/latest", axum::routing::get(latest))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    // The decision writes the state file before answering: off the async threads.
    let answer = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now)).await;
    match answer {
        Ok(answer) => (
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CONTENT_TYPE, answer.content_type)],
            answer.body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(Deserialize)]
struct LatestQuery {
    origin: String,
}

async fn latest(State(witness): State<Arc<Witness>>, Query(q): Query<LatestQuery>) -> Response {
    match witness.latest(&q.origin) {
        Some(latest) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            latest.note,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "此见证人未联署过该日志 (this witness has cosigned nothing of that log)\n",
        )
            .into_response(),
    }
}

/// Serves the witness on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    witness: Arc<Witness>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::http::serve::serve_router(
        listener,
        router(witness),
        crate::http::serve::Limits::default(),
        shutdown,
    )
    .await
}
