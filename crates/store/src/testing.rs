//! Fresh databases for tests, one per test so that tests run in parallel. The backend comes
//! from `PREAU_TEST_DATABASE`: unset or `sqlite` gives a temporary SQLite file; a
//! `postgres://` URL of a server gives a new database cloned from a migrated template made once
//! per test process. The test command runs the whole suite once per backend.

use std::sync::OnceLock;

use sqlx::Connection;
use tokio::sync::Mutex;

use crate::{Store, StoreConfig};

/// A store for one test, with whatever keeps it alive (the temporary folder for SQLite).
pub struct TestStore {
    pub store: Store,
    /// The database's URL, for [`TestStore::another_instance`].
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    /// A second store on the same database, as another Préau instance or a command would
    /// open it: its own connections and its own kept answers.
    ///
    /// # Panics
    /// When the database cannot be opened again.
    pub async fn another_instance(&self) -> Store {
        let config = StoreConfig { url: self.url.clone(), max_connections: 2 };
        Store::open(&config).await.expect("open the test database again")
    }
}

impl std::ops::Deref for TestStore {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

/// A new, migrated, empty database on the backend `PREAU_TEST_DATABASE` names.
///
/// # Panics
/// When the database cannot be created: a test cannot go on without it.
pub async fn store() -> TestStore {
    match std::env::var("PREAU_TEST_DATABASE") {
        Ok(url) if url.starts_with("postgres") => postgres_store(&url).await,
        _ => sqlite_store().await,
    }
}

async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let config = StoreConfig { url: url.clone(), max_connections: 4 };
    let store = Store::open(&config).await.expect("open the test SQLite database");
    TestStore { store, url, _dir: Some(dir) }
}

async fn postgres_store(server_url: &str) -> TestStore {
    static TEMPLATE: OnceLock<Mutex<Option<String>>> = OnceLock::new();
    sqlx::any::install_default_drivers();

    let base = server_url.trim_end_matches('/');
    let template = {
        let mut guard = TEMPLATE.get_or_init(|| Mutex::new(None)).lock().await;
        if guard.is_none() {
            let name = format!("preau_tpl_{}", uuid::Uuid::now_v7().simple());
            create_database(base, &name, None).await;
            let config = StoreConfig { url: format!("{base}/{name}"), max_connections: 1 };
            let store = Store::open(&config).await.expect("migrate the template database");
            store.close().await;
            *guard = Some(name);
        }
        guard.clone().unwrap_or_default()
    };

    let name = format!("preau_t_{}", uuid::Uuid::now_v7().simple());
    create_database(base, &name, Some(&template)).await;
    let url = format!("{base}/{name}");
    let config = StoreConfig { url: url.clone(), max_connections: 4 };
    let store = Store::open(&config).await.expect("open the test PostgreSQL database");
    TestStore { store, url, _dir: None }
}

async fn create_database(base: &str, name: &str, template: Option<&str>) {
    let mut admin =
        sqlx::AnyConnection::connect(&format!("{base}/postgres")).await.expect("reach PostgreSQL");
    let sql = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    // The names are generated here, never typed by anyone. CREATE DATABASE ... TEMPLATE fails while another session is copying the same template.
    for attempt in 0..50 {
        match sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(&mut admin).await {
            Ok(_) => return,
            Err(error) if attempt < 49 => {
                tracing::debug!(%error, "create test database, retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(error) => panic!("create test database {name}: {error}"),
        }
    }
}
