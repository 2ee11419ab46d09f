//! The hosting vocabulary shared by every front end (native drivers, the
//! simulator, tests): what a driver needs beyond [`crate::Machine`] to run a
//! protocol without knowing which one it is.
//!
//! A *per-request* protocol (TFTP) has a listener on a well-known port whose
//! only job is to read first requests: each one either starts a new machine
//! on a fresh socket of its own, or is answered (refused, busy) or ignored.
//! The decision is protocol logic, so it lives here and not in a driver —
//! which is what lets the native server and the simulated one behave alike.
//!
//! Some machines also need local answers (the file-transfer server asks its
//! store for chunks, a client collects what it learned): a [`Handler`]
//! answers a machine's events, and [`Hosted`] runs the two as one, so each
//! front end drives a `Hosted` and never writes the event loop again.

use crate::machine::{Input, Machine, Transmit};
use crate::time::{Instant, Now};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;

// ANCHOR: listen
/// How loaded the host is when a request arrives: the driver counts, the
/// listener decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// Machines this listener started that are still running.
    pub running: usize,
    /// Whether the host's own admission limit (shared by every service)
    /// has room for one more.
    pub room: bool,
}

impl Load {
    /// Nothing running, room to spare.
    pub const IDLE: Load = Load {
        running: 0,
        room: true,
    };
}

/// What a listener makes of one datagram on its well-known port.
#[derive(Debug)]
pub enum Accepted<M> {
    /// Start `M` on a fresh socket, where the sender is peer id 0 (for
    /// TFTP, [`PeerId::FIRST`](crate::PeerId::FIRST)).
    Start(M),
    /// Send `reply` back to the sender, and forget it.
    Reply {
        /// The answer (an error packet).
        reply: Bytes,
        /// Why, for the log.
        why: String,
    },
    /// Say nothing: garbage gets no answer, so the server cannot be used to
    /// reflect traffic.
    Ignore {
        /// Why, for the log.
        why: String,
    },
}

/// A listener for a per-request protocol.
pub trait Listen {
    /// The machine each accepted request runs.
    type Child: Machine;
    /// Reads one datagram that came to the well-known port.
    fn accept(&mut self, datagram: &[u8], load: Load) -> Accepted<Self::Child>;
    /// The child's work is done and it only lingers in case its last
    /// message was lost (TFTP's dally): a driver that serves one request at
    /// a time may move on.
    fn lingering(child: &Self::Child) -> bool {
        let _ = child;
        false
    }
}
// ANCHOR_END: listen

// ANCHOR: handler
/// Answers a machine's events: what turns them into store reads, results
/// for the application, or notes for a trace. Native servers and clients,
/// the simulator's applications and the tests all answer through it.
pub trait Handler<M: Machine> {
    /// Commands to give the machine when the application starts.
    fn start(&mut self, now: Now, cmds: &mut Vec<M::Command>) {
        let _ = (now, cmds);
    }
    /// Reacts to one event. Commands pushed to `cmds` are given to the
    /// machine, in order, before its next event is read. Returns a note for
    /// the trace when the event is worth one (not every chunk of a file is).
    fn on_event(&mut self, now: Now, event: M::Event, cmds: &mut Vec<M::Command>)
    -> Option<String>;
    /// The connection is going away: release what the events took.
    fn on_close(&mut self, now: Now) {
        let _ = now;
    }
}
// ANCHOR_END: handler

// ANCHOR: hosted
/// A machine and the handler that answers its events, driven as one: the
/// loop of events and commands every front end would otherwise write.
pub struct Hosted<M: Machine, H> {
    machine: M,
    handler: H,
    commands: Vec<M::Command>,
    /// A local misuse ended the endpoint: what it was.
    failed: Option<String>,
    notes: Option<Vec<String>>,
}

impl<M: Machine + fmt::Debug, H: fmt::Debug> fmt::Debug for Hosted<M, H> {
    // Commands never wait between calls, so they are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hosted")
            .field("machine", &self.machine)
            .field("handler", &self.handler)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl<M, H> Hosted<M, H>
where
    M: Machine,
    M::Error: fmt::Debug,
    H: Handler<M>,
{
    /// Hosts `machine`, answering its events with `handler`. The handler's
    /// notes are dropped; see [`Hosted::keeping_notes`].
    pub fn new(machine: M, handler: H) -> Self {
        Hosted {
            machine,
            handler,
            commands: Vec::new(),
            failed: None,
            notes: None,
        }
    }

    /// Keeps the handler's notes for [`Hosted::take_notes`] (a trace wants
    /// them; a server under load does not).
    pub fn keeping_notes(mut self) -> Self {
        self.notes = Some(Vec::new());
        self
    }

    /// Gives the handler its say at the start, and the machine its commands.
    pub fn start(&mut self, now: Now) {
        self.handler.start(now, &mut self.commands);
        self.feed(now);
        self.pump(now);
    }

    /// Gives the machine a command from the application.
    pub fn command(&mut self, now: Now, cmd: M::Command) {
        if let Err(e) = self.machine.handle_command(now, cmd) {
            self.fail(e);
        }
        self.pump(now);
    }

    /// Feeds network input (or a timeout) and answers the events it raised.
    pub fn input(&mut self, now: Now, input: Input<'_>) {
        if let Err(e) = self.machine.handle_input(now, input) {
            self.fail(e);
        }
        self.pump(now);
    }

    /// The next bytes to send. Answers events raised meanwhile, because a
    /// machine may ask for more file data only once its output drained.
    pub fn poll_transmit(&mut self, now: Now) -> Option<Transmit> {
        loop {
            if let Some(t) = self.machine.poll_transmit() {
                return Some(t);
            }
            if !self.pump(now) {
                return None;
            }
        }
    }

    /// Answers every pending event, each one's commands before the next
    /// event; returns whether there were any.
    pub fn pump(&mut self, now: Now) -> bool {
        let mut any = false;
        while let Some(ev) = self.machine.poll_event() {
            any = true;
            let note = self.handler.on_event(now, ev, &mut self.commands);
            if let (Some(notes), Some(note)) = (&mut self.notes, note) {
                notes.push(note);
            }
            self.feed(now);
        }
        any
    }

    fn feed(&mut self, now: Now) {
        for cmd in core::mem::take(&mut self.commands) {
            if let Err(e) = self.machine.handle_command(now, cmd) {
                self.fail(e);
            }
        }
    }

    fn fail(&mut self, e: M::Error) {
        self.failed.get_or_insert_with(|| format!("{e:?}"));
    }

    /// When the machine next wants [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    /// The machine is done, or a misuse ended it.
    pub fn is_done(&self) -> bool {
        self.failed.is_some() || self.machine.is_done()
    }

    /// The connection is going away.
    pub fn close(&mut self, now: Now) {
        self.handler.on_close(now);
    }

    /// The local misuse that ended the endpoint, if one did.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// Moves the notes kept so far to `into`.
    pub fn take_notes(&mut self, into: &mut Vec<String>) {
        if let Some(notes) = &mut self.notes {
            into.append(notes);
        }
    }

    /// The machine.
    pub fn machine(&self) -> &M {
        &self.machine
    }

    /// The machine, mutably (a server that speaks first is remade at the
    /// moment its client connects).
    pub fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// The handler, for clients that collect results in it.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, mutably.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// The machine and the handler, taken apart.
    pub fn into_parts(self) -> (M, H) {
        (self.machine, self.handler)
    }
}
// ANCHOR_END: hosted
