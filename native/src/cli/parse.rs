//! Checks of argument values, run by clap while it parses: a bad value is a
//! usage error (exit 2) before anything touches the network or the disk.

use crate::client::{ClientError, Target};
use std::time::Duration;
use wirekit_core::wire::transfer::{MAX_PATH, VERSION_1_1, can_carry, is_raw_char};

/// `HOST`, `HOST:PORT`, `[V6]:PORT`.
pub fn plain_target(text: &str) -> Result<Target, String> {
    Target::parse(text).map_err(|e| e.to_string())
}

/// An address or a `wkft://HOST:PORT/PATH` URL.
pub fn wkft_target(text: &str) -> Result<Target, String> {
    Target::parse_for(text, "wkft").map_err(|e| e.to_string())
}

/// An address or a `tftp://HOST:PORT/PATH` URL.
pub fn tftp_target(text: &str) -> Result<Target, String> {
    Target::parse_for(text, "tftp").map_err(|e| e.to_string())
}

/// `wirekit sim`'s scenario: a preset's name or a scenario file. Any text
/// is taken here (`sim::load` tells a missing file from an unknown preset);
/// the presets are its possible values only so that `--help`, the man page
/// and the shell completions name them — bash falls back to file names
/// where no preset matches (`-o default`).
#[derive(Clone, Copy, Debug)]
pub struct PresetOrFile;

impl clap::builder::TypedValueParser for PresetOrFile {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value
            .to_str()
            .map(str::to_owned)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8).with_cmd(cmd))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        // clap names possible values with `&'static str` (owned names need
        // its `string` feature): the presets' names are made static once.
        static PRESETS: std::sync::OnceLock<Vec<(&'static str, String)>> =
            std::sync::OnceLock::new();
        let presets = PRESETS.get_or_init(|| {
            crate::sim::list()
                .into_iter()
                .map(|(name, about)| (&*name.leak(), about))
                .collect()
        });
        Some(Box::new(presets.iter().map(|(name, about)| {
            clap::builder::PossibleValue::new(*name).help(about.clone())
        })))
    }
}

/// A number of seconds, more than zero (fractions allowed).
pub fn seconds(text: &str) -> Result<Duration, String> {
    let n: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(n > 0.0 && n <= 1e6) {
        return Err(format!(
            "{text} is not a number of seconds above 0 (and up to 1000000)"
        ));
    }
    Ok(Duration::from_secs_f64(n))
}

/// A number of bytes: digits, then optionally K, M, G or T (powers of
/// 1024; a trailing `B` or `iB` is allowed), more than zero.
pub fn size(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a size (bytes, or a number with K, M, G or T)");
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let shift = match t.get(digits.len()..).unwrap_or_default() {
        "" => 0,
        "K" | "k" => 10,
        "M" | "m" => 20,
        "G" | "g" => 30,
        "T" | "t" => 40,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    match n.checked_mul(1 << shift) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(bad()),
    }
}

/// A count of one or more.
pub fn count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text:?} is not a whole number of 1 or more")),
    }
}

/// A whole number of 1 or more (milliseconds and the like).
pub fn positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text:?} is not a whole number of 1 or more")),
    }
}

/// A remote path the protocol can carry: checked here, so that a bad one
/// is a usage error rather than a request the client machine refuses.
/// Any text will do in WKFT/1.1, which percent-encodes what a path cannot
/// hold as it is (a space, `%`, invisible characters); a 1.0 server cannot
/// be sent such a name, and the client says so when it meets one.
pub fn remote_path(path: &str) -> Result<String, ClientError> {
    can_carry(path, MAX_PATH, VERSION_1_1)
        .map(|()| path.to_owned())
        .map_err(|_| {
            ClientError::Usage(format!(
                "bad remote path {path:?}: a path is 1 to {MAX_PATH} bytes of UTF-8"
            ))
        })
}

/// A remote name as a terminal shows it: itself, but with every invisible
/// character but the space (a tab, U+2028, a bidirectional override …)
/// written as an escape, so that a listing cannot hide, break or reorder it.
pub fn shown_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == ' ' || is_raw_char(c) {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_their_range_are_refused() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["0", "-1", "NaN", "inf", "x", "", "1e9"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(size("1048576"), Ok(1 << 20));
        assert_eq!(size("500M"), Ok(500 << 20));
        assert_eq!(size("20GiB"), Ok(20 << 30));
        assert_eq!(size("1T"), Ok(1 << 40));
        for bad in ["0", "", "M", "1X", "-1G", "99999999999T", "1.5G"] {
            assert!(size(bad).is_err(), "{bad}");
        }
        assert_eq!(count("3"), Ok(3));
        assert!(count("0").is_err());
        assert!(positive("-2").is_err());
        assert!(remote_path("").is_err());
        assert_eq!(remote_path("a b").ok().as_deref(), Some("a b"));
        assert_eq!(shown_name("my notes\u{202E}txt"), "my notes\\u{202e}txt");
        assert!(remote_path(&"x".repeat(MAX_PATH + 1)).is_err());
        assert_eq!(
            remote_path("docs/a.txt").ok().as_deref(),
            Some("docs/a.txt")
        );
    }
}
