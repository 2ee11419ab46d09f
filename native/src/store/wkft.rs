//! The WKFT/1 adapter of the sandboxed store: the core's adapter
//! ([`wirekit_core::transfer::store::Files`]) over the disk, as the handler
//! of a server session, with the server's log lines. The answers that can
//! take long (they hash a file) are worked out on the server's
//! [`Pool`], so that they hold up no other connection.

use crate::endpoint::Handler;
use crate::store::Store;
use crate::work::{Answers, Offload, Pool};
use std::task::{Context, Poll};
use wirekit_core::Now;
use wirekit_core::transfer::server::{Command, Event, Server};
use wirekit_core::transfer::store::Files;

// ANCHOR: is_slow
/// Up to this many bytes are hashed on the connection's own driver: about a
/// millisecond's work, less than the trip to a worker would cost in waiting
/// behind the hashes of large files there.
pub const HASH_INLINE: u64 = 1 << 20;

/// The events whose answer may read much of a file: a resumed `GET` with
/// no cached digest hashes the whole file (of a size not known before it
/// is open), a resumed `PUT` hashes the kept prefix for `READY`, a commit
/// hashes the partial as stored. (A resumed `GET` whose digest is cached
/// goes to the pool too: telling would take the cache's lookup, and the
/// trip costs little.)
pub fn is_slow(event: &Event) -> bool {
    match event {
        Event::OpenRead { offset, .. } => *offset > 0,
        Event::BeginUpload { offset, .. } => *offset > HASH_INLINE,
        Event::CommitUpload { size, .. } => *size > HASH_INLINE,
        _ => false,
    }
}
// ANCHOR_END: is_slow

/// The store as one connection uses it: the file it reads, the upload it
/// writes. It travels to a worker with each slow event.
#[derive(Debug)]
pub struct Use(Files<Store>);

impl Use {
    /// Answers one event; `None` when no answer is due.
    pub fn answer(&mut self, event: Event) -> Option<Command> {
        let committing = match &event {
            Event::CommitUpload { path, size, digest } => Some((path.clone(), *size, *digest)),
            Event::AbortUpload { keep_partial: true } => {
                tracing::info!("upload interrupted; partial kept");
                None
            }
            Event::Protocol(e) => {
                tracing::info!("client broke the protocol: {e}");
                None
            }
            _ => None,
        };
        let answer = self.0.answer(event);
        match (&committing, &answer) {
            (Some((path, size, digest)), Some(Command::Committed(Ok(())))) => {
                tracing::info!(path, size, %digest, "upload committed")
            }
            (Some((path, ..)), Some(Command::Committed(Err(e)))) => {
                tracing::warn!(path, "commit failed: {e}")
            }
            (_, Some(Command::WriteFailed(e))) => tracing::warn!("upload write failed: {e}"),
            _ => {}
        }
        answer
    }
}

impl Answers<Server> for Use {
    fn answer(&mut self, event: Event, cmds: &mut Vec<Command>) {
        cmds.extend(Use::answer(self, event));
    }

    fn is_slow(&self, event: &Event) -> bool {
        is_slow(event)
    }

    fn close(&mut self) {
        self.0.close();
    }

    fn lost(cmds: &mut Vec<Command>) {
        // The open file or upload went with the store: end the session.
        cmds.push(Command::Close);
    }
}

impl Drop for Use {
    fn drop(&mut self) {
        // However the session ends (on a worker, too), an upload's partial
        // stays for a resume.
        self.0.close();
    }
}

/// One connection's handler: the store's answers, the slow ones late from
/// a pool.
#[derive(Debug)]
pub struct WkftSession(Offload<Use, Command>);

impl WkftSession {
    /// A session on `store` that answers every event at once.
    pub fn new(store: Store) -> Self {
        WkftSession(Offload::new(Use(Files::new(store)), None))
    }

    /// A session on `store` whose slow answers run on `pool`.
    pub fn with_pool(store: Store, pool: Pool) -> Self {
        WkftSession(Offload::new(Use(Files::new(store)), Some(pool)))
    }
}

impl Handler<Server> for WkftSession {
    fn on_event(&mut self, now: Now, event: Event, commands: &mut Vec<Command>) -> Option<String> {
        self.0.on_event(now, event, commands)
    }

    fn pending(&self) -> bool {
        Handler::<Server>::pending(&self.0)
    }

    fn poll_answer(
        &mut self,
        now: Now,
        cx: &mut Context<'_>,
        cmds: &mut Vec<Command>,
    ) -> Poll<Option<String>> {
        self.0.poll_answer(now, cx, cmds)
    }

    fn on_close(&mut self, now: Now) {
        Handler::<Server>::on_close(&mut self.0, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_work_that_may_hash_much_is_slow() {
        let put = |offset| Event::BeginUpload {
            path: "f".into(),
            size: 1 << 30,
            offset,
            replace: false,
            restart: false,
        };
        let get = |offset| Event::OpenRead {
            path: "f".into(),
            offset,
            version: None,
        };
        let commit = |size| Event::CommitUpload {
            path: "f".into(),
            size,
            digest: wirekit_core::wire::transfer::Digest([0; 32]),
        };
        assert!(is_slow(&get(1)), "the whole file is hashed");
        assert!(!is_slow(&get(0)));
        assert!(!is_slow(&Event::CheckRead {
            digest: wirekit_core::wire::transfer::Digest([0; 32]),
        }));
        assert!(is_slow(&put(HASH_INLINE + 1)));
        assert!(!is_slow(&put(0)));
        assert!(!is_slow(&put(HASH_INLINE)));
        assert!(is_slow(&commit(HASH_INLINE + 1)));
        assert!(!is_slow(&commit(10)));
        assert!(!is_slow(&Event::Stat { path: "f".into() }));
        assert!(!is_slow(&Event::ReadChunk { max: 65536 }));
    }
}
