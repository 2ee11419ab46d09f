//! Option negotiation (RFC 2347): the client lists options in its request;
//! the server answers with an OACK holding only the options it requested
//! and the server accepted, or with ERROR 8 to refuse the transfer.
//!
//! Rules, on the server's side (matching the servers in PEERS.md):
//!
//! | option | accepted | refused (ERROR 8) | adjusted |
//! |---|---|---|---|
//! | blksize | 8 to 65464 | below 8, not a number | larger values clamped to the server's maximum |
//! | timeout | 1 to 255 seconds | 0, over 255, not a number | |
//! | tsize | any number | not a number | a read answers the file's size (octet mode, not for empty files: curl refuses `tsize 0`) |
//! | windowsize | 1 to 65535 | 0, not a number | clamped to the server's maximum and so the window fits [`MAX_WINDOW_BYTES`] |
//! | rollover | 0 or 1 | | other values are left out |
//!
//! Names and values are compared without regard to case; unknown options
//! are left out of the OACK; the first of two same options counts. The
//! OACK echoes each name as the client spelled it.
//!
//! The client checks an OACK the other way round: every option in it must
//! be one it asked for, with a value it can live with.

use super::{MAX_WINDOW_BYTES, Params, Rollover};
use crate::wire::tftp::{MAX_BLKSIZE, MIN_BLKSIZE, Mode, OptionKind, Packet, TftpOption};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;
use core::time::Duration;
use serde::{Deserialize, Serialize};

/// Which way the file goes, from the server's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// RRQ: the server sends the file.
    Read,
    /// WRQ: the server receives it.
    Write,
}

/// What a server is willing to negotiate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest block size granted (larger requests are clamped to it).
    pub max_blksize: u16,
    /// Largest window granted.
    pub max_windowsize: u16,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_blksize: MAX_BLKSIZE,
            max_windowsize: u16::MAX,
        }
    }
}

/// Why a server refuses a request's options (it answers ERROR 8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptionError {
    /// A known option whose value is not a decimal number.
    NotANumber(OptionKind),
    /// blksize below 8.
    BlksizeTooSmall(u64),
    /// timeout outside 1 to 255.
    BadTimeout(u64),
    /// windowsize 0.
    ZeroWindow,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::NotANumber(k) => write!(f, "{} is not a number", k.name()),
            OptionError::BlksizeTooSmall(v) => write!(f, "blksize {v} is below {MIN_BLKSIZE}"),
            OptionError::BadTimeout(v) => write!(f, "timeout {v} is outside 1 to 255"),
            OptionError::ZeroWindow => f.write_str("windowsize 0"),
        }
    }
}

impl core::error::Error for OptionError {}

/// The outcome of a server's negotiation, before the file is opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Negotiation {
    /// What the transfer runs with. `tsize` holds the client's size on a
    /// write; on a read it is filled in from the file.
    pub params: Params,
    /// Accepted options in the client's order and spelling, with the
    /// values granted. A read's `tsize` value is replaced by the file size.
    pub accepted: Vec<TftpOption>,
}

impl Negotiation {
    /// True when some option was accepted. (A read whose only option is
    /// tsize still sends no OACK when the file is empty: see [`Self::oack`].)
    pub fn has_oack(&self) -> bool {
        !self.accepted.is_empty()
    }

    /// The OACK packet, with `file_size` as the tsize answer of a read.
    ///
    /// A read's tsize is left out when the size is unknown, and when it is
    /// 0: curl refuses an OACK with `tsize 0` ("invalid tsize") and so
    /// could not fetch an empty file (tftpd-hpa has that problem).
    pub fn oack(&self, file_size: Option<u64>) -> Option<Bytes> {
        let options: Vec<TftpOption> = self
            .accepted
            .iter()
            .filter_map(|o| match (o.kind(), file_size) {
                (Some(OptionKind::Tsize), Some(size)) if o.value.is_empty() && size > 0 => {
                    Some(TftpOption::new(o.name.clone(), format!("{size}")))
                }
                (Some(OptionKind::Tsize), _) if o.value.is_empty() => None,
                _ => Some(o.clone()),
            })
            .collect();
        if options.is_empty() {
            return None;
        }
        Packet::Oack { options }.to_bytes().ok()
    }
}

