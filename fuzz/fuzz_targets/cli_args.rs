//! The command line's parsers: any argument vector is parsed by the real
//! `wirekit` definition into a command or a usage error, never a panic
//! (the addresses, ports, sizes, seconds and counts of every subcommand);
//! and the client's address parser puts the default port only where none
//! is named. Addresses that are not literal IP addresses would ask the
//! system resolver (DNS), so they go only through the argument parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, SocketAddr};
use wirekit::client::resolve;

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
    "--idle-timeout",
    "--timeout",
    "--blksize",
    "--windowsize",
    "--port",
    "--size",
    "--conns",
    "--seed",
    "--resume",
    "--any-port",
    "--model",
    "--only",
    "--echo-port",
    "--tftp-port",
    "127.0.0.1",
    "[::1]:7",
    "0",
    "-1",
    "1e400",
    "NaN",
    "65536",
];

fuzz_target!(|input: (Vec<(u8, String)>, String, u16)| {
    let (words, addr, port) = input;
    // A byte below the table's length picks one of its words, others take the string.
    let argv = std::iter::once("wirekit".to_owned()).chain(
        words
            .into_iter()
            .take(12)
            .map(|(i, s)| WORDS.get(usize::from(i)).map_or(s, |w| (*w).to_owned())),
    );
    let _ = wirekit::cli::definition().try_get_matches_from(argv);

    let literal = addr.parse::<SocketAddr>().ok();
    let ip = addr.parse::<IpAddr>().ok();
    if literal.is_some() || ip.is_some() {
        let got = resolve(&addr, port).expect("a literal address resolves");
        let want = literal.unwrap_or_else(|| SocketAddr::new(ip.expect("an ip"), port));
        assert_eq!(got, want);
    }
});
