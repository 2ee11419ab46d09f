//! The clients: each runs a core machine over a real socket with the same
//! blocking loop the `threads` model uses, and turns its events into
//! results for the command line.
//!
//! | client | module |
//! |---|---|
//! | echo (TCP, UDP) | [`echo`] |
//! | daytime, time, stamped echo | [`time`] |
//! | WKFT/1 file transfer | [`transfer`] |
//! | TFTP get and put | [`tftp`] |
//! | a netcat for hand-typed sessions | [`nc`] |
//! | partials, progress bars, batched writes | [`local`] |

pub mod echo;
pub mod local;
pub mod nc;
pub mod tftp;
pub mod time;
pub mod transfer;

use crate::clock::Clock;
use crate::drive::blocking::{Ending, run_stream};
use crate::drive::{BUF_SIZE, PeerTable, next_wake};
use crate::endpoint::{Endpoint, Handler, Hosted};
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use wirekit_core::{Input, Machine, Now};

/// Why a client command failed. Each kind has its own exit code, so that
/// scripts can tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address did not resolve or no connection could be made.
    #[error("cannot reach {addr}: {source}")]
    Unreachable {
        /// What was asked for.
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// A UDP server never answered, after every retry.
    #[error("no reply from {addr} after {attempts} attempts: the server looks down")]
    NoReply {
        /// The server.
        addr: SocketAddr,
        /// Datagrams sent.
        attempts: u32,
    },
    /// The server answered with an error.
    #[error("server refused: {0}")]
    Refused(String),
    /// The server broke the protocol, or the connection broke mid-request.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The received bytes failed their digest check; nothing was kept.
    #[error("verification failed: {0}")]
    Verify(String),
    /// A local file could not be read or written.
    #[error("{0}")]
    Local(String),
    /// The connection went quiet for longer than the timeout.
    #[error("timed out after {0:?} without progress")]
    TimedOut(Duration),
    /// Any other socket error.
    #[error("network error: {0}")]
    Io(#[from] io::Error),
}

impl ClientError {
    /// The process exit code (documented in `wirekit --help`).
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Local(_) => 1,
            ClientError::Unreachable { .. } | ClientError::NoReply { .. } => 3,
            ClientError::Refused(_) => 4,
            ClientError::Protocol(_) | ClientError::Io(_) | ClientError::TimedOut(_) => 5,
            ClientError::Verify(_) => 6,
        }
    }
}

/// Resolves `addr`, adding `default_port` when it names none.
pub fn resolve(addr: &str, default_port: u16) -> Result<SocketAddr, ClientError> {
    let unreachable = |source| ClientError::Unreachable {
        addr: addr.to_owned(),
        source,
    };
    let with_port = if addr.parse::<SocketAddr>().is_ok() {
        addr.to_owned()
    } else if addr.parse::<std::net::IpAddr>().is_ok() {
        SocketAddr::new(
            addr.parse().map_err(|e| unreachable(io::Error::other(e)))?,
            default_port,
        )
        .to_string()
    } else if addr
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        addr.to_owned()
    } else {
        format!("{addr}:{default_port}")
    };
    with_port
        .to_socket_addrs()
        .map_err(unreachable)?
        .next()
        .ok_or_else(|| unreachable(io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// Connects with a bounded wait.
pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ClientError> {
    let stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|source| ClientError::Unreachable {
            addr: addr.to_string(),
            source,
        })?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A handler made of some state and a closure that updates it from each
/// event: what most clients need. The state is read back afterwards.
pub struct Collect<S, F> {
    /// What the events have told so far.
    pub state: S,
    f: F,
}

impl<S, F> Collect<S, F> {
    /// Starts from `state`; `f` sees each event.
    pub fn new(state: S, f: F) -> Self {
        Collect { state, f }
    }
}

impl<S: std::fmt::Debug, F> std::fmt::Debug for Collect<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collect")
            .field("state", &self.state)
            .finish()
    }
}

impl<M, S, F> Handler<M> for Collect<S, F>
where
    M: Machine,
    S: Send,
    F: FnMut(&mut S, M::Event, &mut Vec<M::Command>) + Send,
{
    fn on_event(&mut self, _now: Now, event: M::Event, commands: &mut Vec<M::Command>) {
        (self.f)(&mut self.state, event, commands);
    }
}

/// Runs a stream machine on `stream` until it is done. `idle` bounds how
/// long the peer may stay silent.
pub fn run_tcp(
    stream: &mut TcpStream,
    ep: &mut dyn Endpoint,
    clock: &Clock,
    idle: Duration,
) -> Result<(), ClientError> {
    let never = AtomicBool::new(false);
    match run_stream(stream, ep, clock, idle, &never)? {
        Ending::Done => Ok(()),
        Ending::Idle => Err(ClientError::TimedOut(idle)),
        Ending::Stopped => Err(ClientError::Local("interrupted".into())),
    }
}

/// Runs a datagram client machine against `server` until `finished` says
/// so, then for up to `linger` more (or until the machine is done) so that
/// it can answer a retransmission of the last packet (TFTP's dally). The
/// machine's own retry schedule decides how long all this takes.
pub fn run_udp<M, H>(
    server: SocketAddr,
    hosted: &mut Hosted<M, H>,
    clock: &Clock,
    linger: Duration,
    finished: impl Fn(&H) -> bool,
) -> Result<(), ClientError>
where
    M: Machine + Send,
    M::Command: Send,
    M::Error: std::fmt::Debug,
    H: Handler<M>,
{
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)?;
    let mut peers = PeerTable::default();
    // The machines address their server as PeerId(0): the first one known.
    let _server_id = peers.id(server);
    let mut buf = vec![0; BUF_SIZE];
    let far = std::time::Instant::now() + Duration::from_secs(3600);
    let mut linger_until: Option<std::time::Instant> = None;
    let mut read_timeout = crate::drive::ReadTimeout::default();
    loop {
        crate::drive::blocking::flush_datagrams(&socket, hosted, clock, &peers);
        if linger_until.is_none() && finished(hosted.handler()) {
            linger_until = Some(std::time::Instant::now() + linger);
        }
        if let Some(until) = linger_until
            && (std::time::Instant::now() >= until || hosted.is_done())
        {
            return Ok(());
        }
        let deadline = linger_until.unwrap_or(far);
        let wait = next_wake(clock, hosted.poll_timeout(), deadline);
        read_timeout.set(&socket, wait)?;
        match socket.recv_from(&mut buf) {
            Ok((n, addr)) => {
                let from = peers.id(addr);
                let bytes = buf.get(..n).unwrap_or_default();
                hosted.input(clock.now(), Input::Data { from, bytes });
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if hosted
                    .poll_timeout()
                    .is_some_and(|t| clock.until(t).is_zero())
                {
                    hosted.input(clock.now(), Input::Timeout);
                }
            }
            // ICMP port unreachable from an earlier send: keep waiting, the
            // retry schedule decides when to give up.
            Err(e) => tracing::debug!("udp receive: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_adds_the_default_port_only_when_none_is_named() {
        let a = resolve("127.0.0.1", 7007).expect("an address");
        assert_eq!(a, SocketAddr::from(([127, 0, 0, 1], 7007)));
        let b = resolve("127.0.0.1:9", 7007).expect("an address");
        assert_eq!(b.port(), 9);
        let c = resolve("localhost:9", 7007).expect("an address");
        assert_eq!(c.port(), 9);
        let d = resolve("[::1]:9", 7007).expect("an address");
        assert!(d.is_ipv6());
    }
}
