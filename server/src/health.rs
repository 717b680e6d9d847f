//! Health and metrics endpoints for orchestrators and monitoring: `GET /healthz` (the
//! process answers), `GET /readyz` (storage is open and takes durable writes; not while
//! shutting down) and `GET /metrics` (Prometheus text format, rendered by `stats.rs`).
//! None of them needs or reveals anything about a board's content.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::stats::{self, ErrorKind};
use crate::store;

/// Alive: the server answers requests. Says nothing about storage.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready to serve boards: storage accepts a flushed write, and shutdown has not begun.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match store::blocking(state.rooms.store(), |s| s.probe()).await {
        Ok(()) => "ready\n".into_response(),
        Err(e) => {
            stats::error(ErrorKind::Storage);
            tracing::error!(error = %e, "readiness probe: storage is not writable");
            (StatusCode::SERVICE_UNAVAILABLE, "storage is not writable\n").into_response()
        }
    }
}

/// Every metric in the Prometheus text exposition format.
pub async fn metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        stats::render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tokio_util::sync::CancellationToken;
    use tokio_util::task::TaskTracker;
    use tower::ServiceExt;

    use crate::assets::Assets;
    use crate::rooms::{RoomConfig, Rooms};
    use crate::store::testing::{Calls, Faulty};
    use crate::store::{MemStore, Store};
    use crate::{app, AppState};

    fn state(store: Arc<dyn Store>) -> AppState {
        let (tracker, shutdown) = (TaskTracker::new(), CancellationToken::new());
        AppState {
            rooms: Rooms::new(
                store,
                RoomConfig::default(),
                tracker.clone(),
                shutdown.clone(),
            ),
            assets: Assets::Embedded,
            public_url: None,
            websocket_origins: None,
            max_message_bytes: 1 << 20,
            max_import_bytes: 1 << 20,
            limits: crate::limits::Limits::default(),
            connections: Arc::new(tokio::sync::Semaphore::new(16)),
            shutdown,
            tracker,
            creations: Arc::new(crate::limits::CreationLimit::new(30)),
            trusted_proxies: Default::default(),
            max_data_bytes: None,
            admin_token: None,
        }
    }

    async fn get(state: &AppState, path: &str) -> (StatusCode, String) {
        let response = app(state.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn ready_only_while_storage_takes_writes_and_not_when_stopping() {
        let store = Arc::new(Faulty::new(MemStore::default()));
        let state = state(store.clone());
        assert_eq!(get(&state, "/healthz").await.0, StatusCode::OK);
        assert_eq!(get(&state, "/readyz").await.0, StatusCode::OK);

        store.fail(Calls::Writes);
        let (status, body) = get(&state, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("not writable"), "{body}");
        assert_eq!(
            get(&state, "/healthz").await.0,
            StatusCode::OK,
            "still alive"
        );

        store.heal();
        state.shutdown.cancel();
        assert_eq!(
            get(&state, "/readyz").await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[tokio::test]
    async fn metrics_are_prometheus_text_with_every_metric_listed() {
        let store = Arc::new(MemStore::default());
        let (status, body) = get(&state(store), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        for name in [
            "# TYPE hindsight_boards_loaded gauge",
            "# TYPE hindsight_connections gauge",
            "# TYPE hindsight_updates_received_total counter",
            "# TYPE hindsight_bytes_out_total counter",
            "hindsight_errors_total{kind=\"storage\"}",
        ] {
            assert!(body.contains(name), "{name} missing from:\n{body}");
        }
    }
}
