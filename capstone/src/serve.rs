//! KV/1 on real sockets, through Wirekit's hosting layer: a [`Serve`] that
//! makes a [`Hosted`] server machine for each connection, on any of the
//! native IO models; and a client on the drivers' own blocking loop.

use crate::client::{Client, Event};
use crate::server::Server;
use crate::store::Store;
use crate::wire::Request;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use wirekit::client::{ClientError, Collect, connect, run_tcp};
use wirekit::clock::Clock;
use wirekit::drive::{self, Bound, Limits, Model, Serve, Serving};
use wirekit::endpoint::{Endpoint, Hosted};
use wirekit::runtime::default_runtime;
use wirekit_core::Now;

/// How long a connection may stay silent, either side.
pub const IDLE: Duration = Duration::from_secs(30);

// ANCHOR: service
/// KV/1 for every connection of one listener, all sharing one store.
#[derive(Debug, Default)]
pub struct Kv {
    /// The keys.
    pub store: Store,
}

impl Serve for Kv {
    fn name(&self) -> &'static str {
        "kv"
    }

    fn stream(&self, _now: Now) -> Box<dyn Endpoint> {
        Box::new(Hosted::new(Server::new(), self.store.clone()))
    }

    fn datagram(&self) -> Option<drive::Served> {
        None
    }

    fn refusal(&self) -> &'static [u8] {
        b"ERR busy\n"
    }
}

// ANCHOR_END: service

// ANCHOR: serve
/// Serves `kv` on `addr` (port 0 picks one) with `model`, until the
/// returned [`Serving`] is stopped or dropped.
pub fn serve(addr: SocketAddr, kv: Kv, model: Model) -> io::Result<(SocketAddr, Serving)> {
    let listener = drive::listen(addr)?;
    let local = listener.local_addr()?;
    let bound = Bound {
        tcp: vec![(Arc::new(kv) as Arc<dyn Serve>, listener)],
        udp: Vec::new(),
    };
    let limits = Limits {
        idle: IDLE,
        max_conns: 256,
    };
    Ok((
        local,
        drive::serve(model, bound, limits, default_runtime())?,
    ))
}
// ANCHOR_END: serve

// ANCHOR: ask
/// Sends `requests` (and a `QUIT` after them, unless they end with one)
/// to the server at `addr` and returns what the client machine learned.
pub fn ask(addr: SocketAddr, mut requests: Vec<Request>) -> Result<Vec<Event>, ClientError> {
    if requests.last() != Some(&Request::Quit) {
        requests.push(Request::Quit);
    }
    let clock = Clock::new();
    let mut stream = connect(addr, Duration::from_secs(5))?;
    let learn = |seen: &mut Vec<Event>, event, _: &mut Vec<Request>| seen.push(event);
    let mut hosted = Hosted::new(Client::new(), Collect::new(Vec::new(), learn));
    for request in requests {
        hosted.command(clock.now(), request);
    }
    if let Some(misuse) = hosted.failure() {
        return Err(ClientError::Local(format!("cannot send: {misuse}")));
    }
    run_tcp(&mut stream, &mut hosted, &clock, IDLE)?;
    Ok(hosted.into_parts().1.state)
}
// ANCHOR_END: ask
