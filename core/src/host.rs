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
//!
//! An answer may be slow to work out (hashing a large file). The machine
//! contract lets a driver answer "whenever it likes", so a handler may leave
//! an event unanswered, do the work elsewhere, and give the commands later:
//! [`Handler::pending`] says it owes an answer, [`Handler::poll_answer`]
//! delivers it, waking the driver through a [`Waker`] when it is ready (the
//! standard library's wake-up, so an async task, a readiness loop and a
//! blocked thread all wait on it alike). Nothing here starts a thread; the
//! simulator's handlers answer at once and never owe.

use crate::machine::{Input, Machine, Transmit};
use crate::time::{Instant, Now};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;
use core::task::{Context, Poll, Waker};

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
    ///
    /// A handler may also push nothing and work the answer out elsewhere;
    /// it then says so through [`Handler::pending`] until
    /// [`Handler::poll_answer`] has delivered it.
    fn on_event(&mut self, now: Now, event: M::Event, cmds: &mut Vec<M::Command>)
    -> Option<String>;
    /// Whether an event's answer is still owed. Meanwhile the handler is
    /// given no other event (they wait, in order, in the machine), and the
    /// host tells its driver that it waits on local work.
    fn pending(&self) -> bool {
        false
    }
    /// The owed answer, if it is ready: its commands pushed to `cmds`, and
    /// a note for the trace. `Poll::Pending` while it is not, after
    /// arranging for `cx`'s waker to be woken when it is (the waker of the
    /// latest call is the one woken, as for any future). Called only while
    /// [`Handler::pending`] is true.
    fn poll_answer(
        &mut self,
        now: Now,
        cx: &mut Context<'_>,
        cmds: &mut Vec<M::Command>,
    ) -> Poll<Option<String>> {
        let _ = (now, cx, cmds);
        Poll::Ready(None)
    }
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
    /// The waker the driver last waited with (see [`Hosted::poll_local`]).
    waker: Option<Waker>,
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
            waker: None,
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
    /// event; returns whether there were any, or a late answer came. Stops
    /// at an event whose answer the handler owes (see [`Hosted::waiting`]):
    /// later events wait in the machine, so that answers stay in order.
    pub fn pump(&mut self, now: Now) -> bool {
        let mut any = false;
        // A late answer that is ready already is taken here too. The
        // handler keeps the waker of its latest poll, so it is polled with
        // the driver's own (the one `poll_local` was given), never one that
        // nobody waits on.
        if self.handler.pending() {
            let waker = self.waker.clone().unwrap_or_else(|| Waker::noop().clone());
            if self
                .take_answer(now, &mut Context::from_waker(&waker))
                .is_pending()
            {
                return false;
            }
            // The answer may have given the machine output to send.
            any = true;
        }
        while let Some(ev) = self.machine.poll_event() {
            any = true;
            let note = self.handler.on_event(now, ev, &mut self.commands);
            self.note(note);
            self.feed(now);
            if self.handler.pending() {
                break;
            }
        }
        any
    }

    /// Whether the handler owes an answer: the endpoint waits on local work,
    /// sends nothing new and reads nothing until [`Hosted::poll_local`] is
    /// ready. A driver should not feed input meanwhile (the machine would
    /// only buffer it, up to its limit).
    pub fn waiting(&self) -> bool {
        self.handler.pending()
    }

    /// Waits on the handler's owed answer: `Ready` once it is given to the
    /// machine (and the events after it answered), or when none is owed;
    /// `Pending` after arranging for `cx`'s waker to be woken when it is
    /// ready.
    pub fn poll_local(&mut self, now: Now, cx: &mut Context<'_>) -> Poll<()> {
        if !self.handler.pending() {
            return Poll::Ready(());
        }
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.waker = Some(cx.waker().clone());
        }
        if self.take_answer(now, cx).is_pending() {
            return Poll::Pending;
        }
        self.pump(now);
        Poll::Ready(())
    }

    fn take_answer(&mut self, now: Now, cx: &mut Context<'_>) -> Poll<()> {
        match self.handler.poll_answer(now, cx, &mut self.commands) {
            Poll::Ready(note) => {
                self.note(note);
                self.feed(now);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn note(&mut self, note: Option<String>) {
        if let (Some(notes), Some(note)) = (&mut self.notes, note) {
            notes.push(note);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::mem::MemStore;
    use crate::time::UnixTime;
    use crate::transfer::server::{Command, Event, Server};
    use crate::transfer::store::Files;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// Answers `Stat` late (when the test says so), everything else at once.
    #[derive(Debug)]
    struct Late {
        files: Files<MemStore>,
        owed: Option<Event>,
        release: bool,
        waker: Option<Waker>,
        answered: Vec<&'static str>,
    }

    impl Handler<Server> for Late {
        fn on_event(&mut self, _: Now, event: Event, cmds: &mut Vec<Command>) -> Option<String> {
            if matches!(event, Event::Stat { .. }) {
                self.owed = Some(event);
                return None;
            }
            cmds.extend(self.files.answer(event));
            None
        }

        fn pending(&self) -> bool {
            self.owed.is_some()
        }

        fn poll_answer(
            &mut self,
            _: Now,
            cx: &mut Context<'_>,
            cmds: &mut Vec<Command>,
        ) -> Poll<Option<String>> {
            if !self.release {
                self.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            self.release = false;
            let event = self.owed.take();
            cmds.extend(event.and_then(|e| self.files.answer(e)));
            self.answered.push("stat");
            Poll::Ready(Some(String::from("late stat")))
        }
    }

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn now() -> Now {
        Now::new(Instant::from_millis(1), UnixTime::from_secs(100))
    }

    fn sent(h: &mut Hosted<Server, Late>) -> String {
        let mut out = String::new();
        while let Some(t) = h.poll_transmit(now()) {
            out.push_str(core::str::from_utf8(&t.payload).expect("text replies"));
        }
        out
    }

    #[test]
    fn a_late_answer_holds_later_requests_and_wakes_the_driver() {
        let mut store = MemStore::new();
        store.insert("a", Bytes::from_static(b"12345"));
        let late = Late {
            files: Files::new(store),
            owed: None,
            release: false,
            waker: None,
            answered: Vec::new(),
        };
        let mut h = Hosted::new(Server::new(), late).keeping_notes();
        h.input(
            now(),
            Input::Data {
                from: crate::PeerId::FIRST,
                bytes: b"HELLO 1\nSTAT a\nSTAT nope\n",
            },
        );
        assert_eq!(sent(&mut h), "HELLO 1\n", "nothing after the owed STAT");
        assert!(h.waiting());

        // The driver waits: its waker is kept, and nothing moves.
        let count = Arc::new(Count::default());
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        assert!(h.poll_local(now(), &mut cx).is_pending());
        // Input meanwhile is held in the machine, and pumping with no waker
        // of the driver's does not replace the driver's.
        h.input(
            now(),
            Input::Data {
                from: crate::PeerId::FIRST,
                bytes: b"STAT a\n",
            },
        );
        assert_eq!(sent(&mut h), "");
        assert!(
            h.handler()
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(&waker))
        );

        // The work ends elsewhere: it wakes the driver, which takes the
        // answer, and the requests held behind it are answered in order.
        h.handler_mut().release = true;
        if let Some(w) = h.handler_mut().waker.take() {
            w.wake();
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(h.poll_local(now(), &mut cx).is_ready());
        assert_eq!(sent(&mut h), "STAT file 5\n");
        // The second STAT is owed in turn. A driver that only asks for
        // output (the poll loop, woken) gets the late answer's reply too.
        assert!(h.waiting());
        h.handler_mut().release = true;
        let replies = sent(&mut h);
        assert!(replies.starts_with("ERR 404"), "{replies}");
        assert!(h.waiting());
        h.handler_mut().release = true;
        assert!(h.poll_local(now(), &mut cx).is_ready());
        assert!(!h.waiting());
        assert_eq!(sent(&mut h), "STAT file 5\n");
        assert_eq!(h.handler().answered, ["stat", "stat", "stat"]);
        let mut notes = Vec::new();
        h.take_notes(&mut notes);
        assert_eq!(notes, ["late stat", "late stat", "late stat"]);
    }

    #[test]
    fn handlers_that_answer_at_once_never_wait() {
        struct AtOnce(Files<MemStore>);
        impl Handler<Server> for AtOnce {
            fn on_event(&mut self, _: Now, e: Event, cmds: &mut Vec<Command>) -> Option<String> {
                cmds.extend(self.0.answer(e));
                None
            }
        }
        let mut h = Hosted::new(Server::new(), AtOnce(Files::new(MemStore::new())));
        h.input(
            now(),
            Input::Data {
                from: crate::PeerId::FIRST,
                bytes: b"HELLO 1\nSTAT nope\n",
            },
        );
        assert!(!h.waiting());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(h.poll_local(now(), &mut cx).is_ready());
        let mut n = 0;
        while h.poll_transmit(now()).is_some() {
            n += 1;
        }
        assert_eq!(n, 2, "HELLO and the 404 at once");
    }
}
