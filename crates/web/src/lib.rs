//! The web interface: one axum [`Router`] holding every page, form, static asset and health
//! endpoint. Pages are rendered on the server from askama templates and work without
//! JavaScript. This file owns the configuration, the shared state and the wiring of routes and
//! layers; each concern lives in its own module (security headers and CSRF, sessions and the
//! viewer, accounts, the personal space).

mod accounts;
mod assets;
mod consoles;
mod error;
mod form;
mod internship;
mod ip_throttle;
pub mod letters;
mod live;
mod messages;
mod news;
mod pages;
mod resources;
mod rules_console;
mod second_factor;
mod security;
mod session;
mod sso;
mod sso_console;
mod templates;
mod timetable;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::sync::Semaphore;
use tower_http::trace::TraceLayer;

pub use live::LiveHub;

/// How the web interface runs (see `contract.md`).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public base URL, e.g. `http://127.0.0.1:8080`; links and cookie security follow it.
    pub base_url: String,
    /// How long a session lives without a request (sliding).
    pub session_idle: Duration,
    /// How long a session lives at most after login.
    pub session_absolute: Duration,
    /// How long a new activation code stays valid.
    pub activation_validity: Duration,
    /// How many Argon2 computations may run at once.
    pub max_concurrent_hashes: usize,
    /// Reverse proxies whose X-Forwarded-For is trusted (empty: none).
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a request may take in all, body included: a body that trickles in byte by byte
    /// (slowloris on the body) is answered 408 rather than holding a connection. A password
    /// hash waits for a semaphore slot inside it, so it stays well above a busy morning's queue.
    pub request_timeout: Duration,
    /// Where [`router`] keeps attachments (a local folder; [`router_with`] takes any
    /// `FileStore`, such as an S3-compatible one). The default, under the system's temporary
    /// folder, only suits tests: a server sets its own.
    pub files_dir: PathBuf,
    /// How many pages may follow the live unread count at once (each holds a connection).
    pub max_live_streams: usize,
    /// How many compose forms (which may carry a file) may be received at once in all.
    pub max_concurrent_uploads: usize,
    /// How long a teacher needs between lessons in two collèges (the merged timetable's
    /// too-short transfers).
    pub travel: domain::timetable::TravelPolicy,
    /// Whether administrators (of a school or of the département) must pass a TOTP second
    /// factor at every login (on by default; off only to stage its roll-out). People who
    /// enrolled a factor always pass it.
    pub second_factor_for_admins: bool,
    /// How long OpenID Connect codes, tokens and signing keys live.
    pub oidc: store::sso::oidc::OidcPolicy,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            base_url: "http://127.0.0.1:8080".to_owned(),
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            activation_validity: Duration::from_secs(120 * 24 * 3600),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            trusted_proxies: Vec::new(),
            request_timeout: Duration::from_secs(30),
            files_dir: std::env::temp_dir().join("preau-fichiers"),
            max_live_streams: 256,
            max_concurrent_uploads: 16,
            travel: domain::timetable::TravelPolicy::default(),
            second_factor_for_admins: true,
            oidc: store::sso::oidc::OidcPolicy::default(),
        }
    }
}

/// What every handler shares: one allocation, so that the many clones a request makes through
/// the router and its middleware are one counter each.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub(crate) struct Shared {
    pub(crate) store: store::Store,
    pub(crate) config: Arc<WebConfig>,
    pub(crate) site: Arc<security::Site>,
    pub(crate) hashes: Arc<Semaphore>,
    pub(crate) dummy_hash: Arc<String>,
    /// Failed logins per client address, for the generous per-IP slow-down.
    pub(crate) ip_failures: Arc<ip_throttle::IpFailures>,
    /// When expired sessions were last swept (Unix seconds).
    pub(crate) last_purge: Arc<AtomicI64>,
    /// Where changed mailboxes are announced to open pages.
    pub(crate) live: LiveHub,
    /// The places left for pages following the live unread count.
    pub(crate) live_streams: Arc<Semaphore>,
    /// The compose forms being received.
    pub(crate) uploads: messages::Uploads,
    /// Where attachments are kept; `None` when [`router`] could not open its folder (the
    /// attachment routes then answer a server fault, logged).
    pub(crate) files: Option<store::files::FileStore>,
}

impl Shared {
    /// The attachment store, or a server fault when it could not be opened.
    pub(crate) fn files(&self) -> Result<&store::files::FileStore, error::AppError> {
        self.files
            .as_ref()
            .ok_or_else(|| error::AppError::Internal("file store unavailable".to_owned()))
    }
}

