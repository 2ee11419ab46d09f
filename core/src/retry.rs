//! Retry schedules with exponential backoff.
//!
//! A datagram client cannot know whether its request or the reply was lost:
//! it can only wait and ask again. Waiting a little longer each time keeps a
//! struggling server from being flooded; giving up once a wait would grow
//! past a ceiling turns "no answer" into a clear "the server looks down".
//!
//! The defaults are the classic tutorials' schedule: wait 100 ms, then 200, 400, 800 and
//! 1600 ms; the next wait (3200 ms) would pass 2 s, so the client gives up.

use crate::time::Instant;
use bytes::Bytes;
use core::time::Duration;
use rand_core::Rng;
use rand_pcg::Pcg32;
use serde::{Deserialize, Serialize};

/// How a [`Backoff`] grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackoffConfig {
    /// The wait after the first attempt.
    pub initial: Duration,
    /// Each wait is the previous one times this.
    pub factor: u32,
    /// Give up instead of waiting longer than this.
    pub max_wait: Duration,
    /// Spread each wait at random by up to this many percent either way
    /// (0 = exact schedule). The give-up decision uses the exact schedule,
    /// so jitter never changes how many attempts are made.
    pub jitter_percent: u8,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(100),
            factor: 2,
            max_wait: Duration::from_secs(2),
            jitter_percent: 0,
        }
    }
}

/// A configuration that cannot make a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackoffError {
    /// `initial` is zero: the client would spin.
    ZeroInitialWait,
    /// `factor` is below 2: the waits would never grow past the ceiling, or vanish.
    FactorBelowTwo,
    /// `jitter_percent` is over 100.
    JitterOver100,
}

impl core::fmt::Display for BackoffError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            BackoffError::ZeroInitialWait => "the first wait must be longer than zero",
            BackoffError::FactorBelowTwo => {
                "the backoff factor must be at least 2: a constant wait would retry forever"
            }
            BackoffError::JitterOver100 => "jitter must be between 0 and 100 percent",
        })
    }
}

impl core::error::Error for BackoffError {}

impl BackoffConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), BackoffError> {
        if self.initial.is_zero() {
            return Err(BackoffError::ZeroInitialWait);
        }
        if self.factor < 2 {
            return Err(BackoffError::FactorBelowTwo);
        }
        if self.jitter_percent > 100 {
            return Err(BackoffError::JitterOver100);
        }
        Ok(())
    }

    /// The exact waits this configuration makes before giving up, without
    /// jitter. With `factor == 1` the schedule never ends, so this stops at
    /// `limit` entries.
    pub fn schedule(&self, limit: usize) -> impl Iterator<Item = Duration> + '_ {
        let mut next = Some(self.initial);
        core::iter::from_fn(move || {
            let wait = next.filter(|w| *w <= self.max_wait)?;
            next = wait.checked_mul(self.factor);
            Some(wait)
        })
        .take(limit)
    }
}

/// A running schedule: ask it for the wait after each attempt.
#[derive(Clone, Debug)]
pub struct Backoff {
    config: BackoffConfig,
    next: Option<Duration>,
    attempts: u32,
    rng: Pcg32,
}

