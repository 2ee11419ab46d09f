//! The TFTP adapter of the sandboxed store: what a server transfer's file
//! events become on disk. Uploads land in a partial and are renamed into
//! place only when complete, as over WKFT/1.

use crate::endpoint::Handler;
use crate::store::{Store, Upload, read_exact_at};
use bytes::Bytes;
use std::fs::File;
use std::io;
use wirekit_core::Now;
use wirekit_core::tftp::StoreError;
use wirekit_core::tftp::server::{Command, Event, Transfer};
use wirekit_core::transfer::ErrorCode as WkftCode;
use wirekit_core::wire::tftp::ErrorCode;

/// Maps the store's (WKFT/1) refusals to TFTP's error codes.
fn tftp_error(e: wirekit_core::transfer::StoreError) -> StoreError {
    let code = match e.code {
        WkftCode::NotFound => ErrorCode::FileNotFound,
        WkftCode::Denied | WkftCode::BadRequest => ErrorCode::AccessViolation,
        WkftCode::Exists => ErrorCode::FileExists,
        WkftCode::TooLarge => ErrorCode::DiskFull,
        WkftCode::Mismatch | WkftCode::Internal | WkftCode::Busy => ErrorCode::NotDefined,
    };
    StoreError::new(code, e.message)
}

/// A disk error as TFTP says it.
pub fn io_error(e: &io::Error) -> StoreError {
    tftp_error(crate::store::store_error(e))
}

/// One transfer's use of the store.
#[derive(Debug)]
pub struct TftpSession {
    store: Store,
    reading: Option<File>,
    ahead: ReadAhead,
    upload: Option<Upload>,
}

/// A window of the file read in one system call and handed out block by
/// block: lock-step TFTP asks for 512 bytes at a time, and a read per block
/// made our server slower than tftpd-hpa's buffered one.
#[derive(Debug, Default)]
struct ReadAhead {
    start: u64,
    buf: Bytes,
}

impl ReadAhead {
    const SIZE: usize = 256 * 1024;

    fn read(&mut self, file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
        let end = offset.saturating_add(len as u64);
        let have = self.start + self.buf.len() as u64;
        let inside = offset >= self.start && end <= have;
        if !inside {
            self.start = offset;
            self.buf = read_exact_at(file, offset, len.max(Self::SIZE))?;
        }
        let from = (offset - self.start) as usize;
        let to = (from + len).min(self.buf.len());
        Ok(self.buf.slice(from.min(to)..to))
    }
}

impl TftpSession {
    /// A session on `store`.
    pub fn new(store: Store) -> Self {
        TftpSession {
            store,
            reading: None,
            ahead: ReadAhead::default(),
            upload: None,
        }
    }

    fn answer(&mut self, event: Event) -> Option<Command> {
        Some(match event {
            Event::OpenRead { filename } => Command::Opened(
                self.store
                    .open_read(&filename)
                    .map(|(file, size)| {
                        self.reading = Some(file);
                        size
                    })
                    .map_err(tftp_error),
            ),
            Event::ReadChunk { offset, len } => match &self.reading {
                Some(file) => match self.ahead.read(file, offset, len) {
                    Ok(b) => Command::Chunk(b),
                    Err(e) => Command::ReadFailed(io_error(&e)),
                },
                None => Command::ReadFailed(StoreError::new(ErrorCode::NotDefined, "no open file")),
            },
            Event::OpenWrite { filename, size } => Command::Created(
                self.store
                    .begin_upload(&filename, size.unwrap_or(0), 0)
                    .map(|up| {
                        self.upload = Some(up);
                    })
                    .map_err(tftp_error),
            ),
            Event::WriteChunk { offset, data } => {
                let up = self.upload.as_ref()?;
                return up
                    .write_at(offset, &data)
                    .err()
                    .map(|e| Command::WriteFailed(tftp_error(e)));
            }
            Event::Commit { size } => match self.upload.take() {
                Some(up) => Command::Committed(up.commit(size).map_err(tftp_error)),
                None => {
                    Command::Committed(Err(StoreError::new(ErrorCode::NotDefined, "no upload")))
                }
            },
            Event::Abort => {
                if let Some(up) = self.upload.take() {
                    up.discard();
                }
                return None;
            }
            Event::Negotiated(p) => {
                tracing::debug!(?p, "tftp transfer negotiated");
                return None;
            }
            Event::Done { bytes } => {
                tracing::info!(bytes, "tftp transfer done");
                return None;
            }
            Event::Failed(f) => {
                tracing::info!("tftp transfer failed: {f}");
                return None;
            }
        })
    }
}

impl Handler<Transfer> for TftpSession {
    fn on_event(&mut self, _now: Now, event: Event, commands: &mut Vec<Command>) {
        commands.extend(self.answer(event));
    }

    fn on_close(&mut self, _now: Now) {
        // A transfer cut off (server stopping): no partial survives a TFTP
        // upload, which cannot be resumed.
        if let Some(up) = self.upload.take() {
            up.discard();
        }
    }
}
