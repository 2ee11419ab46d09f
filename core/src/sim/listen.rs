//! A per-request server in the simulator: the core's [`Listen`] on a
//! well-known UDP port, and every accepted request on a fresh port of its
//! own — what the native server does, so that the simulator runs the same
//! semantics (admission, busy replies, a transfer ID per transfer).

use super::app::{App, AppState, DatagramApp, Responder, Status, tally, udp_socket};
use crate::host::{Accepted, Listen, Load};
use crate::machine::{Machine, PeerId};
use crate::time::{Instant, Now};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Debug;
use smoltcp::iface::{Context, SocketHandle, SocketSet};
use smoltcp::socket::udp;

/// The first port handed to an accepted request, as Linux's ephemeral range
/// starts at 32768; ports are given in turn (deterministic, so the trace
/// hash does not depend on anything but the scenario and the seed).
pub const FIRST_CHILD_PORT: u16 = 32768;

/// A listener and the machines it started.
pub struct ListenerApp<L: Listen, R> {
    listener: L,
    make: Box<dyn Fn() -> R>,
    port: u16,
    handle: Option<SocketHandle>,
    children: Vec<DatagramApp<L::Child, R>>,
    next_port: u16,
    failed: Option<String>,
}

impl<L: Listen + Debug, R> Debug for ListenerApp<L, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ListenerApp")
            .field("listener", &self.listener)
            .field("port", &self.port)
            .field("children", &self.children.len())
            .finish()
    }
}

impl<L, R> ListenerApp<L, R>
where
    L: Listen,
    <L::Child as Machine>::Error: Debug,
    R: Responder<L::Child>,
{
    /// `listener` on UDP `port`; each accepted machine is answered by a
    /// responder from `make`.
    pub fn new(listener: L, port: u16, make: impl Fn() -> R + 'static) -> Self {
        ListenerApp {
            listener,
            make: Box::new(make),
            port,
            handle: None,
            children: Vec::new(),
            next_port: FIRST_CHILD_PORT,
            failed: None,
        }
    }

    /// A port no child of ours holds.
    fn fresh_port(&mut self) -> u16 {
        loop {
            let p = self.next_port;
            self.next_port = self.next_port.checked_add(1).unwrap_or(FIRST_CHILD_PORT);
            let taken = |c: &DatagramApp<L::Child, R>| c.port() == p;
            if p != self.port && !self.children.iter().any(taken) {
                return p;
            }
        }
    }
}

impl<L, R> App for ListenerApp<L, R>
where
    L: Listen + Debug,
    L::Child: Debug,
    <L::Child as Machine>::Error: Debug,
    <L::Child as Machine>::Command: Debug,
    R: Responder<L::Child> + Debug,
{
    fn start(&mut self, _now: Now, _cx: &mut Context, sockets: &mut SocketSet<'static>) {
        let mut socket = udp_socket();
        if let Err(e) = socket.bind(self.port) {
            self.failed = Some(format!("bind: {e:?}"));
        }
        self.handle = Some(sockets.add(socket));
    }

    fn step(
        &mut self,
        now: Now,
        sockets: &mut SocketSet<'static>,
        notes: &mut Vec<String>,
    ) -> bool {
        let Some(handle) = self.handle else {
            return false;
        };
        let mut moved = false;
        // First requests on the well-known port.
        loop {
            let socket = sockets.get_mut::<udp::Socket>(handle);
            let Ok((data, meta)) = socket.recv() else {
                break;
            };
            moved = true;
            let from = meta.endpoint;
            let load = Load {
                running: self.children.len(),
                room: true,
            };
            match self.listener.accept(data, load) {
                Accepted::Start(machine) => {
                    let port = self.fresh_port();
                    notes.push(format!("request from {from} served from port {port}"));
                    let mut child =
                        DatagramApp::new(machine, (self.make)(), port, &[(PeerId(0), from)]);
                    child.open(now, sockets);
                    self.children.push(child);
                }
                Accepted::Reply { reply, why } => {
                    let socket = sockets.get_mut::<udp::Socket>(handle);
                    // A full send buffer drops the answer, as UDP may.
                    let _ = socket.send_slice(&reply, from);
                    notes.push(format!("request from {from} refused: {why}"));
                }
                Accepted::Ignore { why } => {
                    notes.push(format!("datagram from {from} ignored: {why}"))
                }
            }
        }
        for child in &mut self.children {
            moved |= child.step(now, sockets, notes);
        }
        // Finished children give their ports back.
        let mut i = 0;
        while let Some(child) = self.children.get_mut(i) {
            if child.finished() {
                if let Some(f) = child.failure() {
                    self.failed.get_or_insert_with(|| String::from(f));
                }
                child.close(sockets);
                self.children.remove(i);
                moved = true;
            } else {
                i += 1;
            }
        }
        moved
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.children.iter().filter_map(|c| c.poll_timeout()).min()
    }

    fn status(&self) -> Status {
        match &self.failed {
            Some(f) => Status::Failed(f.clone()),
            None => Status::Running,
        }
    }

    fn delivered(&self) -> u64 {
        0
    }

    fn retries(&self) -> u64 {
        0
    }

    /// The listening socket, and its transfers counted by phase.
    fn state(&self, sockets: &SocketSet<'static>) -> AppState {
        let mut state = tally(self.children.iter().map(|c| c.state(sockets)));
        state.socket = self.handle.map(|_| {
            format!(
                "UDP bound, {} transfer(s) on ports of their own",
                self.children.len()
            )
        });
        if self.children.is_empty() {
            state.phase = String::from("listening");
        }
        state.status = self.status();
        state
    }
}
