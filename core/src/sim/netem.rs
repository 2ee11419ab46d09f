//! A link profile, and Linux netem's syntax for writing one.
//!
//! People who have shaped a Linux link already know how to say "100 ms of
//! delay, 1% loss": `tc qdisc ... netem delay 100ms 10ms 25% loss 1%`. The
//! simulator takes the same words, so a profile can be copied between a real
//! lab and the simulator. [`Netem`] parses that syntax (`str::parse`) and
//! prints it back ([`core::fmt::Display`]); the two round-trip exactly because
//! every quantity is an integer: times in microseconds, rates in bits per
//! second, probabilities in parts per million ([`Prob`]).
//!
//! Beyond netem, three words: `mtu BYTES` (longer packets are dropped, as by
//! a router that cannot fragment), `partition` (every packet is dropped) and
//! `hold` (packets are kept in the link until a later change of profile
//! without `hold` releases them, in order, through the new profile).

use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;
use serde::{Deserialize, Serialize};

/// A probability in parts per million: `Prob(10_000)` is 1%.
///
/// Integers, not floats, so that a profile prints and parses back to the
/// same value and every platform draws the same decisions.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Prob(pub u32);

impl Prob {
    /// Certainty.
    pub const ONE: Prob = Prob(1_000_000);
    /// Never.
    pub const ZERO: Prob = Prob(0);

    /// A whole number of percent.
    pub const fn percent(p: u32) -> Prob {
        Prob(p * 10_000)
    }

    /// As a fraction in `0.0..=1.0`.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1e6
    }
}

impl fmt::Display for Prob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ppm / 10_000 = percent, with up to four decimals.
        let whole = self.0 / 10_000;
        let frac = self.0 % 10_000;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let mut digits = alloc::format!("{frac:04}");
            while digits.ends_with('0') {
                digits.pop();
            }
            write!(f, "{whole}.{digits}%")
        }
    }
}

/// The shape of the delay jitter, as in `tc ... delay T J distribution D`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Distribution {
    /// Uniform in `[delay - jitter, delay + jitter]` (netem without a table).
    #[default]
    Uniform,
    /// Normal, standard deviation `jitter`.
    Normal,
    /// Pareto (shape 3), shifted and scaled to mean 0 and deviation `jitter`:
    /// mostly a little early, sometimes very late.
    Pareto,
    /// netem's mix: a quarter normal, three quarters Pareto.
    ParetoNormal,
}

impl Distribution {
    fn name(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Normal => "normal",
            Distribution::Pareto => "pareto",
            Distribution::ParetoNormal => "paretonormal",
        }
    }
}

/// `delay TIME [JITTER [CORRELATION]] [distribution D]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delay {
    /// The mean one-way delay, µs.
    pub base_us: u64,
    /// The spread, µs (see [`Distribution`]).
    pub jitter_us: u64,
    /// How much each packet's random draw leans on the previous one.
    pub correlation: Prob,
    /// The jitter's shape.
    pub distribution: Distribution,
}

/// An event with a probability, like `duplicate 1% 25%`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chance {
    /// How often.
    pub p: Prob,
    /// How much each draw leans on the previous one.
    pub correlation: Prob,
}

/// The loss models of netem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// `loss [random] P [CORRELATION]`: each packet independently (or
    /// correlated with the previous draw).
    Random(Chance),
    /// `loss state p13 [p31 [p32 [p23 [p14]]]]`: netem's 4-state Markov
    /// model (good reception, burst reception, burst loss, isolated loss).
    /// Omitted: `p31 = 1 - p13`, the rest 0.
    State {
        /// Gap reception to burst loss.
        p13: Prob,
        /// Burst loss to gap reception.
        p31: Prob,
        /// Burst loss to burst reception.
        p32: Prob,
        /// Burst reception to burst loss.
        p23: Prob,
        /// Gap reception to isolated loss.
        p14: Prob,
    },
    /// `loss gemodel p [r [1-h [1-k]]]`: Gilbert-Elliott, a good and a bad
    /// state. Omitted: `r = 1 - p`, `1-h = 100%`, `1-k = 0`.
    GilbertElliott {
        /// Good to bad.
        p: Prob,
        /// Bad to good.
        r: Prob,
        /// Loss probability in the bad state (`1 - h`).
        bad_loss: Prob,
        /// Loss probability in the good state (`1 - k`).
        good_loss: Prob,
    },
}

