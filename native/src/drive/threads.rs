//! The `threads` and `iterative` models: blocking sockets, the loop of
//! [`super::blocking`]. With a thread per connection many clients are served
//! at once; iteratively, a listener serves one client to the end before it
//! accepts the next — the classic tutorials' first server, and its weakness on show.

use super::blocking::{Until, run_child, run_datagram, run_per_request, run_stream};
use super::{Bound, Child, PeerTable, STOP_CHECK, Serve, Served, Shared};
use crate::endpoint::Endpoint;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;

/// Thread per connection, or one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A new thread for each accepted connection.
    ThreadPerConnection,
    /// The listener's own thread serves each connection in turn.
    OneAtATime,
}

/// Starts a thread per listener and per UDP socket.
pub fn spawn(bound: Bound, shared: Arc<Shared>, mode: Mode) -> io::Result<()> {
    for (service, listener) in bound.tcp {
        let shared = Arc::clone(&shared);
        thread::Builder::new()
            .name(format!("{}-tcp", service.name()))
            .spawn(move || accept_loop(&listener, service.as_ref(), &shared, mode))?;
    }
    for (service, socket) in bound.udp {
        let shared = Arc::clone(&shared);
        let name = service.name();
        let Some(served) = service.datagram() else {
            continue;
        };
        thread::Builder::new()
            .name(format!("{name}-udp"))
            .spawn(move || {
                let ran = match served {
                    Served::Socket(mut ep) => run_datagram(
                        &socket,
                        ep.as_mut(),
                        &shared.clock,
                        &shared.stop,
                        PeerTable::default(),
                        Until::Stopped,
                    ),
                    Served::PerRequest(mut dispatch) => {
                        run_per_request(&socket, dispatch.as_mut(), &shared, |child| {
                            serve_child(child, name, &shared, mode)
                        })
                    }
                };
                if let Err(e) = ran {
                    tracing::error!(service = name, "udp socket failed: {e}");
                }
            })?;
    }
    Ok(())
}

/// One accepted request: on a thread of its own, or iteratively on the
/// listener's (the next request waits in the socket until this one ends).
fn serve_child(child: Child, name: &str, shared: &Arc<Shared>, mode: Mode) {
    match mode {
        Mode::OneAtATime => run_child(child, shared, Until::Settled),
        Mode::ThreadPerConnection => {
            let shared = Arc::clone(shared);
            if let Err(e) = thread::Builder::new()
                .name(format!("{name}-req"))
                .spawn(move || run_child(child, &shared, Until::Done))
            {
                tracing::error!("cannot start a thread: {e}");
            }
        }
    }
}

fn accept_loop(listener: &TcpListener, service: &dyn Serve, shared: &Arc<Shared>, mode: Mode) {
    // A blocking accept; to stop, the server sets the flag and connects once
    // to wake it (see `Running::stop`).
    loop {
        let accepted = listener.accept();
        if shared.stopping() {
            return;
        }
        match accepted {
            Ok((stream, peer)) => {
                tracing::debug!(service = service.name(), %peer, "accepted");
                let Some(admission) = shared.admit() else {
                    refuse(stream, service, shared);
                    continue;
                };
                let shared2 = Arc::clone(shared);
                let ep = service.stream(shared.clock.now());
                let name = service.name();
                let serve = move || {
                    serve_one(stream, ep, name, &shared2);
                    drop(admission);
                };
                match mode {
                    Mode::OneAtATime => serve(),
                    Mode::ThreadPerConnection => {
                        if let Err(e) = thread::Builder::new()
                            .name(format!("{name}-conn"))
                            .spawn(serve)
                        {
                            tracing::error!("cannot start a thread: {e}");
                        }
                    }
                }
            }
            Err(e) => {
                // Out of descriptors and the like: wait and go on serving.
                tracing::warn!(service = service.name(), "accept: {e}");
                thread::sleep(STOP_CHECK);
            }
        }
    }
}

fn serve_one(mut stream: TcpStream, mut ep: Box<dyn Endpoint>, service: &str, shared: &Shared) {
    if let Err(e) = stream.set_nonblocking(false) {
        tracing::warn!("socket: {e}");
        return;
    }
    let limits = (&shared.clock, shared.limits.idle, &shared.stop);
    // A server's connection lingers: the client may still be sending.
    match run_stream(&mut stream, ep.as_mut(), limits, true) {
        Ok(ending) => tracing::debug!(service, ?ending, "connection ended"),
        Err(e) => tracing::debug!(service, "connection broke: {e}"),
    }
}

/// Tells an over-the-limit client so (where the protocol can say it) and closes.
pub fn refuse(mut stream: TcpStream, service: &dyn Serve, shared: &Shared) {
    tracing::warn!(
        service = service.name(),
        "connection refused: {} open",
        shared.limits.max_conns
    );
    let _ = stream.set_nonblocking(false);
    let _ = stream.write_all(service.refusal());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
