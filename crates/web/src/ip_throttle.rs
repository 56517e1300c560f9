//! The per-address slow-down of failed logins. A whole school can sit behind one address, so
//! this never refuses: past a generous number of failures in a sliding window, answers from that
//! address are only delayed. Successful logins are not counted. The memory is bounded: a few
//! hundred instants per address, and addresses with no recent failure are dropped when the map
//! grows.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// The sliding window, in milliseconds.
const WINDOW_MS: i64 = 10 * 60 * 1000;
/// Failures tolerated in the window before answers slow down.
const TOLERATED: usize = 100;
/// How many addresses are kept before stale ones are swept.
const MAX_ADDRESSES: usize = 50_000;
/// The delay added to answers from a noisy address.
pub(crate) const SLOWDOWN: Duration = Duration::from_secs(2);

/// Failed logins per client address.
#[derive(Debug, Default)]
pub(crate) struct IpFailures {
    failures: Mutex<HashMap<IpAddr, VecDeque<i64>>>,
}

impl IpFailures {
    /// Records a failed login from `ip` at `now_ms`.
    pub(crate) fn record(&self, ip: IpAddr, now_ms: i64) {
        let Ok(mut failures) = self.failures.lock() else { return };
        if failures.len() > MAX_ADDRESSES {
            failures.retain(|_, times| times.back().is_some_and(|t| now_ms - t < WINDOW_MS));
        }

        let times = failures.entry(ip).or_default();
        while times.front().is_some_and(|t| now_ms - t >= WINDOW_MS) {
            times.pop_front();
        }
        times.push_back(now_ms);
        if times.len() > TOLERATED * 2 {
            times.pop_front();
        }
    }

    /// Whether `ip` failed more often than tolerated within the window.
    pub(crate) fn is_noisy(&self, ip: IpAddr, now_ms: i64) -> bool {
        self.failures.lock().is_ok_and(|failures| {
            failures.get(&ip).is_some_and(|times| {
                times.iter().filter(|t| now_ms - **t < WINDOW_MS).count() > TOLERATED
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_slowed_down_only_past_the_tolerated_failures() {
        let failures = IpFailures::default();
        let school: IpAddr = "203.0.113.9".parse().unwrap();
        let other: IpAddr = "198.51.100.7".parse().unwrap();

        for n in 0..100 {
            failures.record(school, 1_000 + n);
        }
        assert!(!failures.is_noisy(school, 2_000));
        failures.record(school, 2_000);

        assert!(failures.is_noisy(school, 2_001));
        assert!(!failures.is_noisy(other, 2_001));
        assert!(!failures.is_noisy(school, 2_000 + WINDOW_MS));
    }
}
