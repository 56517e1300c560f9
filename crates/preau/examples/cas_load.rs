//! The load generator of `scripts/bench-cas.sh` (a benchmark, not a test): CAS round trips
//! (a service ticket issued, then validated) against Préau and against the reference CAS server
//! django-cas-server, with the same client, the same concurrency and the same paths.
//!
//! `prepare` writes the fixture département into a fresh Préau database, activates its
//! people's accounts and registers the bench service (CAS, Pronote's attribute profile, the
//! login as principal, for pupils, relatives, teachers and staff). Préau's clients are the
//! fixture's 13 pupils, relatives and teachers, in turn. `run` gives each client a logged-in
//! session, then drives the server over HTTP/1.1 on the loopback, one keep-alive connection per
//! client (opened again when the server closes it, as a gunicorn sync worker does after each
//! answer), in a closed loop; a round trip is:
//!   1. `GET /cas/login?service=S` with the session's cookie: a redirect to `S?ticket=ST-…`;
//!   2. `GET /cas/serviceValidate?service=S&ticket=ST-…`: an `authenticationSuccess` for the
//!      client's user.
//!
//! Anything else stops the run with an error. A Préau client's session is written into the
//! store (`common_load::session`); a django-cas-server client logs in once through its login
//! form (CSRF token and login ticket read from the page). Each case (one client alone, then
//! `--clients` clients) runs `--runs` times; it prints one row per case with the medians: round
//! trips, round trips per second, p50 and p99 of a round trip's latency, in milliseconds.

#[allow(
    dead_code,
    reason = "the shared keep-alive connection neither reopens a connection the server closed \
              nor shows headers (Location, Set-Cookie), which this generator needs: it has its own"
)]
mod common_load;

use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

use crate::common_load::runs::Medians;
use crate::common_load::{Figures, Load, Sample, closed_loop, open};

/// Round trips each client makes before each measured run.
const WARM_UP: usize = 5;
/// The placeholder password hash of Préau's bench accounts: nobody logs in with it.
const UNUSED_HASH: &str = "$argon2id$bench-unused";
/// What a successful validation answer holds, on both servers.
const SUCCESS_MARK: &[u8] = b"<cas:authenticationSuccess>";

#[derive(Debug, Parser)]
#[command(about = "Générateur de charge de scripts/bench-cas.sh")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the fixture, activates its accounts and registers the service, in an empty
    /// Préau database.
    Prepare {
        #[arg(long)]
        database: String,
        /// The service URL, registered as a prefix.
        #[arg(long)]
        service: String,
    },
    /// Measures CAS round trips against a server on 127.0.0.1:<port>.
    Run {
        #[arg(long, value_enum)]
        target: Target,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        service: String,
        /// Préau: its database, where the clients' sessions are written.
        #[arg(long)]
        database: Option<String>,
        /// django-cas-server: the password of its users bench0, bench1, …
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Measured round trips per client with all the clients.
        #[arg(long)]
        requests: usize,
        /// Measured round trips of the client alone.
        #[arg(long)]
        single_requests: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// The first column of the printed rows (the backend).
        #[arg(long)]
        label: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    Preau,
    Django,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Preau => "Préau",
            Target::Django => "django-cas-server",
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { database, service } => prepare(&database, &service).await,
        Command::Run {
            target,
            port,
            service,
            database,
            password,
            clients,
            requests,
            single_requests,
            runs,
            label,
        } => {
            anyhow::ensure!(clients >= 1 && runs >= 1, "--clients et --runs : au moins 1");
            let clients = match target {
                Target::Preau => {
                    let database = database.context("--database est requis pour Préau")?;
                    preau_clients(&database, port, &service, clients).await?
                }
                Target::Django => {
                    let password = password.context("--password est requis pour Django")?;
                    django_clients(port, &service, &password, clients).await?
                }
            };
            measure(target, clients, requests, single_requests, runs, &label).await
        }
    }
}

/// The fixture's people who use the bench service: its pupils, relatives and teachers (its
/// staff members administer their collèges, and an administrator's session needs a second
/// factor before it signs on anywhere).
fn bench_people() -> Vec<&'static str> {
    store::fixtures::PEOPLE
        .iter()
        .filter(|person| matches!(person.1, "pupil" | "relative" | "teacher"))
        .map(|person| person.0)
        .collect()
}

