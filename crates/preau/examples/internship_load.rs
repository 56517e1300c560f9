//! The load generator of `scripts/bench-internship.sh` (a benchmark, not a test), in two
//! steps.
//!
//! `prepare` fills a fresh database: the test fixtures of the directory and of the
//! internships, the built-in gazetteer, `--offers` offers (5,000 by default) spread over the
//! towns of `--towns` (`shared/data/geo/towns-around-vienne.csv`, read in place) with a seeded
//! generator (same seed, same offers): titles and descriptions from a list of trades, a point
//! within about 2 km of the town's centre, one or both of the 3e weeks (or other weeks), 1 to
//! 3 places a week, a few reserved, unpublished or of a host not yet verified (all of the
//! fixture's two hosts, whose names are left out of the searched words so that a keyword
//! finds its trade and not every offer of the bakery); then 16 more
//! 3e pupils living in the gazetteer's largest communes, each of whom has already applied to
//! a few offers (which their search must leave out).
//!
//! `run` measures, against a `preau serve` on 127.0.0.1 whose database `prepare` filled, a 3e
//! pupil's search around home within 30 km with filters: `GET /stages?rayon=30&semaine=<the
//! first or second 3e week>&mots=<a trade>` for half the clients, `…&secteur=<a sector>` for
//! the other half, each client a different pupil on its own keep-alive connection, with one
//! client, then `--clients` clients at once. Every answer must be a 200 with `Server-Timing`
//! and at least one offer. It prints one row per number of clients: the median over `--runs`
//! runs of the request count, the throughput, and p50, p95, p99 and the slowest, in
//! milliseconds, of the server's time (`Server-Timing: app`) then of the client's latency.

mod common_load;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use http_body_util::Full;
use hyper::body::Bytes;
use store::fixtures::internship::{ids, weeks};

use crate::common_load::{Connection, Load, Sample, Session, closed_loop, open, raw_pool};

/// Requests each client makes before each measured run.
const WARM_UP: usize = 5;
/// What marks an offer in the results (`internship_search_page.html`).
const OFFER_MARK: &[u8] = b"<li class=\"carte\"";
/// The placeholder password hash of the bench accounts: nobody logs in with it.
const UNUSED_HASH: &str = "$argon2id$bench-unused";
/// Trades: a title, words of its description, and the keyword a pupil types for it.
const TRADES: [(&str, &str, &str); 16] = [
    ("Boulangerie-pâtisserie", "Fournil, pétrissage, vente au comptoir", "boulangère"),
    ("Garage automobile", "Mécanique, diagnostic, pneumatiques", "mécanique"),
    ("Cabinet vétérinaire", "Soins aux animaux, accueil des propriétaires", "vétérinaires"),
    ("Mairie", "Accueil du public, état civil, services techniques", "mairie"),
    ("Pharmacie", "Préparation, conseil, gestion des stocks", "pharmacie"),
    ("Entreprise d'informatique", "Développement, réseaux, assistance", "informatique"),
    ("Exploitation agricole", "Élevage, cultures, machines agricoles", "élevage"),
    ("Menuiserie", "Atelier, bois, pose de fenêtres", "menuisier"),
    ("Salon de coiffure", "Coupe, couleur, accueil des clients", "coiffure"),
    ("Restaurant", "Cuisine, service en salle, hygiène", "cuisinier"),
    ("Électricien du bâtiment", "Chantiers, tableaux électriques, sécurité", "électricité"),
    ("Crèche", "Petite enfance, jeux, repas", "enfance"),
    ("Librairie", "Livres, conseil, vitrine", "librairie"),
    ("Laboratoire d'analyses", "Prélèvements, analyses, qualité", "laboratoire"),
    ("Journal local", "Reportage, photographie, mise en page", "journaliste"),
    ("Maison de retraite", "Animation, soins, accompagnement", "soins"),
];
const SECTORS: [&str; 3] = [ids::SECTOR_AGRICULTURE, ids::SECTOR_FOOD, ids::SECTOR_ARCHITECTURE];

#[derive(Debug, Parser)]
#[command(about = "Générateur de charge de scripts/bench-internship.sh")]
struct Cli {
    #[command(subcommand)]
    step: Step,
}

