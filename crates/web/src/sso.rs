//! Single sign-on over HTTP: the CAS 3.0 server (`sso/cas.rs`) and the OpenID Connect provider
//! (`sso/oidc.rs`), both reading the registry of applications through `store::sso`.

mod cas;
mod oidc;

use axum::Router;

use crate::AppState;

/// Every route of the CAS server and of the OpenID Connect provider.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().merge(cas::routes()).merge(oidc::routes())
}
