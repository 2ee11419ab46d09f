//! The TFTP adapter of the sandboxed store: the core's adapter
//! ([`wirekit_core::tftp::store::Files`]) over the disk, as the handler of
//! a server transfer. Uploads land in a partial and are renamed into place
//! only when complete, as over WKFT/1.

use crate::endpoint::Handler;
use crate::store::Store;
use std::io;
use wirekit_core::Now;
use wirekit_core::tftp::StoreError;
use wirekit_core::tftp::server::{Command, Event, Transfer};
use wirekit_core::tftp::store::{Files, tftp_error};

/// A disk error as TFTP says it.
pub fn io_error(e: &io::Error) -> StoreError {
    tftp_error(crate::store::store_error(e).into())
}

/// One transfer's use of the store.
#[derive(Debug)]
pub struct TftpSession(Files<Store>);

impl TftpSession {
    /// A session on `store`.
    pub fn new(store: Store) -> Self {
        TftpSession(Files::new(store))
    }
}

impl Handler<Transfer> for TftpSession {
    fn on_event(&mut self, _now: Now, event: Event, commands: &mut Vec<Command>) -> Option<String> {
        match &event {
            Event::Negotiated(p) => tracing::debug!(?p, "tftp transfer negotiated"),
            Event::Done { bytes } => tracing::info!(bytes, "tftp transfer done"),
            Event::Failed(f) => tracing::info!("tftp transfer failed: {f}"),
            _ => {}
        }
        commands.extend(self.0.answer(event));
        None
    }

    fn on_close(&mut self, _now: Now) {
        // A transfer cut off (server stopping): no partial survives a TFTP
        // upload, which cannot be resumed.
        self.0.abort();
    }
}
