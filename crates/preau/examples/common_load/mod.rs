//! What the load generators of the benchmarks share (`mail_load.rs` for scripts/bench-mail.sh,
//! `timetable_load.rs` for scripts/bench-timetable.sh, `cas_load.rs` for scripts/bench-cas.sh):
//! the store and a raw connection pool on
//! the benchmark's database, a session written straight into the store for a person (the
//! cookie a login would have set), one keep-alive HTTP/1.1 connection per client on the
//! loopback, the closed loop that drives the clients after their warm-up (each sends its next
//! request as soon as the previous one is answered), and the percentiles of what was measured,
//! on the client's clock and from the server's `Server-Timing: app;dur=<ms>`, with their medians
//! over several runs (`runs.rs`). What each request is, and what makes its answer right, stays
//! in each generator.

pub(crate) mod runs;

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

/// The store on the benchmark's database, with a few connections.
pub(crate) async fn open(url: &str) -> anyhow::Result<store::Store> {
    let config = store::StoreConfig { url: url.to_owned(), max_connections: 4 };
    Ok(store::Store::open(&config).await?)
}

/// One raw connection to the benchmark's database, for the rows no store method writes or
/// lists.
pub(crate) async fn raw_pool(url: &str) -> anyhow::Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect_with(sqlx::any::AnyConnectOptions::from_str(url)?)
        .await?)
}

/// With `--cold`: before each request, the generation `family` of what the server keeps in
/// memory (`store::cache`) is moved, so that the request finds nothing kept and reads the
/// database as a first visit would (the move itself is not timed).
#[derive(Clone)]
#[allow(dead_code, reason = "used by the timetable and internship generators, not the others")]
pub(crate) struct Cold {
    pool: sqlx::AnyPool,
    family: &'static str,
}

#[allow(dead_code, reason = "used by the timetable and internship generators, not the others")]
impl Cold {
    pub(crate) async fn on(url: &str, family: &'static str) -> anyhow::Result<Cold> {
        Ok(Cold { pool: raw_pool(url).await?, family })
    }

    /// Retires everything kept of the family.
    pub(crate) async fn spoil(&self) -> anyhow::Result<()> {
        sqlx::query("UPDATE cache_generations SET value = value + 1 WHERE name = $1")
            .bind(self.family)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// A person's session: the cookie header a login would have set, and its CSRF token.
pub(crate) struct Session {
    pub(crate) cookie: String,
    #[allow(dead_code, reason = "read by the generators that post forms, not by the others")]
    pub(crate) csrf: String,
}

/// Writes a 12-hour session for `person_id` into the store (its account must be activated).
pub(crate) async fn session(store: &store::Store, person_id: &str) -> anyhow::Result<Session> {
    let id = format!("s{}", store::new_id().replace('-', ""));
    let csrf = format!("c{}", store::new_id().replace('-', ""));
    let hash = hex::encode(Sha256::digest(id.as_bytes()));
    let now = store::now_unix();
    store.create_session(&hash, person_id, &csrf, now, now + 12 * 3600).await?;
    Ok(Session { cookie: format!("__Host-preau_session={id}"), csrf })
}

/// One keep-alive HTTP/1.1 connection to `preau serve` on 127.0.0.1.
pub(crate) struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    port: u16,
}

/// A response, read whole.
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The `app;dur=` of its `Server-Timing` header, if any.
    pub(crate) server: Option<Duration>,
    pub(crate) body: Bytes,
}

impl Connection {
    pub(crate) async fn open(port: u16) -> anyhow::Result<Connection> {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Connection { sender, port })
    }

    /// A request to this server with the session's cookie; a `POST` also says it comes from
    /// the site's own pages, as a browser's form would.
    pub(crate) fn request(
        &self,
        method: &str,
        uri: &str,
        session: &Session,
    ) -> hyper::http::request::Builder {
        let builder = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", format!("127.0.0.1:{}", self.port))
            .header("cookie", &session.cookie);
        match method {
            "POST" => builder
                .header("origin", format!("http://127.0.0.1:{}", self.port))
                .header("sec-fetch-site", "same-origin"),
            _ => builder,
        }
    }

    /// Sends a request on the connection and reads the whole answer.
    pub(crate) async fn send(
        &mut self,
        request: hyper::Request<Full<Bytes>>,
    ) -> anyhow::Result<Answer> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let server = response
            .headers()
            .get("server-timing")
            .and_then(|value| value.to_str().ok())
            .and_then(server_duration);
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer { status, server, body })
    }
}

