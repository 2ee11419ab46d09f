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
//! | partials and batched writes | [`local`] |
//! | progress bars | [`progress`] |
//! | addresses and URLs as typed | [`target`] |

pub mod echo;
pub mod local;
pub mod nc;
pub mod progress;
pub mod target;
pub mod tftp;
pub mod time;
pub mod transfer;

pub use target::Target;

use crate::clock::Clock;
use crate::drive::blocking::{Ending, datagram_loop, run_stream};
use crate::drive::one_peer;
use crate::endpoint::{Endpoint, Handler, Hosted};
use std::io;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// A UDP server stopped answering in the middle of a transfer.
    #[error(
        "{addr} stopped answering: nothing heard for {:.1} s, {retries} retransmissions",
        waited.as_secs_f64()
    )]
    Silent {
        /// The server.
        addr: SocketAddr,
        /// How long nothing came.
        waited: Duration,
        /// Packets sent again meanwhile.
        retries: u32,
    },
    /// The command line asks for something impossible; nothing was done.
    #[error("{0}")]
    Usage(String),
    /// Ctrl-C or SIGTERM stopped the command; the text says what was kept.
    #[error("interrupted{0}")]
    Interrupted(String),
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
    /// A simulated workload did not complete (the run itself worked).
    #[error("{0}")]
    Workload(String),
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
            ClientError::Usage(_) => 2,
            ClientError::Unreachable { .. }
            | ClientError::NoReply { .. }
            | ClientError::Silent { .. } => 3,
            ClientError::Refused(_) => 4,
            ClientError::Protocol(_)
            | ClientError::Io(_)
            | ClientError::TimedOut(_)
            | ClientError::Workload(_) => 5,
            ClientError::Verify(_) => 6,
            ClientError::Interrupted(_) => 130,
        }
    }

    /// A word for the class, for `--json` errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::ClosedPipe => "closed-pipe",
            ClientError::Local(_) => "local",
            ClientError::Usage(_) => "usage",
            ClientError::Unreachable { .. } => "unreachable",
            ClientError::NoReply { .. } | ClientError::Silent { .. } => "no-reply",
            ClientError::Refused(_) => "refused",
            ClientError::Protocol(_) => "protocol",
            ClientError::Io(_) => "network",
            ClientError::TimedOut(_) => "timeout",
            ClientError::Workload(_) => "workload",
            ClientError::Verify(_) => "verify",
            ClientError::Interrupted(_) => "interrupted",
        }
    }
}

/// Set by Ctrl-C or SIGTERM once [`watch_interrupts`] runs: every client
/// loop checks it and stops cleanly, so that what was kept can be told.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C and SIGTERM stop the client loops instead of the process.
pub fn watch_interrupts() -> Result<(), ClientError> {
    // A second Ctrl-C means "now": the process ends without the tidy stop.
    ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    })
    .map_err(|e| ClientError::Local(format!("cannot watch for Ctrl-C: {e}")))
}

/// Whether Ctrl-C or SIGTERM came.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Resolves `addr`, adding `default_port` when it names none. A malformed
/// address is a usage error; a name that does not resolve is unreachable.
pub fn resolve(addr: &str, default_port: u16) -> Result<SocketAddr, ClientError> {
    Target::parse(addr)
        .map_err(|e| ClientError::Usage(format!("bad address {addr:?}: {e}")))?
        .resolve(default_port)
}

/// Connects with a bounded wait.
pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ClientError> {
    let stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|source| ClientError::Unreachable {
            addr: addr.to_string(),
            source,
        })?;
    stream.set_nodelay(true)?;
    tracing::debug!(%addr, local = ?stream.local_addr().ok(), "connected");
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
    match run_stream(stream, ep, (clock, idle, &INTERRUPTED), false)? {
        Ending::Done => Ok(()),
        Ending::Idle => Err(ClientError::TimedOut(idle)),
        Ending::Stopped => Err(ClientError::Interrupted(String::new())),
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
    tracing::debug!(%server, local = ?socket.local_addr().ok(), "datagram socket ready");
    // The machines address their server as PeerId::FIRST.
    datagram_loop(
        &socket,
        hosted,
        clock,
        &INTERRUPTED,
        one_peer(server),
        |h| finished(h.handler()) || h.is_done(),
    )?;
    if interrupted() {
        return Err(ClientError::Interrupted(String::new()));
    }
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
            RequestEvent::Retrying { attempt, wait } => {
                tracing::debug!(attempt, ?wait, "no reply yet: sending again");
                a.retries.push((attempt, wait))
            }
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
        None => Err(ClientError::Protocol(
            "the exchange ended without an answer".into(),
        )),
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
