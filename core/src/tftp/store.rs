//! TFTP's adapter of the store contract: a server transfer's file
//! events answered from any [`Store`], and the contract's error kinds as
//! TFTP's error codes. The native server runs it over the disk, the
//! simulator over memory.

use super::StoreError;
use super::server::{Command, Event};
use crate::store::{self, ErrorKind, Store};
use crate::wire::tftp::ErrorCode;

/// A store refusal as TFTP says it.
pub fn tftp_error(e: store::Error) -> StoreError {
    let code = match e.kind {
        ErrorKind::NotFound => ErrorCode::FileNotFound,
        ErrorKind::Denied | ErrorKind::Invalid => ErrorCode::AccessViolation,
        ErrorKind::Exists => ErrorCode::FileExists,
        // TFTP has one code for both: "disk full or allocation exceeded".
        ErrorKind::Full | ErrorKind::NoSpace => ErrorCode::DiskFull,
        _ => ErrorCode::NotDefined,
    };
    StoreError::new(code, e.message)
}

/// One transfer's use of a store.
#[derive(Debug)]
pub struct Files<S: Store> {
    store: S,
    reading: Option<S::Reader>,
    upload: Option<S::Partial>,
}

impl<S: Store> Files<S> {
    /// A transfer's answers from `store`.
    pub fn new(store: S) -> Self {
        Files {
            store,
            reading: None,
            upload: None,
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The answer to one event of a [`Transfer`](super::server::Transfer), if it needs one.
    pub fn answer(&mut self, event: Event) -> Option<Command> {
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
            Event::ReadChunk { offset, len } => match &mut self.reading {
                Some(file) => match self.store.read_at(file, offset, len) {
                    Ok(b) => Command::Chunk(b),
                    Err(e) => Command::ReadFailed(tftp_error(e)),
                },
                None => Command::ReadFailed(StoreError::new(ErrorCode::NotDefined, "no open file")),
            },
            Event::OpenWrite { filename, size } => Command::Created(
                self.store
                    .create_partial(&filename, crate::store::Begin::fresh(size.unwrap_or(0)))
                    .map(|up| {
                        self.upload = Some(up);
                    })
                    .map_err(tftp_error),
            ),
            Event::WriteChunk { offset, data } => {
                let up = self.upload.as_mut()?;
                return self
                    .store
                    .append(up, offset, &data)
                    .err()
                    .map(|e| Command::WriteFailed(tftp_error(e)));
            }
            Event::Commit { size } => match self.upload.take() {
                Some(up) => {
                    Command::Committed(self.store.commit(up, size, None).map_err(tftp_error))
                }
                None => {
                    Command::Committed(Err(StoreError::new(ErrorCode::NotDefined, "no upload")))
                }
            },
            Event::Abort => {
                self.abort();
                return None;
            }
            Event::Negotiated(_) | Event::Done { .. } | Event::Failed(_) => return None,
        })
    }

    /// The transfer is cut off: no partial survives a TFTP upload, which
    /// cannot be resumed.
    pub fn abort(&mut self) {
        if let Some(up) = self.upload.take() {
            self.store.discard(up);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_limit_and_no_room_are_both_tftps_disk_full() {
        for kind in [ErrorKind::Full, ErrorKind::NoSpace] {
            let e = tftp_error(store::Error::new(kind, "no"));
            assert_eq!(e.code, ErrorCode::DiskFull, "{kind:?}");
        }
        let e = tftp_error(store::Error::new(ErrorKind::Busy, "busy"));
        assert_eq!(e.code, ErrorCode::NotDefined);
    }
}
