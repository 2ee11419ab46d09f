//! Time for the machines: the core takes `now` as an argument, and this is
//! the one place the native side reads the operating system's clocks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wirekit_core::{Instant, Now, UnixTime};

/// Maps the process's monotonic clock onto the core's microsecond
/// [`Instant`] (counted from the moment the clock was made).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: std::time::Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        Clock {
            epoch: std::time::Instant::now(),
        }
    }

    /// A clock whose zero is `epoch`: what a server started then reads
    /// (tests of long-running loops, without running them that long).
    #[cfg(test)]
    pub(crate) fn since(epoch: std::time::Instant) -> Self {
        Clock { epoch }
    }

    /// The monotonic and wall-clock time, as the machines want it.
    pub fn now(&self) -> Now {
        let mono = Instant::from_micros(self.epoch.elapsed().as_micros() as u64);
        let wall = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => UnixTime::new(d.as_secs() as i64, d.subsec_nanos()),
            // A clock set before 1970: count backwards.
            Err(e) => {
                let d = e.duration();
                UnixTime::new(-(d.as_secs() as i64), 0)
            }
        };
        Now::new(mono, wall)
    }

    /// How long from now until `at` (zero if it has passed).
    pub fn until(&self, at: Instant) -> Duration {
        let now = self.epoch.elapsed().as_micros() as u64;
        Duration::from_micros(at.as_micros().saturating_sub(now))
    }

    /// The std instant that corresponds to the core instant `at`.
    pub fn to_std(&self, at: Instant) -> std::time::Instant {
        self.epoch + Duration::from_micros(at.as_micros())
    }
}
