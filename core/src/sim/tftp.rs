//! TFTP in the simulator: what the server's transfers answer from, and a
//! client that downloads and checks every byte.
//!
//! The server itself is the core's [`crate::tftp::listener::Listener`] in a
//! [`super::listen::ListenerApp`], as natively: every transfer from a fresh
//! port (its transfer ID), many at once. Everything else — the windows, the
//! timeouts, the retransmissions and the dally — is the core's real TFTP
//! machines.

use super::app::{Responder, Status};
use super::store::content;
use crate::tftp::StoreError;
use crate::tftp::client::{self, Client};
use crate::tftp::server::{self, Transfer};
use crate::time::Now;
use crate::wire::tftp::ErrorCode;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use super::store::FileSpec;

/// Answers a transfer's file events from generated files; cloned for each
/// transfer (the files' bytes are shared, not copied).
#[derive(Clone, Debug)]
pub struct ServeFiles {
    files: Vec<(String, Bytes)>,
    open: Option<Bytes>,
}

impl ServeFiles {
    /// Generated files (see [`content`]).
    pub fn new(files: &[FileSpec]) -> Self {
        ServeFiles {
            files: files
                .iter()
                .map(|f| (f.name.clone(), Bytes::from(content(&f.name, f.size))))
                .collect(),
            open: None,
        }
    }
}

impl Responder<Transfer> for ServeFiles {
    fn respond(
        &mut self,
        _now: Now,
        event: server::Event,
        cmds: &mut Vec<server::Command>,
    ) -> Option<String> {
        use server::{Command as C, Event as E};
        match event {
            E::OpenRead { filename } => {
                let found = self
                    .files
                    .iter()
                    .find(|(n, _)| *n == filename)
                    .map(|(_, b)| b.clone());
                self.open = found.clone();
                cmds.push(C::Opened(found.map(|b| b.len() as u64).ok_or_else(|| {
                    StoreError::new(ErrorCode::FileNotFound, "no such file")
                })));
                Some(format!("tftp read {filename}"))
            }
            E::ReadChunk { offset, len } => {
                let data = self.open.clone().unwrap_or_default();
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                let end = start.saturating_add(len).min(data.len());
                cmds.push(C::Chunk(data.slice(start..end)));
                None
            }
            E::OpenWrite { .. } => {
                cmds.push(C::Created(Err(StoreError::new(
                    ErrorCode::AccessViolation,
                    "read-only",
                ))));
                None
            }
            E::Commit { .. } => {
                cmds.push(C::Committed(Err(StoreError::new(
                    ErrorCode::AccessViolation,
                    "read-only",
                ))));
                None
            }
            E::Done { bytes } => Some(format!("tftp transfer done, {bytes} bytes")),
            E::Failed(f) => Some(format!("tftp transfer failed: {f}")),
            E::WriteChunk { .. } | E::Abort | E::Negotiated(_) => None,
        }
    }

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

impl Responder<Client> for CheckedGet {
    fn respond(
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
                    || self.expected.get(at..at + data.len()) != Some(&data[..])
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

    fn status(&self) -> Status {
        self.status.clone()
    }

    fn delivered(&self) -> u64 {
        self.received.len() as u64
    }
}
