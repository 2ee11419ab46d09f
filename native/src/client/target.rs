//! Where a client goes, as the user typed it: `HOST`, `HOST:PORT`,
//! `[V6]:PORT`, a bare IPv6 address, or a URL (`wkft://HOST:PORT/path`,
//! `tftp://HOST/path`). The text is checked before anything touches the
//! network, so a typo is a usage error rather than a failed lookup.
//!
//! A URL's path is percent-decoded as curl decodes it (`with%20space.txt`
//! asks for `with space.txt`); its query and fragment are dropped, as curl
//! drops them from a `tftp://` request. Where curl would send something no
//! store holds, it is a usage error here instead: user-info (`user@`), an
//! escape that is not `%` and two hex digits, a decoded NUL, a path that is
//! not UTF-8, and `%2F` (a `/` inside one name, not between two).
//!
//! The `url` crate would split these too, but it brings IDNA and ICU for
//! host names we never internationalize; the split of RFC 3986 §3 for an
//! authority-and-path URL is three cuts, and `percent-encoding` (already in
//! the tree through axum) does the decoding.

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
    /// `user@` or `user:password@` before the host: neither protocol has accounts.
    #[error("{0:?}: {1}:// URLs have no user name or password (use {1}://HOST:PORT/PATH)")]
    UserInfo(String, &'static str),
    /// A `%` not followed by two hex digits.
    #[error("{0:?} is not a percent-escape (write a % in a name as %25)")]
    BadEscape(String),
    /// The decoded path is one no store holds.
    #[error("bad path {0:?} in the URL: {1}")]
    BadPath(String, &'static str),
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

/// A URL's path, percent-decoded, or why no store could hold it.
fn decode_path(raw: &str) -> Result<String, TargetError> {
    let bytes = raw.as_bytes();
    for (at, _) in raw.match_indices('%') {
        let hex = bytes.get(at + 1..at + 3).unwrap_or_default();
        if hex.len() < 2 || !hex.iter().all(u8::is_ascii_hexdigit) {
            let shown: String = raw[at..].chars().take(3).collect();
            return Err(TargetError::BadEscape(shown));
        }
        // A decoded `/` would silently become a separator between two
        // names; the user meant one name with a slash, which no store holds.
        if hex.eq_ignore_ascii_case(b"2f") {
            return Err(TargetError::BadPath(
                raw.to_owned(),
                "%2F is a / inside a name, which no store holds (write / between names)",
            ));
        }
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| {
            TargetError::BadPath(raw.to_owned(), "it decodes to bytes that are not UTF-8")
        })?;
    if decoded.contains('\0') {
        return Err(TargetError::BadPath(
            raw.to_owned(),
            "%00 decodes to a NUL, which no name holds",
        ));
    }
    Ok(decoded.into_owned())
}

impl Target {
    /// Parses an address, or a URL of `scheme` (`wkft`, `tftp`).
    pub fn parse_for(text: &str, scheme: &'static str) -> Result<Target, TargetError> {
        if let Some((given, rest)) = text.split_once("://") {
            if !given.eq_ignore_ascii_case(scheme) {
                return Err(TargetError::Scheme(given.to_owned(), scheme));
            }
            // RFC 3986 §3: the fragment begins at the first `#`, the query
            // at the first `?` before it, the path at the first `/` of what
            // is left. Neither a query nor a fragment is sent (curl sends
            // neither in a TFTP request); a `?` or `#` in a name is `%3F`, `%23`.
            let rest = rest.split('#').next().unwrap_or_default();
            let rest = rest.split('?').next().unwrap_or_default();
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            if authority.contains('@') {
                return Err(TargetError::UserInfo(authority.to_owned(), scheme));
            }
            let mut t = Target::parse(authority)?;
            t.scheme = Some(scheme.to_owned());
            t.path = Some(decode_path(path)?);
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

    fn url(text: &str) -> Result<Target, TargetError> {
        Target::parse_for(text, "wkft")
    }

    fn path_of(text: &str) -> String {
        url(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .path
            .unwrap_or_default()
    }

    #[test]
    fn url_paths_are_percent_decoded_as_curl_decodes_them() {
        assert_eq!(path_of("wkft://h/with%20space.txt"), "with space.txt");
        assert_eq!(path_of("wkft://h/a%2Bb%25c"), "a+b%c");
        assert_eq!(path_of("wkft://h/caf%C3%A9"), "café");
        assert_eq!(path_of("wkft://h/caf%c3%a9"), "café");
        assert_eq!(path_of("wkft://h/dir/sub/f"), "dir/sub/f");
        // What needs no escape may be written raw, as curl sends it.
        assert_eq!(path_of("wkft://h/naïve name"), "naïve name");
        assert_eq!(path_of("wkft://h/what%3F%23.txt"), "what?#.txt");
        assert_eq!(path_of("wkft://h/"), "");
        assert_eq!(path_of("wkft://h"), "");
    }

    #[test]
    fn queries_and_fragments_are_dropped_as_curl_drops_them() {
        assert_eq!(path_of("wkft://h/notes.txt?x=1"), "notes.txt");
        assert_eq!(path_of("wkft://h/notes.txt#top"), "notes.txt");
        assert_eq!(path_of("wkft://h/notes.txt?x=1#top"), "notes.txt");
        // A `?` after the `#` is the fragment's.
        assert_eq!(path_of("wkft://h/notes.txt#a?b"), "notes.txt");
        let t = url("wkft://h:7021?x").expect("parses");
        assert_eq!((t.port, t.path.as_deref()), (Some(7021), Some("")));
    }

    #[test]
    fn url_hosts_take_brackets_ports_and_names() {
        let t = url("wkft://[::1]:7021/f").expect("parses");
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(7021)));
        let t = url("wkft://[::1]/f").expect("parses");
        assert_eq!((t.host.as_str(), t.port), ("::1", None));
        let t = url("wkft://[2001:db8::1]:9/f%20g").expect("parses");
        assert_eq!(t.to_string(), "[2001:db8::1]:9");
        assert_eq!(t.path.as_deref(), Some("f g"));
        let t = url("wkft://files.example:7021/f").expect("parses");
        assert_eq!((t.host.as_str(), t.port), ("files.example", Some(7021)));
        assert_eq!(
            url("WKFT://h/f").expect("parses").scheme.as_deref(),
            Some("wkft")
        );
    }

    #[test]
    fn urls_that_no_store_could_answer_are_usage_errors() {
        let refused = |text: &str| url(text).expect_err(text);
        assert!(matches!(
            refused("wkft://user@h/x"),
            TargetError::UserInfo(..)
        ));
        assert!(matches!(
            refused("wkft://u:pw@h:7021/x"),
            TargetError::UserInfo(..)
        ));
        assert!(matches!(refused("wkft://@h/x"), TargetError::UserInfo(..)));
        assert!(matches!(refused("http://h/x"), TargetError::Scheme(..)));
        assert!(matches!(refused("ftp://h/x"), TargetError::Scheme(..)));
        assert!(matches!(refused("tftp://h/x"), TargetError::Scheme(..)));
        for bad in [
            "wkft://h/100%",
            "wkft://h/%zz",
            "wkft://h/%4",
            "wkft://h/a%g1",
        ] {
            assert!(matches!(refused(bad), TargetError::BadEscape(_)), "{bad}");
        }
        for bad in [
            "wkft://h/a%00b",
            "wkft://h/a%2Fb",
            "wkft://h/a%2fb",
            "wkft://h/%FF",
        ] {
            assert!(matches!(refused(bad), TargetError::BadPath(..)), "{bad}");
        }
        for bad in [
            "wkft:///x",
            "wkft://[::1/x",
            "wkft://h:0/x",
            "wkft://h:99999/x",
            "wkft://a b/x",
        ] {
            assert!(url(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn url_errors_say_what_to_write_instead() {
        let shown = |text: &str| url(text).expect_err(text).to_string();
        assert!(shown("wkft://h/100%").contains("%25"));
        assert!(shown("wkft://bob@h/x").contains("no user name"));
        assert!(shown("wkft://h/a%2Fb").contains("%2F"));
        assert!(shown("wkft://h/a%00").contains("NUL"));
    }
}
