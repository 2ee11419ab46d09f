//! The TFTP server's well-known port: every first request becomes a new
//! [`Transfer`] (to be run on a fresh socket, its transfer ID) or an
//! answer. One listener serves the native server under every IO model and
//! the simulated server, so both refuse, admit and turn away alike.

use super::server::{Refusal, ServerConfig, Transfer, accept};
use crate::host::{Accepted, Listen, Load};
use crate::wire::tftp::{ErrorCode, error_bytes};
use alloc::format;

/// Transfers running at once, unless configured.
pub const DEFAULT_MAX_TRANSFERS: usize = 64;

/// The listener: [`accept`] plus the admission limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listener {
    config: ServerConfig,
    max_transfers: usize,
}

impl Listener {
    /// A listener that runs at most `max_transfers` transfers at once.
    pub fn new(config: ServerConfig, max_transfers: usize) -> Self {
        Listener {
            config,
            max_transfers,
        }
    }

    /// How transfers behave.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }
}

impl Default for Listener {
    fn default() -> Self {
        Listener::new(ServerConfig::default(), DEFAULT_MAX_TRANSFERS)
    }
}

impl Listen for Listener {
    type Child = Transfer;

    fn accept(&mut self, datagram: &[u8], load: Load) -> Accepted<Transfer> {
        // A bad request is refused for what it is, even when busy: its
        // sender should not retry it.
        let request = match accept(datagram, &self.config) {
            Ok(r) => r,
            Err(Refusal { reason, reply }) => {
                let why = format!("{reason:?}");
                return match reply {
                    Some(reply) => Accepted::Reply { reply, why },
                    None => Accepted::Ignore { why },
                };
            }
        };
        if load.running >= self.max_transfers || !load.room {
            return Accepted::Reply {
                reply: error_bytes(ErrorCode::NotDefined, "too many transfers; try later"),
                why: format!("busy: {} transfers running", load.running),
            };
        }
        Accepted::Start(Transfer::new(request, &self.config))
    }

    fn lingering(child: &Transfer) -> bool {
        child.is_dallying()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Machine;

    fn rrq(name: &str) -> alloc::vec::Vec<u8> {
        let mut v = alloc::vec![0, 1];
        v.extend_from_slice(name.as_bytes());
        v.extend_from_slice(b"\0octet\0");
        v
    }

    #[test]
    fn a_request_starts_a_transfer() {
        let mut l = Listener::default();
        match l.accept(&rrq("a"), Load::IDLE) {
            Accepted::Start(t) => assert!(!t.is_done()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn busy_is_an_error_reply() {
        let mut l = Listener::new(ServerConfig::default(), 1);
        let busy = Load {
            running: 1,
            room: true,
        };
        assert!(matches!(l.accept(&rrq("a"), busy), Accepted::Reply { .. }));
        let full = Load {
            running: 0,
            room: false,
        };
        assert!(matches!(l.accept(&rrq("a"), full), Accepted::Reply { .. }));
    }

    #[test]
    fn garbage_gets_no_answer_and_a_write_to_a_read_only_server_an_error() {
        let mut l = Listener::default();
        assert!(matches!(
            l.accept(b"\x00\x09zz", Load::IDLE),
            Accepted::Ignore { .. }
        ));
        let mut wrq = rrq("a");
        wrq[1] = 2;
        assert!(matches!(l.accept(&wrq, Load::IDLE), Accepted::Reply { .. }));
    }
}