/// `reorder P [CORRELATION] [gap N]`: with delay set, some packets skip it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reorder {
    /// How often a packet (every `gap`-th at most) is sent at once.
    pub chance: Chance,
    /// netem's gap: packets `gap - 1` in a row are delayed before one may jump.
    pub gap: u32,
}

/// `rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]`: a link that
/// serialises packets one after another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Bits per second (more than zero).
    pub bits_per_sec: u64,
    /// Bytes added to every packet (negative: removed), like a link header.
    pub packet_overhead: i32,
    /// Packets are carried in cells of this many bytes (0: no cells), like ATM.
    pub cell_size: u32,
    /// Bytes added to every cell.
    pub cell_overhead: i32,
}

/// One direction of a link: every impairment netem knows, plus MTU and
/// partitions. The default is a perfect wire.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Netem {
    /// Delay and jitter.
    pub delay: Option<Delay>,
    /// Loss model.
    pub loss: Option<Loss>,
    /// Send some packets twice.
    pub duplicate: Option<Chance>,
    /// Flip one bit in some packets.
    pub corrupt: Option<Chance>,
    /// Let some packets skip the delay.
    pub reorder: Option<Reorder>,
    /// Serialisation rate.
    pub rate: Option<Rate>,
    /// Packets held at once (queued or in flight); more are tail-dropped.
    /// netem's default is 1000.
    pub limit: Option<u32>,
    /// Largest packet carried, bytes.
    pub mtu: Option<u32>,
    /// Drop everything.
    pub partition: bool,
    /// Keep every packet until the profile changes.
    pub hold: bool,
}

/// netem's default queue limit, in packets.
pub const DEFAULT_LIMIT: u32 = 1000;

/// Why a profile did not parse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NetemError {
    /// A word that is no netem keyword.
    UnknownKeyword(String),
    /// A keyword without its required value.
    Missing {
        /// The keyword.
        after: &'static str,
    },
    /// A time that is not a number with `s`, `ms` or `us`.
    BadTime(String),
    /// A percentage that is not `N%` (or a fraction `0.N`), or over 100%,
    /// or with more than four decimals of a percent.
    BadPercent(String),
    /// A rate that is not a number with `bit`, `kbit`, `mbit`, `gbit`,
    /// `bps`, `kbps`, `mbps` or `gbps`, or zero.
    BadRate(String),
    /// A number that is not a whole number in range.
    BadNumber(String),
    /// A distribution other than uniform, normal, pareto or paretonormal.
    UnknownDistribution(String),
    /// The same keyword twice.
    Repeated(&'static str),
    /// `reorder` without `delay`: netem refuses it too (nothing to skip).
    ReorderWithoutDelay,
}

impl fmt::Display for NetemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetemError::UnknownKeyword(w) => write!(f, "unknown keyword `{w}`"),
            NetemError::Missing { after } => write!(f, "`{after}` needs a value"),
            NetemError::BadTime(w) => write!(f, "bad time `{w}` (try 100ms, 1.5s, 250us)"),
            NetemError::BadPercent(w) => write!(f, "bad percentage `{w}` (try 1%, 0.25%)"),
            NetemError::BadRate(w) => write!(f, "bad rate `{w}` (try 10mbit, 500kbit)"),
            NetemError::BadNumber(w) => write!(f, "bad number `{w}`"),
            NetemError::UnknownDistribution(w) => write!(
                f,
                "unknown distribution `{w}` (uniform, normal, pareto, paretonormal)"
            ),
            NetemError::Repeated(k) => write!(f, "`{k}` given twice"),
            NetemError::ReorderWithoutDelay => f.write_str("reorder needs a delay"),
        }
    }
}

impl core::error::Error for NetemError {}

/// Parses `digits[.digits]` into an integer scaled by `10^scale`, refusing
/// more decimals than `scale` (so nothing is silently rounded).
fn decimal(s: &str, scale: u32) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > scale as usize {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut f: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..scale as usize {
        f *= 10;
    }
    int.checked_mul(10u64.checked_pow(scale)?)?.checked_add(f)
}

fn parse_time(w: &str) -> Result<u64, NetemError> {
    let bad = || NetemError::BadTime(w.to_string());
    let split = w
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(w.len());
    let (num, unit) = w.split_at(split);
    // µs per unit, as a power of ten; tc reads a bare number as µs.
    let scale = match unit {
        "s" | "sec" | "secs" => 6,
        "ms" | "msec" | "msecs" => 3,
        "us" | "usec" | "usecs" | "" => 0,
        _ => return Err(bad()),
    };
    decimal(num, scale).ok_or_else(bad)
}

