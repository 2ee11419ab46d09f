//! Time enters the core only as an argument.
//!
//! Two clocks, because protocols need both: a monotonic [`Instant`] for
//! timeouts and retransmissions, and a wall clock [`UnixTime`] for the
//! timestamp protocols. The driver reads its real clocks (or the simulator
//! its virtual ones) and passes them in as a [`Now`]. `std::time::Instant`
//! is not used: it does not exist in `no_std` and panics on wasm32.

use core::fmt;
use core::ops::{Add, Sub};
use core::time::Duration;
use serde::{Deserialize, Serialize};

/// A point on a monotonic clock, in microseconds since the driver's epoch.
///
/// Arithmetic saturates instead of panicking: a timeout far in the future
/// is still "far in the future", never an overflow.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(u64);

impl Instant {
    /// The driver's epoch.
    pub const ZERO: Instant = Instant(0);
    /// The latest representable instant; useful as "never".
    pub const MAX: Instant = Instant(u64::MAX);

    /// An instant `us` microseconds after the epoch.
    pub const fn from_micros(us: u64) -> Self {
        Instant(us)
    }

    /// An instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms.saturating_mul(1000))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(duration_micros(rhs)))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_sub(duration_micros(rhs)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// A wall-clock time: seconds and nanoseconds since 1970-01-01 00:00:00 UTC.
///
/// Negative seconds are times before 1970 (RFC 868 starts in 1900).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct UnixTime {
    secs: i64,
    nanos: u32,
}

impl UnixTime {
    /// 1970-01-01 00:00:00 UTC.
    pub const EPOCH: UnixTime = UnixTime { secs: 0, nanos: 0 };

    /// A time `secs` seconds and `nanos` nanoseconds after the epoch.
    /// Nanoseconds of a second or more carry into the seconds.
    pub const fn new(secs: i64, nanos: u32) -> Self {
        UnixTime {
            secs: secs.saturating_add((nanos / 1_000_000_000) as i64),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// A whole number of seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        UnixTime { secs, nanos: 0 }
    }

    /// Whole seconds since the epoch (floor).
    pub const fn secs(self) -> i64 {
        self.secs
    }

    /// The sub-second part, `0..1_000_000_000`.
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }
}

impl Add<Duration> for UnixTime {
    type Output = UnixTime;
    fn add(self, rhs: Duration) -> UnixTime {
        let nanos = self.nanos + rhs.subsec_nanos();
        let secs = self
            .secs
            .saturating_add(i64::try_from(rhs.as_secs()).unwrap_or(i64::MAX));
        UnixTime::new(secs, nanos)
    }
}

/// Both clocks at one moment, as the driver read them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Now {
    /// The monotonic clock: drives timeouts.
    pub mono: Instant,
    /// The wall clock: what timestamp servers report.
    pub wall: UnixTime,
}

impl Now {
    /// Both clocks at once.
    pub const fn new(mono: Instant, wall: UnixTime) -> Self {
        Now { mono, wall }
    }

    /// A moment on the monotonic clock, with the wall clock at the epoch;
    /// handy for protocols that never look at the wall clock.
    pub const fn mono(mono: Instant) -> Self {
        Now {
            mono,
            wall: UnixTime::EPOCH,
        }
    }

    /// The same moment `d` later on both clocks.
    pub fn advanced(self, d: Duration) -> Now {
        Now {
            mono: self.mono + d,
            wall: self.wall + d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_arithmetic_saturates() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::ZERO - Duration::from_secs(1), Instant::ZERO);
        let a = Instant::from_millis(1500);
        assert_eq!(a.as_micros(), 1_500_000);
        assert_eq!(a - Instant::from_millis(500), Duration::from_secs(1));
        assert_eq!(Instant::from_millis(500) - a, Duration::ZERO);
    }

    #[test]
    fn unix_time_carries_nanos() {
        let t = UnixTime::new(10, 2_500_000_000);
        assert_eq!((t.secs(), t.subsec_nanos()), (12, 500_000_000));
        let u = t + Duration::from_millis(600);
        assert_eq!((u.secs(), u.subsec_nanos()), (13, 100_000_000));
    }

    #[test]
    fn now_advances_both_clocks() {
        let n = Now::new(Instant::from_millis(1), UnixTime::from_secs(100))
            .advanced(Duration::from_secs(2));
        assert_eq!(n.mono, Instant::from_millis(2001));
        assert_eq!(n.wall, UnixTime::from_secs(102));
    }
}
