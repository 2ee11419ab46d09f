//! The command line's parsers: any argument vector is parsed by the real
//! `wirekit` definition into a command or a usage error, never a panic
//! (the addresses and URLs, ports, sizes, seconds and counts of every
//! subcommand are checked there, by the functions clap calls); and the
//! address parser, [`Target`], on any text: an address it accepts prints
//! back to text that parses the same, a literal IP address resolves to
//! itself with the default port only where none is named, and every IP
//! socket address the standard library reads is one it reads too. Names
//! that are not literal addresses would ask the system resolver (DNS), so
//! they are parsed but never resolved.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, SocketAddr};
use wirekit::client::Target;

/// The words that reach each subcommand and option quickly.
const WORDS: &[&str] = &[
    "serve",
    "echo",
    "time",
    "ls",
    "stat",
    "get",
    "put",
    "nc",
    "sim",
    "tftp",
    "bench",
    "resolve",
    "completions",
    "--bind",
    "--max-conns",
    "--quota",
    "--max-partials",
    "--max-partial-bytes",
    "--partial-ttl",
    "--idle-timeout",
    "--header-timeout",
    "--timeout",
    "--blksize",
    "--windowsize",
    "--port",
    "--size",
    "--conns",
    "--seed",
    "--resume",
    "--restart",
    "--force",
    "--no-clobber",
    "--json",
    "--any-port",
    "--model",
    "--only",
    "--echo-port",
    "--tftp-port",
    "127.0.0.1",
    "[::1]:7",
    "wkft://127.0.0.1:7021/a",
    "tftp://[::1]/b",
    "-",
    ".",
    "0",
    "-1",
    "1e400",
    "NaN",
    "65536",
    "0.000001",
];

fuzz_target!(|input: (Vec<(u8, String)>, String, u16)| {
    let (words, text, default_port) = input;
    // A byte below the table's length picks one of its words, others take the string.
    let argv = std::iter::once("wirekit".to_owned()).chain(
        words
            .into_iter()
            .take(12)
            .map(|(i, s)| WORDS.get(usize::from(i)).map_or(s, |w| (*w).to_owned())),
    );
    let _ = wirekit::cli::definition().try_get_matches_from(argv);

    for scheme in ["wkft", "tftp"] {
        let _ = Target::parse_for(&text, scheme);
    }
    if let Ok(t) = Target::parse(&text) {
        let shown = t.to_string();
        let again = Target::parse(&shown).expect("what it shows parses");
        // A bare IPv6 address keeps the letters' case it was typed in, a
        // bracketed one is normalised: the same address either way.
        let same_host = again.host == t.host
            || again.host.parse::<IpAddr>().ok() == Some(t.host.parse::<IpAddr>().expect("an ip"));
        assert!(
            same_host && again.port == t.port,
            "{text:?} shown as {shown:?}"
        );
        if let Ok(ip) = t.host.parse::<IpAddr>() {
            let got = t.resolve(default_port).expect("a literal address resolves");
            assert_eq!(got, SocketAddr::new(ip, t.port.unwrap_or(default_port)));
        }
    }
    // Scope ids (`%eth0`) and port 0 name nothing a client can reach.
    if let Ok(sa) = text.parse::<SocketAddr>()
        && !text.contains('%')
        && sa.port() != 0
    {
        let t = Target::parse(&text).expect("a socket address is a target");
        assert_eq!(t.resolve(default_port).expect("it resolves"), sa);
    }
});
