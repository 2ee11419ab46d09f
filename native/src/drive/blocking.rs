//! The blocking loops: one stream connection, one datagram socket, or a
//! per-request listener, on plain `std::net` sockets with read timeouts.
//! The `threads` and `iterative` models run them on their threads; every
//! client runs them too.

use super::{
    BUF_SIZE, Child, LINGER, PeerTable, ReadTimeout, Request, STOP_CHECK, Shared, fire_due,
    next_wake, request,
};
use crate::clock::Clock;
use crate::endpoint::{Dispatch, Endpoint};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Wake, Waker};
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
/// `idle`, or `stop` is set. The socket is closed on return; a server's
/// (`lingers`) first lingers (see [`linger`]) when its endpoint is done.
pub fn run_stream(
    stream: &mut TcpStream,
    ep: &mut dyn Endpoint,
    (clock, idle, stop): (&Clock, Duration, &AtomicBool),
    lingers: bool,
) -> io::Result<Ending> {
    let result = stream_loop(stream, ep, clock, idle, stop);
    ep.close(clock.now());
    if lingers && matches!(result, Ok(Ending::Done)) {
        linger(stream, stop);
    }
    let _ = stream.shutdown(Shutdown::Both);
    result
}

// ANCHOR: linger
/// Closes our side of a finished connection and reads what the peer still
/// sends, dropping it, until it closes too or [`LINGER`] passes. A socket
/// closed with unread input, or that receives more after the close, answers
/// with a reset, and a reset makes the peer's kernel drop what it had not
/// yet read: a client still uploading when the server sent `ERR` and closed
/// would see "connection reset" instead of the error.
pub fn linger(stream: &mut TcpStream, stop: &AtomicBool) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let end = std::time::Instant::now() + LINGER;
    let mut buf = [0u8; 8 * 1024];
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || stop.load(Ordering::Relaxed) {
            return;
        }
        let wait = left.min(STOP_CHECK).max(Duration::from_millis(1));
        if stream.set_read_timeout(Some(wait)).is_err() {
            return;
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if timed_out(&e) => {}
            Err(_) => return,
        }
    }
}
// ANCHOR_END: linger

/// A read with a timeout that only ran out (or was interrupted): wait on.
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Wakes a thread parked in [`wait_local`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Parks this thread until the endpoint's local work is done, the stop
/// flag is set, or its next timeout is due (then fed). Blocking is all
/// these models can do, and costs nothing here: under `threads` the thread
/// is this connection's own, and under `iterative` every other client waits
/// its turn anyway. The work itself still runs on the pool, under its cap.
fn wait_local<E: Endpoint + ?Sized>(ep: &mut E, clock: &Clock, stop: &AtomicBool) {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    while ep.poll_local(clock.now(), &mut cx).is_pending() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::park_timeout(next_wake(clock, ep.poll_timeout(), None));
        fire_due(ep, clock, "");
    }
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
            // An upload can keep this loop busy to its end: stop between writes.
            if stop.load(Ordering::Relaxed) {
                return Ok(Ending::Stopped);
            }
        }
        if ep.is_done() {
            return Ok(Ending::Done);
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(Ending::Stopped);
        }
        if ep.waiting() {
            // Reading would only fill the machine's buffer: TCP holds the
            // client back meanwhile. The wait is not the client's idleness.
            wait_local(ep, clock, stop);
            last = std::time::Instant::now();
            continue;
        }
        let idle_deadline = last + idle;
        if std::time::Instant::now() >= idle_deadline {
            return Ok(Ending::Idle);
        }
        let wait = next_wake(clock, ep.poll_timeout(), Some(idle_deadline));
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
                            from: wirekit_core::PeerId::FIRST,
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
                            from: wirekit_core::PeerId::FIRST,
                            bytes,
                        },
                    );
                    continue;
                }
                Err(e) if timed_out(&e) => {}
                Err(e) => return Err(e),
            }
        }
        fire_due(ep, clock, "");
    }
}

// ANCHOR_END: stream_loop
/// When a datagram loop ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// Only when `stop` is set: a server's socket.
    Stopped,
    /// Also when the endpoint is done: a per-request child, or a client.
    Done,
    /// Also when the endpoint only lingers: a child of the iterative model,
    /// which gives up the dally (the wait for a lost last acknowledgement, up to 30
    /// seconds) rather than keep every other client waiting through it.
    Settled,
}

