//! Where a client goes, as the user typed it: `HOST`, `HOST:PORT`,
//! `[V6]:PORT`, a bare IPv6 address, or a URL (`wkft://HOST:PORT/path`,
//! `tftp://HOST/path`). The text is checked before anything touches the
//! network, so a typo is a usage error rather than a failed lookup.

use crate::client::ClientError;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// A server named on the command line, not yet resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// A host name or an IP address (without brackets).
    pub host: String,
    /// The port, when one was given.
    pub port: Option<u16>,
    /// The URL's scheme, when the target was a URL.
    pub scheme: Option<String>,
    /// The path of a URL, without its leading `/`.
    pub path: Option<String>,
}

/// Why a target's text is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Nothing was given.
    #[error("an empty address")]
    Empty,
    /// The port is not a number from 1 to 65535.
    #[error("{0:?} is not a port (a number from 1 to 65535)")]
    BadPort(String),
    /// Characters no host name or address holds.
    #[error("{0:?} is not a host name or an IP address")]
    BadHost(String),
    /// A URL of another protocol.
    #[error("{0}:// URLs are not understood here (use {1}://HOST:PORT/PATH)")]
    Scheme(String, &'static str),
}

fn port(text: &str) -> Result<u16, TargetError> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(TargetError::BadPort(text.to_owned())),
    }
}

fn host(text: &str) -> Result<String, TargetError> {
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if text.is_empty() {
        return Err(TargetError::Empty);
    }
    if text.chars().all(fine) {
        Ok(text.to_owned())
    } else {
        Err(TargetError::BadHost(text.to_owned()))
    }
}

impl Target {
    /// Parses an address, or a URL of `scheme` (`wkft`, `tftp`).
    pub fn parse_for(text: &str, scheme: &'static str) -> Result<Target, TargetError> {
        if let Some((given, rest)) = text.split_once("://") {
            if !given.eq_ignore_ascii_case(scheme) {
                return Err(TargetError::Scheme(given.to_owned(), scheme));
            }
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let mut t = Target::parse(authority)?;
            t.scheme = Some(scheme.to_owned());
            t.path = Some(path.to_owned());
            return Ok(t);
        }
        Target::parse(text)
    }

    /// Parses `HOST`, `HOST:PORT`, `[V6]:PORT`, `[V6]` or a bare IPv6 address.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let plain = |host, port| Target {
            host,
            port,
            scheme: None,
            path: None,
        };
        if text.is_empty() {
            return Err(TargetError::Empty);
        }
        if let Some(rest) = text.strip_prefix('[') {
            let (addr, after) = rest
                .split_once(']')
                .ok_or_else(|| TargetError::BadHost(text.to_owned()))?;
            let ip: Ipv6Addr = addr
                .parse()
                .map_err(|_| TargetError::BadHost(addr.to_owned()))?;
            let port = match after {
                "" => None,
                p => Some(port(
                    p.strip_prefix(':')
                        .ok_or_else(|| TargetError::BadPort(p.to_owned()))?,
                )?),
            };
            return Ok(plain(ip.to_string(), port));
        }
        if text.parse::<Ipv6Addr>().is_ok() {
            return Ok(plain(text.to_owned(), None));
        }
        match text.split_once(':') {
            None => Ok(plain(host(text)?, None)),
            Some((h, p)) if !p.contains(':') => Ok(plain(host(h)?, Some(port(p)?))),
            // Two colons and not IPv6: `127.0.0.1:1:2`.
            Some(_) => Err(TargetError::BadHost(text.to_owned())),
        }
    }

    /// The first address it resolves to, with `default_port` when it names none.
    pub fn resolve(&self, default_port: u16) -> Result<SocketAddr, ClientError> {
        let port = self.port.unwrap_or(default_port);
        let unreachable = |source| ClientError::Unreachable {
            addr: self.to_string(),
            source,
        };
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, port));
        }
        (self.host.as_str(), port)
            .to_socket_addrs()
            .map_err(unreachable)?
            .next()
            .ok_or_else(|| {
                unreachable(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the name has no address",
                ))
            })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => write!(f, "{host}:{p}"),
            None => f.write_str(&host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_users_type_them() {
        let t = Target::parse("127.0.0.1:9").expect("parses");
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", Some(9)));
        assert_eq!(Target::parse("localhost").expect("parses").port, None);
        assert_eq!(Target::parse("::1").expect("parses").host, "::1");
        let v6 = Target::parse("[::1]:7021").expect("parses");
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(7021)));
        assert_eq!(v6.to_string(), "[::1]:7021");
    }

    #[test]
    fn malformed_addresses_are_refused_before_any_lookup() {
        for bad in [
            "",
            "127.0.0.1:1:2",
            "127.0.0.1:70000",
            "127.0.0.1:0",
            "host:",
            "host:x",
            "a b",
            "[::1",
            "[::1]x",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn urls_carry_their_path_and_only_their_scheme() {
        let t = Target::parse_for("wkft://127.0.0.1:7021/dir/notes.txt", "wkft").expect("parses");
        assert_eq!(t.port, Some(7021));
        assert_eq!(t.path.as_deref(), Some("dir/notes.txt"));
        let t = Target::parse_for("TFTP://[::1]/x", "tftp").expect("parses");
        assert_eq!((t.host.as_str(), t.path.as_deref()), ("::1", Some("x")));
        assert!(matches!(
            Target::parse_for("http://h/x", "wkft"),
            Err(TargetError::Scheme(..))
        ));
    }
}