/// The whole application: pages, forms, static assets, `/healthz`, `/readyz`, with a live hub
/// of its own and attachments kept in the folder `config.files_dir` (created if missing; when
/// it cannot be used, the cause is logged and the attachment routes answer a server fault).
/// Serve it with `ConnectInfo<SocketAddr>` in each request's extensions (the `preau` binary
/// does), so that throttling sees the client's address.
pub fn router(store: store::Store, config: WebConfig) -> Router {
    let files = match store::files::FileStore::local(&config.files_dir) {
        Ok(files) => Some(files),
        Err(error) => {
            tracing::error!(%error, "attachment folder unusable");
            None
        }
    };
    build(store, config, LiveHub::new(), files)
}

/// The whole application over a given live hub (which another task may also publish to, such
/// as a PostgreSQL LISTEN task that hears the sends of other instances) and a given attachment
/// store (a local folder or an S3-compatible bucket).
pub fn router_with(
    store: store::Store,
    config: WebConfig,
    live: LiveHub,
    files: store::files::FileStore,
) -> Router {
    build(store, config, live, Some(files))
}

fn build(
    store: store::Store,
    config: WebConfig,
    live: LiveHub,
    files: Option<store::files::FileStore>,
) -> Router {
    let site = security::Site::from_base_url(&config.base_url);
    let request_timeout = config.request_timeout;
    let state = AppState(Arc::new(Shared {
        store,
        hashes: Arc::new(Semaphore::new(config.max_concurrent_hashes.max(1))),
        live_streams: Arc::new(Semaphore::new(config.max_live_streams)),
        uploads: messages::Uploads::new(config.max_concurrent_uploads),
        config: Arc::new(config),
        site: Arc::new(site),
        dummy_hash: Arc::new(accounts::dummy_hash()),
        ip_failures: Arc::new(ip_throttle::IpFailures::default()),
        last_purge: Arc::new(AtomicI64::new(0)),
        live,
        files,
    }));

    Router::new()
        .route("/", get(pages::root))
        .route("/connexion", get(accounts::login_form).post(accounts::login))
        .route("/activation", get(accounts::activation_form).post(accounts::activate))
        .route("/mot-de-passe-oublie", get(accounts::forgotten))
        .route("/deconnexion", post(accounts::logout))
        .route("/accueil", get(pages::home))
        .route("/annuaire", get(pages::directory))
        .route("/parametres", get(pages::settings).post(pages::save_settings))
        .route("/parametres/mot-de-passe", post(accounts::change_own_password))
        .route("/parametres/notifications", post(pages::save_notify_email))
        .route(
            "/enfants/{id}/mot-de-passe",
            get(accounts::child_password_form).post(accounts::reset_child_password),
        )
        .route(
            "/personnes/{id}/nouveau-code",
            get(accounts::new_code_form).post(accounts::issue_new_code),
        )
        .route("/personnes/{id}/gel", post(consoles::set_frozen))
        .route("/personnes/{id}/second-facteur", post(consoles::reset_second_factor))
        .route("/etablissement/{uai}", get(consoles::school_console))
        .route("/etablissement/{uai}/codes.csv", get(consoles::school_codes_csv))
        .route("/etablissement/{uai}/lettres", get(consoles::school_letters))
        .route("/departement", get(consoles::departement_console))
        .route("/departement/personnes", post(consoles::create_local_person))
        .route("/departement/imports", get(consoles::import_runs))
        .merge(messages::routes())
        .merge(rules_console::routes())
        .merge(news::routes())
        .merge(timetable::routes())
        .merge(sso::routes())
        .merge(sso_console::routes())
        .merge(resources::routes())
        .merge(second_factor::routes())
        .merge(internship::routes())
        .route(assets::CSS_ROUTE, get(assets::css))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(pages::not_found)
        .method_not_allowed_fallback(pages::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::guard))
        .layer(DefaultBodyLimit::max(form::MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn(server_timing))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("-", |path| path.as_str())
                        .to_owned();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        route = %route,
                        status = tracing::field::Empty,
                        latency_ms = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(
                    |response: &axum::response::Response,
                     latency: Duration,
                     span: &tracing::Span| {
                        span.record("status", response.status().as_u16());
                        span.record("latency_ms", latency.as_millis());
                        tracing::debug!("response");
                    },
                ),
        )
        .with_state(state)
}

/// Adds `Server-Timing: app;dur=<milliseconds>` to every response: the time spent in the
/// application for this request (the benchmarks read it).
async fn server_timing(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = axum::http::HeaderValue::from_str(&format!("app;dur={millis:.2}")) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.store.ping().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "base de données indisponible")
    }
}
