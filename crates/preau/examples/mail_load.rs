//! The load generator of `scripts/bench-mail.sh` (a benchmark, not a test). `prepare` writes a
//! bench class into a fresh database holding the fixture département: 30 pupils with 2 legal
//! guardians each, 10 teachers and 6 staff members attached to the class who write to it, and a
//! teacher whose inbox holds 10,000 messages. `run` opens one session per client in the
//! database, then drives a running `preau serve` over HTTP/1.1 on the loopback, one keep-alive
//! connection per client: the `send` case posts the compose form to the class and its families
//! (90 mailboxes, a fresh idempotency key each time), the `inbox` case opens the first page of
//! that big inbox. It prints one table row: clients, requests, throughput, p50, p90, p99 and the
//! slowest, in milliseconds.
//!
//! It lives in `examples/` rather than behind a hidden `preau` subcommand so that the shipped
//! binary carries no code that writes sessions or bulk rows straight into the database. The
//! sessions, connections, closed loop and percentiles are `common_load`'s, shared with
//! `timetable_load.rs`.

mod common_load;

use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use domain::communication::{GroupKind, Recipient};
use http_body_util::Full;
use hyper::body::Bytes;
use sqlx::Executor;
use store::messaging::{ComposeMode, Folder, SendOutcome, SendRequest};

use crate::common_load::{Connection, Load, Sample, Session, closed_loop, open, raw_pool};

/// The bench class, in the fixture's first collège.
const CLASS: &str = "bench-3b";
const PUPILS: usize = 30;
const TEACHERS: usize = 10;
const STAFF: usize = 6;
/// The teacher whose inbox is filled.
const INBOX_OWNER: &str = "bench-teacher-0";
/// What the inbox page shows of each bench message (their subjects).
const INBOX_MARK: &[u8] = "Question numéro".as_bytes();
/// Requests each client makes before the measure starts.
const WARM_UP: usize = 3;

#[derive(Debug, Parser)]
#[command(about = "Générateur de charge de scripts/bench-mail.sh")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the fixture and the bench class into an empty database.
    Prepare {
        #[arg(long)]
        database: String,
        /// How many messages the big inbox holds.
        #[arg(long, default_value_t = 10_000)]
        inbox: usize,
    },
    /// Measures one case against `preau serve` on 127.0.0.1:<port>.
    Run {
        #[arg(long)]
        database: String,
        #[arg(long)]
        port: u16,
        #[arg(long, value_enum)]
        case: Case,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Measured requests per client.
        #[arg(long)]
        requests: usize,
        /// The first column of the printed row (the backend).
        #[arg(long)]
        label: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Case {
    Send,
    Inbox,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { database, inbox } => prepare(&database, inbox).await,
        Command::Run { database, port, case, clients, requests, label } => {
            run(&database, port, case, clients, requests, &label).await
        }
    }
}

/// The senders of the send case: the class's teachers, then the staff members.
fn senders() -> Vec<String> {
    (0..TEACHERS)
        .map(|n| format!("bench-teacher-{n}"))
        .chain((0..STAFF).map(|n| format!("bench-staff-{n}")))
        .collect()
}

fn class_recipients() -> Vec<Recipient> {
    vec![
        Recipient::Group(GroupKind::ClassPupils, CLASS.to_owned()),
        Recipient::Group(GroupKind::ClassParents, CLASS.to_owned()),
    ]
}

