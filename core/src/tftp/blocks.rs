//! Block numbers: 16 bits on the wire, unbounded inside.
//!
//! The machines count blocks with a `u64` (the *absolute* number: 1 for the
//! first DATA block, 0 for the request's acknowledgement) and write the low
//! part on the wire. After block 65535 the wire number wraps: to 0 by
//! default, as all the servers in PEERS.md do, or to 1 when the client asks
//! for `rollover=1` (tftp-hpa's option). Without the wrap a transfer stops
//! at 65535 blocks: 32 MiB at 512-byte blocks.

use serde::{Deserialize, Serialize};

/// What follows block 65535 on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rollover {
    /// 65535, 0, 1, … (the default).
    #[default]
    Zero,
    /// 65535, 1, 2, … (`rollover=1`).
    One,
}

impl Rollover {
    /// The rollover an option value names, if any.
    pub fn from_value(v: u64) -> Option<Self> {
        match v {
            0 => Some(Rollover::Zero),
            1 => Some(Rollover::One),
            _ => None,
        }
    }

    /// The option value.
    pub fn value(self) -> u64 {
        match self {
            Rollover::Zero => 0,
            Rollover::One => 1,
        }
    }

    /// The wire number of absolute block `abs`.
    pub fn wire(self, abs: u64) -> u16 {
        match self {
            // Truncation is the wrap.
            Rollover::Zero => (abs & 0xffff) as u16,
            Rollover::One if abs == 0 => 0,
            Rollover::One => ((abs - 1) % 65535 + 1) as u16,
        }
    }

    /// The first absolute block at or after `from` whose wire number is
    /// `wire`, or `None` if no block after `from` has that number (0 after
    /// the start, with rollover 1).
    pub fn forward(self, from: u64, wire: u16) -> Option<u64> {
        let cur = self.wire(from);
        match self {
            Rollover::Zero => Some(from + u64::from(wire.wrapping_sub(cur))),
            Rollover::One if wire == 0 => (from == 0).then_some(0),
            Rollover::One if from == 0 => Some(u64::from(wire)),
            Rollover::One => {
                let delta = (i64::from(wire) - i64::from(cur)).rem_euclid(65535);
                Some(from + delta.unsigned_abs())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps() {
        assert_eq!(Rollover::Zero.wire(65535), 65535);
        assert_eq!(Rollover::Zero.wire(65536), 0);
        assert_eq!(Rollover::Zero.wire(65537), 1);
        assert_eq!(Rollover::One.wire(65535), 65535);
        assert_eq!(Rollover::One.wire(65536), 1);
        assert_eq!(Rollover::One.wire(0), 0);
        assert_eq!(Rollover::Zero.forward(65535, 0), Some(65536));
        assert_eq!(Rollover::One.forward(65535, 1), Some(65536));
        assert_eq!(Rollover::One.forward(65535, 0), None);
        assert_eq!(Rollover::One.forward(0, 0), Some(0));
        assert_eq!(Rollover::One.forward(0, 5), Some(5));
    }

    proptest! {
        #[test]
        fn forward_finds_the_next_block_with_that_number(from in 0u64..1_000_000, ahead in 0u64..65535, one in any::<bool>()) {
            let r = if one { Rollover::One } else { Rollover::Zero };
            let target = from + ahead;
            if !(one && target == 0 && from > 0) {
                prop_assert_eq!(r.forward(from, r.wire(target)), Some(target));
            }
        }
    }
}
