//! Logs: `tracing` events written to standard error, readable on a terminal or one JSON object
//! per line when `log_format = "json"`, filtered by `RUST_LOG` (same syntax) with a default that
//! keeps the database driver quiet. Events carry ids and counts, never a pupil's personal data.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The default filter of the server and the demo.
pub const VERBOSE: &str = "info,sqlx=warn,tower_http=info";
/// The default filter of the demo on a terminal, where the import draws progress bars instead
/// of logging each file.
pub const VERBOSE_WITH_BARS: &str = "info,sqlx=warn,tower_http=info,store::import=warn";
/// The default filter of the one-shot commands, whose output must stay readable.
pub const QUIET: &str = "warn,sqlx=error";

/// Installs the global subscriber with `default` as filter unless `RUST_LOG` gives one.
pub fn init(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);

    // A second initialisation (only possible in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}
