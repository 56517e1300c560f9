//! The library half of the `preau` program: configuration, logging, serving and its background
//! workers, the import and account commands, and the demo département. `main.rs` only parses
//! the command line and calls these; integration tests call them directly.

pub mod accounts;
pub mod config;
pub mod demo;
pub mod demo_run;
pub mod import;
pub mod internship;
pub mod logging;
pub mod serve;
pub mod timetable;
pub mod verify;
pub mod workers;

use crate::config::Config;

/// Opens the configured database (creating the data directory for SQLite) and migrates it.
///
/// # Errors
/// An unreachable or unmigratable database, with its URL redacted.
pub async fn open_store(config: &Config) -> anyhow::Result<store::Store> {
    config.ensure_data_dir()?;
    // The store's error with its causes (`{:#}` prints them): "migration failed" alone does
    // not say which migration, nor why.
    store::Store::open(&config.store_config()).await.map_err(|error| {
        let database = store::redact(secrecy::ExposeSecret::expose_secret(&config.database_url));
        anyhow::Error::new(error)
            .context(format!("impossible d'ouvrir la base de données {database}"))
    })
}
