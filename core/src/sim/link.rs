//! One direction of a link: the netem decisions for each packet.
//!
//! Every direction has its own seeded RNG, so a change to the traffic in one
//! direction never changes the luck of the other. The decisions are drawn in
//! a fixed order (partition, MTU, queue limit, hold, loss, duplicate,
//! corrupt, reorder, delay) and every one is reported with its reason, which is what
//! the trace records and the browser page shows.
//!
//! Random draws follow netem: a correlated draw is
//! `(1 - ρ) · fresh + ρ · previous`, and delay distributions are sampled by
//! inverting their distribution function on that (correlated) uniform draw.

use super::netem::{Chance, Delay, Distribution, Loss, Netem, Prob};
use rand_core::Rng;
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

/// Why a link dropped a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DropReason {
    /// The loss model said so (`loss ...`).
    Loss,
    /// The queue held `limit` packets already (tail drop).
    QueueFull,
    /// Longer than the link's MTU.
    Mtu,
    /// The link is partitioned.
    Partition,
    /// No link leads to the destination address.
    NoRoute,
}

impl DropReason {
    /// Every reason, in report order.
    pub const ALL: [DropReason; 5] = [
        DropReason::Loss,
        DropReason::QueueFull,
        DropReason::Mtu,
        DropReason::Partition,
        DropReason::NoRoute,
    ];

    /// A short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::QueueFull => "queue-full",
            DropReason::Mtu => "mtu",
            DropReason::Partition => "partition",
            DropReason::NoRoute => "no-route",
        }
    }

    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// What the link does with one packet that it did not drop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carry {
    /// Virtual µs from now until it arrives.
    pub after_us: u64,
    /// Of that, µs spent waiting for the rate limiter and serialising.
    pub queued_us: u64,
    /// It skipped the delay (`reorder`).
    pub reordered: bool,
    /// Which bit was flipped (`corrupt`): byte offset and bit.
    pub corrupted: Option<(u32, u8)>,
    /// A second copy follows (`duplicate`), arriving this many µs from now.
    pub duplicate_after_us: Option<u64>,
}

/// The decision for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Dropped, and why.
    Drop(DropReason),
    /// Carried.
    Carry(Carry),
    /// Held in the link (`hold`) until its profile changes; then offered again.
    Hold,
}

/// Markov states of netem's loss models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum LossState {
    /// `state` model: 1 (gap, received); `gemodel`: good.
    #[default]
    Gap,
    /// `state` model: 2 (burst, received).
    BurstRx,
    /// `state` model: 3 (burst, lost); `gemodel`: bad.
    BurstLost,
    /// `state` model: 4 (isolated loss).
    Isolated,
}

/// One direction of a link, with its state.
#[derive(Clone, Debug)]
pub struct LinkDir {
    config: Netem,
    rng: Pcg64Mcg,
    last_delay: u64,
    last_loss: u32,
    last_dup: u32,
    last_corrupt: u32,
    last_reorder: u32,
    loss_state: LossState,
    reorder_counter: u32,
    busy_until: u64,
    /// Packets accepted and not yet delivered (netem's queue).
    pub(crate) in_flight: u32,
}

const PPM: u64 = 1_000_000;

impl LinkDir {
    /// A direction with this profile, its RNG seeded with `seed`.
    pub fn new(config: Netem, seed: u64) -> Self {
        LinkDir {
            config,
            rng: Pcg64Mcg::new(u128::from(seed) << 1 | 1),
            last_delay: 0,
            last_loss: 0,
            last_dup: 0,
            last_corrupt: 0,
            last_reorder: 0,
            loss_state: LossState::default(),
            reorder_counter: 0,
            busy_until: 0,
            in_flight: 0,
        }
    }

    /// The profile in force.
    pub fn config(&self) -> &Netem {
        &self.config
    }

    /// Changes the profile; RNG and queue state carry on.
    pub fn set_config(&mut self, config: Netem) {
        self.config = config;
    }

