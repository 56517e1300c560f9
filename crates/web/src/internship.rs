//! The 3e internship platform's pages: the hosts' space (`internship/host_portal.rs`:
//! registration, offers, members), the département's hosts and partners
//! (`internship/hosts_admin.rs`) and the partners' JSON API (`internship/api.rs`), the
//! pupils' and parents' search (`internship/search.rs`), the collèges' weeks and pupils'
//! status (`internship/school.rs`), applications on every side (`internship/applications.rs`),
//! agreements and their signatures (`internship/agreements.rs`), the sealed PDF and its public
//! verification (`internship/verify.rs`), and the département's desk and statistics
//! (`internship/departement.rs`, `internship/stats.rs`). Who may see or do what is decided by
//! the SQL of `store::internship`.

mod agreements;
mod api;
mod applications;
mod departement;
mod host_portal;
mod hosts_admin;
mod school;
mod search;
mod stats;
mod verify;

use axum::Router;

use crate::AppState;
use crate::error::AppError;
use crate::session::Viewer;

/// The internship platform's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(host_portal::routes())
        .merge(hosts_admin::routes())
        .merge(api::routes())
        .merge(search::routes())
        .merge(school::routes())
        .merge(applications::routes())
        .merge(agreements::routes())
        .merge(verify::routes())
        .merge(departement::routes())
        .merge(stats::routes())
}

/// The host organisation of a viewer who acts for it: 404 for anyone else, and for the people
/// of a suspended or merged host.
pub(crate) async fn acting_host(
    state: &AppState,
    viewer: &Viewer,
) -> Result<store::internship::HostMembership, AppError> {
    let membership = state.store.host_membership(viewer.id()).await?.ok_or(AppError::NotFound)?;
    match membership.status {
        domain::internship::HostStatus::Pending | domain::internship::HostStatus::Verified => {
            Ok(membership)
        }
        domain::internship::HostStatus::Suspended | domain::internship::HostStatus::Merged => {
            Err(AppError::NotFound)
        }
    }
}
