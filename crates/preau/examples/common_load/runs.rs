//! Medians over repeated closed-loop runs, for the load generators that run each case several
//! times and print one row of medians (`cas_load.rs`; `timetable_load.rs` keeps its own copy,
//! which could move here).
#![allow(dead_code, reason = "each load generator compiles this module, not all use it")]

use super::{Figures, Percentiles};

/// The median of some numbers (the lower middle one of an even count, so a real run's); zero
/// for none.
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n => values[(n - 1) / 2],
    }
}

/// The median of each percentile over the runs.
pub(crate) fn medians(runs: &[Percentiles]) -> Percentiles {
    let pick = |f: fn(&Percentiles) -> f64| median(runs.iter().map(f).collect());
    Percentiles {
        p50: pick(|p| p.p50),
        p90: pick(|p| p.p90),
        p99: pick(|p| p.p99),
        max: pick(|p| p.max),
    }
}

/// The medians of several runs of one case: request count, throughput, and the client's
/// percentiles.
pub(crate) struct Medians {
    pub(crate) requests: f64,
    pub(crate) throughput: f64,
    pub(crate) client: Percentiles,
}

impl Medians {
    pub(crate) fn of(runs: &[Figures]) -> Medians {
        Medians {
            requests: median(runs.iter().map(|f| f.requests as f64).collect()),
            throughput: median(runs.iter().map(|f| f.throughput).collect()),
            client: medians(&runs.iter().map(|f| f.client).collect::<Vec<_>>()),
        }
    }
}