    /// A uniform draw in `0..1_000_000`.
    fn fresh(&mut self) -> u32 {
        (self.rng.next_u64() % PPM) as u32
    }

    // ANCHOR: correlated
    /// netem's correlated draw: leans on `last` by `corr`.
    fn correlated(&mut self, corr: Prob, last: u32) -> u32 {
        let fresh = self.fresh();
        if corr.0 == 0 {
            return fresh;
        }
        let rho = u64::from(corr.0);
        ((u64::from(fresh) * (PPM - rho) + u64::from(last) * rho) / PPM) as u32
    }
    // ANCHOR_END: correlated

    fn chance(&mut self, c: Chance, last: fn(&mut Self) -> &mut u32) -> bool {
        let prev = *last(self);
        let v = self.correlated(c.correlation, prev);
        *last(self) = v;
        v < c.p.0
    }

    fn p(&mut self, p: Prob) -> bool {
        self.fresh() < p.0
    }

    fn lost(&mut self) -> bool {
        let Some(loss) = self.config.loss else {
            return false;
        };
        match loss {
            Loss::Random(c) => self.chance(c, |s| &mut s.last_loss),
            Loss::State {
                p13,
                p31,
                p32,
                p23,
                p14,
            } => {
                // netem's loss_4state, one uniform draw per packet.
                let r = self.fresh();
                match self.loss_state {
                    LossState::Gap => {
                        if r < p14.0 {
                            self.loss_state = LossState::Isolated;
                            true
                        } else if r < p14.0.saturating_add(p13.0) {
                            self.loss_state = LossState::BurstLost;
                            true
                        } else {
                            false
                        }
                    }
                    LossState::BurstRx => {
                        if r < p23.0 {
                            self.loss_state = LossState::BurstLost;
                            true
                        } else {
                            false
                        }
                    }
                    LossState::BurstLost => {
                        if r < p32.0 {
                            self.loss_state = LossState::BurstRx;
                            false
                        } else if r < p32.0.saturating_add(p31.0) {
                            self.loss_state = LossState::Gap;
                            false
                        } else {
                            true
                        }
                    }
                    LossState::Isolated => {
                        self.loss_state = LossState::Gap;
                        false
                    }
                }
            }
            Loss::GilbertElliott {
                p,
                r,
                bad_loss,
                good_loss,
            } => {
                // netem's loss_gilb_ell: move, then lose by the odds of the
                // state the packet arrived in.
                if self.loss_state == LossState::BurstLost {
                    if self.p(r) {
                        self.loss_state = LossState::Gap;
                    }
                    self.p(bad_loss)
                } else {
                    if self.p(p) {
                        self.loss_state = LossState::BurstLost;
                    }
                    self.p(good_loss)
                }
            }
        }
    }

    /// Delay for one packet, µs (before the rate limiter).
    fn delay(&mut self, d: Delay) -> u64 {
        if d.jitter_us == 0 {
            return d.base_us;
        }
        let prev = self.last_delay as u32;
        let u = self.correlated(d.correlation, prev);
        self.last_delay = u64::from(u);
        // A uniform in (0, 1), never exactly 0 or 1, for the inverse CDFs.
        let uf = (f64::from(u) + 0.5) / PPM as f64;
        let z = match d.distribution {
            Distribution::Uniform => 2.0 * uf - 1.0,
            Distribution::Normal => normal_quantile(uf),
            Distribution::Pareto => pareto_z(uf),
            Distribution::ParetoNormal => {
                // A second draw for the normal part, as netem mixes two tables.
                let v = (f64::from(self.fresh()) + 0.5) / PPM as f64;
                0.25 * normal_quantile(v) + 0.75 * pareto_z(uf)
            }
        };
        let delay = d.base_us as f64 + z * d.jitter_us as f64;
        if delay <= 0.0 {
            0
        } else {
            libm::round(delay) as u64
        }
    }

