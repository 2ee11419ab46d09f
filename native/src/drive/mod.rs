//! The drivers: one per IO model the classic tutorials teach, each a single loop that
//! runs any protocol's [`Endpoint`].
//!
//! | model | module | how it waits |
//! |---|---|---|
//! | `async` (default) | [`asynch`] | a task per connection on the async runtime |
//! | `threads` | [`threads`] | a thread per connection, blocking reads with a timeout |
//! | `iterative` | [`threads`] | the same loop, one client at a time per listener |
//! | `poll` | [`poll`] | one thread, non-blocking sockets, a readiness loop |
//!
//! The blocking loop itself ([`blocking`]) also runs every client.
//!
//! Every loop does the same three things: send what the endpoint wants
//! sent, wait for bytes or for the endpoint's next timeout (or the idle
//! limit), feed what happened. While the endpoint waits on local work (a
//! hash on [`crate::work::Pool`]) a stream loop waits for that instead, and
//! reads nothing; a server's finished connection lingers ([`LINGER`]) so that
//! its last words are read. What the models share lives here.
//!
//! Each model has a stream loop, a datagram loop, and the per-request
//! variant of the datagram loop (a listener whose every accepted request is
//! served from a fresh socket until its endpoint is done). Nothing here
//! names a protocol: what runs on a socket comes from above, as a [`Serve`].

pub mod asynch;
pub mod blocking;
pub mod poll;
pub mod threads;

use crate::clock::Clock;
use crate::endpoint::{Dispatch, Endpoint};
use crate::runtime::Runtime;
use bytes::Bytes;
use clap::ValueEnum;
use serde::Serialize;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use wirekit_core::host::{Accepted, Load};
use wirekit_core::{Input, Instant, Now, PeerId};

/// An IO model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Tasks on the async runtime (async-std, or smol: `--runtime`).
    #[default]
    Async,
    /// A thread per connection.
    Threads,
    /// One thread, non-blocking sockets, a readiness loop (`polling`).
    Poll,
    /// One client at a time, per listener.
    Iterative,
}

/// Largest datagram read, and the read buffer of stream connections.
pub const BUF_SIZE: usize = 64 * 1024;

/// How often a blocking or poll loop looks at the stop flag (the async
/// model is told: [`Shared::until_stopped`]).
pub const STOP_CHECK: Duration = Duration::from_millis(200);

/// How long a server's finished connection reads and drops what its peer
/// still sends before it closes (see [`blocking::linger`]): time for a client
/// mid-upload to read the error that ended it, which it does within a round
/// trip, and short enough that the iterative model's next client hardly waits.
pub const LINGER: Duration = Duration::from_secs(2);

/// How many UDP peers a datagram socket remembers at once. A peer's id is
/// needed only between its request and the reply, so old ones are reused.
pub const MAX_DATAGRAM_PEERS: usize = 4096;

/// Limits every connection obeys.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Close a connection after this long without a byte either way.
    pub idle: Duration,
    /// Most connections open at once over every service (TCP connections
    /// and per-request transfers alike).
    pub max_conns: usize,
}

/// What runs on one socket, as the layer above defines it: the drivers only
/// ask it for endpoints.
pub trait Serve: Send + Sync + std::fmt::Debug {
    /// A name for logs.
    fn name(&self) -> &'static str;
    /// The endpoint for a stream connection accepted at `now`.
    fn stream(&self, now: Now) -> Box<dyn Endpoint>;
    /// What serves a datagram socket; `None` when nothing does.
    fn datagram(&self) -> Option<Served>;
    /// What an over-the-limit connection is told before it is closed (the
    /// close alone, for protocols with no error message).
    fn refusal(&self) -> &'static [u8] {
        b""
    }
}

/// How a datagram socket is served.
pub enum Served {
    /// One endpoint answers every peer of the socket.
    Socket(Box<dyn Endpoint>),
    /// A listener: each accepted request gets a socket and an endpoint.
    PerRequest(Box<dyn Dispatch>),
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Served::Socket(_) => "Served::Socket",
            Served::PerRequest(_) => "Served::PerRequest",
        })
    }
}

