//! The resources: the catalogue page (`/ressources`: the viewer's tiles, filtered by level,
//! subject, type and DYS suitability with a plain GET form) and the opening of a tile
//! (`/ressources/{id}/ouvrir`, in `resources/catalogue.rs`), the catalogue's administration on
//! the département's desk and each school's (`/departement/ressources`,
//! `/etablissement/{uai}/ressources`, in `resources/admin.rs`), and the département's
//! statistics of openings per resource and collège with their CSV export
//! (`/departement/ressources/statistiques`, in `resources/stats.rs`). Who sees, opens or
//! manages what is decided by the SQL of `store::resources`.

mod admin;
mod catalogue;
mod stats;

use axum::Router;
use axum::routing::get;

use crate::AppState;

/// The resources' routes.
pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/ressources", get(catalogue::page))
        .route("/ressources/{id}/ouvrir", get(catalogue::open))
        .route("/departement/ressources/statistiques", get(stats::page))
        .route("/departement/ressources/statistiques.csv", get(stats::csv));
    for console in ["/departement", "/etablissement/{uai}"] {
        let base = format!("{console}/ressources");
        router = router
            .route(&base, get(admin::list))
            .route(&format!("{base}/nouvelle"), get(admin::new_form).post(admin::create))
            .route(&format!("{base}/{{id}}"), get(admin::show).post(admin::update))
            .route(
                &format!("{base}/{{id}}/supprimer"),
                get(admin::confirm_delete).post(admin::delete),
            );
    }
    router
}
