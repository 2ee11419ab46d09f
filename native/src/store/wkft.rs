//! The WKFT/1 adapter of the sandboxed store: the core's adapter
//! ([`wirekit_core::transfer::store::Files`]) over the disk, as the handler
//! of a server session, with the server's log lines.

use crate::endpoint::Handler;
use crate::store::Store;
use wirekit_core::Now;
use wirekit_core::transfer::server::{Command, Event, Server};
use wirekit_core::transfer::store::Files;

/// One connection's use of the store: the file it reads, the upload it
/// writes.
#[derive(Debug)]
pub struct WkftSession(Files<Store>);

impl WkftSession {
    /// A session on `store`.
    pub fn new(store: Store) -> Self {
        WkftSession(Files::new(store))
    }

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

impl Handler<Server> for WkftSession {
    fn on_event(&mut self, _now: Now, event: Event, commands: &mut Vec<Command>) -> Option<String> {
        commands.extend(self.answer(event));
        None
    }

    fn on_close(&mut self, _now: Now) {
        self.0.close();
    }
}

impl Drop for WkftSession {
    fn drop(&mut self) {
        // However the session ends, an upload's partial stays for a resume.
        self.0.close();
    }
}
