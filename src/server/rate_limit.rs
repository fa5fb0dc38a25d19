//! The app's own limits on SMS sends, in front of CloudBase's: per number (as CloudBase: a wait
//! between sends and a daily cap) and per client address (so that one machine cannot make
//! CloudBase text a long list of numbers). A person sees the wait before a call is spent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// Sends allowed per number in [`DAY`], as CloudBase allows.
pub const DAILY_SENDS_PER_NUMBER: usize = 10;
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);
/// Sends allowed from one client address in [`HOUR`], whatever the numbers: room for a family
/// or an office behind one address, not for a script walking through numbers.
pub const HOURLY_SENDS_PER_ADDRESS: usize = 20;
pub const HOUR: Duration = Duration::from_secs(60 * 60);
/// Past this many tracked keys, stale entries are dropped before a new one is added.
const PRUNE_ABOVE: usize = 10_000;

/// At most `max` events per `window` for each key, at least `min_gap` apart.
struct Window {
    min_gap: u64,
    max: usize,
    window: u64,
    events: HashMap<String, Vec<u64>>,
}

impl Window {
    fn new(min_gap: Duration, max: usize, window: Duration) -> Self {
        Self {
            min_gap: min_gap.as_secs(),
            max,
            window: window.as_secs(),
            events: HashMap::new(),
        }
    }

    /// Seconds to wait before `key` may have another event at `now`, if any.
    fn wait(&mut self, key: &str, now: u64) -> Option<u64> {
        let window = self.window;
        if self.events.len() > PRUNE_ABOVE {
            self.events
                .retain(|_, times| times.last().is_some_and(|t| now < t + window));
        }
        let times = self.events.get_mut(key)?;
        times.retain(|t| now < t + window);
        if let Some(last) = times.last() {
            let ready_at = last + self.min_gap;
            if now < ready_at {
                return Some(ready_at - now);
            }
        }
        (times.len() >= self.max).then(|| times[0] + window - now)
    }

    fn record(&mut self, key: &str, now: u64) {
        self.events.entry(key.to_owned()).or_default().push(now);
    }

    fn undo(&mut self, key: &str, at: u64) {
        if let Some(times) = self.events.get_mut(key) {
            if times.last() == Some(&at) {
                times.pop();
            }
        }
    }
}

pub struct SmsLimiter {
    resend_after: Duration,
    windows: Mutex<Windows>,
}

struct Windows {
    per_number: Window,
    per_address: Window,
}

impl SmsLimiter {
    pub fn new(resend_after: Duration) -> Self {
        Self {
            resend_after,
            windows: Mutex::new(Windows {
                per_number: Window::new(resend_after, DAILY_SENDS_PER_NUMBER, DAY),
                per_address: Window::new(Duration::ZERO, HOURLY_SENDS_PER_ADDRESS, HOUR),
            }),
        }
    }

    pub fn resend_after(&self) -> Duration {
        self.resend_after
    }

    /// Records a send to `number` from `address` (when known) at `now` (Unix seconds), or says
    /// how many seconds to wait; a refused send counts against neither.
    pub fn try_send(&self, number: &str, address: Option<IpAddr>, now: u64) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let address = address.map(|a| a.to_string());
        let wait = [
            windows.per_number.wait(number, now),
            address
                .as_deref()
                .and_then(|a| windows.per_address.wait(a, now)),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        windows.per_number.record(number, now);
        if let Some(address) = &address {
            windows.per_address.record(address, now);
        }
        Ok(())
    }

    /// Forgets a send that CloudBase refused, so it does not count against the person.
    pub fn undo(&self, number: &str, address: Option<IpAddr>, at: u64) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.per_number.undo(number, at);
        if let Some(address) = address {
            windows.per_address.undo(&address.to_string(), at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const THERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));

    #[test]
    fn a_number_waits_between_sends_and_has_a_daily_cap() {
        let limiter = SmsLimiter::new(Duration::from_secs(60));
        let mut now = 1_000_000;
        assert_eq!(limiter.try_send("a", HERE, now), Ok(()));
        assert_eq!(limiter.try_send("a", THERE, now + 10), Err(50));
        assert_eq!(limiter.try_send("b", HERE, now + 10), Ok(()));
        for _ in 1..DAILY_SENDS_PER_NUMBER {
            now += 60 * 60;
            assert_eq!(limiter.try_send("a", None, now), Ok(()));
        }
        now += 60;
        let wait = limiter.try_send("a", None, now).expect_err("capped");
        assert_eq!(wait, 1_000_000 + DAY.as_secs() - now);
        assert_eq!(
            limiter.try_send("a", None, 1_000_000 + DAY.as_secs()),
            Ok(())
        );
    }

