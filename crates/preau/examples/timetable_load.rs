//! The load generator of `scripts/bench-timetable.sh` (a benchmark, not a test), run against a
//! `preau serve` on 127.0.0.1 whose database holds the demo département (`preau demo`). It
//! takes the showcase teacher (who teaches in two collèges) and the showcase pupil from the
//! demo's `demo-accounts.json`, then more teachers (those whose courses span the most
//! collèges first) and more pupils (one per class) from the database, activates their accounts
//! and opens a session for each in the store, so that the clients do not all read the same
//! rows. It finds a week where the showcase teacher has lessons and a weekday where the
//! showcase pupil has some (or takes `--date`), keeps only the people who have lessons then,
//! and measures two cases, each with one client (the showcase person) and with `--clients`
//! clients (one person each) on their own keep-alive connections:
//!   - `semaine enseignant`: `GET /emploi-du-temps?vue=semaine&date=<Monday>`, the teacher's
//!     week merged across their collèges;
//!   - `jour élève`: `GET /emploi-du-temps?vue=jour&date=<weekday>`, the pupil's day.
//!
//! Every answer must be a 200 carrying `Server-Timing` and at least one lesson, else the run
//! stops with an error. Each case is run `--runs` times; it prints one table row per case and
//! number of clients: the median over the runs of the request count, the throughput, and p50,
//! p90, p99 and the slowest, in milliseconds, of the server's time (`Server-Timing: app`) then
//! of the latency the client saw.

mod common_load;

use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use http_body_util::Full;
use hyper::body::Bytes;
use jiff::ToSpan;
use jiff::civil::Date;

use crate::common_load::{
    Connection, Figures, Load, Percentiles, Sample, Session, closed_loop, open, raw_pool,
};

/// Requests each client makes before each measured run.
const WARM_UP: usize = 5;
/// How many people of each kind are tried, at most, to find enough with lessons.
const CANDIDATES: i64 = 120;
/// What marks a lesson in the page (`timetable_macros.html`).
const LESSON_MARK: &[u8] = b"<li class=\"seance";
/// The placeholder password hash of the bench accounts: nobody logs in with it.
const UNUSED_HASH: &str = "$argon2id$bench-unused";

#[derive(Debug, Parser)]
#[command(about = "Générateur de charge de scripts/bench-timetable.sh")]
struct Cli {
    #[arg(long)]
    database: String,
    #[arg(long)]
    port: u16,
    /// The `demo-accounts.json` the demo wrote.
    #[arg(long)]
    accounts: std::path::PathBuf,
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Measured requests per client with all the clients.
    #[arg(long, default_value_t = 150)]
    requests: usize,
    /// Measured requests of the single client.
    #[arg(long, default_value_t = 400)]
    single_requests: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// A day of the week to measure (`YYYY-MM-DD`); by default, the first week from the
    /// current one where the showcase teacher has lessons.
    #[arg(long)]
    date: Option<Date>,
    /// The first column of the printed rows (the backend).
    #[arg(long)]
    label: String,
    /// Each request first retires the timetables the server keeps (`common_load::Cold`): the
    /// cost of a timetable read from the database.
    #[arg(long)]
    cold: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    TeacherWeek,
    PupilDay,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::TeacherWeek => "semaine enseignant",
            Case::PupilDay => "jour élève",
        }
    }
}

/// One person's session and keep-alive connection, and the page it asks for.
struct Client {
    person_id: String,
    session: Session,
    connection: Connection,
    uri: String,
    cold: Option<common_load::Cold>,
}

impl Client {
    /// Activates the person's account (a new code, used at once), opens a session and a
    /// connection.
    async fn of(store: &store::Store, port: u16, person_id: &str) -> anyhow::Result<Client> {
        let code =
            store.issue_activation_code(person_id, std::time::Duration::from_secs(3600)).await?;
        anyhow::ensure!(
            store.activate_account(person_id, &code, UNUSED_HASH).await?,
            "le compte de {person_id} n'a pas pu être activé"
        );
        Ok(Client {
            person_id: person_id.to_owned(),
            session: common_load::session(store, person_id).await?,
            connection: Connection::open(port).await?,
            uri: String::new(),
            cold: None,
        })
    }

    /// Asks for one page; its lessons (an error for any status but 200 or a missing
    /// `Server-Timing`).
    async fn lessons(&mut self, uri: &str) -> anyhow::Result<(usize, Sample)> {
        let request =
            self.connection.request("GET", uri, &self.session).body(Full::new(Bytes::new()))?;
        let began = Instant::now();
        let answer = self.connection.send(request).await?;
        let latency = began.elapsed();
        anyhow::ensure!(
            answer.status == 200,
            "{uri} a répondu {} à {} au lieu de 200",
            answer.status,
            self.person_id
        );
        let server =
            answer.server.with_context(|| format!("{uri} : pas d'en-tête Server-Timing"))?;
        let lessons = answer.body.windows(LESSON_MARK.len()).filter(|w| *w == LESSON_MARK).count();
        Ok((lessons, Sample { latency, server: Some(server) }))
    }
}

