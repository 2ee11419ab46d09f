//! IPv4 and IPv6 addresses, socket addresses, and what port 0 means.
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpListener};

fn main() -> std::io::Result<()> {
    // ANCHOR: kinds
    for text in [
        "127.0.0.1",
        "0.0.0.0",
        "192.168.1.247",
        "::1",
        "::",
        "2001:db8::7",
    ] {
        let ip: IpAddr = text.parse().expect("an address");
        let family = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
        let (lo, any) = (ip.is_loopback(), ip.is_unspecified());
        println!("{text:<14} {family}  loopback: {lo:<5}  unspecified: {any}");
    }
    // ANCHOR_END: kinds
    // ANCHOR: socket_addr
    let v6 = SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 7007);
    println!("{v6}: IPv6 goes in brackets, so the port's colon is not read as part of it");
    let v4: SocketAddr = "127.0.0.1:7007".parse().expect("address and port");
    println!("{v4}: ip {}, port {}", v4.ip(), v4.port());
    // ANCHOR_END: socket_addr
    // ANCHOR: port_zero
    let listener = TcpListener::bind("127.0.0.1:0")?; // 0: "any free port, you choose"
    let chosen = listener.local_addr()?;
    println!("asked for 127.0.0.1:0, got {chosen}");
    println!(
        "a second bind of the same address: {:?}",
        TcpListener::bind(chosen).map_err(|e| e.kind())
    );
    // ANCHOR_END: port_zero
    Ok(())
}