impl Until {
    pub(crate) fn ends(self, ep: &dyn Endpoint) -> bool {
        match self {
            Until::Stopped => false,
            Until::Done => ep.is_done(),
            Until::Settled => ep.is_done() || ep.lingering(),
        }
    }
}

/// Serves one UDP socket until `stop` is set (or, with [`Until::Done`],
/// the endpoint is done). Garbage or vanished peers do not end it: bad
/// datagrams are the machine's business, and send errors (a peer's port
/// closed: ICMP unreachable) are logged and forgotten. `peers` holds the
/// peers known up front (a child's client is peer 0).
pub fn run_datagram(
    socket: &UdpSocket,
    ep: &mut dyn Endpoint,
    clock: &Clock,
    stop: &AtomicBool,
    peers: PeerTable,
    until: Until,
) -> io::Result<()> {
    let ran = datagram_loop(socket, ep, clock, stop, peers, |e| until.ends(e));
    if until != Until::Stopped {
        ep.close(clock.now());
    }
    ran
}

// ANCHOR: datagram_loop
/// The datagram loop itself, for servers, per-request children and clients
/// alike: runs until `stop` is set or `ends` says so (a client ends when its
/// handler has the outcome).
pub fn datagram_loop<E: Endpoint + ?Sized>(
    socket: &UdpSocket,
    ep: &mut E,
    clock: &Clock,
    stop: &AtomicBool,
    mut peers: PeerTable,
    mut ends: impl FnMut(&E) -> bool,
) -> io::Result<()> {
    let mut buf = vec![0; BUF_SIZE];
    let mut read_timeout = ReadTimeout::default();
    loop {
        flush_datagrams(socket, ep, clock, &peers);
        if stop.load(Ordering::Relaxed) || ends(ep) {
            return Ok(());
        }
        let wait = next_wake(clock, ep.poll_timeout(), None);
        read_timeout.set(socket, wait)?;
        match socket.recv_from(&mut buf) {
            Ok((n, addr)) => {
                let from = peers.id(addr);
                let bytes = buf.get(..n).unwrap_or_default();
                ep.input(clock.now(), Input::Data { from, bytes });
            }
            Err(e) if timed_out(&e) => {}
            // Linux reports an earlier send's ICMP error (a peer's port
            // closed) on the next call: keep going, the machine's own retry
            // schedule decides when to give up.
            Err(e) => tracing::debug!("udp receive: {e}"),
        }
        // Checked after every datagram, not only when the socket is quiet: a
        // peer that keeps sending must not hold back a due retransmission.
        fire_due(ep, clock, "");
    }
}
// ANCHOR_END: datagram_loop

/// Serves a per-request listener on `socket` until `stop` is set: every
/// accepted request is handed to `serve` (which runs it to the end on this
/// thread, or starts a thread for it), every refusal answered.
pub fn run_per_request(
    socket: &UdpSocket,
    dispatch: &mut dyn Dispatch,
    shared: &Arc<Shared>,
    mut serve: impl FnMut(Child),
) -> io::Result<()> {
    let mut buf = vec![0; BUF_SIZE];
    let running = Arc::new(AtomicUsize::new(0));
    let ip = socket.local_addr()?.ip();
    socket.set_read_timeout(Some(STOP_CHECK))?;
    while !shared.stopping() {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => {
                tracing::debug!("udp receive: {e}");
                continue;
            }
        };
        let datagram = buf.get(..n).unwrap_or_default();
        match request(dispatch, shared, &running, ip, datagram, from) {
            Request::Child(child) => serve(child),
            Request::Reply(reply) => {
                if let Err(e) = socket.send_to(&reply, from) {
                    tracing::debug!(%from, "udp send: {e}");
                }
            }
            Request::Nothing => {}
        }
    }
    Ok(())
}

/// Runs one accepted request on this thread until `until`.
pub fn run_child(child: Child, shared: &Shared, until: Until) {
    let Child {
        socket,
        mut ep,
        peers,
        slot,
    } = child;
    if let Err(e) = run_datagram(
        &socket,
        ep.as_mut(),
        &shared.clock,
        &shared.stop,
        peers,
        until,
    ) {
        tracing::debug!("request socket: {e}");
    }
    drop(slot);
}

/// Sends every datagram the endpoint has queued.
pub fn flush_datagrams<E: Endpoint + ?Sized>(
    socket: &UdpSocket,
    ep: &mut E,
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
