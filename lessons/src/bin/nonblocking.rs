//! Blocking, a timeout, and non-blocking reads on one TCP connection.
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    let (mut server, _) = listener.accept()?;
    let mut buf = [0; 64];
    // ANCHOR: timeout
    server.set_read_timeout(Some(Duration::from_millis(50)))?; // blocking, but not forever
    match server.read(&mut buf) {
        Err(e) => println!("blocking read with a 50 ms timeout: {:?}", e.kind()),
        Ok(n) => println!("read {n} bytes"),
    }
    // ANCHOR_END: timeout
    // ANCHOR: would_block
    server.set_nonblocking(true)?;
    match server.read(&mut buf) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            println!("non-blocking read: WouldBlock, at once")
        }
        other => println!("non-blocking read: {other:?}"),
    }
    // ANCHOR_END: would_block
    // ANCHOR: spin
    client.write_all(b"ready now")?;
    let n = loop {
        match server.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(), // burns CPU
            Err(e) => return Err(e),
        }
    };
    println!("after spinning: {:?}", String::from_utf8_lossy(&buf[..n]));
    // ANCHOR_END: spin
    drop(client);
    server.set_nonblocking(false)?;
    println!(
        "after the peer closed: read returns {:?}",
        server.read(&mut buf)?
    );
    Ok(())
}
