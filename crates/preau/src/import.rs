//! `preau import aaf`: runs the store's AAF import on the folders given, draws a progress bar
//! per file when standard error is a terminal, and prints the import's French report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use store::import::ImportProgress;

use crate::config::Config;

/// Imports the folders and prints the report; returns whether the report holds problems (a
/// file refused or a record rejected), for the exit code.
///
/// # Errors
/// When a folder cannot be read or the database fails.
pub async fn import_aaf(
    config: &Config,
    store: &store::Store,
    dirs: &[PathBuf],
) -> anyhow::Result<bool> {
    for dir in dirs {
        if !dir.is_dir() {
            anyhow::bail!("{} n'est pas un dossier", dir.display());
        }
    }

    let bars = BarProgress::drawing(std::io::stderr().is_terminal());
    let progress: &dyn ImportProgress = &bars;
    let options = config.import_options();
    let import = store.import_aaf(dirs, &options, progress);
    let report = tokio::select! {
        report = import => report.map_err(|error| anyhow::anyhow!("l'import a échoué : {error}"))?,
        () = crate::serve::shutdown_signal() => {
            // Dropping the import rolls back the file under way; files already applied stay.
            // Only this process's run is released, never another import's.
            if let Some(run_id) = bars.run_id() {
                store.abandon_import_run(&run_id).await?;
            }
            anyhow::bail!(
                "import interrompu : les fichiers déjà appliqués sont gardés, relancez l'import \
                 pour finir"
            );
        }
    };

    print!("{}", report.to_french_text());
    tracing::info!(run = %report.run_id, files = report.files.len(), "import terminé");
    Ok(report.has_problems())
}

/// A progress bar per file, stacked.
pub struct BarProgress {
    bars: MultiProgress,
    current: Mutex<Option<ProgressBar>>,
    /// The run this process claimed, once it has.
    run: Mutex<Option<String>>,
    /// Whether to draw anything (standard error is a terminal).
    draw: bool,
}

impl BarProgress {
    /// Progress that records the run and draws bars only when `draw` is set.
    pub fn drawing(draw: bool) -> BarProgress {
        BarProgress {
            bars: MultiProgress::new(),
            current: Mutex::new(None),
            run: Mutex::new(None),
            draw,
        }
    }

    /// The run this process claimed, if any yet.
    pub fn run_id(&self) -> Option<String> {
        self.run.lock().ok().and_then(|run| run.clone())
    }

    fn style() -> ProgressStyle {
        ProgressStyle::with_template("[{bar:25}] {pos:>6}/{len:6} {elapsed:>4} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }
}

impl ImportProgress for BarProgress {
    fn run_started(&self, run_id: &str) {
        if let Ok(mut run) = self.run.lock() {
            *run = Some(run_id.to_owned());
        }
    }

    fn file_started(&self, file: &str, records: u64) {
        if !self.draw {
            return;
        }
        let bar = self.bars.add(ProgressBar::new(records));
        bar.set_style(BarProgress::style());
        bar.set_message(file.to_owned());
        if let Ok(mut current) = self.current.lock() {
            *current = Some(bar);
        }
    }

    fn records_done(&self, n: u64) {
        if let Ok(current) = self.current.lock()
            && let Some(bar) = current.as_ref()
        {
            bar.inc(n);
        }
    }

    fn file_finished(&self, _file: &str) {
        if let Ok(mut current) = self.current.lock()
            && let Some(bar) = current.take()
        {
            bar.finish();
        }
    }
}
