//! Name resolution: ToSocketAddrs asks the system resolver (getaddrinfo).
use std::net::ToSocketAddrs;

fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        names = [
            "localhost:7007",
            "127.0.0.1:7007",
            "[::1]:7007",
            "localhost",
        ]
        .map(String::from)
        .to_vec();
    }
    // ANCHOR: resolve
    for name in names {
        match name.to_socket_addrs() {
            Ok(found) => {
                let mut found: Vec<_> = found.collect();
                found.sort();
                found.dedup(); // one entry per socket type (stream, datagram) is common
                println!("{name} -> {found:?}");
            }
            Err(e) => println!("{name} -> error: {e}"),
        }
    }
    // ANCHOR_END: resolve
}
