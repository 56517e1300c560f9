//! Serving the web application: bind the configured address first (so that a busy port fails
//! at once, with a clear message), log where Préau answers, serve until Ctrl-C or SIGTERM, let
//! the requests in flight finish, then close the database.

use std::net::SocketAddr;

use anyhow::Context;

use crate::config::Config;

/// Serves `web::router` on the configured address until a shutdown signal.
///
/// # Errors
/// When the address cannot be bound or the server fails.
pub async fn serve(config: &Config, store: store::Store) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("impossible d'écouter sur {}", config.listen))?;
    let address = listener.local_addr().context("adresse d'écoute inconnue")?;
    tracing::info!(%address, base_url = %config.base_url, "préau à l'écoute");

    let app = web::router(store.clone(), config.web_config());
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;

    tracing::info!("arrêt : fermeture de la base de données");
    store.close().await;
    served.context("le serveur s'est arrêté sur une erreur")
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("signal reçu : Ctrl-C"),
        () = terminate => tracing::info!("signal reçu : SIGTERM"),
    }
}