    /// Time to put `len` bytes on the wire, µs.
    fn serialise_us(&self, len: usize) -> u64 {
        let Some(rate) = self.config.rate else {
            return 0;
        };
        let mut bytes = (len as i64 + i64::from(rate.packet_overhead)).max(0) as u64;
        if rate.cell_size > 0 {
            let cells = bytes.div_ceil(u64::from(rate.cell_size));
            let cell = (i64::from(rate.cell_size) + i64::from(rate.cell_overhead)).max(0) as u64;
            bytes = cells * cell;
        }
        (bytes * 8 * 1_000_000).div_ceil(rate.bits_per_sec.max(1))
    }

    /// Decides the fate of a packet of `len` bytes offered at `now` (µs).
    /// The caller applies [`Carry::corrupted`] to the bytes and, when the
    /// packet finally arrives, calls [`LinkDir::delivered`].
    pub fn offer(&mut self, now: u64, len: usize) -> Verdict {
        let c = &self.config;
        if c.partition {
            return Verdict::Drop(DropReason::Partition);
        }
        if c.mtu.is_some_and(|m| len > m as usize) {
            return Verdict::Drop(DropReason::Mtu);
        }
        let limit = c.limit.unwrap_or(super::netem::DEFAULT_LIMIT);
        if self.in_flight >= limit {
            return Verdict::Drop(DropReason::QueueFull);
        }
        if c.hold {
            // Held packets count against the queue limit.
            self.in_flight += 1;
            return Verdict::Hold;
        }
        if self.lost() {
            return Verdict::Drop(DropReason::Loss);
        }
        let c = self.config.clone();
        let duplicate = c
            .duplicate
            .is_some_and(|d| self.chance(d, |s| &mut s.last_dup));
        let corrupted = match c.corrupt {
            Some(k) if len > 0 && self.chance(k, |s| &mut s.last_corrupt) => {
                let at = self.rng.next_u64();
                Some(((at % len as u64) as u32, ((at >> 32) % 8) as u8))
            }
            _ => None,
        };
        // netem: every `gap`-th packet may jump the delay, with probability P.
        let mut reordered = false;
        if let Some(r) = c.reorder {
            if r.gap == 0 || self.reorder_counter + 1 < r.gap {
                self.reorder_counter += 1;
            } else if self.chance(r.chance, |s| &mut s.last_reorder) {
                reordered = true;
                self.reorder_counter = 0;
            } else {
                self.reorder_counter += 1;
            }
        }
        let start = now.max(self.busy_until);
        let depart = start + self.serialise_us(len);
        self.busy_until = depart;
        let queued_us = depart - now;
        let delay = match c.delay {
            Some(d) if !reordered => self.delay(d),
            _ => 0,
        };
        let duplicate_after_us = if duplicate {
            let again = c.delay.map_or(0, |d| self.delay(d));
            self.in_flight += 1;
            Some(queued_us + again)
        } else {
            None
        };
        self.in_flight += 1;
        Verdict::Carry(Carry {
            after_us: queued_us + delay,
            queued_us,
            reordered,
            corrupted,
            duplicate_after_us,
        })
    }

    /// A packet this direction carried has arrived: room in the queue.
    pub fn delivered(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }
}