impl Load for Client {
    async fn once(&mut self) -> anyhow::Result<Sample> {
        if let Some(cold) = &self.cold {
            cold.spoil().await?;
        }
        let uri = self.uri.clone();
        let (lessons, sample) = self.lessons(&uri).await?;
        anyhow::ensure!(lessons > 0, "{uri} ne montre aucun cours à {}", self.person_id);
        Ok(sample)
    }
}

fn week_uri(monday: Date) -> String {
    format!("/emploi-du-temps?vue=semaine&date={monday}")
}

fn day_uri(day: Date) -> String {
    format!("/emploi-du-temps?vue=jour&date={day}")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    anyhow::ensure!(cli.clients >= 1 && cli.runs >= 1, "--clients et --runs : au moins 1");
    let store = open(&cli.database).await?;
    let prepared = prepare(&store, &cli).await;
    store.close().await;
    let (mut teachers, mut pupils) = prepared?;
    if cli.cold {
        let cold = common_load::Cold::on(&cli.database, "timetable").await?;
        for client in teachers.iter_mut().chain(pupils.iter_mut()) {
            client.cold = Some(cold.clone());
        }
    }

    for (case, clients) in [(Case::TeacherWeek, teachers), (Case::PupilDay, pupils)] {
        measure(&cli, case, clients).await?;
    }
    Ok(())
}

/// The clients of both cases, their pages chosen: the showcase person first in each.
async fn prepare(store: &store::Store, cli: &Cli) -> anyhow::Result<(Vec<Client>, Vec<Client>)> {
    let (teacher_login, pupil_login) = showcase_logins(&cli.accounts)?;
    let teacher_id = person_of(store, &teacher_login).await?;
    let pupil_id = person_of(store, &pupil_login).await?;
    let mut teacher = Client::of(store, cli.port, &teacher_id).await?;
    let mut pupil = Client::of(store, cli.port, &pupil_id).await?;

    let monday = match cli.date {
        Some(date) => domain::timetable::monday_of(date),
        None => teaching_week(&mut teacher).await?,
    };
    let day = match cli.date {
        Some(date) => date,
        None => pupil_day(&mut pupil, monday).await?,
    };
    eprintln!(
        "{} : semaine du {monday} pour les enseignants, journée du {day} pour les élèves",
        cli.label
    );
    teacher.uri = week_uri(monday);
    pupil.uri = day_uri(day);

    let pool = raw_pool(&cli.database).await?;
    let teacher_ids: Vec<String> = sqlx::query_scalar(
        "SELECT ct.person_id FROM course_teachers ct JOIN courses c ON c.id = ct.course_id \
         GROUP BY ct.person_id ORDER BY COUNT(DISTINCT c.school_id) DESC, ct.person_id LIMIT $1",
    )
    .bind(CANDIDATES)
    .fetch_all(&pool)
    .await?;
    let pupil_ids: Vec<String> = sqlx::query_scalar(
        "SELECT MIN(pc.pupil_id) FROM pupil_classes pc \
         WHERE pc.class_id IN (SELECT class_id FROM course_classes) \
         GROUP BY pc.class_id ORDER BY MIN(pc.pupil_id) LIMIT $1",
    )
    .bind(CANDIDATES)
    .fetch_all(&pool)
    .await?;
    pool.close().await;

    let teachers = with_lessons(store, cli, teacher, &teacher_ids, &week_uri(monday)).await?;
    let pupils = with_lessons(store, cli, pupil, &pupil_ids, &day_uri(day)).await?;
    Ok((teachers, pupils))
}

/// The logins of the showcase teacher and pupil in the demo's accounts file.
fn showcase_logins(path: &std::path::Path) -> anyhow::Result<(String, String)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("impossible de lire {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} : JSON illisible", path.display()))?;
    let login = |role: &str| {
        json["accounts"]
            .as_array()
            .and_then(|accounts| accounts.iter().find(|a| a["role"] == role))
            .and_then(|account| account["login"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("{} : pas de compte « {role} »", path.display()))
    };
    Ok((login("teacher")?, login("pupil")?))
}

async fn person_of(store: &store::Store, login: &str) -> anyhow::Result<String> {
    Ok(store
        .login_account(login)
        .await?
        .with_context(|| format!("le compte {login} n'existe pas dans la base"))?
        .person_id)
}

