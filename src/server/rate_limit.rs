//! The app's own limit on SMS sends per number, in front of CloudBase's: a person sees the wait
//! before a call is spent, and a script cannot make CloudBase text a number over and over.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Sends allowed per number in [`DAY`], as CloudBase allows.
pub const DAILY_SENDS_PER_NUMBER: usize = 10;
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);
/// Past this many tracked numbers, stale entries are dropped before a new one is added.
const PRUNE_ABOVE: usize = 10_000;

pub struct SmsLimiter {
    resend_after: Duration,
    sends: Mutex<HashMap<String, Vec<u64>>>,
}

impl SmsLimiter {
    pub fn new(resend_after: Duration) -> Self {
        Self {
            resend_after,
            sends: Mutex::new(HashMap::new()),
        }
    }

    pub fn resend_after(&self) -> Duration {
        self.resend_after
    }

    /// Records a send to `key` at `now` (Unix seconds), or says how many seconds to wait.
    pub fn try_send(&self, key: &str, now: u64) -> Result<(), u64> {
        let mut sends = self.sends.lock().unwrap_or_else(|e| e.into_inner());
        if sends.len() > PRUNE_ABOVE {
            sends.retain(|_, times| times.last().is_some_and(|t| now < t + DAY.as_secs()));
        }
        let times = sends.entry(key.to_owned()).or_default();
        times.retain(|t| now < t + DAY.as_secs());
        if let Some(last) = times.last() {
            let ready_at = last + self.resend_after.as_secs();
            if now < ready_at {
                return Err(ready_at - now);
            }
        }
        if times.len() >= DAILY_SENDS_PER_NUMBER {
            let oldest = times[0];
            return Err(oldest + DAY.as_secs() - now);
        }
        times.push(now);
        Ok(())
    }

    /// Forgets a send that CloudBase refused, so it does not count against the person.
    pub fn undo(&self, key: &str, at: u64) {
        let mut sends = self.sends.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(times) = sends.get_mut(key) {
            if times.last() == Some(&at) {
                times.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_waits_between_sends_and_has_a_daily_cap() {
        let limiter = SmsLimiter::new(Duration::from_secs(60));
        let mut now = 1_000_000;
        assert_eq!(limiter.try_send("a", now), Ok(()));
        assert_eq!(limiter.try_send("a", now + 10), Err(50));
        assert_eq!(limiter.try_send("b", now + 10), Ok(()));
        for _ in 1..DAILY_SENDS_PER_NUMBER {
            now += 60;
            assert_eq!(limiter.try_send("a", now), Ok(()));
        }
        now += 60;
        let wait = limiter.try_send("a", now).expect_err("capped");
        assert_eq!(wait, 1_000_000 + DAY.as_secs() - now);
        assert_eq!(limiter.try_send("a", 1_000_000 + DAY.as_secs()), Ok(()));
    }

    #[test]
    fn an_undone_send_does_not_count() {
        let limiter = SmsLimiter::new(Duration::from_secs(60));
        assert_eq!(limiter.try_send("a", 100), Ok(()));
        limiter.undo("a", 100);
        assert_eq!(limiter.try_send("a", 101), Ok(()));
    }
}

/// Wrong codes allowed per verification before the app stops asking CloudBase.
pub const MAX_WRONG_CODES: u32 = 5;

/// Wrong codes per verification id, kept in memory (a verification lives 10 minutes), so that a
/// failed try changes nothing in the session and sets no cookie.
#[derive(Default)]
pub struct WrongCodes {
    counts: Mutex<HashMap<String, (u32, u64)>>,
}

impl WrongCodes {
    /// Wrong tries so far for `verification_id`.
    pub fn count(&self, verification_id: &str) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(verification_id).map_or(0, |(n, _)| *n)
    }

    /// Records one more wrong try and returns the tries left.
    pub fn record(&self, verification_id: &str, expires_at: u64, now: u64) -> u32 {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() > PRUNE_ABOVE {
            counts.retain(|_, (_, expires)| now < *expires);
        }
        let entry = counts
            .entry(verification_id.to_owned())
            .or_insert((0, expires_at));
        entry.0 += 1;
        MAX_WRONG_CODES.saturating_sub(entry.0)
    }

    pub fn forget(&self, verification_id: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.remove(verification_id);
    }
}
