//! A raw HTTP/1.1 GET: `http_get ADDRESS PATH FILE` saves the page's body.
use std::io::{Read, Write};
use std::net::TcpStream;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, path, file] = &args[..] else {
        eprintln!("usage: http_get HOST:PORT /PATH FILE");
        std::process::exit(2);
    };
    // ANCHOR: request
    let mut stream = TcpStream::connect(addr)?;
    let host = addr
        .rsplit_once(':')
        .map_or(addr.as_str(), |(host, _port)| host);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    // ANCHOR_END: request
    // ANCHOR: response
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?; // "Connection: close": the server's FIN ends the page
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        eprintln!("no blank line after the header: not an HTTP response");
        std::process::exit(1);
    };
    let (head, body) = (
        String::from_utf8_lossy(&response[..end]),
        &response[end + 4..],
    );
    for line in head.lines() {
        println!("{line}");
    }
    std::fs::write(file, body)?;
    println!("saved {} bytes of body to {file}", body.len());
    // ANCHOR_END: response
    Ok(())
}
