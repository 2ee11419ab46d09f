//! A TCP server: reads a request to its end, answers it in capitals.
//! `tcp_server [ADDRESS] [CLIENTS]`: 127.0.0.1:7100 and forever by default.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7100".into());
    let clients = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    // ANCHOR: listen
    let listener = TcpListener::bind(&addr)?; // socket(), bind() and listen() in one call
    println!("listening on {}", listener.local_addr()?);
    // ANCHOR_END: listen
    // ANCHOR: serve
    for stream in listener.incoming().take(clients) {
        let mut stream = stream?; // accept(): a new socket for this one client
        println!("connection from {}", stream.peer_addr()?);
        let mut request = Vec::new();
        stream.read_to_end(&mut request)?; // until the client shuts down its sending side
        let reply = String::from_utf8_lossy(&request).to_uppercase();
        stream.write_all(reply.as_bytes())?; // sendall(): loops until every byte is written
        stream.shutdown(Shutdown::Write)?; // our FIN: "nothing more from me"
        println!("answered {} bytes", reply.len());
    }
    // ANCHOR_END: serve
    Ok(())
}