    #[test]
    fn an_address_has_an_hourly_cap_across_numbers() {
        let limiter = SmsLimiter::new(Duration::from_secs(60));
        let start = 1_000_000;
        for n in 0..HOURLY_SENDS_PER_ADDRESS {
            assert_eq!(
                limiter.try_send(&format!("n{n}"), HERE, start + n as u64),
                Ok(())
            );
        }
        let late = start + 100;
        assert_eq!(
            limiter.try_send("another", HERE, late),
            Err(start + HOUR.as_secs() - late)
        );
        // Refused, so not counted against the number either; other addresses are untouched.
        assert_eq!(limiter.try_send("another", THERE, late), Ok(()));
        assert_eq!(
            limiter.try_send("x", HERE, start + HOUR.as_secs() + 1),
            Ok(())
        );
    }

    #[test]
    fn an_undone_send_does_not_count() {
        let limiter = SmsLimiter::new(Duration::from_secs(60));
        assert_eq!(limiter.try_send("a", HERE, 100), Ok(()));
        limiter.undo("a", HERE, 100);
        assert_eq!(limiter.try_send("a", HERE, 101), Ok(()));
    }
}

/// Wrong codes allowed per verification before the app stops asking CloudBase.
pub const MAX_WRONG_CODES: u32 = 5;

/// Tries at the code of each verification id, kept in memory (a verification lives 10 minutes),
/// so that a failed try changes nothing in the session and sets no cookie. A try counts from the
/// moment it starts: requests sent side by side cannot get more than [`MAX_WRONG_CODES`] codes
/// to CloudBase between them.
#[derive(Default)]
pub struct WrongCodes {
    counts: Mutex<HashMap<String, Tries>>,
}

#[derive(Debug, Clone, Copy)]
struct Tries {
    wrong: u32,
    /// Tries whose answer from CloudBase is not in yet.
    checking: u32,
    expires_at: u64,
}

impl Tries {
    fn left(&self) -> u32 {
        MAX_WRONG_CODES.saturating_sub(self.wrong + self.checking)
    }
}

/// One try at a code, counted against the limit until it ends: kept as wrong by
/// [`CodeTry::wrong`], given back when dropped otherwise (right code, or CloudBase unreachable).
#[must_use]
pub struct CodeTry<'a> {
    owner: &'a WrongCodes,
    verification_id: String,
    open: bool,
}

impl WrongCodes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tries>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a try at `verification_id`'s code, or `None` when the wrong tries so far and those
    /// under way leave none.
    pub fn start(&self, verification_id: &str, expires_at: u64, now: u64) -> Option<CodeTry<'_>> {
        let mut counts = self.lock();
        if counts.len() > PRUNE_ABOVE {
            counts.retain(|_, tries| now < tries.expires_at || tries.checking > 0);
        }
        let tries = counts.entry(verification_id.to_owned()).or_insert(Tries {
            wrong: 0,
            checking: 0,
            expires_at,
        });
        if tries.left() == 0 {
            return None;
        }
        tries.checking += 1;
        Some(CodeTry {
            owner: self,
            verification_id: verification_id.to_owned(),
            open: true,
        })
    }

    pub fn forget(&self, verification_id: &str) {
        self.lock().remove(verification_id);
    }
}

impl CodeTry<'_> {
    /// The code was wrong: the try stays counted. Returns the tries left.
    pub fn wrong(mut self) -> u32 {
        self.open = false;
        let mut counts = self.owner.lock();
        match counts.get_mut(&self.verification_id) {
            Some(tries) => {
                tries.checking = tries.checking.saturating_sub(1);
                tries.wrong += 1;
                tries.left()
            }
            None => 0,
        }
    }
}

impl Drop for CodeTry<'_> {
    fn drop(&mut self) {
        if self.open {
            if let Some(tries) = self.owner.lock().get_mut(&self.verification_id) {
                tries.checking = tries.checking.saturating_sub(1);
            }
        }
    }
}