/// Everything a driver needs, shared by its tasks or threads.
#[derive(Debug)]
pub struct Shared {
    /// Connection and idle limits.
    pub limits: Limits,
    /// The clock every machine reads through.
    pub clock: Clock,
    /// The async model's runtime.
    pub runtime: Arc<dyn Runtime>,
    /// Set to stop: the blocking and poll loops notice within [`STOP_CHECK`].
    pub stop: AtomicBool,
    /// Notified when `stop` is set: the async model's tasks wait on it
    /// rather than wake to look at the flag.
    pub stopped: event_listener::Event,
    /// Connections (TCP, and per-request transfers) open now.
    pub open: AtomicUsize,
}

impl Shared {
    /// True once shutdown was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Asks every loop to stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.stopped.notify(usize::MAX);
    }

    /// Ready once shutdown was asked for.
    pub async fn until_stopped(&self) {
        loop {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            // Listening first, then looking again: a stop between the two
            // looks still wakes us.
            let listener = self.stopped.listen();
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    }

    /// Counts a new connection; `None` when over the limit.
    pub fn admit(self: &Arc<Self>) -> Option<Admission> {
        let before = self.open.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(Arc::clone(self));
        (before < self.limits.max_conns).then_some(admission)
    }
}

/// One admitted connection; dropping it frees the slot.
#[derive(Debug)]
pub struct Admission(Arc<Shared>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The sockets of a server, bound before any driver runs so that their
/// addresses (port 0 in tests) are known up front, each with what it serves.
#[derive(Debug, Default)]
pub struct Bound {
    /// TCP listeners.
    pub tcp: Vec<(Arc<dyn Serve>, TcpListener)>,
    /// UDP sockets.
    pub udp: Vec<(Arc<dyn Serve>, UdpSocket)>,
}

/// Room for connections the kernel has accepted but we have not yet: std's
/// 128 overflows when a thousand clients connect at once, and each overflow
/// costs its client a SYN retransmission (a second or more).
pub const LISTEN_BACKLOG: i32 = 4096;

/// A TCP listener with [`LISTEN_BACKLOG`] and address reuse (a restarted
/// server need not wait out TIME_WAIT).
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Maps UDP peers' addresses to the [`PeerId`]s a datagram machine sees.
/// Bounded: the oldest mapping is reused once [`MAX_DATAGRAM_PEERS`] are
/// known, so a flood of spoofed sources cannot grow it.
#[derive(Debug, Default)]
pub struct PeerTable {
    ids: HashMap<SocketAddr, u32>,
    addrs: Vec<SocketAddr>,
    next: usize,
}

impl PeerTable {
    /// The id of `addr`, giving it one if it has none.
    pub fn id(&mut self, addr: SocketAddr) -> PeerId {
        if let Some(&id) = self.ids.get(&addr) {
            return PeerId(id);
        }
        let slot = self.next % MAX_DATAGRAM_PEERS;
        self.next = self.next.wrapping_add(1);
        if let Some(old) = self.addrs.get_mut(slot) {
            self.ids.remove(old);
            *old = addr;
        } else {
            self.addrs.push(addr);
        }
        self.ids.insert(addr, slot as u32);
        PeerId(slot as u32)
    }

    /// The address behind `id`.
    pub fn addr(&self, id: PeerId) -> Option<SocketAddr> {
        self.addrs.get(id.0 as usize).copied()
    }
}

// ANCHOR: wake
/// When a loop must next wake: the endpoint's timeout, the connection's
/// idle limit if it has one, or the stop check, whichever comes first.
///
/// Every deadline here is one that moves: the idle limit is counted from
/// the last byte, the endpoint's from its last input. A loop once passed a
/// fixed "far" deadline (its start plus an hour) where it had no idle
/// limit; an hour later every wait was zero, an async datagram task never
/// yielded again, and four of them held both of the runtime's threads, so
/// the lab stopped answering TCP (issue #30). `None` is the only way to say
/// "no limit".
pub fn next_wake(
    clock: &Clock,
    timeout: Option<Instant>,
    idle_deadline: Option<std::time::Instant>,
) -> Duration {
    until_due(clock, timeout, idle_deadline).min(STOP_CHECK)
}

/// The same without the stop check, for loops that are told when the
/// server stops (the async model's, through [`Shared::until_stopped`]):
/// [`Duration::MAX`] when nothing is due at all. An idle async server
/// thus wakes for nothing.
pub fn until_due(
    clock: &Clock,
    timeout: Option<Instant>,
    idle_deadline: Option<std::time::Instant>,
) -> Duration {
    let idle = idle_deadline.map_or(Duration::MAX, |d| {
        d.saturating_duration_since(std::time::Instant::now())
    });
    let machine = timeout.map_or(Duration::MAX, |t| clock.until(t));
    machine.min(idle)
}

/// Feeds [`Input::Timeout`] when the endpoint's deadline has come; `true`
/// when it did. Every loop of every model fires deadlines through here.
///
/// The driver rule: once a timeout at `t` is handled, the endpoint's next
/// deadline is absent or later than `t`. One that is not would be due again
/// at once, and the loop would wake without waiting, for ever: a spin. The
/// contract checker finds such a machine in the property tests
/// (`TimeoutNotAdvanced`); here a debug build stops on it, and a release
/// build says so in the log.
pub fn fire_due<E: Endpoint + ?Sized>(ep: &mut E, clock: &Clock, service: &str) -> bool {
    let Some(due) = ep.poll_timeout() else {
        return false;
    };
    if !clock.until(due).is_zero() {
        return false;
    }
    let now = clock.now();
    // The blocking loops serve clients too and know no service name; their
    // threads are named for what they serve.
    let thread = std::thread::current();
    let service = match service {
        "" => thread.name().unwrap_or_default(),
        named => named,
    };
    tracing::debug!(service, at_us = due.as_micros(), "deadline fired");
    ep.input(now, Input::Timeout);
    let next = ep.poll_timeout();
    if let Some(next) = next.filter(|n| *n <= now.mono) {
        tracing::warn!(
            service,
            at_us = now.mono.as_micros(),
            next_us = next.as_micros(),
            "an endpoint's deadline did not move past its timeout: its loop would spin"
        );
        debug_assert!(
            false,
            "{service}: deadline {next:?} not past the timeout handled at {:?}",
            now.mono
        );
    }
    true
}
// ANCHOR_END: wake

/// Sets a socket's read timeout only when it must change: to wake sooner,
/// or after waking too early twice over. Each change is a system call, and a
/// windowed transfer would otherwise make one per datagram.
#[derive(Debug, Default)]
pub struct ReadTimeout(Option<Duration>);

impl ReadTimeout {
    /// Makes sure the next read waits no longer than `wait`.
    pub fn set(&mut self, socket: &std::net::UdpSocket, wait: Duration) -> io::Result<()> {
        let wait = wait.max(Duration::from_millis(1));
        let change = match self.0 {
            None => true,
            Some(current) => wait < current || wait > current * 2,
        };
        if change {
            socket.set_read_timeout(Some(wait))?;
            self.0 = Some(wait);
        }
        Ok(())
    }
}

/// A peer table that knows one peer: a per-request endpoint's client, or a
/// client's server, as [`PeerId`] 0.
pub fn one_peer(addr: SocketAddr) -> PeerTable {
    let mut peers = PeerTable::default();
    let _first = peers.id(addr);
    peers
}

/// A slot taken by a per-request endpoint: counted by its listener and by
/// the shared admission limit until dropped.
#[derive(Debug)]
pub struct Slot {
    _admission: Admission,
    running: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One accepted request: its endpoint, the fresh socket it is served from
/// (its own port: a per-request protocol's transfer ID) and the client on it.
pub struct Child {
    /// The socket, bound to the listener's address on a new port.
    pub socket: UdpSocket,
    /// The endpoint.
    pub ep: Box<dyn Endpoint>,
    /// The client, as peer 0.
    pub peers: PeerTable,
    /// Freed when the child is dropped.
    pub slot: Slot,
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("socket", &self.socket)
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}

/// What a per-request listener's loop does with one datagram.
#[derive(Debug)]
pub enum Request {
    /// Serve this child until its endpoint is done.
    Child(Child),
    /// Send this back to the sender.
    Reply(Bytes),
    /// Nothing.
    Nothing,
}

/// Hands a datagram on a per-request listener to its [`Dispatch`], with the
/// load it is under: how many of its children run (`running`) and whether
/// the shared admission limit has room.
pub fn request(
    dispatch: &mut dyn Dispatch,
    shared: &Arc<Shared>,
    running: &Arc<AtomicUsize>,
    ip: IpAddr,
    datagram: &[u8],
    from: SocketAddr,
) -> Request {
    let admission = shared.admit();
    let load = Load {
        running: running.load(Ordering::Acquire),
        room: admission.is_some(),
    };
    match dispatch.dispatch(datagram, load) {
        Accepted::Start(ep) => {
            let Some(admission) = admission else {
                // The listener admitted despite no room: it must not.
                return Request::Nothing;
            };
            match UdpSocket::bind(SocketAddr::new(ip, 0)) {
                Ok(socket) => {
                    tracing::info!(%from, "request accepted");
                    running.fetch_add(1, Ordering::AcqRel);
                    Request::Child(Child {
                        socket,
                        ep,
                        peers: one_peer(from),
                        slot: Slot {
                            _admission: admission,
                            running: Arc::clone(running),
                        },
                    })
                }
                Err(e) => {
                    tracing::warn!("socket for a request: {e}");
                    Request::Nothing
                }
            }
        }
        Accepted::Reply { reply, why } => {
            tracing::info!(%from, why, "request refused");
            Request::Reply(reply)
        }
        Accepted::Ignore { why } => {
            tracing::debug!(%from, why, "datagram ignored");
            Request::Nothing
        }
    }
}

/// Starts the chosen model's driver on its own thread(s).
pub fn spawn(model: Model, bound: Bound, shared: Arc<Shared>) -> io::Result<()> {
    match model {
        Model::Async => asynch::spawn(bound, shared),
        Model::Threads => threads::spawn(bound, shared, threads::Mode::ThreadPerConnection),
        Model::Iterative => threads::spawn(bound, shared, threads::Mode::OneAtATime),
        Model::Poll => poll::spawn(bound, shared),
    }
}

// ANCHOR: serving
/// A driver at work on a server's sockets, until [`Serving::stop`] or drop.
#[derive(Debug)]
pub struct Serving {
    shared: Arc<Shared>,
    /// The TCP listeners, which a blocking accept must be woken from.
    listeners: Vec<SocketAddr>,
}

/// Runs `model`'s driver on the sockets in `bound` under `limits`, the
/// async model on `runtime`: how any set of [`Serve`]s, the project's own
/// or a protocol of yours, goes on real sockets.
pub fn serve(
    model: Model,
    bound: Bound,
    limits: Limits,
    runtime: Arc<dyn Runtime>,
) -> io::Result<Serving> {
    let listeners = bound
        .tcp
        .iter()
        .map(|(_, l)| l.local_addr())
        .collect::<io::Result<_>>()?;
    let shared = Arc::new(Shared {
        limits,
        clock: Clock::new(),
        runtime,
        stop: AtomicBool::new(false),
        stopped: event_listener::Event::new(),
        open: AtomicUsize::new(0),
    });
    spawn(model, bound, Arc::clone(&shared))?;
    Ok(Serving { shared, listeners })
}
// ANCHOR_END: serving

impl Serving {
    /// The name of the async model's runtime.
    pub fn runtime(&self) -> &'static str {
        self.shared.runtime.name()
    }

    /// Connections open now (TCP, and per-request transfers).
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// Asks every loop to stop; they notice at once (async) or within
    /// [`STOP_CHECK`]. Uploads
    /// in flight keep their partials, never a file under its final name.
    pub fn stop(&self) {
        self.shared.stop();
        // A blocking accept wakes only for a connection: give it one.
        for addr in &self.listeners {
            let _ = std::net::TcpStream::connect_timeout(addr, Duration::from_millis(200));
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn a_peer_keeps_its_id_and_ids_map_back() {
        let mut t = PeerTable::default();
        let a = t.id(addr(1));
        let b = t.id(addr(2));
        assert_eq!(a, PeerId::FIRST);
        assert_ne!(a, b);
        assert_eq!(t.id(addr(1)), a);
        assert_eq!(t.addr(b), Some(addr(2)));
        assert_eq!(t.addr(PeerId(99)), None);
    }

    #[test]
    fn the_peer_table_is_bounded_and_reuses_the_oldest_slot() {
        let mut t = PeerTable::default();
        for port in 0..MAX_DATAGRAM_PEERS as u16 {
            t.id(addr(port + 1));
        }
        let newcomer = t.id(addr(60_000));
        assert_eq!(newcomer, PeerId::FIRST, "the oldest slot is reused");
        assert_eq!(t.addr(newcomer), Some(addr(60_000)));
        assert_eq!(t.ids.len(), MAX_DATAGRAM_PEERS);
    }

    #[test]
    fn one_peer_is_peer_zero() {
        let t = one_peer(addr(7));
        assert_eq!(t.addr(PeerId::FIRST), Some(addr(7)));
    }

    #[test]
    fn read_timeouts_change_only_to_wake_sooner_or_when_far_too_early() {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut rt = ReadTimeout::default();
        rt.set(&s, Duration::from_millis(100)).expect("set");
        assert_eq!(rt.0, Some(Duration::from_millis(100)));
        // Longer but within twice: kept (one system call saved).
        rt.set(&s, Duration::from_millis(150)).expect("set");
        assert_eq!(rt.0, Some(Duration::from_millis(100)));
        // Sooner: changed.
        rt.set(&s, Duration::from_millis(10)).expect("set");
        assert_eq!(rt.0, Some(Duration::from_millis(10)));
        // Far longer: changed.
        rt.set(&s, Duration::from_millis(50)).expect("set");
        assert_eq!(rt.0, Some(Duration::from_millis(50)));
        // Zero is never asked of the socket (it would mean "block forever").
        rt.set(&s, Duration::ZERO).expect("set");
        assert_eq!(rt.0, Some(Duration::from_millis(1)));
    }

    #[test]
    fn next_wake_is_the_soonest_and_never_past_the_stop_check() {
        let clock = Clock::new();
        let far = std::time::Instant::now() + Duration::from_secs(3600);
        assert_eq!(next_wake(&clock, None, Some(far)), STOP_CHECK);
        assert_eq!(next_wake(&clock, None, None), STOP_CHECK);
        let soon = clock.now().mono;
        assert!(next_wake(&clock, Some(soon), None) <= Duration::from_millis(1));
        let passed = std::time::Instant::now();
        assert_eq!(next_wake(&clock, None, Some(passed)), Duration::ZERO);
    }

    /// The trigger of issue #30: a datagram loop with no idle limit was
    /// given "its start plus an hour" in its place, so an hour after the
    /// server started every wait was zero. A loop without a limit says
    /// `None`, and waits the stop check however long it has run: here a
    /// clock that started two hours ago (a server up since then).
    #[test]
    fn a_socket_served_for_over_an_hour_still_waits_between_datagrams() {
        let Some(started) = std::time::Instant::now().checked_sub(Duration::from_secs(7200)) else {
            // A machine up for less than two hours has no such instant.
            return;
        };
        let clock = Clock::since(started);
        assert_eq!(next_wake(&clock, None, None), STOP_CHECK);
        // And a deadline an hour after the start is long past, as the old
        // stand-in was: a loop given it would not wait at all.
        let stale = started + Duration::from_secs(3600);
        assert_eq!(next_wake(&clock, None, Some(stale)), Duration::ZERO);
    }

    /// A test endpoint whose deadline is `at`, moved to `then` by a timeout.
    struct Deadline {
        at: Option<Instant>,
        then: Option<Instant>,
        fired: usize,
    }

    impl Endpoint for Deadline {
        fn input(&mut self, _now: Now, input: Input<'_>) {
            if matches!(input, Input::Timeout) {
                self.fired += 1;
                self.at = self.then;
            }
        }
        fn poll_transmit(&mut self, _now: Now) -> Option<wirekit_core::Transmit> {
            None
        }
        fn poll_timeout(&self) -> Option<Instant> {
            self.at
        }
        fn is_done(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_due_deadline_is_fired_once_and_a_future_one_not_at_all() {
        let clock = Clock::new();
        let now = clock.now().mono;
        let later = now + Duration::from_secs(60);
        let mut ep = Deadline {
            at: Some(now),
            then: Some(later),
            fired: 0,
        };
        assert!(fire_due(&mut ep, &clock, "test"));
        assert!(!fire_due(&mut ep, &clock, "test"));
        assert_eq!(ep.fired, 1);
        let mut none = Deadline {
            at: None,
            then: None,
            fired: 0,
        };
        assert!(!fire_due(&mut none, &clock, "test"));
        assert_eq!(none.fired, 0);
    }

    /// The driver rule: a deadline that does not move past the timeout
    /// just handled would be due again at once, for ever.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not past the timeout handled")]
    fn a_deadline_that_does_not_move_is_caught() {
        let clock = Clock::new();
        let now = clock.now().mono;
        let mut ep = Deadline {
            at: Some(now),
            then: Some(now),
            fired: 0,
        };
        fire_due(&mut ep, &clock, "test");
    }
}
