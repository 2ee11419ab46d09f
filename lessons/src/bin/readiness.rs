//! One thread, many sockets: an echo server on a readiness loop (`polling`).
use polling::{Event, Events, Poller};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let clients = std::thread::spawn(clients(listener.local_addr()?));
    // ANCHOR: register
    listener.set_nonblocking(true)?;
    let poller = Poller::new()?;
    // SAFETY: each source is deleted from the poller before it is dropped.
    #[allow(unsafe_code)]
    unsafe {
        poller.add(&listener, Event::readable(0))?
    };
    let (mut conns, mut events) = (HashMap::<usize, TcpStream>::new(), Events::new());
    // ANCHOR_END: register
    // ANCHOR: loop
    let mut next_key = 1;
    while !(clients.is_finished() && conns.is_empty()) {
        events.clear();
        poller.wait(&mut events, Some(std::time::Duration::from_millis(100)))?;
        for key in events.iter().map(|e| e.key) {
            if key == 0 {
                if let Ok((stream, peer)) = listener.accept() {
                    stream.set_nonblocking(true)?;
                    #[allow(unsafe_code)] // SAFETY: as above
                    unsafe {
                        poller.add(&stream, Event::readable(next_key))?
                    };
                    println!("key {next_key}: accepted {peer}");
                    conns.insert(next_key, stream);
                    next_key += 1;
                }
                poller.modify(&listener, Event::readable(0))?; // events are one-shot: re-arm
                continue;
            }
            let Some(stream) = conns.get_mut(&key) else {
                continue;
            };
            let mut buf = [0; 1024];
            match stream.read(&mut buf) {
                Ok(0) => {
                    poller.delete(&*stream)?;
                    conns.remove(&key);
                }
                Ok(n) => {
                    println!("key {key}: echo {:?}", String::from_utf8_lossy(&buf[..n]));
                    stream.write_all(&buf[..n])?; // small replies fit the send buffer
                    poller.modify(&*stream, Event::readable(key))?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    poller.modify(&*stream, Event::readable(key))?
                }
                Err(e) => return Err(e),
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

// ANCHOR: clients
/// Two clients, the second speaking first: the server must not wait on the first.
fn clients(addr: std::net::SocketAddr) -> impl FnOnce() -> std::io::Result<Vec<String>> {
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
