//! The blocking loops: one stream connection, or one datagram socket, on
//! plain `std::net` sockets with read timeouts. The `threads` and
//! `iterative` models run them on their threads; every client runs them too.

use super::{BUF_SIZE, PeerTable, next_wake};
use crate::clock::Clock;
use crate::endpoint::Endpoint;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wirekit_core::Input;

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The endpoint finished; everything it wanted sent was sent.
    Done,
    /// Nothing moved for the idle limit.
    Idle,
    /// The stop flag was set.
    Stopped,
}

/// Runs one connection until the endpoint is done, the peer goes quiet for
/// `idle`, or `stop` is set. The socket is closed on return.
pub fn run_stream(
    stream: &mut TcpStream,
    ep: &mut dyn Endpoint,
    clock: &Clock,
    idle: Duration,
    stop: &AtomicBool,
) -> io::Result<Ending> {
    let result = stream_loop(stream, ep, clock, idle, stop);
    ep.close(clock.now());
    let _ = stream.shutdown(Shutdown::Both);
    result
}

// ANCHOR: stream_loop
fn stream_loop(
    stream: &mut TcpStream,
    ep: &mut dyn Endpoint,
    clock: &Clock,
    idle: Duration,
    stop: &AtomicBool,
) -> io::Result<Ending> {
    let mut buf = vec![0; BUF_SIZE];
    let mut eof = false;
    let mut last = std::time::Instant::now();
    // A peer that stops reading must not hold a writer forever.
    stream.set_write_timeout(Some(idle.max(Duration::from_millis(1))))?;
    loop {
        while let Some(t) = ep.poll_transmit(clock.now()) {
            stream.write_all(&t.payload)?;
            last = std::time::Instant::now();
        }
        if ep.is_done() {
            return Ok(Ending::Done);
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(Ending::Stopped);
        }
        let idle_deadline = last + idle;
        if std::time::Instant::now() >= idle_deadline {
            return Ok(Ending::Idle);
        }
        let wait = next_wake(clock, ep.poll_timeout(), idle_deadline);
        if eof {
            // Nothing more can be read: just wait for the next timeout.
            std::thread::sleep(wait);
        } else {
            stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
            match stream.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    ep.input(
                        clock.now(),
                        Input::Eof {
                            from: wirekit_core::PeerId::STREAM,
                        },
                    );
                    continue;
                }
                Ok(n) => {
                    last = std::time::Instant::now();
                    let bytes = buf.get(..n).unwrap_or_default();
                    ep.input(
                        clock.now(),
                        Input::Data {
                            from: wirekit_core::PeerId::STREAM,
                            bytes,
                        },
                    );
                    continue;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        if ep.poll_timeout().is_some_and(|t| clock.until(t).is_zero()) {
            ep.input(clock.now(), Input::Timeout);
        }
    }
}

// ANCHOR_END: stream_loop
/// Serves one UDP socket until `stop` is set. Garbage or vanished peers do
/// not end it: bad datagrams are the machine's business, and send errors
/// (a peer's port closed: ICMP unreachable) are logged and forgotten.
pub fn run_datagram(
    socket: &UdpSocket,
    ep: &mut dyn Endpoint,
    clock: &Clock,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut buf = vec![0; BUF_SIZE];
    let mut peers = PeerTable::default();
    let far = std::time::Instant::now() + Duration::from_secs(3600);
    while !stop.load(Ordering::Relaxed) {
        flush_datagrams(socket, ep, clock, &peers);
        let wait = next_wake(clock, ep.poll_timeout(), far);
        socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match socket.recv_from(&mut buf) {
            Ok((n, addr)) => {
                let from = peers.id(addr);
                let bytes = buf.get(..n).unwrap_or_default();
                ep.input(clock.now(), Input::Data { from, bytes });
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                if ep.poll_timeout().is_some_and(|t| clock.until(t).is_zero()) {
                    ep.input(clock.now(), Input::Timeout);
                }
            }
            // Linux reports an earlier send's ICMP error on the next call.
            Err(e) => tracing::debug!("udp receive: {e}"),
        }
    }
    Ok(())
}

/// Sends every datagram the endpoint has queued.
pub fn flush_datagrams(
    socket: &UdpSocket,
    ep: &mut dyn Endpoint,
    clock: &Clock,
    peers: &PeerTable,
) {
    while let Some(t) = ep.poll_transmit(clock.now()) {
        match peers.addr(t.to) {
            Some(addr) => {
                if let Err(e) = socket.send_to(&t.payload, addr) {
                    tracing::debug!(%addr, "udp send: {e}");
                }
            }
            None => tracing::warn!(peer = t.to.0, "datagram for an unknown peer dropped"),
        }
    }
}