impl Backoff {
    /// A fresh schedule; `seed` drives the jitter (unused without jitter).
    pub fn new(config: BackoffConfig, seed: u64) -> Result<Self, BackoffError> {
        config.validate()?;
        Ok(Backoff {
            config,
            next: Some(config.initial),
            attempts: 0,
            rng: Pcg32::new(seed, 0x0a02_bdbf_7bb3_c0a7),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BackoffConfig {
        &self.config
    }

    /// Attempts made so far (calls to [`Backoff::next_wait`]).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Records an attempt and returns how long to wait for its answer, or
    /// `None` when that wait would pass the ceiling: time to give up.
    pub fn next_wait(&mut self) -> Option<Duration> {
        let nominal = self.next.filter(|w| *w <= self.config.max_wait)?;
        self.attempts += 1;
        self.next = nominal.checked_mul(self.config.factor);
        Some(self.jittered(nominal))
    }

    /// Starts over, as after a successful exchange.
    pub fn reset(&mut self) {
        self.next = Some(self.config.initial);
        self.attempts = 0;
    }

    fn jittered(&mut self, nominal: Duration) -> Duration {
        let pct = u64::from(self.config.jitter_percent);
        if pct == 0 {
            return nominal;
        }
        let micros = u64::try_from(nominal.as_micros()).unwrap_or(u64::MAX);
        let spread = micros / 100 * pct;
        // Uniform in [micros - spread, micros + spread].
        let offset = self.rng.next_u64() % (2 * spread + 1);
        Duration::from_micros((micros - spread).saturating_add(offset))
    }
}

// ANCHOR: retrier
/// One datagram request waiting for its reply: when to send it again, and
/// when to give up. Every UDP client in the core keeps one.
#[derive(Clone, Debug)]
pub struct Retrier {
    backoff: Backoff,
    payload: Option<Bytes>,
    deadline: Option<Instant>,
}

/// What a [`Retrier`] decides when its timeout fires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryStep {
    /// The deadline has not come yet (an early or repeated timeout).
    NotYet,
    /// Send this again and wait `wait` for the reply.
    Resend {
        /// The request, again.
        payload: Bytes,
        /// How long to wait this time.
        wait: Duration,
        /// Sends so far, this one included.
        attempt: u32,
    },
    /// The next wait would pass the ceiling: the peer looks down.
    GiveUp {
        /// Sends made.
        attempts: u32,
    },
}

impl Retrier {
    /// A retrier with the given schedule; `seed` drives the jitter, if any.
    pub fn new(config: BackoffConfig, seed: u64) -> Result<Self, BackoffError> {
        Ok(Retrier {
            backoff: Backoff::new(config, seed)?,
            payload: None,
            deadline: None,
        })
    }

    /// True while a request waits for its reply.
    pub fn is_waiting(&self) -> bool {
        self.payload.is_some()
    }

    /// Starts a request at `now`: returns the first wait, or `None` when the
    /// schedule allows no wait at all (the caller reports the peer down).
    pub fn start(&mut self, now: Instant, payload: Bytes) -> Option<Duration> {
        self.backoff.reset();
        let wait = self.backoff.next_wait()?;
        self.payload = Some(payload);
        self.deadline = Some(now + wait);
        Some(wait)
    }

    /// The reply came: stop waiting. Returns the number of sends it took.
    pub fn finish(&mut self) -> u32 {
        self.payload = None;
        self.deadline = None;
        self.backoff.attempts()
    }

    /// When the current wait ends.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Called on a timeout at `now`.
    pub fn on_timeout(&mut self, now: Instant) -> RetryStep {
        let (Some(deadline), Some(payload)) = (self.deadline, self.payload.clone()) else {
            return RetryStep::NotYet;
        };
        if now < deadline {
            return RetryStep::NotYet;
        }
        match self.backoff.next_wait() {
            Some(wait) => {
                self.deadline = Some(now + wait);
                RetryStep::Resend {
                    payload,
                    wait,
                    attempt: self.backoff.attempts(),
                }
            }
            None => {
                let attempts = self.finish();
                RetryStep::GiveUp { attempts }
            }
        }
    }
}
// ANCHOR_END: retrier

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn default_schedule_is_the_classic_tutorials() {
        let mut b = Backoff::new(BackoffConfig::default(), 0).unwrap();
        let waits: Vec<_> = core::iter::from_fn(|| b.next_wait()).collect();
        assert_eq!(waits, [ms(100), ms(200), ms(400), ms(800), ms(1600)]);
        assert_eq!(b.attempts(), 5);
        assert_eq!(b.next_wait(), None, "stays given up");
        b.reset();
        assert_eq!(b.next_wait(), Some(ms(100)));
    }

    #[test]
    fn a_wait_equal_to_the_ceiling_is_still_made() {
        let cfg = BackoffConfig {
            initial: ms(500),
            max_wait: ms(2000),
            ..Default::default()
        };
        let waits: Vec<_> = cfg.schedule(10).collect();
        assert_eq!(waits, [ms(500), ms(1000), ms(2000)]);
    }

    #[test]
    fn bad_configs_are_refused() {
        let zero = BackoffConfig {
            initial: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(
            Backoff::new(zero, 1).err(),
            Some(BackoffError::ZeroInitialWait)
        );
        let flat = BackoffConfig {
            factor: 1,
            ..Default::default()
        };
        assert_eq!(flat.validate(), Err(BackoffError::FactorBelowTwo));
        let wild = BackoffConfig {
            jitter_percent: 101,
            ..Default::default()
        };
        assert_eq!(wild.validate(), Err(BackoffError::JitterOver100));
    }

    proptest! {
        #[test]
        fn jitter_stays_in_bounds_and_keeps_the_attempt_count(
            seed in any::<u64>(), pct in 0u8..=100, initial in 1u64..500, factor in 2u32..4,
        ) {
            let cfg = BackoffConfig { initial: ms(initial), factor, max_wait: ms(5000), jitter_percent: pct };
            let exact: Vec<_> = cfg.schedule(64).collect();
            let mut b = Backoff::new(cfg, seed).unwrap();
            let got: Vec<_> = core::iter::from_fn(|| b.next_wait()).collect();
            prop_assert_eq!(got.len(), exact.len());
            for (g, e) in got.iter().zip(&exact) {
                let e = e.as_micros() as f64;
                let g = g.as_micros() as f64;
                prop_assert!((g - e).abs() <= e * f64::from(pct) / 100.0 + 1.0);
            }
            // Same seed, same waits: jitter is deterministic.
            let mut again = Backoff::new(cfg, seed).unwrap();
            let replay: Vec<_> = core::iter::from_fn(|| again.next_wait()).collect();
            prop_assert_eq!(replay, got);
        }
    }
}