fn number(o: &TftpOption, kind: OptionKind) -> Result<u64, OptionError> {
    o.value_u64().ok_or(OptionError::NotANumber(kind))
}

/// The largest window of `blksize` blocks that fits [`MAX_WINDOW_BYTES`].
pub fn window_cap(blksize: u16) -> u16 {
    let per = usize::from(blksize) + 4;
    u16::try_from(MAX_WINDOW_BYTES / per)
        .unwrap_or(u16::MAX)
        .max(1)
}

// ANCHOR: negotiate
/// A server's answer to a request's options.
pub fn negotiate(
    direction: Direction,
    mode: Mode,
    requested: &[TftpOption],
    limits: &Limits,
    default_timeout: Duration,
) -> Result<Negotiation, OptionError> {
    let mut params = Params::plain(default_timeout);
    let mut accepted: Vec<TftpOption> = Vec::new();
    let mut seen: Vec<OptionKind> = Vec::new();
    for o in requested {
        let Some(kind) = o.kind() else { continue };
        if seen.contains(&kind) {
            continue;
        }
        seen.push(kind);
        let granted = match kind {
            OptionKind::Blksize => {
                let v = number(o, kind)?;
                if v < u64::from(MIN_BLKSIZE) {
                    return Err(OptionError::BlksizeTooSmall(v));
                }
                let max = limits.max_blksize.clamp(MIN_BLKSIZE, MAX_BLKSIZE);
                params.blksize = u16::try_from(v).unwrap_or(max).min(max);
                Some(u64::from(params.blksize))
            }
            OptionKind::Timeout => {
                let v = number(o, kind)?;
                if !(1..=255).contains(&v) {
                    return Err(OptionError::BadTimeout(v));
                }
                params.timeout = Duration::from_secs(v);
                Some(v)
            }
            OptionKind::Tsize => {
                let v = number(o, kind)?;
                match (direction, mode) {
                    (Direction::Write, _) => {
                        params.tsize = Some(v);
                        Some(v)
                    }
                    // The size of a netascii file on the wire is not its size on disk.
                    (Direction::Read, Mode::Netascii) => None,
                    (Direction::Read, Mode::Octet) => {
                        // Filled in when the file is open.
                        accepted.push(TftpOption::new(o.name.clone(), String::new()));
                        None
                    }
                }
            }
            OptionKind::Windowsize => {
                let v = number(o, kind)?;
                if v == 0 {
                    return Err(OptionError::ZeroWindow);
                }
                let max = limits.max_windowsize.max(1);
                params.windowsize = u16::try_from(v).unwrap_or(max).min(max);
                Some(u64::from(params.windowsize))
            }
            OptionKind::Rollover => match o.value_u64().and_then(Rollover::from_value) {
                Some(r) => {
                    params.rollover = r;
                    Some(r.value())
                }
                None => None,
            },
        };
        if let Some(v) = granted {
            accepted.push(TftpOption::new(o.name.clone(), format!("{v}")));
        }
    }
    // A sender keeps its window for retransmission: bound it. (The value
    // is rewritten in place once the block size is known.)
    if direction == Direction::Read {
        let cap = window_cap(params.blksize);
        if params.windowsize > cap {
            params.windowsize = cap;
            for o in &mut accepted {
                if o.kind() == Some(OptionKind::Windowsize) {
                    o.value = format!("{cap}");
                }
            }
        }
    }
    Ok(Negotiation { params, accepted })
}
// ANCHOR_END: negotiate

/// The options a client asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wishes {
    /// blksize (8 to 65464; larger values are clamped before sending).
    pub blksize: Option<u16>,
    /// windowsize (at least 1; cut so a window fits [`MAX_WINDOW_BYTES`]).
    pub windowsize: Option<u16>,
    /// timeout in seconds (1 to 255).
    pub timeout: Option<u8>,
    /// Ask for (get) or announce (put) the file size.
    pub tsize: bool,
    /// Ask for a rollover.
    pub rollover: Option<Rollover>,
}

