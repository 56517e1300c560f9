//! Serving the web application: bind the configured address first (so that a busy port fails
//! at once, with a clear message), start the background workers (outbox, live updates between
//! instances), log where Préau answers, serve until Ctrl-C or SIGTERM with a bounded number of
//! connections and a deadline for each request's headers, end the live streams, give the
//! requests in flight and the workers a few seconds to finish, then close the database.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::Config;
use crate::workers::{Publish, WorkerSettings, Workers};

/// How long a client may take to send a request's headers before its connection is closed, so
/// that slow clients (slowloris) cannot hold connections open.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections served at once; the next ones wait in the kernel's backlog. It stays
/// below the usual limit of 1,024 open files, so that the server never fails to accept.
pub const MAX_CONNECTIONS: usize = 768;

/// How long requests in flight may run after a shutdown signal before the process stops anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long the background workers may take to finish what they are doing (an SMTP exchange)
/// after the requests; what they leave is taken up again when its lease ends.
pub const WORKERS_GRACE: Duration = Duration::from_secs(5);

/// Binds the configured address, so that a busy port fails at once with a clear message.
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("impossible d'écouter sur {}", config.listen))
}

/// Serves `web::router` on the configured address until a shutdown signal.
///
/// # Errors
/// When the address cannot be bound or the server fails.
pub async fn serve(config: &Config, store: store::Store) -> anyhow::Result<()> {
    let listener = bind(config).await?;
    serve_on(listener, config, store).await
}

/// Serves `web::router_with` on a bound listener, with the background workers, until a
/// shutdown signal: at most [`MAX_CONNECTIONS`] at once, headers read within
/// [`HEADER_READ_TIMEOUT`]; then the live streams end, the requests in flight get
/// [`SHUTDOWN_GRACE`] and the workers [`WORKERS_GRACE`] to finish before the database is closed.
///
/// # Errors
/// When the listener's address cannot be read, the attachment store cannot be opened or the
/// workers cannot start (SMTP settings).
pub async fn serve_on(
    listener: TcpListener,
    config: &Config,
    store: store::Store,
) -> anyhow::Result<()> {
    let address = listener.local_addr().context("adresse d'écoute inconnue")?;
    store
        .ensure_gazetteer()
        .await
        .context("le répertoire des communes n'a pas pu être écrit dans la base")?;
    let live = web::LiveHub::new();
    let hub = live.clone();
    let publish: Publish = Arc::new(move |person_ids: &[String]| hub.publish(person_ids));
    let files = file_store(config)?;
    let settings = WorkerSettings::from_config(config);
    let workers = Workers::start(store.clone(), publish, &settings, files.clone())?;
    tracing::info!(%address, base_url = %config.base_url, "préau à l'écoute");
    let app = web::router_with(store.clone(), config.web_config(), live.clone(), files);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        // Waiting for a free slot must not keep the server from hearing a shutdown signal.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "connexion refusée");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };

        let service =
            app.clone().map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                request.map(axum::body::Body::new)
            });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }

    drop(listener);
    // Open pages follow their unread count on streams that never end by themselves.
    live.shut_down();
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("arrêt : des requêtes n'ont pas fini à temps");
    }
    workers.stop(WORKERS_GRACE).await;
    tracing::info!("arrêt : fermeture de la base de données");
    store.close().await;
    Ok(())
}

/// The attachment store: the S3-compatible bucket when one is configured, else the local
/// folder `files_dir` (created if missing).
///
/// # Errors
/// A folder that cannot be created, or object store settings the client refuses.
pub fn file_store(config: &Config) -> anyhow::Result<store::files::FileStore> {
    match &config.s3 {
        Some(s3) => {
            let settings = store::files::S3Config {
                endpoint: s3.endpoint.clone(),
                bucket: s3.bucket.clone(),
                region: s3.region.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: secrecy::ExposeSecret::expose_secret(&s3.secret_access_key)
                    .to_owned(),
                allow_http: s3.endpoint.starts_with("http://"),
            };
            store::files::FileStore::s3(&settings).map_err(|error| anyhow::anyhow!("s3 : {error}"))
        }
        None => store::files::FileStore::local(&config.files_dir)
            .map_err(|error| anyhow::anyhow!("files_dir : {error}")),
    }
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