/// The Monday of the first week, from the current one (in Paris) and within the school year,
/// where the teacher has lessons.
async fn teaching_week(teacher: &mut Client) -> anyhow::Result<Date> {
    let paris = jiff::tz::TimeZone::get("Europe/Paris")?;
    let today = jiff::Timestamp::now().to_zoned_datetime(paris).date();
    let mut monday = domain::timetable::monday_of(today);
    for _ in 0..40 {
        if teacher.lessons(&week_uri(monday)).await?.0 > 0 {
            return Ok(monday);
        }
        monday = monday.checked_add(7.days())?;
    }
    anyhow::bail!(
        "l'enseignant {} n'a cours dans aucune des 40 semaines à venir",
        teacher.person_id
    )
}

/// A weekday of the week of `monday` where the pupil has lessons, Tuesday first.
async fn pupil_day(pupil: &mut Client, monday: Date) -> anyhow::Result<Date> {
    for offset in [1, 3, 0, 4, 2] {
        let day = monday.checked_add(offset.days())?;
        if pupil.lessons(&day_uri(day)).await?.0 > 0 {
            return Ok(day);
        }
    }
    anyhow::bail!("l'élève {} n'a aucun cours la semaine du {monday}", pupil.person_id)
}

/// The showcase client, then candidates who have lessons on the page, up to `--clients`.
async fn with_lessons(
    store: &store::Store,
    cli: &Cli,
    showcase: Client,
    candidates: &[String],
    uri: &str,
) -> anyhow::Result<Vec<Client>> {
    let mut clients = vec![showcase];
    let mut skipped = 0;
    for id in candidates {
        if clients.len() >= cli.clients {
            break;
        }
        if clients.iter().any(|c| &c.person_id == id) {
            continue;
        }
        let mut client = Client::of(store, cli.port, id).await?;
        if client.lessons(uri).await?.0 == 0 {
            skipped += 1;
            continue;
        }
        client.uri = uri.to_owned();
        clients.push(client);
    }
    anyhow::ensure!(
        clients.len() >= cli.clients,
        "{uri} : seulement {} personnes avec des cours ({skipped} sans cours écartées)",
        clients.len()
    );
    if skipped > 0 {
        eprintln!("{uri} : {skipped} personne(s) sans cours ce jour-là écartée(s)");
    }
    Ok(clients)
}

/// Runs the case with its showcase client alone, then with all its clients, `--runs` times
/// each; prints a row for each. The connections are opened afresh before each run: the server
/// closes one left idle longer than it waits for a request's headers.
async fn measure(cli: &Cli, case: Case, mut clients: Vec<Client>) -> anyhow::Result<()> {
    let mut single = clients.remove(0);
    let mut all = Some(clients);
    for alone in [true, false] {
        let mut runs = Vec::new();
        for _ in 0..cli.runs {
            single.connection = Connection::open(cli.port).await?;
            for client in all.iter_mut().flatten() {
                client.connection = Connection::open(cli.port).await?;
            }
            if alone {
                let (mut back, figures) =
                    closed_loop(vec![single], WARM_UP, cli.single_requests).await?;
                single = back.pop().context("le client seul n'est pas revenu")?;
                runs.push(figures);
            } else {
                let mut group = all.take().unwrap_or_default();
                group.insert(0, single);
                let (mut back, figures) = closed_loop(group, WARM_UP, cli.requests).await?;
                single = back.remove(0);
                all = Some(back);
                runs.push(figures);
            }
        }
        let count = if alone { 1 } else { cli.clients };
        println!("{}", row(&cli.label, case, count, &runs)?);
    }
    Ok(())
}

/// One table row: the medians over the runs.
fn row(label: &str, case: Case, clients: usize, runs: &[Figures]) -> anyhow::Result<String> {
    let server: Vec<Percentiles> = runs
        .iter()
        .map(|f| f.server.context("Server-Timing manquant"))
        .collect::<Result<_, _>>()?;
    let server = medians(&server);
    let client = medians(&runs.iter().map(|f| f.client).collect::<Vec<_>>());
    let requests = median(runs.iter().map(|f| f.requests as f64).collect());
    let throughput = median(runs.iter().map(|f| f.throughput).collect());
    let mut cells = vec![
        format!("{label:<10}"),
        format!("{:<18}", case.name()),
        format!("{clients:>7}"),
        format!("{requests:>8}"),
        format!("{throughput:>7.0}"),
    ];
    for p in [server, client] {
        cells.extend([p.p50, p.p90, p.p99, p.max].map(|v| format!("{v:>6.2}")));
    }
    Ok(format!("| {} |", cells.join(" | ")))
}

/// The median of each figure over the runs.
fn medians(runs: &[Percentiles]) -> Percentiles {
    let pick = |f: fn(&Percentiles) -> f64| median(runs.iter().map(f).collect());
    Percentiles {
        p50: pick(|p| p.p50),
        p90: pick(|p| p.p90),
        p99: pick(|p| p.p99),
        max: pick(|p| p.max),
    }
}

/// The median of some numbers (the lower middle one of an even count, so a real run's); zero
/// for none.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n => values[(n - 1) / 2],
    }
}
