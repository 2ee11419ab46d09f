//! One object-safe face for every protocol endpoint, so that each IO model
//! has a single driver loop for all protocols.
//!
//! A core [`Machine`] speaks the protocol; some machines also need local
//! answers (the file-transfer server asks its store for chunks). The core's
//! [`Hosted`] pairs a machine with the [`Handler`] that answers its events
//! (the simulator hosts its applications the same way), and the pair is
//! driven through [`Endpoint`] without the driver knowing which protocol
//! runs.

use std::task::{Context, Poll};
use wirekit_core::host::{Accepted, Listen, Load};
pub use wirekit_core::host::{Handler, Hosted};
use wirekit_core::{Input, Instant, Machine, Now, Transmit};

// ANCHOR: endpoint
/// What a driver sees of a protocol endpoint.
pub trait Endpoint: Send {
    /// Feeds network input (and answers the events it raised).
    fn input(&mut self, now: Now, input: Input<'_>);
    /// The next bytes to send. Answers events raised meanwhile, because a
    /// machine may ask for more file data only once its output drained.
    fn poll_transmit(&mut self, now: Now) -> Option<Transmit>;
    /// When the endpoint next wants [`Input::Timeout`].
    fn poll_timeout(&self) -> Option<Instant>;
    /// Nothing more to do: send what is left, then close.
    fn is_done(&self) -> bool;
    /// Waiting on local work (a store's hash on the [`crate::work::Pool`]):
    /// nothing new to send until [`Endpoint::poll_local`] is ready. A stream
    /// driver then reads no input (TCP holds the client back) and does not
    /// count the wait as idle time. Datagram loops never ask: the handlers
    /// of datagram services (TFTP, echo, time) answer at once.
    fn waiting(&self) -> bool {
        false
    }
    /// `Ready` once the local work is done and its answer given (or when
    /// there is none); `Pending` after arranging for `cx`'s waker to be
    /// woken when it is. Every stream driver waits this way: the async
    /// one as a future, the others with wakers of their own.
    fn poll_local(&mut self, _now: Now, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
    /// The driver is about to drop the endpoint (the connection broke, the
    /// idle timeout fired, the server is shutting down).
    fn close(&mut self, _now: Now) {}
    /// Its work is done; it only lingers in case its last message was lost
    /// (TFTP's dally). A driver serving one request at a time moves on.
    fn lingering(&self) -> bool {
        false
    }
}

// ANCHOR_END: endpoint

/// A handler that only logs: echo and timestamp servers need no answers.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogEvents(pub &'static str);

impl<M: Machine> Handler<M> for LogEvents
where
    M::Event: std::fmt::Debug,
{
    fn on_event(&mut self, _now: Now, event: M::Event, _: &mut Vec<M::Command>) -> Option<String> {
        tracing::debug!(service = self.0, ?event);
        None
    }
}

impl<M, H> Endpoint for Hosted<M, H>
where
    M: Machine + Send,
    M::Command: Send,
    M::Error: std::fmt::Debug,
    H: Handler<M> + Send,
{
    fn input(&mut self, now: Now, input: Input<'_>) {
        Hosted::input(self, now, input);
    }

    fn poll_transmit(&mut self, now: Now) -> Option<Transmit> {
        Hosted::poll_transmit(self, now)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Hosted::poll_timeout(self)
    }

    fn is_done(&self) -> bool {
        Hosted::is_done(self)
    }

    fn waiting(&self) -> bool {
        Hosted::waiting(self)
    }

    fn poll_local(&mut self, now: Now, cx: &mut Context<'_>) -> Poll<()> {
        Hosted::poll_local(self, now, cx)
    }

    fn close(&mut self, now: Now) {
        Hosted::close(self, now);
    }
}

/// What a driver sees of a per-request listener (TFTP's well-known port):
/// each datagram there either starts an endpoint on a fresh socket of its
/// own, or is answered, or ignored. The core's listener decides; see
/// [`wirekit_core::host`].
pub trait Dispatch: Send {
    /// Reads one datagram that came to the well-known port.
    fn dispatch(&mut self, datagram: &[u8], load: Load) -> Accepted<Box<dyn Endpoint>>;
}

/// A core [`Listen`] whose children are hosted with a handler from `make`.
pub struct PerRequest<L, F> {
    listener: L,
    make: F,
}

impl<L: std::fmt::Debug, F> std::fmt::Debug for PerRequest<L, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerRequest")
            .field("listener", &self.listener)
            .finish()
    }
}

impl<L, F> PerRequest<L, F> {
    /// `listener`, each child answered by a handler from `make`.
    pub fn new(listener: L, make: F) -> Self {
        PerRequest { listener, make }
    }
}

impl<L, H, F> Dispatch for PerRequest<L, F>
where
    L: Listen + Send + 'static,
    L::Child: Send + 'static,
    <L::Child as Machine>::Command: Send,
    <L::Child as Machine>::Error: std::fmt::Debug,
    H: Handler<L::Child> + Send + 'static,
    F: Fn() -> H + Send,
{
    fn dispatch(&mut self, datagram: &[u8], load: Load) -> Accepted<Box<dyn Endpoint>> {
        match self.listener.accept(datagram, load) {
            Accepted::Start(m) => Accepted::Start(Box::new(Child::<L, H> {
                hosted: Hosted::new(m, (self.make)()),
                listener: std::marker::PhantomData,
            })),
            Accepted::Reply { reply, why } => Accepted::Reply { reply, why },
            Accepted::Ignore { why } => Accepted::Ignore { why },
        }
    }
}

/// A listener's child: hosted like any machine, and able to say when it
/// only lingers.
struct Child<L: Listen, H> {
    hosted: Hosted<L::Child, H>,
    listener: std::marker::PhantomData<fn() -> L>,
}

impl<L, H> Endpoint for Child<L, H>
where
    L: Listen,
    L::Child: Send,
    <L::Child as Machine>::Command: Send,
    <L::Child as Machine>::Error: std::fmt::Debug,
    H: Handler<L::Child> + Send,
{
    fn input(&mut self, now: Now, input: Input<'_>) {
        self.hosted.input(now, input);
    }

    fn poll_transmit(&mut self, now: Now) -> Option<Transmit> {
        self.hosted.poll_transmit(now)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.hosted.poll_timeout()
    }

    fn is_done(&self) -> bool {
        self.hosted.is_done()
    }

    fn close(&mut self, now: Now) {
        self.hosted.close(now);
    }

    fn lingering(&self) -> bool {
        L::lingering(self.hosted.machine())
    }
}