async fn prepare(url: &str, inbox: usize) -> anyhow::Result<()> {
    let store = open(url).await?;
    store.load_fixture().await?;
    let pool = raw_pool(url).await?;
    let now = store::now_unix();

    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO classes (id, school_id, code) VALUES ($1, $2, '3B')")
        .bind(CLASS)
        .bind(store::fixtures::ids::SCHOOL_1)
        .execute(&mut *tx)
        .await?;
    let mut people: Vec<(String, &str, String)> = Vec::new();
    for n in 0..PUPILS {
        people.push((format!("bench-pupil-{n}"), "pupil", format!("Élève{n}")));
        for side in ["a", "b"] {
            people.push((
                format!("bench-parent-{n}-{side}"),
                "relative",
                format!("Parent{n}{side}"),
            ));
        }
    }
    for n in 0..TEACHERS {
        people.push((format!("bench-teacher-{n}"), "teacher", format!("Professeur{n}")));
    }
    for n in 0..STAFF {
        people.push((format!("bench-staff-{n}"), "staff", format!("Personnel{n}")));
    }
    for (id, profile, last) in &people {
        sqlx::query(
            "INSERT INTO people (id, source, external_id, profile, last_name, first_name, \
             created_at, updated_at, search_key) \
             VALUES ($1, 'aaf', $1, $2, $3, 'Banc', $4, $4, $5)",
        )
        .bind(id)
        .bind(*profile)
        .bind(last)
        .bind(now)
        .bind(domain::names::search_key(last, "Banc"))
        .execute(&mut *tx)
        .await?;
        let login = id.replace('-', ".");
        sqlx::query("INSERT INTO logins (login, person_id, created_at) VALUES ($1, $2, $3)")
            .bind(&login)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO accounts (person_id, login, password_hash, activated_at, created_at) \
             VALUES ($1, $2, '$argon2id$unused', $3, $3)",
        )
        .bind(id)
        .bind(&login)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if *profile != "relative" {
            sqlx::query("INSERT INTO person_schools (person_id, school_id) VALUES ($1, $2)")
                .bind(id)
                .bind(store::fixtures::ids::SCHOOL_1)
                .execute(&mut *tx)
                .await?;
        }
    }
    for n in 0..PUPILS {
        sqlx::query(
            "INSERT INTO pupil_classes (pupil_id, class_id, entry_date) \
             VALUES ($1, $2, '2025-09-01')",
        )
        .bind(format!("bench-pupil-{n}"))
        .bind(CLASS)
        .execute(&mut *tx)
        .await?;
        for side in ["a", "b"] {
            sqlx::query(
                "INSERT INTO guardianships (pupil_id, relative_id, kinship, legal, financial, \
                 contact, payment) VALUES ($1, $2, 'MERE', 1, 1, 1, 0)",
            )
            .bind(format!("bench-pupil-{n}"))
            .bind(format!("bench-parent-{n}-{side}"))
            .execute(&mut *tx)
            .await?;
        }
    }
    let subjects = ["061300", "030100", "040000", "020500"];
    for n in 0..TEACHERS {
        sqlx::query(
            "INSERT INTO class_teachers (teacher_id, class_id, subject_code) VALUES ($1, $2, $3)",
        )
        .bind(format!("bench-teacher-{n}"))
        .bind(CLASS)
        .bind(subjects[n % subjects.len()])
        .execute(&mut *tx)
        .await?;
    }
    // Staff members of the school life office, attached to the class (no subject).
    for n in 0..STAFF {
        let staff = format!("bench-staff-{n}");
        sqlx::query(
            "INSERT INTO person_functions (person_id, school_id, code, label) \
             VALUES ($1, $2, 'EDU', 'EDUCATION')",
        )
        .bind(&staff)
        .bind(store::fixtures::ids::SCHOOL_1)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO class_teachers (teacher_id, class_id, subject_code) VALUES ($1, $2, '')",
        )
        .bind(&staff)
        .bind(CLASS)
        .execute(&mut *tx)
        .await?;
    }
    fill_inbox(&mut tx, inbox, now).await?;
    tx.commit().await?;
    // As autovacuum would have left a mailbox filled over a year: statistics for the planner,
    // and a visibility map that lets the folder counts read the indexes alone.
    if store.backend() == store::Backend::Postgres {
        pool.execute("VACUUM ANALYZE").await?;
    }
    pool.close().await;

    // Every sender can write to the class and its families, and the inbox is as big as asked.
    for sender in senders() {
        let request = SendRequest {
            sender_id: sender.clone(),
            idempotency_key: store::new_id(),
            recipients: class_recipients(),
            subject: "Vérification".to_owned(),
            body_html: "<p>Vérification.</p>".to_owned(),
            body_text: "Vérification.".to_owned(),
            mode: ComposeMode::New,
            parent_id: None,
            attachment_ids: Vec::new(),
            draft_id: None,
        };
        match store.send_message(&request).await? {
            Ok(SendOutcome::Sent { recipient_ids, .. }) if recipient_ids.len() == PUPILS * 3 => {}
            other => anyhow::bail!("{sender} cannot write to the bench class: {other:?}"),
        }
    }
    let page = store.mailbox(INBOX_OWNER, &Folder::Inbox, 1).await?;
    anyhow::ensure!(page.total == i64::try_from(inbox)?, "inbox holds {}", page.total);
    store.close().await;
    Ok(())
}