/// The `dur` of the `app` metric of a `Server-Timing` value (`app;dur=1.23`).
fn server_duration(header: &str) -> Option<Duration> {
    header.split(',').find_map(|metric| {
        let mut parts = metric.trim().split(';');
        if parts.next()?.trim() != "app" {
            return None;
        }
        let millis: f64 = parts.find_map(|p| p.trim().strip_prefix("dur="))?.parse().ok()?;
        (millis.is_finite() && millis >= 0.0).then(|| Duration::from_secs_f64(millis / 1000.0))
    })
}

/// One measured request: how long the client waited, and what the server said it spent.
pub(crate) struct Sample {
    pub(crate) latency: Duration,
    pub(crate) server: Option<Duration>,
}

/// A client of the closed loop: one request of its case, checked, measured.
pub(crate) trait Load: Send + 'static {
    /// Sends one request and checks its answer; an answer that is not the expected one is an
    /// error that stops the benchmark.
    fn once(&mut self) -> impl Future<Output = anyhow::Result<Sample>> + Send;
}

/// What one closed-loop run measured.
pub(crate) struct Figures {
    pub(crate) requests: usize,
    /// Requests per second over the whole run.
    pub(crate) throughput: f64,
    pub(crate) client: Percentiles,
    /// From `Server-Timing`; `None` when an answer lacked it.
    #[allow(dead_code, reason = "the messaging benchmark's targets are on the client's clock")]
    pub(crate) server: Option<Percentiles>,
}

/// p50, p90, p99 and the slowest, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Percentiles {
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

impl Percentiles {
    /// The nearest-rank percentiles of `times` (sorted here); zeros when there are none.
    pub(crate) fn of(mut times: Vec<Duration>) -> Percentiles {
        times.sort();
        let rank = |p: f64| {
            if times.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * times.len() as f64).ceil() as usize;
            ms(times[rank.clamp(1, times.len()) - 1])
        };
        Percentiles { p50: rank(50.0), p90: rank(90.0), p99: rank(99.0), max: rank(100.0) }
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Drives the clients together: each first sends `warm_up` requests (checked, not measured),
/// then all start at once and each sends `requests` more, one after the other. Gives the
/// clients back (their connections stay open for another run) with the figures.
pub(crate) async fn closed_loop<L: Load>(
    clients: Vec<L>,
    warm_up: usize,
    requests: usize,
) -> anyhow::Result<(Vec<L>, Figures)> {
    let start = Arc::new(tokio::sync::Barrier::new(clients.len() + 1));
    let mut tasks = Vec::new();
    for mut client in clients {
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            let mut warmed = Ok(());
            for _ in 0..warm_up {
                if let Err(error) = client.once().await {
                    warmed = Err(error.context("pendant l'échauffement"));
                    break;
                }
            }
            // Every task reaches the barrier, so that a failed client does not hang the others.
            start.wait().await;
            warmed?;
            let mut samples = Vec::with_capacity(requests);
            for _ in 0..requests {
                samples.push(client.once().await?);
            }
            Ok::<_, anyhow::Error>((client, samples, Instant::now()))
        }));
    }
    start.wait().await;
    let began = Instant::now();

    let mut clients = Vec::new();
    let mut samples: Vec<Sample> = Vec::new();
    let mut finished = began;
    let mut failure = None;
    for task in tasks {
        match task.await? {
            Ok((client, times, end)) => {
                clients.push(client);
                samples.extend(times);
                finished = finished.max(end);
            }
            Err(error) => failure = failure.or(Some(error)),
        }
    }
    if let Some(error) = failure {
        return Err(error);
    }

    let wall = finished.duration_since(began).as_secs_f64();
    let server: Option<Vec<Duration>> = samples.iter().map(|s| s.server).collect();
    let figures = Figures {
        requests: samples.len(),
        throughput: if wall > 0.0 { samples.len() as f64 / wall } else { 0.0 },
        client: Percentiles::of(samples.iter().map(|s| s.latency).collect()),
        server: server.map(Percentiles::of),
    };
    Ok((clients, figures))
}