impl Wishes {
    /// Checks and clamps the wishes: blksize into 8 to 65464 (below 8 is an
    /// error), windowsize so a window fits, timeout at least 1.
    pub fn settled(mut self) -> Result<Self, &'static str> {
        if let Some(b) = self.blksize {
            if b < MIN_BLKSIZE {
                return Err("blksize below 8");
            }
            self.blksize = Some(b.min(MAX_BLKSIZE));
        }
        if let Some(w) = self.windowsize {
            if w == 0 {
                return Err("windowsize 0");
            }
            let blk = self.blksize.unwrap_or(crate::wire::tftp::DEFAULT_BLKSIZE);
            self.windowsize = Some(w.min(window_cap(blk)));
        }
        if self.timeout == Some(0) {
            return Err("timeout 0");
        }
        Ok(self)
    }

    /// The options of a request; `size` is the tsize of a put.
    pub fn to_options(&self, size: Option<u64>) -> Vec<TftpOption> {
        let mut out = Vec::new();
        if let Some(b) = self.blksize {
            out.push(TftpOption::number(OptionKind::Blksize, u64::from(b)));
        }
        if let Some(t) = self.timeout {
            out.push(TftpOption::number(OptionKind::Timeout, u64::from(t)));
        }
        if self.tsize {
            out.push(TftpOption::number(OptionKind::Tsize, size.unwrap_or(0)));
        }
        if let Some(w) = self.windowsize {
            out.push(TftpOption::number(OptionKind::Windowsize, u64::from(w)));
        }
        if let Some(r) = self.rollover {
            out.push(TftpOption::number(OptionKind::Rollover, r.value()));
        }
        out
    }

    /// Checks a server's OACK against these wishes and gives the parameters
    /// to run with. Options not in the OACK keep their RFC 1350 defaults.
    pub fn check_oack(
        &self,
        oack: &[TftpOption],
        default_timeout: Duration,
    ) -> Result<Params, String> {
        let mut params = Params::plain(default_timeout);
        let mut seen: Vec<OptionKind> = Vec::new();
        for o in oack {
            let Some(kind) = o.kind() else {
                return Err(format!("option {:?} was not requested", o.name));
            };
            if seen.contains(&kind) {
                return Err(format!("option {} twice", kind.name()));
            }
            seen.push(kind);
            let v = o
                .value_u64()
                .ok_or_else(|| format!("{} {:?} is not a number", kind.name(), o.value))?;
            let bad = || format!("{} {v} was not what we asked", kind.name());
            match kind {
                OptionKind::Blksize => {
                    let asked = self.blksize.ok_or_else(bad)?;
                    if v < u64::from(MIN_BLKSIZE) || v > u64::from(asked) {
                        return Err(bad());
                    }
                    params.blksize = u16::try_from(v).map_err(|_| bad())?;
                }
                OptionKind::Windowsize => {
                    let asked = self.windowsize.ok_or_else(bad)?;
                    if v == 0 || v > u64::from(asked) {
                        return Err(bad());
                    }
                    params.windowsize = u16::try_from(v).map_err(|_| bad())?;
                }
                OptionKind::Timeout => {
                    if self.timeout.map(u64::from) != Some(v) {
                        return Err(bad());
                    }
                    params.timeout = Duration::from_secs(v);
                }
                OptionKind::Tsize => {
                    if !self.tsize {
                        return Err(bad());
                    }
                    params.tsize = Some(v);
                }
                OptionKind::Rollover => {
                    let r = Rollover::from_value(v).ok_or_else(bad)?;
                    if self.rollover != Some(r) {
                        return Err(bad());
                    }
                    params.rollover = r;
                }
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn opts(pairs: &[(&str, &str)]) -> Vec<TftpOption> {
        pairs.iter().map(|(n, v)| TftpOption::new(*n, *v)).collect()
    }

    fn read(pairs: &[(&str, &str)]) -> Result<Negotiation, OptionError> {
        negotiate(
            Direction::Read,
            Mode::Octet,
            &opts(pairs),
            &Limits::default(),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn curl_asks_tsize_blksize_timeout() {
        let n = read(&[("tsize", "0"), ("blksize", "1468"), ("timeout", "6")]).expect("ok");
        assert_eq!(n.params.blksize, 1468);
        assert_eq!(n.params.timeout, Duration::from_secs(6));
        let oack = n.oack(Some(1000)).expect("an OACK");
        assert_eq!(
            crate::wire::tftp::parse(&oack),
            Ok(Packet::Oack {
                options: opts(&[("tsize", "1000"), ("blksize", "1468"), ("timeout", "6")])
            })
        );
    }

    #[test]
    fn refusals_are_error_8() {
        assert_eq!(
            read(&[("blksize", "4")]).err(),
            Some(OptionError::BlksizeTooSmall(4))
        );
        assert_eq!(
            read(&[("timeout", "0")]).err(),
            Some(OptionError::BadTimeout(0))
        );
        assert_eq!(
            read(&[("timeout", "256")]).err(),
            Some(OptionError::BadTimeout(256))
        );
        assert_eq!(
            read(&[("windowsize", "0")]).err(),
            Some(OptionError::ZeroWindow)
        );
        assert_eq!(
            read(&[("blksize", "big")]).err(),
            Some(OptionError::NotANumber(OptionKind::Blksize))
        );
    }

    #[test]
    fn clamps_case_and_unknowns() {
        let n = read(&[
            ("BLKSIZE", "70000"),
            ("multicast", ""),
            ("WindowSize", "16"),
            ("blksize", "8"),
            ("rollover", "7"),
        ])
        .expect("ok");
        assert_eq!(n.params.blksize, MAX_BLKSIZE);
        assert_eq!(n.params.windowsize, 16, "16 × 65468 still fits a MiB");
        assert_eq!(
            n.accepted,
            opts(&[("BLKSIZE", "65464"), ("WindowSize", "16")]),
            "client's spelling, unknowns and bad rollover left out, first blksize counts"
        );
        let n = read(&[("blksize", "65464"), ("windowsize", "64")]).expect("ok");
        assert_eq!(n.params.windowsize, 16, "a window fits in MAX_WINDOW_BYTES");
        assert_eq!(n.accepted[1].value, "16");
        let n = negotiate(
            Direction::Write,
            Mode::Octet,
            &opts(&[("windowsize", "64"), ("tsize", "123"), ("rollover", "1")]),
            &Limits::default(),
            Duration::from_secs(1),
        )
        .expect("ok");
        assert_eq!(n.params.windowsize, 64, "a receiver buffers nothing");
        assert_eq!(n.params.tsize, Some(123));
        assert_eq!(n.params.rollover, Rollover::One);
    }

    #[test]
    fn no_options_no_oack_and_tsize_needs_a_size() {
        assert!(!read(&[]).expect("ok").has_oack());
        let n = read(&[("tsize", "0")]).expect("ok");
        assert!(n.has_oack());
        assert_eq!(n.oack(None), None);
        assert_eq!(n.oack(Some(0)), None, "curl refuses tsize 0");
        let n = negotiate(
            Direction::Read,
            Mode::Netascii,
            &opts(&[("tsize", "0")]),
            &Limits::default(),
            Duration::from_secs(1),
        )
        .expect("ok");
        assert!(!n.has_oack(), "no tsize for netascii reads");
    }

    #[test]
    fn client_checks_the_oack() {
        let w = Wishes {
            blksize: Some(1468),
            windowsize: Some(16),
            timeout: Some(3),
            tsize: true,
            rollover: None,
        }
        .settled()
        .expect("valid");
        let t = Duration::from_secs(1);
        let p = w
            .check_oack(&opts(&[("BLKSIZE", "1024"), ("tsize", "99")]), t)
            .expect("fine");
        assert_eq!((p.blksize, p.windowsize, p.tsize), (1024, 1, Some(99)));
        assert_eq!(p.timeout, t);
        assert!(w.check_oack(&opts(&[("blksize", "2000")]), t).is_err());
        assert!(w.check_oack(&opts(&[("timeout", "4")]), t).is_err());
        assert!(w.check_oack(&opts(&[("rollover", "1")]), t).is_err());
        assert!(w.check_oack(&opts(&[("foo", "1")]), t).is_err());
        assert!(w.check_oack(&opts(&[("windowsize", "0")]), t).is_err());
        assert_eq!(
            Wishes {
                blksize: Some(65535),
                ..Wishes::default()
            }
            .settled()
            .expect("clamped")
            .blksize,
            Some(MAX_BLKSIZE)
        );
        assert!(
            Wishes {
                blksize: Some(4),
                ..Wishes::default()
            }
            .settled()
            .is_err()
        );
        assert_eq!(
            w.to_options(None),
            vec![
                TftpOption::new("blksize", "1468"),
                TftpOption::new("timeout", "3"),
                TftpOption::new("tsize", "0"),
                TftpOption::new("windowsize", "16"),
            ]
        );
    }
}
