//! TFTP in the simulator: a server that answers one transfer at a time from
//! its well-known port, and a client that downloads and checks every byte.
//!
//! A real TFTP server opens a fresh port for every transfer (its transfer
//! ID); here the server answers from the port the request came to, which
//! RFC 1350 clients accept (they follow whichever port answers first) and
//! which keeps the simulated host to one socket. Everything else — the
//! windows, the timeouts, the retransmissions and the dally — is the core's
//! real TFTP machines.

use super::app::{Responder, Status};
use super::store::content;
use crate::machine::{Input, Machine, PeerId, Transmit};
use crate::tftp::client::{self, Client};
use crate::tftp::server::{self, ServerConfig, Transfer, accept};
use crate::tftp::{PEER, StoreError};
use crate::time::{Instant, Now};
use crate::wire::tftp::ErrorCode;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use super::store::FileSpec;

/// A TFTP server on one port, serving one transfer at a time.
#[derive(Debug)]
pub struct OnePortServer {
    config: ServerConfig,
    /// The transfer running and the peer it serves.
    current: Option<(PeerId, Transfer)>,
    out: VecDeque<Transmit>,
}

impl OnePortServer {
    /// A read-only server with the default limits.
    pub fn new() -> Self {
        OnePortServer {
            config: ServerConfig::default(),
            current: None,
            out: VecDeque::new(),
        }
    }

    fn busy(&self) -> bool {
        self.current.as_ref().is_some_and(|(_, t)| !t.is_done())
    }
}

impl Default for OnePortServer {
    fn default() -> Self {
        Self::new()
    }
}

impl Machine for OnePortServer {
    type Command = server::Command;
    type Event = server::Event;
    type Error = crate::tftp::Misuse;

    fn handle_input(&mut self, now: Now, input: Input<'_>) -> Result<(), Self::Error> {
        match input {
            Input::Data { from, bytes } => {
                let busy = self.busy();
                // A request repeated by the network (or by a client whose
                // first answer was lost) is not part of the transfer it
                // started: a server with a port per transfer would see it on
                // the listening port, not on the transfer's.
                let request = matches!(bytes.get(..2), Some([0, 1] | [0, 2]));
                match &mut self.current {
                    _ if busy && request => {}
                    Some((peer, t)) if *peer == from && !t.is_done() => {
                        t.handle_input(now, Input::Data { from: PEER, bytes })?;
                    }
                    _ if busy => {} // one transfer at a time: others wait and retry
                    _ => match accept(bytes, &self.config) {
                        Ok(request) => {
                            self.current = Some((from, Transfer::new(request, &self.config)))
                        }
                        Err(refusal) => {
                            if let Some(reply) = refusal.reply {
                                self.out.push_back(Transmit {
                                    to: from,
                                    payload: reply,
                                });
                            }
                        }
                    },
                }
            }
            Input::Eof { .. } => {}
            Input::Timeout => {
                if let Some((_, t)) = &mut self.current {
                    t.handle_input(now, Input::Timeout)?;
                }
            }
        }
        Ok(())
    }

    fn handle_command(&mut self, now: Now, cmd: Self::Command) -> Result<(), Self::Error> {
        match &mut self.current {
            Some((_, t)) => t.handle_command(now, cmd),
            None => Ok(()),
        }
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(t) = self.out.pop_front() {
            return Some(t);
        }
        let (peer, t) = self.current.as_mut()?;
        let mut tx = t.poll_transmit()?;
        // The transfer speaks to PEER; on this one port that is its client.
        if tx.to == PEER {
            tx.to = *peer;
        }
        Some(tx)
    }

    fn poll_event(&mut self) -> Option<Self::Event> {
        self.current.as_mut()?.1.poll_event()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.current.as_ref()?.1.poll_timeout()
    }

    fn is_done(&self) -> bool {
        false
    }
}

/// Answers the server's file events from generated files.
#[derive(Debug)]
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

impl Responder<OnePortServer> for ServeFiles {
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