fn parse_prob(w: &str) -> Result<Prob, NetemError> {
    let bad = || NetemError::BadPercent(w.to_string());
    let ppm = match w.strip_suffix('%') {
        Some(pct) => decimal(pct, 4),
        None => decimal(w, 6),
    }
    .ok_or_else(bad)?;
    if ppm > 1_000_000 {
        return Err(bad());
    }
    Ok(Prob(u32::try_from(ppm).map_err(|_| bad())?))
}

fn parse_rate(w: &str) -> Result<u64, NetemError> {
    let bad = || NetemError::BadRate(w.to_string());
    let split = w
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(w.len());
    let (num, unit) = w.split_at(split);
    let (scale, bytes) = match unit.to_ascii_lowercase().as_str() {
        "bit" | "" => (0, false),
        "kbit" => (3, false),
        "mbit" => (6, false),
        "gbit" => (9, false),
        "bps" => (0, true),
        "kbps" => (3, true),
        "mbps" => (6, true),
        "gbps" => (9, true),
        _ => return Err(bad()),
    };
    let v = decimal(num, scale).ok_or_else(bad)?;
    let v = if bytes {
        v.checked_mul(8).ok_or_else(bad)?
    } else {
        v
    };
    if v == 0 {
        return Err(bad());
    }
    Ok(v)
}

fn parse_int<T: FromStr>(w: &str) -> Result<T, NetemError> {
    w.parse().map_err(|_| NetemError::BadNumber(w.to_string()))
}

/// Words after a keyword, taken only while they look like values.
struct Words<'a> {
    words: core::iter::Peekable<core::str::SplitAsciiWhitespace<'a>>,
}

impl<'a> Words<'a> {
    fn next(&mut self) -> Option<&'a str> {
        self.words.next()
    }

    fn required(&mut self, after: &'static str) -> Result<&'a str, NetemError> {
        self.words.next().ok_or(NetemError::Missing { after })
    }

    /// The next word if it starts like a number (values never start with a letter).
    fn value(&mut self) -> Option<&'a str> {
        let w = self.words.peek()?;
        if w.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-') {
            self.words.next()
        } else {
            None
        }
    }

    fn optional_prob(&mut self) -> Result<Option<Prob>, NetemError> {
        self.value().map(parse_prob).transpose()
    }

    fn chance(&mut self, after: &'static str) -> Result<Chance, NetemError> {
        let p = parse_prob(self.required(after)?)?;
        let correlation = self.optional_prob()?.unwrap_or_default();
        Ok(Chance { p, correlation })
    }
}

fn set<T>(slot: &mut Option<T>, v: T, key: &'static str) -> Result<(), NetemError> {
    if slot.is_some() {
        return Err(NetemError::Repeated(key));
    }
    *slot = Some(v);
    Ok(())
}

impl FromStr for Netem {
    type Err = NetemError;

