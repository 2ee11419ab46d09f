//! The drivers: one per IO model the seeds teach, each a single loop that
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
//! limit), feed what happened. What the models share lives here.

pub mod asynch;
pub mod blocking;
pub mod poll;
pub mod threads;

use crate::clock::Clock;
use crate::services::{Factory, Proto, Service};
use clap::ValueEnum;
use serde::Serialize;
use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use wirekit_core::{Instant, PeerId};

/// An IO model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Tasks on the async runtime (async-std, or smol with that feature).
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

/// How often a waiting loop looks at the stop flag.
pub const STOP_CHECK: Duration = Duration::from_millis(200);

/// How many UDP peers a datagram socket remembers at once. A peer's id is
/// needed only between its request and the reply, so old ones are reused.
pub const MAX_DATAGRAM_PEERS: usize = 4096;

/// Limits every connection obeys.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Close a connection after this long without a byte either way.
    pub idle: Duration,
    /// Most TCP connections open at once over every service.
    pub max_conns: usize,
}

/// Everything a driver needs, shared by its tasks or threads.
#[derive(Debug)]
pub struct Shared {
    /// Makes endpoints.
    pub factory: Factory,
    /// Connection and idle limits.
    pub limits: Limits,
    /// The clock every machine reads through.
    pub clock: Clock,
    /// Set to stop: loops notice within [`STOP_CHECK`].
    pub stop: AtomicBool,
    /// TCP connections open now.
    pub open: AtomicUsize,
}

impl Shared {
    /// True once shutdown was asked for.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
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
/// addresses (port 0 in tests) are known up front.
#[derive(Debug)]
pub struct Bound {
    /// TCP listeners.
    pub tcp: Vec<(Service, TcpListener)>,
    /// UDP sockets.
    pub udp: Vec<(Service, UdpSocket)>,
}

impl Bound {
    /// Binds every service's sockets on `addr_of(service)`.
    pub fn bind(
        services: &[Service],
        addr_of: impl Fn(Service) -> SocketAddr,
    ) -> io::Result<Bound> {
        let mut bound = Bound {
            tcp: Vec::new(),
            udp: Vec::new(),
        };
        for &svc in services {
            let addr = addr_of(svc);
            for proto in svc.protos() {
                let err = |e: io::Error| {
                    io::Error::new(e.kind(), format!("{svc} on {proto} {addr}: {e}"))
                };
                match proto {
                    Proto::Tcp => bound.tcp.push((svc, listen(addr).map_err(err)?)),
                    Proto::Udp => bound.udp.push((svc, UdpSocket::bind(addr).map_err(err)?)),
                }
            }
        }
        Ok(bound)
    }

    /// Each socket's service, transport and address.
    pub fn addrs(&self) -> Vec<(Service, Proto, SocketAddr)> {
        let tcp = self
            .tcp
            .iter()
            .filter_map(|(s, l)| Some((*s, Proto::Tcp, l.local_addr().ok()?)));
        let udp = self
            .udp
            .iter()
            .filter_map(|(s, u)| Some((*s, Proto::Udp, u.local_addr().ok()?)));
        tcp.chain(udp).collect()
    }
}

/// Room for connections the kernel has accepted but we have not yet: std's
/// 128 overflows when a thousand clients connect at once, and each overflow
/// costs its client a SYN retransmission (a second or more).
pub const LISTEN_BACKLOG: i32 = 4096;

/// A TCP listener with [`LISTEN_BACKLOG`] and address reuse (a restarted
/// server need not wait out TIME_WAIT).
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
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

/// When a connection's loop must next wake: the endpoint's timeout, the
/// idle limit, or the stop check, whichever comes first.
pub fn next_wake(
    clock: &Clock,
    timeout: Option<Instant>,
    idle_deadline: std::time::Instant,
) -> Duration {
    let idle = idle_deadline.saturating_duration_since(std::time::Instant::now());
    let machine = timeout.map_or(Duration::MAX, |t| clock.until(t));
    machine.min(idle).min(STOP_CHECK)
}

/// Sets a socket's read timeout only when it must change: to wake sooner,
/// or after waking too early twice over. Each change is a system call, and a
/// windowed TFTP transfer would otherwise make one per datagram.
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

/// Starts the chosen model's driver on its own thread(s).
pub fn spawn(model: Model, mut bound: Bound, shared: Arc<Shared>) -> io::Result<()> {
    // TFTP opens a socket per transfer, so it has a listener of its own.
    let (tftp, udp): (Vec<_>, Vec<_>) = bound
        .udp
        .into_iter()
        .partition(|(s, _)| *s == Service::Tftp);
    bound.udp = udp;
    for (_, socket) in tftp {
        crate::tftp::serve(socket, Arc::clone(&shared))?;
    }
    match model {
        Model::Async => asynch::spawn(bound, shared),
        Model::Threads => threads::spawn(bound, shared, threads::Mode::ThreadPerConnection),
        Model::Iterative => threads::spawn(bound, shared, threads::Mode::OneAtATime),
        Model::Poll => poll::spawn(bound, shared),
    }
}
