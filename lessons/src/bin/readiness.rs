//! One thread, many sockets: an echo server on a readiness loop (`polling`).
#![allow(unsafe_code)] // Poller::add is unsafe: see the SAFETY notes
use polling::{Event, Events, Poller};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let clients = std::thread::spawn(clients(listener.local_addr()?));
    // ANCHOR: register
    listener.set_nonblocking(true)?;
    let poller = Poller::new()?;
    // SAFETY: every source is deleted from the poller before it is dropped.
    unsafe { poller.add(&listener, Event::readable(0))? };
    let (mut conns, mut events, mut next_key) = (HashMap::new(), Events::new(), 1);
    // ANCHOR_END: register
    // ANCHOR: loop
    while !(clients.is_finished() && conns.is_empty()) {
        events.clear();
        poller.wait(&mut events, Some(Duration::from_millis(100)))?; // sleep until ready
        for key in events.iter().map(|e| e.key) {
            if key == 0 {
                if let Ok((stream, peer)) = listener.accept() {
                    stream.set_nonblocking(true)?;
                    let key = next_key;
                    next_key += 1;
                    // SAFETY: deleted in `echo` before it is dropped.
                    unsafe { poller.add(&stream, Event::readable(key))? };
                    println!("key {key}: accepted {peer}");
                    conns.insert(key, stream);
                }
                poller.modify(&listener, Event::readable(0))?; // one-shot: re-arm
            } else if !echo(&poller, &mut conns, key)? {
                conns.remove(&key);
            }
        }
    }
    // ANCHOR_END: loop
    poller.delete(&listener)?;
    println!(
        "clients saw: {:?}",
        clients.join().expect("the client thread")?
    );
    Ok(())
}

// ANCHOR: echo
/// Echoes what `key`'s socket has; false once the peer has closed.
fn echo(
    poller: &Poller,
    conns: &mut HashMap<usize, TcpStream>,
    key: usize,
) -> std::io::Result<bool> {
    let Some(stream) = conns.get_mut(&key) else {
        return Ok(true);
    };
    let mut buf = [0; 1024];
    match stream.read(&mut buf) {
        Ok(0) => {
            poller.delete(&*stream)?;
            return Ok(false);
        }
        Ok(n) => {
            println!("key {key}: echo {:?}", String::from_utf8_lossy(&buf[..n]));
            stream.write_all(&buf[..n])?; // a small reply fits in the send buffer
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => {} // a spurious wake-up
        Err(e) => return Err(e),
    }
    poller.modify(&*stream, Event::readable(key))?;
    Ok(true)
}
// ANCHOR_END: echo

// ANCHOR: clients
/// Two clients, the second speaking first: the server must not wait on the first.
fn clients(addr: SocketAddr) -> impl FnOnce() -> std::io::Result<Vec<String>> {
    move || {
        let (mut a, mut b) = (TcpStream::connect(addr)?, TcpStream::connect(addr)?);
        let mut replies = Vec::new();
        for (stream, text) in [(&mut b, "from b"), (&mut a, "from a")] {
            stream.write_all(text.as_bytes())?;
            let mut buf = [0; 64];
            let n = stream.read(&mut buf)?;
            replies.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        Ok(replies)
    }
}
// ANCHOR_END: clients