    fn from_str(s: &str) -> Result<Netem, NetemError> {
        let mut n = Netem::default();
        let mut w = Words {
            words: s.split_ascii_whitespace().peekable(),
        };
        while let Some(key) = w.next() {
            match key {
                "delay" => {
                    let base_us = parse_time(w.required("delay")?)?;
                    let mut d = Delay {
                        base_us,
                        ..Delay::default()
                    };
                    if let Some(j) = w.value() {
                        d.jitter_us = parse_time(j)?;
                        d.correlation = w.optional_prob()?.unwrap_or_default();
                    }
                    if w.words.peek() == Some(&"distribution") {
                        w.next();
                        let name = w.required("distribution")?;
                        d.distribution = match name {
                            "uniform" => Distribution::Uniform,
                            "normal" => Distribution::Normal,
                            "pareto" => Distribution::Pareto,
                            "paretonormal" => Distribution::ParetoNormal,
                            _ => return Err(NetemError::UnknownDistribution(name.to_string())),
                        };
                    }
                    set(&mut n.delay, d, "delay")?;
                }
                "loss" => {
                    let loss = match w.words.peek().copied() {
                        Some("state") => {
                            w.next();
                            let p13 = parse_prob(w.required("loss state")?)?;
                            let p31 = w.optional_prob()?.unwrap_or(Prob(Prob::ONE.0 - p13.0));
                            let p32 = w.optional_prob()?.unwrap_or_default();
                            let p23 = w.optional_prob()?.unwrap_or_default();
                            let p14 = w.optional_prob()?.unwrap_or_default();
                            Loss::State {
                                p13,
                                p31,
                                p32,
                                p23,
                                p14,
                            }
                        }
                        Some("gemodel") => {
                            w.next();
                            let p = parse_prob(w.required("loss gemodel")?)?;
                            let r = w.optional_prob()?.unwrap_or(Prob(Prob::ONE.0 - p.0));
                            let bad_loss = w.optional_prob()?.unwrap_or(Prob::ONE);
                            let good_loss = w.optional_prob()?.unwrap_or_default();
                            Loss::GilbertElliott {
                                p,
                                r,
                                bad_loss,
                                good_loss,
                            }
                        }
                        Some("random") => {
                            w.next();
                            Loss::Random(w.chance("loss random")?)
                        }
                        _ => Loss::Random(w.chance("loss")?),
                    };
                    set(&mut n.loss, loss, "loss")?;
                }
                "drop" => {
                    // tc accepts `drop` as a synonym of `loss`.
                    let c = w.chance("drop")?;
                    set(&mut n.loss, Loss::Random(c), "loss")?;
                }
                "duplicate" => {
                    let c = w.chance("duplicate")?;
                    set(&mut n.duplicate, c, "duplicate")?;
                }
                "corrupt" => {
                    let c = w.chance("corrupt")?;
                    set(&mut n.corrupt, c, "corrupt")?;
                }
                "reorder" => {
                    let chance = w.chance("reorder")?;
                    let mut gap = 1;
                    if w.words.peek() == Some(&"gap") {
                        w.next();
                        gap = parse_int(w.required("gap")?)?;
                    }
                    set(&mut n.reorder, Reorder { chance, gap }, "reorder")?;
                }
                "rate" => {
                    let mut r = Rate {
                        bits_per_sec: parse_rate(w.required("rate")?)?,
                        ..Rate::default()
                    };
                    if let Some(v) = w.value() {
                        r.packet_overhead = parse_int(v)?;
                        if let Some(v) = w.value() {
                            r.cell_size = parse_int(v)?;
                            if let Some(v) = w.value() {
                                r.cell_overhead = parse_int(v)?;
                            }
                        }
                    }
                    set(&mut n.rate, r, "rate")?;
                }
                "limit" => {
                    let v = parse_int(w.required("limit")?)?;
                    set(&mut n.limit, v, "limit")?;
                }
                "mtu" => {
                    let v = parse_int(w.required("mtu")?)?;
                    set(&mut n.mtu, v, "mtu")?;
                }
                "partition" => {
                    if n.partition {
                        return Err(NetemError::Repeated("partition"));
                    }
                    n.partition = true;
                }
                "hold" => {
                    if n.hold {
                        return Err(NetemError::Repeated("hold"));
                    }
                    n.hold = true;
                }
                other => return Err(NetemError::UnknownKeyword(other.to_string())),
            }
        }
        if n.reorder.is_some() && n.delay.is_none() {
            return Err(NetemError::ReorderWithoutDelay);
        }
        Ok(n)
    }
}

struct Time(u64);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1000) {
            write!(f, "{}ms", self.0 / 1000)
        } else {
            write!(f, "{}us", self.0)
        }
    }
}

impl fmt::Display for Netem {
    /// Prints the profile in netem syntax, every value explicit, in a fixed
    /// keyword order; the empty profile prints as nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut word = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            let r = f.write_str(sep);
            sep = " ";
            r
        };
        if let Some(d) = &self.delay {
            word(f)?;
            write!(f, "delay {}", Time(d.base_us))?;
            if d.jitter_us > 0 || d.correlation.0 > 0 {
                write!(f, " {} {}", Time(d.jitter_us), d.correlation)?;
            }
            if d.distribution != Distribution::Uniform {
                write!(f, " distribution {}", d.distribution.name())?;
            }
        }
        if let Some(l) = &self.loss {
            word(f)?;
            match l {
                Loss::Random(c) => write!(f, "loss random {} {}", c.p, c.correlation)?,
                Loss::State {
                    p13,
                    p31,
                    p32,
                    p23,
                    p14,
                } => write!(f, "loss state {p13} {p31} {p32} {p23} {p14}")?,
                Loss::GilbertElliott {
                    p,
                    r,
                    bad_loss,
                    good_loss,
                } => write!(f, "loss gemodel {p} {r} {bad_loss} {good_loss}")?,
            }
        }
        if let Some(c) = &self.duplicate {
            word(f)?;
            write!(f, "duplicate {} {}", c.p, c.correlation)?;
        }
        if let Some(c) = &self.corrupt {
            word(f)?;
            write!(f, "corrupt {} {}", c.p, c.correlation)?;
        }
        if let Some(r) = &self.reorder {
            word(f)?;
            write!(
                f,
                "reorder {} {} gap {}",
                r.chance.p, r.chance.correlation, r.gap
            )?;
        }
        if let Some(r) = &self.rate {
            word(f)?;
            write!(
                f,
                "rate {}bit {} {} {}",
                r.bits_per_sec, r.packet_overhead, r.cell_size, r.cell_overhead
            )?;
        }
        if let Some(l) = self.limit {
            word(f)?;
            write!(f, "limit {l}")?;
        }
        if let Some(m) = self.mtu {
            word(f)?;
            write!(f, "mtu {m}")?;
        }
        if self.partition {
            word(f)?;
            f.write_str("partition")?;
        }
        if self.hold {
            word(f)?;
            f.write_str("hold")?;
        }
        Ok(())
    }
}