/// Writes `count` messages from the class's parents into the inbox owner's mailbox (their
/// senders' copies included), spread over the past year, one in ten unread, as a send would.
async fn fill_inbox(tx: &mut sqlx::AnyConnection, count: usize, now: i64) -> anyhow::Result<()> {
    let numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)";
    let sender = "'bench-parent-' || (i % 30) || CASE WHEN i % 2 = 0 THEN '-a' ELSE '-b' END";
    let created = "$2 - (($1 - i) * 3000)";
    let count = i64::try_from(count)?;
    let statements = [
        format!(
            "{numbers} INSERT INTO messages (id, sender_id, thread_id, subject, body_html, \
             body_text, recipients_label, recipient_ids, search_text, created_at) \
             SELECT 'bench-m-' || i, {sender}, 'bench-m-' || i, 'Question numéro ' || i, \
             '<p>Bonjour, une question sur les devoirs.</p>', \
             'Bonjour, une question sur les devoirs.', \
             '[{{\"token\":\"p:{INBOX_OWNER}\",\"label\":\"Professeur0 Banc\"}}]', \
             '[\"{INBOX_OWNER}\"]', \
             'question numero ' || i || ' bonjour une question sur les devoirs', {created} FROM n"
        ),
        format!(
            "{numbers} INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, \
             created_at) SELECT '{INBOX_OWNER}', 'bench-m-' || i, 'inbox', 'inbox', \
             CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, {created} FROM n"
        ),
        format!(
            "{numbers} INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, \
             created_at) SELECT {sender}, 'bench-m-' || i, 'sent', 'sent', 0, {created} FROM n"
        ),
    ];
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(count).bind(now).execute(&mut *tx).await?;
    }
    Ok(())
}

/// One client's session and keep-alive connection, and the case it measures.
struct Client {
    session: Session,
    connection: Connection,
    case: Case,
}

impl Client {
    /// One request of the case.
    fn request(&self) -> anyhow::Result<hyper::Request<Full<Bytes>>> {
        let builder = match self.case {
            Case::Inbox => {
                self.connection.request("GET", "/messagerie/dossiers/reception", &self.session)
            }
            Case::Send => self.connection.request("POST", "/messagerie/ecrire", &self.session),
        };
        let request = match self.case {
            Case::Inbox => builder.body(Full::new(Bytes::new()))?,
            Case::Send => {
                let boundary = format!("bench{}", store::new_id());
                let key = store::new_id();
                let fields = [
                    ("csrf_token", self.session.csrf.as_str()),
                    ("cle", key.as_str()),
                    ("sujet", "Sortie scolaire de vendredi"),
                    ("corps", "Bonjour, la sortie de vendredi part à 8 h devant le collège."),
                    ("dest", "class_pupils:bench-3b"),
                    ("dest", "class_parents:bench-3b"),
                    ("envoyer", "1"),
                ];
                let mut body = String::new();
                for (name, value) in fields {
                    body.push_str(&format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n\
                         {value}\r\n"
                    ));
                }
                body.push_str(&format!("--{boundary}--\r\n"));
                builder
                    .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                    .body(Full::new(Bytes::from(body)))?
            }
        };
        Ok(request)
    }
}

impl Load for Client {
    async fn once(&mut self) -> anyhow::Result<Sample> {
        let expected = match self.case {
            Case::Send => 303,
            Case::Inbox => 200,
        };
        let request = self.request()?;
        let began = Instant::now();
        let answer = self.connection.send(request).await?;
        let latency = began.elapsed();
        anyhow::ensure!(
            answer.status == expected,
            "answered {}, expected {expected}",
            answer.status
        );
        let listed = answer.body.windows(INBOX_MARK.len()).any(|w| w == INBOX_MARK);
        anyhow::ensure!(self.case != Case::Inbox || listed, "the inbox page lists no message");
        Ok(Sample { latency, server: answer.server })
    }
}

async fn run(
    url: &str,
    port: u16,
    case: Case,
    clients: usize,
    requests: usize,
    label: &str,
) -> anyhow::Result<()> {
    let store = open(url).await?;
    let people = match case {
        Case::Send => senders(),
        Case::Inbox => vec![INBOX_OWNER.to_owned(); clients],
    };
    anyhow::ensure!(clients <= people.len(), "at most {} clients for this case", people.len());

    let mut connected = Vec::new();
    for person in people.iter().take(clients) {
        let session = common_load::session(&store, person).await?;
        connected.push(Client { session, connection: Connection::open(port).await?, case });
    }
    store.close().await;

    let (_, figures) = closed_loop(connected, WARM_UP, requests).await?;
    let case_name = match case {
        Case::Send => "envoi (90 boîtes)",
        Case::Inbox => "boîte de 10 000 messages",
    };
    let cells = [
        format!("{label:<10}"),
        format!("{case_name:<24}"),
        format!("{clients:>7}"),
        format!("{:>8}", figures.requests),
        format!("{:>8.1}", figures.throughput),
        format!("{:>7.2}", figures.client.p50),
        format!("{:>7.2}", figures.client.p90),
        format!("{:>7.2}", figures.client.p99),
        format!("{:>7.2}", figures.client.max),
    ];
    println!("| {} |", cells.join(" | "));
    Ok(())
}
