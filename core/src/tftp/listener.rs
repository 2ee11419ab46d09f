//! The TFTP server's well-known port: every first request becomes a new
//! [`Transfer`] (to be run on a fresh socket, its transfer ID) or an
//! answer. One listener serves the native server under every IO model and
//! the simulated server, so both refuse, admit and turn away alike.

use super::server::{Refusal, ServerConfig, Transfer, accept};
use crate::host::{Accepted, Listen, Load};
use crate::wire::tftp::{ErrorCode, error_bytes};
use alloc::format;
use bytes::Bytes;

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
        match self.decide(datagram, load) {
            Accepted::Reply { reply, why } => match no_larger(reply, datagram.len()) {
                Some(reply) => Accepted::Reply { reply, why },
                None => Accepted::Ignore { why },
            },
            other => other,
        }
    }

    fn lingering(child: &Transfer) -> bool {
        child.is_dallying()
    }
}

/// An ERROR packet cut to at most `limit` bytes (its message shortened),
/// or nothing if even an empty one is longer: the port is reachable by
/// anyone with a forged source address, and an answer larger than the
/// question would make it an amplifier.
fn no_larger(reply: Bytes, limit: usize) -> Option<Bytes> {
    const HEAD: usize = 4; // opcode and error code
    if reply.len() <= limit {
        return Some(reply);
    }
    if limit < HEAD + 1 {
        return None;
    }
    let message = reply.get(HEAD..reply.len().saturating_sub(1))?;
    let mut keep = (limit - HEAD - 1).min(message.len());
    // Messages are ASCII today; a cut never splits a character anyway.
    while keep > 0 && core::str::from_utf8(&message[..keep]).is_err() {
        keep -= 1;
    }
    let mut out = alloc::vec::Vec::with_capacity(HEAD + keep + 1);
    out.extend_from_slice(reply.get(..HEAD)?);
    out.extend_from_slice(message.get(..keep)?);
    out.push(0);
    Some(Bytes::from(out))
}

impl Listener {
    fn decide(&mut self, datagram: &[u8], load: Load) -> Accepted<Transfer> {
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
    fn no_answer_is_larger_than_its_question() {
        // Found by the tftp_listener fuzz target: a 6-byte request with an
        // unknown mode got a 17-byte answer.
        let mut l = Listener::new(ServerConfig::default(), 0);
        let tiny = [0, 1, 1, 0, 1, 0];
        match l.accept(&tiny, Load::IDLE) {
            Accepted::Reply { reply, .. } => {
                assert!(reply.len() <= tiny.len(), "{reply:?}");
                assert_eq!(reply.last(), Some(&0), "still an ERROR packet");
            }
            Accepted::Ignore { .. } => {}
            Accepted::Start(_) => panic!("started past a limit of 0"),
        }
        // A request long enough still hears the whole reason.
        let long = rrq("a-name-long-enough-for-the-reason");
        match l.accept(&long, Load::IDLE) {
            Accepted::Reply { reply, .. } => {
                assert!(reply.ends_with(b"too many transfers; try later\0"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            l.accept(&[0, 1, 0, 0], Load::IDLE),
            Accepted::Ignore { .. }
        ));
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
