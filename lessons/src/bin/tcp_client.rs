//! A TCP client: sends one message, says it is done, reads the answer.
//! `tcp_client [ADDRESS] [MESSAGE]`.
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7100".into());
    let message = args.next().unwrap_or_else(|| "hello, server".into());
    // ANCHOR: connect
    let mut stream = TcpStream::connect(&addr)?; // returns once the handshake is done
    println!(
        "connected from {} to {}",
        stream.local_addr()?,
        stream.peer_addr()?
    );
    // ANCHOR_END: connect
    // ANCHOR: talk
    stream.write_all(message.as_bytes())?;
    stream.shutdown(Shutdown::Write)?; // our FIN: the server's read_to_end can end
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?; // until the server's FIN
    println!("reply: {reply}");
    // ANCHOR_END: talk
    Ok(())
}
