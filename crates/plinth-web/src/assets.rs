//! The stylesheet and the live-progress script, compiled into the binary (the dashboard works
//! offline and needs no files next to the server).

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("../assets/plinth.css");
const LIVE_JS: &str = include_str!("../assets/live.js");

/// `/assets/plinth.css`.
pub(crate) async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

/// `/assets/live.js`: refreshes a running run's page from its progress endpoint.
pub(crate) async fn live_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        LIVE_JS,
    )
}