impl TryFrom<String> for Netem {
    type Error = NetemError;
    fn try_from(s: String) -> Result<Netem, NetemError> {
        s.parse()
    }
}

impl From<Netem> for String {
    fn from(n: Netem) -> String {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example() {
        let n: Netem = "delay 100ms 10ms 25% loss 1% duplicate 0.5%"
            .parse()
            .unwrap();
        assert_eq!(
            n.delay,
            Some(Delay {
                base_us: 100_000,
                jitter_us: 10_000,
                correlation: Prob::percent(25),
                distribution: Distribution::Uniform
            })
        );
        assert_eq!(
            n.loss,
            Some(Loss::Random(Chance {
                p: Prob::percent(1),
                correlation: Prob::ZERO
            }))
        );
        assert_eq!(n.duplicate.map(|c| c.p), Some(Prob(5_000)));
        let again: Netem = n.to_string().parse().unwrap();
        assert_eq!(again, n);
    }

    #[test]
    fn every_keyword() {
        let s = "delay 20ms 5ms distribution pareto loss gemodel 1% 10% 70% 0.1% \
                 corrupt 0.1% reorder 25% 50% gap 5 rate 1mbit 20 48 5 limit 100 mtu 1400 partition hold";
        let n: Netem = s.parse().unwrap();
        assert_eq!(n.reorder.map(|r| r.gap), Some(5));
        assert_eq!(
            n.rate,
            Some(Rate {
                bits_per_sec: 1_000_000,
                packet_overhead: 20,
                cell_size: 48,
                cell_overhead: 5
            })
        );
        assert!(n.partition && n.hold);
        assert_eq!(n.to_string().parse::<Netem>().unwrap(), n);
        let st: Netem = "loss state 2% delay 1.5s rate 125kbps".parse().unwrap();
        assert_eq!(
            st.loss,
            Some(Loss::State {
                p13: Prob::percent(2),
                p31: Prob::percent(98),
                p32: Prob::ZERO,
                p23: Prob::ZERO,
                p14: Prob::ZERO
            })
        );
        assert_eq!(st.delay.map(|d| d.base_us), Some(1_500_000));
        assert_eq!(st.rate.map(|r| r.bits_per_sec), Some(1_000_000));
    }

    #[test]
    fn typed_errors() {
        let e = |s: &str| s.parse::<Netem>().unwrap_err();
        assert_eq!(e("jitter 5ms"), NetemError::UnknownKeyword("jitter".into()));
        assert_eq!(e("delay"), NetemError::Missing { after: "delay" });
        assert_eq!(e("delay 5parsecs"), NetemError::BadTime("5parsecs".into()));
        assert_eq!(e("loss 101%"), NetemError::BadPercent("101%".into()));
        assert_eq!(
            e("loss 0.00001%"),
            NetemError::BadPercent("0.00001%".into())
        );
        assert_eq!(e("rate 0mbit"), NetemError::BadRate("0mbit".into()));
        assert_eq!(e("loss 1% loss 2%"), NetemError::Repeated("loss"));
        assert_eq!(e("reorder 5%"), NetemError::ReorderWithoutDelay);
        assert_eq!(
            e("delay 1ms 1ms distribution cauchy"),
            NetemError::UnknownDistribution("cauchy".into())
        );
        assert_eq!(e("limit x"), NetemError::BadNumber("x".into()));
    }

    #[test]
    fn empty_is_a_perfect_wire() {
        let n: Netem = "".parse().unwrap();
        assert_eq!(n, Netem::default());
        assert_eq!(n.to_string(), "");
    }
}
