//! TFTP in the simulator: what the server's transfers answer from, and a
//! client that downloads and checks every byte.
//!
//! The server itself is the core's [`crate::tftp::listener::Listener`] in a
//! [`super::listen::ListenerApp`], as natively: every transfer from a fresh
//! port (its transfer ID), many at once. Everything else — the windows, the
//! timeouts, the retransmissions and the dally — is the core's real TFTP
//! machines.

use super::app::{Responder, Status};
use super::store::{FileSpec, MemStore};
use super::store::{content, same_bytes};
use crate::host::Handler;
use crate::tftp::client::{self, Client};
use crate::tftp::server::{self, Transfer};
use crate::tftp::store::Files;
use crate::time::Now;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

/// Answers a transfer's file events from the in-memory store, through
/// TFTP's adapter of the store contract; cloned for each transfer (the
/// files' bytes are shared, not copied).
#[derive(Debug)]
pub struct ServeFiles(Files<MemStore>);

impl Clone for ServeFiles {
    fn clone(&self) -> Self {
        ServeFiles(Files::new(self.0.store().clone()))
    }
}

impl ServeFiles {
    /// Generated files (see [`super::store::content`]).
    pub fn new(files: &[FileSpec]) -> Self {
        ServeFiles(Files::new(super::store::mem_store(files)))
    }
}

impl Handler<Transfer> for ServeFiles {
    fn on_event(
        &mut self,
        _now: Now,
        event: server::Event,
        cmds: &mut Vec<server::Command>,
    ) -> Option<String> {
        use server::Event as E;
        let note = match &event {
            E::OpenRead { filename } => Some(format!("tftp read {filename}")),
            E::Done { bytes } => Some(format!("tftp transfer done, {bytes} bytes")),
            E::Failed(f) => Some(format!("tftp transfer failed: {f}")),
            _ => None,
        };
        cmds.extend(self.0.answer(event));
        note
    }
}

impl Responder<Transfer> for ServeFiles {
    fn status(&self) -> Status {
        Status::Running
    }
}

/// Downloads one file and compares every byte with what the server holds.
#[derive(Debug)]
pub struct CheckedGet {
    expected: Bytes,
    received: Vec<u8>,
    status: Status,
}

impl CheckedGet {
    /// Expects the generated file `name` of `size` bytes.
    pub fn new(name: &str, size: u64) -> Self {
        CheckedGet {
            expected: Bytes::from(content(name, size)),
            received: Vec::new(),
            status: Status::Running,
        }
    }
}

impl Handler<Client> for CheckedGet {
    fn on_event(
        &mut self,
        _now: Now,
        event: client::Event,
        _cmds: &mut Vec<client::Command>,
    ) -> Option<String> {
        use client::Event as E;
        match event {
            E::Negotiated(p) => Some(format!(
                "tftp: blksize {}, windowsize {}, timeout {:?}",
                p.blksize, p.windowsize, p.timeout
            )),
            E::Data { offset, data } => {
                let at = usize::try_from(offset).unwrap_or(usize::MAX);
                if at != self.received.len()
                    || !self
                        .expected
                        .get(at..at + data.len())
                        .is_some_and(|w| same_bytes(w, &data))
                {
                    self.status = Status::Failed(format!("wrong bytes at offset {offset}"));
                    return Some(format!("tftp: wrong bytes at {offset}"));
                }
                self.received.extend_from_slice(&data);
                None
            }
            E::Done { bytes } => {
                if self.received.len() == self.expected.len() {
                    self.status = Status::Completed;
                    Some(format!("tftp get complete, {bytes} bytes"))
                } else {
                    self.status =
                        Status::Failed(format!("{bytes} of {} bytes", self.expected.len()));
                    Some(String::from("tftp get ended short"))
                }
            }
            E::Failed(f) => {
                // Giving up after the retry limit is TFTP's "the server looks
                // down", the one failure a lossy link may cause.
                self.status = Status::Failed(match &f {
                    crate::tftp::Failure::TimedOut { .. } => format!("server down: {f}"),
                    _ => format!("{f}"),
                });
                Some(format!("tftp get failed: {f}"))
            }
            E::ReadChunk { .. } | E::Progress { .. } => None,
        }
    }
}

impl Responder<Client> for CheckedGet {
    fn status(&self) -> Status {
        self.status.clone()
    }

    fn delivered(&self) -> u64 {
        self.received.len() as u64
    }
}