async fn prepare(url: &str, service: &str) -> anyhow::Result<()> {
    let store = open(url).await?;
    store.load_fixture().await?;
    for person in bench_people() {
        store.change_password(person, UNUSED_HASH, None).await?;
    }
    let new = store::sso::admin::NewService {
        name: "Pronote (banc d'essai)".to_owned(),
        protocol: Protocol::Cas,
        school_id: None,
        principal: Principal::Login,
        attributes: Attribute::PRONOTE.to_vec(),
        require_second_factor: false,
        allow_proxy: false,
        client_id: None,
        client_secret_hash: None,
        urls: vec![(UrlMatch::Prefix, service.to_owned())],
        logout_urls: Vec::new(),
        schools: Vec::new(),
        profiles: vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff],
    };
    store.register_service(None, &new).await?;
    store.close().await;
    Ok(())
}

/// One keep-alive HTTP/1.1 connection to 127.0.0.1:<port>, opened again when the server
/// closed it (`Connection: close`, or gone when the next request is ready).
struct Link {
    port: u16,
    sender: Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>>,
}

/// A response, read whole.
struct Reply {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: Bytes,
}

impl Link {
    fn new(port: u16) -> Link {
        Link { port, sender: None }
    }

    async fn connect(
        port: u16,
    ) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Sends a request (`GET` without a body, or `POST` of a form) and reads the answer.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        cookies: &Jar,
        form: Option<String>,
    ) -> anyhow::Result<Reply> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => Link::connect(self.port).await?,
        };
        if sender.ready().await.is_err() {
            // Closed by the server between two requests: nothing was sent yet.
            sender = Link::connect(self.port).await?;
            sender.ready().await?;
        }
        let origin = format!("http://127.0.0.1:{}", self.port);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("127.0.0.1:{}", self.port));
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.header());
        }
        let body = match form {
            Some(form) => {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("origin", &origin)
                    .header("referer", format!("{origin}{path}"));
                Full::new(Bytes::from(form))
            }
            None => Full::new(Bytes::new()),
        };
        let response = sender.send_request(request.body(body)?).await?;
        let headers = response.headers();
        let text = |value: &hyper::header::HeaderValue| value.to_str().ok().map(str::to_owned);
        let location = headers.get("location").and_then(text);
        let set_cookies = headers.get_all("set-cookie").iter().filter_map(text).collect();
        let close = headers
            .get("connection")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.eq_ignore_ascii_case("close"));
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        if !close {
            self.sender = Some(sender);
        }
        Ok(Reply { status, location, set_cookies, body })
    }
}

/// The cookies a client holds, by name (a small jar: one site, no paths).
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn header(&self) -> String {
        self.0.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Keeps what `Set-Cookie` headers set, and forgets what they expire.
    fn update(&mut self, set_cookies: &[String]) {
        for set in set_cookies {
            let mut parts = set.split(';');
            let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim().to_owned(), value.trim().trim_matches('"'));
            let expired = value.is_empty()
                || parts.any(|attribute| attribute.trim().eq_ignore_ascii_case("max-age=0"));
            self.0.retain(|(n, _)| *n != name);
            if !expired {
                self.0.push((name, value.to_owned()));
            }
        }
    }
}

/// Percent-encodes a query or form value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One client: its session's cookies, its connection, and the paths it asks for.
struct Client {
    /// Who the server must name in its validation (`<cas:user>…</cas:user>`).
    user: String,
    cookies: Jar,
    link: Link,
    login_path: String,
    service: String,
}

