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
use crate::drive::blocking::{Ending, datagram_loop, run_stream};
use crate::drive::one_peer;
use crate::endpoint::{Endpoint, Handler, Hosted};
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use wirekit_core::request::{Reply, RequestEvent, Requester};
use wirekit_core::retry::BackoffConfig;
use wirekit_core::{Machine, Now};

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
    /// Standard output was closed by its reader (`| head`): the command
    /// ends quietly with exit code 0, as coreutils do.
    #[error("standard output closed")]
    ClosedPipe,
    /// Any other socket error.
    #[error("network error: {0}")]
    Io(#[from] io::Error),
}

impl ClientError {
    /// The process exit code (documented in `wirekit --help`).
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::ClosedPipe => 0,
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
    F: FnMut(&mut S, M::Event, &mut Vec<M::Command>),
{
    fn on_event(
        &mut self,
        _now: Now,
        event: M::Event,
        commands: &mut Vec<M::Command>,
    ) -> Option<String> {
        (self.f)(&mut self.state, event, commands);
        None
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

/// Runs a datagram client machine against `server` on the drivers' own
/// datagram loop, until `finished` says so or the machine is done. The
/// machine's own retry schedule decides how long that takes.
pub fn run_udp<M, H>(
    server: SocketAddr,
    hosted: &mut Hosted<M, H>,
    clock: &Clock,
    finished: impl Fn(&H) -> bool,
) -> Result<(), ClientError>
where
    M: Machine + Send,
    M::Command: Send,
    M::Error: std::fmt::Debug,
    H: Handler<M> + Send,
{
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)?;
    let never = AtomicBool::new(false);
    // The machines address their server as PeerId::FIRST.
    datagram_loop(&socket, hosted, clock, &never, one_peer(server), |h| {
        finished(h.handler()) || h.is_done()
    })?;
    Ok(())
}

/// How a datagram request ended, as the request client's events tell it.
#[derive(Debug)]
struct Asked<V> {
    outcome: Option<Result<(V, u32), u32>>,
    retries: Vec<(u32, Duration)>,
}

/// One request to a datagram `server` through the core's one request
/// client: the reply as `reply` reads it, and the sends it took. Every
/// retry is told to `on_retry` once the request has ended.
pub fn ask<R>(
    server: SocketAddr,
    reply: R,
    request: bytes::Bytes,
    backoff: BackoffConfig,
    on_retry: &mut dyn FnMut(u32, Duration),
) -> Result<(R::Value, u32), ClientError>
where
    R: Reply + Send,
    R::Value: Send,
{
    let clock = Clock::new();
    let machine = Requester::new(reply, backoff, echo::seed())
        .map_err(|e| ClientError::Local(e.to_string()))?;
    let handler = Collect::new(
        Asked {
            outcome: None,
            retries: Vec::new(),
        },
        |a: &mut Asked<R::Value>, ev, _: &mut Vec<bytes::Bytes>| match ev {
            RequestEvent::Reply { value, attempts } => a.outcome = Some(Ok((value, attempts))),
            RequestEvent::Retrying { attempt, wait } => a.retries.push((attempt, wait)),
            RequestEvent::ServerDown { attempts } => a.outcome = Some(Err(attempts)),
            RequestEvent::Stray { from } => {
                tracing::debug!(peer = from.0, "stray datagram ignored")
            }
        },
    );
    let mut hosted = Hosted::new(machine, handler);
    hosted.command(clock.now(), request);
    if let Some(m) = hosted.failure() {
        return Err(ClientError::Local(format!("cannot send: {m}")));
    }
    run_udp(server, &mut hosted, &clock, |h| h.state.outcome.is_some())?;
    let asked = hosted.into_parts().1.state;
    for (attempt, wait) in asked.retries {
        on_retry(attempt, wait);
    }
    match asked.outcome {
        Some(Ok(answer)) => Ok(answer),
        Some(Err(attempts)) => Err(ClientError::NoReply {
            addr: server,
            attempts,
        }),
        None => Err(ClientError::Protocol("no outcome".into())),
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