#[derive(Debug, Subcommand)]
enum Step {
    /// Fills a fresh database.
    Prepare {
        #[arg(long)]
        database: String,
        /// The GeoNames CSV of the towns around the Vienne.
        #[arg(long)]
        towns: std::path::PathBuf,
        #[arg(long, default_value_t = 5_000)]
        offers: usize,
        #[arg(long, default_value_t = 5)]
        seed: u64,
    },
    /// Measures the search.
    Run {
        #[arg(long)]
        database: String,
        #[arg(long)]
        port: u16,
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
        /// The first column of the printed rows (the backend).
        #[arg(long)]
        label: String,
        /// Each search first moves this generation (`common_load::Cold`): `internship`
        /// retires the département's offers, their places and the pupils' contexts kept by the
        /// server (a search read from the database), `places` only the places taken (a search
        /// after a confirmation).
        #[arg(long, value_parser = ["internship", "places"])]
        cold: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().step {
        Step::Prepare { database, towns, offers, seed } => {
            prepare(&database, &towns, offers, seed).await
        }
        Step::Run { database, port, clients, requests, single_requests, runs, label, cold } => {
            anyhow::ensure!(clients >= 1 && runs >= 1, "--clients et --runs : au moins 1");
            let plan = Plan { port, clients, requests, single_requests, runs, label, cold };
            run(&database, &plan).await
        }
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same offers.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// An index below `n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in [-1, 1).
    fn signed(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The towns of the GeoNames CSV: name, latitude, longitude.
fn read_towns(path: &std::path::Path) -> anyhow::Result<Vec<(String, f64, f64)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("impossible de lire {}", path.display()))?;
    let mut towns = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 6 || !fields[0].bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        towns.push((
            fields[1].trim_matches('"').to_owned(),
            fields[4].parse()?,
            fields[5].parse()?,
        ));
    }
    anyhow::ensure!(towns.len() > 10, "{} : trop peu de villes", path.display());
    Ok(towns)
}

async fn prepare(
    database: &str,
    towns_path: &std::path::Path,
    offers: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let towns = read_towns(towns_path)?;
    let store = open(database).await?;
    store.load_fixture().await?;
    store.load_internship_fixture().await?;
    store.ensure_gazetteer().await?;
    let pool = raw_pool(database).await?;

    let homes: Vec<(String, String, f64, f64)> = sqlx::query_as(
        "SELECT name, COALESCE(postal_code, ''), latitude, longitude FROM communes \
         ORDER BY population DESC, id LIMIT 16",
    )
    .fetch_all(&pool)
    .await?;
    let mut pupils = Vec::new();
    for (i, (name, postcode, latitude, longitude)) in homes.iter().enumerate() {
        let id = format!("p-bench-{i:02}");
        store
            .fixture_third_year_pupil(
                &id,
                "Banc",
                &format!("Élève {i}"),
                "2012-03-03",
                ids::CLASS_3A,
                store::fixtures::ids::SCHOOL_1,
                (name, postcode, *latitude, *longitude),
            )
            .await?;
        pupils.push(id);
    }

    let started = Instant::now();
    let [first, second] = weeks();
    let later = second.next().next();
    let now = store::now_unix();
    let mut random = Seeded(seed);
    let mut tx = pool.begin().await?;
    let mut ids = Vec::with_capacity(offers);
    for n in 0..offers {
        let (town, latitude, longitude) = &towns[random.below(towns.len())];
        let (trade, description, _) = TRADES[random.below(TRADES.len())];
        let sector = SECTORS[random.below(SECTORS.len())];
        let title = format!("{trade} n° {n}");
        let host = if random.below(20) == 0 { ids::HOST_GARAGE } else { ids::HOST_BAKERY };
        let state = if random.below(10) == 0 { "unpublished" } else { "published" };
        let reservation = match random.below(20) {
            0 => "rural",
            1 => "priority_education",
            _ => "none",
        };
        let per_week = 1 + random.below(3) as i64;
        let id = store::new_id();
        sqlx::query(
            "INSERT INTO internship_offers (id, host_id, title, description, sector_id, city, \
             latitude, longitude, location_precision, places_per_week, places_total, \
             reservation, state, search_text, published_at, visible_from, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'address', $9, $10, $11, $12, \
             $13, $14, $14, $14, $14)",
        )
        .bind(&id)
        .bind(host)
        .bind(&title)
        .bind(description)
        .bind(sector)
        .bind(town)
        .bind(latitude + random.signed() * 0.018)
        .bind(longitude + random.signed() * 0.026)
        .bind(per_week)
        .bind(per_week * 2)
        .bind(reservation)
        .bind(state)
        .bind(domain::internship::search_terms::search_terms(&format!("{title} {description}")))
        .bind(now - 30 * 86_400)
        .execute(&mut *tx)
        .await?;
        let open = match random.below(5) {
            0 => vec![first],
            1 => vec![second],
            2 => vec![later],
            _ => vec![first, second],
        };
        for week in open {
            sqlx::query(
                "INSERT INTO internship_offer_weeks (offer_id, iso_week, monday) \
                 VALUES ($1, $2, $3)",
            )
            .bind(&id)
            .bind(week.to_string())
            .bind(week.monday().to_string())
            .execute(&mut *tx)
            .await?;
        }
        ids.push(id);
    }
    for pupil in &pupils {
        let mut chosen: Vec<usize> = (0..12).map(|_| random.below(ids.len())).collect();
        chosen.sort_unstable();
        chosen.dedup();
        for offer in chosen {
            sqlx::query(
                "INSERT INTO internship_applications (id, offer_id, pupil_id, school_id, \
                 iso_week, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $6)",
            )
            .bind(store::new_id())
            .bind(&ids[offer])
            .bind(pupil)
            .bind(store::fixtures::ids::SCHOOL_1)
            .bind(first.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    if database.starts_with("postgres") {
        sqlx::query("ANALYZE").execute(&pool).await?;
    }
    pool.close().await;
    store.close().await;
    eprintln!(
        "{offers} offres dans {} villes, {} élèves de 3e, écrites en {:.1} s",
        towns.len(),
        pupils.len() + 4,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What `run` measures.
struct Plan {
    port: u16,
    clients: usize,
    requests: usize,
    single_requests: usize,
    runs: usize,
    label: String,
    /// The generation moved before each search, if any.
    cold: Option<String>,
}

/// Every measured sample of a run: (server, client).
type Samples = Arc<Mutex<Vec<(Duration, Duration)>>>;

/// One pupil's session and keep-alive connection, and the search it repeats.
struct Client {
    person_id: String,
    session: Session,
    connection: Connection,
    uri: String,
    /// Requests sent in this run (the first `WARM_UP` are not recorded).
    sent: usize,
    samples: Samples,
    cold: Option<common_load::Cold>,
}

impl Client {
    async fn of(
        store: &store::Store,
        port: u16,
        person_id: &str,
        uri: String,
    ) -> anyhow::Result<Client> {
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
            uri,
            sent: 0,
            samples: Samples::default(),
            cold: None,
        })
    }
}

impl Load for Client {
    async fn once(&mut self) -> anyhow::Result<Sample> {
        if let Some(cold) = &self.cold {
            cold.spoil().await?;
        }
        let request = self
            .connection
            .request("GET", &self.uri, &self.session)
            .body(Full::new(Bytes::new()))?;
        let began = Instant::now();
        let answer = self.connection.send(request).await?;
        let latency = began.elapsed();
        anyhow::ensure!(
            answer.status == 200,
            "{} a répondu {} à {} au lieu de 200",
            self.uri,
            answer.status,
            self.person_id
        );
        let server =
            answer.server.with_context(|| format!("{} : pas de Server-Timing", self.uri))?;
        let offers = answer.body.windows(OFFER_MARK.len()).filter(|w| *w == OFFER_MARK).count();
        anyhow::ensure!(offers > 0, "{} ne montre aucune offre à {}", self.uri, self.person_id);

        self.sent += 1;
        if self.sent > WARM_UP {
            self.samples.lock().map_err(|_| anyhow::anyhow!("verrou"))?.push((server, latency));
        }
        Ok(Sample { latency, server: Some(server) })
    }
}

async fn run(database: &str, plan: &Plan) -> anyhow::Result<()> {
    let store = open(database).await?;
    let pool = raw_pool(database).await?;
    let mut pupils: Vec<String> =
        sqlx::query_scalar("SELECT id FROM people WHERE id LIKE 'p-bench-%' ORDER BY id")
            .fetch_all(&pool)
            .await?;
    pool.close().await;
    pupils.insert(0, ids::ZOE.to_owned());
    anyhow::ensure!(pupils.len() >= plan.clients, "seulement {} élèves", pupils.len());

    let [first, second] = weeks();
    let mut clients = Vec::new();
    for (i, pupil) in pupils.iter().take(plan.clients).enumerate() {
        let uri = if i % 2 == 0 {
            let keyword = TRADES[i % TRADES.len()].2;
            format!("/stages?rayon=30&semaine={first}&mots={}", encode(keyword))
        } else {
            format!("/stages?rayon=30&semaine={second}&secteur={}", SECTORS[i % SECTORS.len()])
        };
        let mut client = Client::of(&store, plan.port, pupil, uri).await?;
        if let Some(family) = &plan.cold {
            let family = if family == "places" { "places" } else { "internship" };
            client.cold = Some(common_load::Cold::on(database, family).await?);
        }
        clients.push(client);
    }
    store.close().await;
    eprintln!("{} : par exemple {}", plan.label, clients[0].uri);

    let mut single = clients.remove(0);
    let mut others = Some(clients);
    for alone in [true, false] {
        let mut runs = Vec::new();
        for _ in 0..plan.runs {
            let samples = Samples::default();
            let mut group = if alone { Vec::new() } else { others.take().unwrap_or_default() };
            group.insert(0, single);
            for client in &mut group {
                client.connection = Connection::open(plan.port).await?;
                client.sent = 0;
                client.samples = samples.clone();
            }
            let requests = if alone { plan.single_requests } else { plan.requests };
            let (mut back, figures) = closed_loop(group, WARM_UP, requests).await?;
            single = back.remove(0);
            if !alone {
                others = Some(back);
            }
            let taken =
                std::mem::take(&mut *samples.lock().map_err(|_| anyhow::anyhow!("verrou"))?);
            runs.push(RunFigures::of(figures.throughput, taken));
        }
        let count = if alone { 1 } else { plan.clients };
        println!("{}", row(&plan.label, count, &runs));
    }
    Ok(())
}

/// A keyword in a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

/// p50, p95, p99 and the slowest of a run, in milliseconds, for the server and the client.
struct RunFigures {
    requests: usize,
    throughput: f64,
    server: [f64; 4],
    client: [f64; 4],
}

impl RunFigures {
    fn of(throughput: f64, samples: Vec<(Duration, Duration)>) -> RunFigures {
        RunFigures {
            requests: samples.len(),
            throughput,
            server: percentiles(samples.iter().map(|s| s.0).collect()),
            client: percentiles(samples.iter().map(|s| s.1).collect()),
        }
    }
}

/// The nearest-rank p50, p95, p99 and maximum, in milliseconds.
fn percentiles(mut times: Vec<Duration>) -> [f64; 4] {
    times.sort();
    [50.0, 95.0, 99.0, 100.0].map(|p: f64| {
        if times.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * times.len() as f64).ceil() as usize;
        times[rank.clamp(1, times.len()) - 1].as_secs_f64() * 1000.0
    })
}

/// One table row: the medians over the runs.
fn row(label: &str, clients: usize, runs: &[RunFigures]) -> String {
    use common_load::runs::median;
    let requests = median(runs.iter().map(|r| r.requests as f64).collect());
    let throughput = median(runs.iter().map(|r| r.throughput).collect());
    let mut cells = vec![
        format!("{label:<10}"),
        format!("{clients:>7}"),
        format!("{requests:>8}"),
        format!("{throughput:>7.0}"),
    ];
    for side in [|r: &RunFigures| r.server, |r: &RunFigures| r.client] {
        for i in 0..4 {
            let value = median(runs.iter().map(|r| side(r)[i]).collect());
            cells.push(format!("{value:>6.2}"));
        }
    }
    format!("| {} |", cells.join(" | "))
}