impl Client {
    fn new(port: u16, service: &str, user: String, cookies: Jar) -> Client {
        Client {
            user,
            cookies,
            link: Link::new(port),
            login_path: format!("/cas/login?service={}", encode(service)),
            service: service.to_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> anyhow::Result<Reply> {
        let reply = self.link.send("GET", path, &self.cookies, None).await?;
        self.cookies.update(&reply.set_cookies);
        Ok(reply)
    }

    /// One round trip: a ticket issued for the session, then validated.
    async fn round_trip(&mut self) -> anyhow::Result<()> {
        let login_path = self.login_path.clone();
        let issued = self.get(&login_path).await?;
        anyhow::ensure!(
            matches!(issued.status, 302 | 303),
            "/cas/login a répondu {} au lieu d'une redirection vers le service ({})",
            issued.status,
            self.user
        );
        let location = issued.location.unwrap_or_default();
        let ticket = location
            .strip_prefix(self.service.as_str())
            .and_then(|rest| rest.split(['?', '&']).find_map(|p| p.strip_prefix("ticket=")))
            .map(|ticket| ticket.split('#').next().unwrap_or(ticket).to_owned())
            .filter(|ticket| ticket.starts_with("ST-"))
            .with_context(|| {
                format!("pas de ticket pour {} dans la redirection vers « {location} »", self.user)
            })?;

        let validate = format!(
            "/cas/serviceValidate?service={}&ticket={}",
            encode(&self.service),
            encode(&ticket)
        );
        let validated = self.link.send("GET", &validate, &Jar::default(), None).await?;
        let user = format!("<cas:user>{}</cas:user>", self.user);
        let body = &validated.body;
        anyhow::ensure!(
            validated.status == 200
                && contains(body, SUCCESS_MARK)
                && contains(body, user.as_bytes()),
            "serviceValidate a répondu {} sans authenticationSuccess pour {} : {}",
            validated.status,
            self.user,
            String::from_utf8_lossy(body)
        );
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

impl Load for Client {
    async fn once(&mut self) -> anyhow::Result<Sample> {
        let began = Instant::now();
        self.round_trip().await?;
        Ok(Sample { latency: began.elapsed(), server: None })
    }
}

/// Préau's clients: a session written into the store for each (the fixture's people in turn).
async fn preau_clients(
    url: &str,
    port: u16,
    service: &str,
    count: usize,
) -> anyhow::Result<Vec<Client>> {
    let store = open(url).await?;
    let people = bench_people();
    let mut clients = Vec::new();
    for n in 0..count {
        let person = people[n % people.len()];
        let login = store::fixtures::PEOPLE
            .iter()
            .find(|p| p.0 == person)
            .map(|p| p.5)
            .context("personne absente de la fixture")?;
        let session = common_load::session(&store, person).await?;
        let mut cookies = Jar::default();
        let (name, value) = session.cookie.split_once('=').context("cookie de session")?;
        cookies.0.push((name.to_owned(), value.to_owned()));
        clients.push(Client::new(port, service, login.to_owned(), cookies));
    }
    store.close().await;
    Ok(clients)
}

/// The `value` of `<input … name="NAME" … value="…">` in a page (Django's hidden fields).
fn hidden_input(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    page.split("<input").skip(1).find_map(|tag| {
        let tag = tag.split('>').next()?;
        if !tag.contains(&marker) {
            return None;
        }
        let value = tag.split("value=\"").nth(1)?.split('"').next()?;
        Some(value.to_owned())
    })
}

/// django-cas-server's clients: each logs in once through the login form, as user
/// bench<n>.
async fn django_clients(
    port: u16,
    service: &str,
    password: &str,
    count: usize,
) -> anyhow::Result<Vec<Client>> {
    let mut clients = Vec::new();
    for n in 0..count {
        let user = format!("bench{n}");
        let mut client = Client::new(port, service, user.clone(), Jar::default());
        let page = client.get("/cas/login").await?;
        anyhow::ensure!(page.status == 200, "/cas/login a répondu {}", page.status);
        let page = String::from_utf8_lossy(&page.body).into_owned();
        let csrf = hidden_input(&page, "csrfmiddlewaretoken").context("pas de jeton CSRF")?;
        let lt = hidden_input(&page, "lt").context("pas de ticket de connexion (lt)")?;
        let form = [
            ("csrfmiddlewaretoken", csrf.as_str()),
            ("lt", lt.as_str()),
            ("username", user.as_str()),
            ("password", password),
        ]
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&");
        let answer = client.link.send("POST", "/cas/login", &client.cookies, Some(form)).await?;
        client.cookies.update(&answer.set_cookies);
        anyhow::ensure!(
            answer.status == 200 && client.cookies.get("sessionid").is_some(),
            "la connexion de {user} à django-cas-server a échoué ({})",
            answer.status
        );
        clients.push(client);
    }
    Ok(clients)
}

/// Runs the first client alone, then all the clients, `runs` times each; prints a row of
/// medians for each.
async fn measure(
    target: Target,
    mut clients: Vec<Client>,
    requests: usize,
    single_requests: usize,
    runs: usize,
    label: &str,
) -> anyhow::Result<()> {
    let count = clients.len();
    for alone in [false, true] {
        let mut figures: Vec<Figures> = Vec::new();
        for _ in 0..runs {
            // Fresh connections for each run: an idle one may have been closed meanwhile.
            for client in &mut clients {
                client.link = Link::new(client.link.port);
            }
            if alone {
                let rest = clients.split_off(1);
                let (mut back, run) = closed_loop(clients, WARM_UP, single_requests).await?;
                back.extend(rest);
                clients = back;
                figures.push(run);
            } else {
                let (back, run) = closed_loop(clients, WARM_UP, requests).await?;
                clients = back;
                figures.push(run);
            }
        }
        let medians = Medians::of(&figures);
        let cells = [
            format!("{label:<10}"),
            format!("{:<17}", target.name()),
            format!("{:>7}", if alone { 1 } else { count }),
            format!("{:>8}", medians.requests),
            format!("{:>8.1}", medians.throughput),
            format!("{:>7.2}", medians.client.p50),
            format!("{:>7.2}", medians.client.p99),
        ];
        println!("| {} |", cells.join(" | "));
    }
    Ok(())
}