/// Pareto with shape 3 and scale 1 (mean 1.5, deviation √3/2), from a
/// uniform `u`, moved to mean 0 and deviation 1.
fn pareto_z(u: f64) -> f64 {
    let x = libm::pow(1.0 - u, -1.0 / 3.0);
    (x - 1.5) / 0.866_025_403_784_438_6
}

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9): enough for jitter, and the same bits everywhere.
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail(libm::sqrt(-2.0 * libm::log(p)))
    } else if p > 1.0 - LOW {
        -tail(libm::sqrt(-2.0 * libm::log(1.0 - p)))
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(s: &str) -> LinkDir {
        LinkDir::new(s.parse().unwrap(), 42)
    }

    #[test]
    fn perfect_wire_carries_everything_at_once() {
        let mut d = dir("");
        for i in 0..100 {
            assert_eq!(d.offer(i, 1500), Verdict::Carry(Carry::default()));
        }
    }

    #[test]
    fn loss_rate_is_about_right() {
        let mut d = dir("loss 10%");
        let lost = (0..100_000)
            .filter(|_| match d.offer(0, 100) {
                Verdict::Drop(r) => r == DropReason::Loss,
                Verdict::Hold => false,
                Verdict::Carry(_) => {
                    d.delivered();
                    false
                }
            })
            .count();
        assert!((9_000..11_000).contains(&lost), "{lost}");
    }

    #[test]
    fn jitter_stays_around_the_delay() {
        for dist in ["uniform", "normal", "pareto", "paretonormal"] {
            let mut d = dir(&alloc::format!("delay 100ms 10ms distribution {dist}"));
            let mut sum = 0u64;
            for _ in 0..10_000 {
                let Verdict::Carry(c) = d.offer(0, 100) else {
                    panic!("no loss configured")
                };
                d.delivered();
                sum += c.after_us;
            }
            let mean = sum / 10_000;
            assert!((97_000..103_000).contains(&mean), "{dist}: {mean}");
        }
    }

    #[test]
    fn rate_serialises_back_to_back() {
        let mut d = dir("rate 8mbit limit 3");
        // 1000 bytes at 8 Mbit/s = 1 ms each.
        let after: alloc::vec::Vec<_> = (0..4).map(|_| d.offer(0, 1000)).collect();
        assert_eq!(
            after[..3]
                .iter()
                .map(|v| match v {
                    Verdict::Carry(c) => c.after_us,
                    Verdict::Drop(_) | Verdict::Hold => 0,
                })
                .collect::<alloc::vec::Vec<_>>(),
            [1000, 2000, 3000]
        );
        assert_eq!(after[3], Verdict::Drop(DropReason::QueueFull));
    }

    fn carried(d: &mut LinkDir) -> Carry {
        match d.offer(0, 100) {
            Verdict::Carry(c) => {
                d.delivered();
                c
            }
            other => panic!("dropped: {other:?}"),
        }
    }

    #[test]
    fn reorder_gap_lets_every_third_packet_jump() {
        let mut d = dir("delay 10ms reorder 100% gap 3");
        let jumped: alloc::vec::Vec<bool> = (0..9).map(|_| carried(&mut d).reordered).collect();
        assert_eq!(
            jumped,
            [false, false, true, false, false, true, false, false, true]
        );
        assert_eq!(carried(&mut d).after_us, 10_000);
    }

    #[test]
    fn duplicate_and_corrupt_always_when_certain() {
        let mut d = dir("delay 5ms duplicate 100% corrupt 100%");
        let c = carried(&mut d);
        assert_eq!(c.duplicate_after_us, Some(5_000));
        let (byte, bit) = c.corrupted.expect("corrupted");
        assert!(byte < 100 && bit < 8);
        // The duplicate holds a queue place until it is delivered too.
        assert_eq!(d.in_flight, 1);
    }

    #[test]
    fn held_packets_count_against_the_limit() {
        let mut d = dir("hold limit 2");
        assert_eq!(d.offer(0, 1), Verdict::Hold);
        assert_eq!(d.offer(0, 1), Verdict::Hold);
        assert_eq!(d.offer(0, 1), Verdict::Drop(DropReason::QueueFull));
    }

    #[test]
    fn gemodel_loses_in_bursts() {
        let mut d = dir("loss gemodel 1% 10%");
        let v: alloc::vec::Vec<bool> = (0..100_000)
            .map(|_| match d.offer(0, 1) {
                Verdict::Drop(_) | Verdict::Hold => true,
                Verdict::Carry(_) => {
                    d.delivered();
                    false
                }
            })
            .collect();
        let lost = v.iter().filter(|l| **l).count();
        // Stationary bad share: p / (p + r) = 1/11.
        assert!((7_000..11_500).contains(&lost), "{lost}");
        let runs = v.windows(2).filter(|w| w[0] && w[1]).count();
        assert!(runs > lost / 2, "losses come in bursts");
    }
}
