//! The hosting vocabulary shared by every front end (native drivers, the
//! simulator, tests): what a driver needs beyond [`crate::Machine`] to run a
//! protocol without knowing which one it is.
//!
//! A *per-request* protocol (TFTP) has a listener on a well-known port whose
//! only job is to read first requests: each one either starts a new machine
//! on a fresh socket of its own, or is answered (refused, busy) or ignored.
//! The decision is protocol logic, so it lives here and not in a driver —
//! which is what lets the native server and the simulated one behave alike.

use alloc::string::String;
use bytes::Bytes;

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
    /// TFTP, [`PeerId::FIRST`]).
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
    type Child: crate::Machine;
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
