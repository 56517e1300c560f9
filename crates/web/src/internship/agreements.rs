//! Placeholder of the internship pages `agreements`, written in this session.

use axum::Router;

use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
