//! The `threads` and `iterative` models: blocking sockets, the loop of
//! [`super::blocking`]. With a thread per connection many clients are served
//! at once; iteratively, a listener serves one client to the end before it
//! accepts the next — the seeds' first server, and its weakness on show.

use super::blocking::{run_datagram, run_stream};
use super::{Bound, STOP_CHECK, Shared};
use crate::services::Service;
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
            .name(format!("{service}-tcp"))
            .spawn(move || accept_loop(&listener, service, &shared, mode))?;
    }
    for (service, socket) in bound.udp {
        let shared = Arc::clone(&shared);
        let Some(mut ep) = shared.factory.datagram(service) else {
            continue;
        };
        thread::Builder::new()
            .name(format!("{service}-udp"))
            .spawn(move || {
                if let Err(e) = run_datagram(&socket, ep.as_mut(), &shared.clock, &shared.stop) {
                    tracing::error!(%service, "udp socket failed: {e}");
                }
            })?;
    }
    Ok(())
}

fn accept_loop(listener: &TcpListener, service: Service, shared: &Arc<Shared>, mode: Mode) {
    // A blocking accept; to stop, the server sets the flag and connects once
    // to wake it (see `Running::stop`).
    loop {
        let accepted = listener.accept();
        if shared.stopping() {
            return;
        }
        match accepted {
            Ok((stream, peer)) => {
                tracing::debug!(%service, %peer, "accepted");
                let Some(admission) = shared.admit() else {
                    refuse(stream, service, shared);
                    continue;
                };
                let shared2 = Arc::clone(shared);
                let serve = move || {
                    serve_one(stream, service, &shared2);
                    drop(admission);
                };
                match mode {
                    Mode::OneAtATime => serve(),
                    Mode::ThreadPerConnection => {
                        if let Err(e) = thread::Builder::new()
                            .name(format!("{service}-conn"))
                            .spawn(serve)
                        {
                            tracing::error!("cannot start a thread: {e}");
                        }
                    }
                }
            }
            Err(e) => {
                // Out of descriptors and the like: wait and go on serving.
                tracing::warn!(%service, "accept: {e}");
                thread::sleep(STOP_CHECK);
            }
        }
    }
}

fn serve_one(mut stream: TcpStream, service: Service, shared: &Shared) {
    if let Err(e) = stream.set_nonblocking(false) {
        tracing::warn!("socket: {e}");
        return;
    }
    let mut ep = shared.factory.stream(service, shared.clock.now());
    match run_stream(
        &mut stream,
        ep.as_mut(),
        &shared.clock,
        shared.limits.idle,
        &shared.stop,
    ) {
        Ok(ending) => tracing::debug!(%service, ?ending, "connection ended"),
        Err(e) => tracing::debug!(%service, "connection broke: {e}"),
    }
}

/// Tells an over-the-limit client so (where the protocol can say it) and closes.
pub fn refuse(mut stream: TcpStream, service: Service, shared: &Shared) {
    tracing::warn!(%service, "connection refused: {} open", shared.limits.max_conns);
    let _ = stream.set_nonblocking(false);
    let _ = stream.write_all(shared.factory.refusal(service));
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
