//! TFTP on real sockets: the server on its well-known port (7069 here), a
//! socket of its own for every transfer, and `wirekit tftp get|put`.
//!
//! The core decides everything about the protocol ([`wirekit_core::tftp`]);
//! this module does what only a driver can: pick a fresh port per transfer
//! (RFC 1350's transfer IDs), map addresses to peer ids, and answer file
//! events from the sandboxed store — uploads land in a partial and are
//! renamed into place only when complete, as over WKFT/1.

use crate::client::{ClientError, Collect, run_udp};
use crate::clock::Clock;
use crate::endpoint::{Handler, Hosted};
use crate::store::{Store, Upload};
use bytes::Bytes;
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wirekit_core::Now;
use wirekit_core::tftp::client::{Client, ClientConfig, Command as CCmd, Event as CEvent};
use wirekit_core::tftp::server::{Command, Event, Transfer};
use wirekit_core::tftp::{Failure, StoreError};
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

fn io_error(e: &io::Error) -> StoreError {
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

/// Reads `len` bytes at `offset`, fewer only at the end of the file.
fn read_exact_at(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = vec![0; len];
    let mut got = 0;
    while got < len {
        let n = file.read_at(buf.get_mut(got..).unwrap_or_default(), offset + got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    buf.truncate(got);
    Ok(Bytes::from(buf))
}

/// What a client transfer did.
#[derive(Clone, Debug, Serialize)]
pub struct Transferred {
    /// The remote file name.
    pub remote: String,
    /// The local file.
    pub local: PathBuf,
    /// Bytes of the local file.
    pub bytes: u64,
    /// Block size used.
    pub blksize: u16,
    /// Window size used.
    pub windowsize: u16,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl Transferred {
    fn new(
        remote: &str,
        local: &Path,
        bytes: u64,
        params: Option<wirekit_core::tftp::Params>,
        config: &ClientConfig,
        started: std::time::Instant,
    ) -> Self {
        // No OACK: the server took no options, so RFC 1350's defaults held.
        let p = params.unwrap_or_else(|| wirekit_core::tftp::Params::plain(config.timeout));
        Transferred {
            remote: remote.to_owned(),
            local: local.to_owned(),
            bytes,
            blksize: p.blksize,
            windowsize: p.windowsize,
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

#[derive(Debug, Default)]
struct ClientState {
    params: Option<wirekit_core::tftp::Params>,
    done: Option<Result<u64, Failure>>,
    local_error: Option<String>,
}

/// Blocks arrive in order, one small datagram each: gather them and write
/// in large pieces, one system call per [`Batched::SIZE`] instead of per block.
struct Batched {
    file: File,
    start: u64,
    buf: Vec<u8>,
}

impl Batched {
    const SIZE: usize = 256 * 1024;

    fn new(file: File) -> Self {
        Batched {
            file,
            start: 0,
            buf: Vec::with_capacity(Self::SIZE),
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if offset != self.start + self.buf.len() as u64 {
            self.flush()?;
            self.start = offset;
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::SIZE {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.write_all_at(&self.buf, self.start)?;
        self.start += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

fn failure(f: Failure) -> ClientError {
    match f {
        Failure::Peer { code, message } => {
            ClientError::Refused(format!("TFTP error {}: {message}", code.code()))
        }
        Failure::TimedOut { timeouts } => {
            ClientError::TimedOut(Duration::from_secs(u64::from(timeouts)))
        }
        other => ClientError::Protocol(other.to_string()),
    }
}

/// Downloads `remote` into `local` (through a partial renamed on success).
pub fn get(
    server: SocketAddr,
    remote: &str,
    local: &Path,
    config: ClientConfig,
    progress: bool,
) -> Result<Transferred, ClientError> {
    let started = std::time::Instant::now();
    let clock = Clock::new();
    let part = crate::transfer::partial_path(local);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&part)
        .map_err(|e| ClientError::Local(format!("cannot write {}: {e}", part.display())))?;
    let machine = Client::get(remote, config, clock.now())
        .map_err(|e| ClientError::Local(format!("{e:?}")))?;
    let bar = crate::transfer::bar_for(progress, "tftp get");
    let mut out = Batched::new(file);
    let handler = Collect::new(
        ClientState::default(),
        move |st: &mut ClientState, ev, _: &mut Vec<CCmd>| match ev {
            CEvent::Negotiated(p) => {
                if let Some(size) = p.tsize {
                    bar.set_length(size);
                }
                st.params = Some(p);
            }
            CEvent::Data { offset, data } => {
                if st.local_error.is_none()
                    && let Err(e) = out.write(offset, &data)
                {
                    st.local_error = Some(e.to_string());
                }
                bar.set_position(offset + data.len() as u64);
            }
            CEvent::Done { bytes } => {
                bar.finish_and_clear();
                if st.local_error.is_none()
                    && let Err(e) = out.flush()
                {
                    st.local_error = Some(e.to_string());
                }
                st.done = Some(Ok(bytes));
            }
            CEvent::Failed(f) => {
                bar.finish_and_clear();
                st.done = Some(Err(f));
            }
            CEvent::ReadChunk { .. } | CEvent::Progress { .. } => {}
        },
    );
    let mut hosted = Hosted::new(machine, handler);
    // The machine would dally after the last block to acknowledge it again
    // should the server not have heard; a command line exits at once, like
    // tftp-hpa's and curl's. A server that missed the last ACK retries, then
    // gives up — the file is already complete here.
    run_udp(server, &mut hosted, &clock, Duration::ZERO, |h| {
        h.state.done.is_some()
    })?;
    let st = hosted.into_parts().1.state;
    match st.done {
        Some(Ok(bytes)) => {
            if let Some(e) = st.local_error {
                let _ = fs::remove_file(&part);
                return Err(ClientError::Local(format!(
                    "cannot write {}: {e}",
                    part.display()
                )));
            }
            fs::rename(&part, local).map_err(|e| {
                ClientError::Local(format!("cannot rename into {}: {e}", local.display()))
            })?;
            Ok(Transferred::new(
                remote, local, bytes, st.params, &config, started,
            ))
        }
        Some(Err(f)) => {
            let _ = fs::remove_file(&part);
            Err(failure(f))
        }
        None => {
            let _ = fs::remove_file(&part);
            Err(ClientError::Protocol("no outcome".into()))
        }
    }
}

/// Uploads `local` as `remote`.
pub fn put(
    server: SocketAddr,
    local: &Path,
    remote: &str,
    config: ClientConfig,
    progress: bool,
) -> Result<Transferred, ClientError> {
    let started = std::time::Instant::now();
    let clock = Clock::new();
    let file = File::open(local)
        .map_err(|e| ClientError::Local(format!("cannot read {}: {e}", local.display())))?;
    let size = file
        .metadata()
        .map_err(|e| ClientError::Local(e.to_string()))?
        .len();
    let machine = Client::put(remote, Some(size), config, clock.now())
        .map_err(|e| ClientError::Local(format!("{e:?}")))?;
    let bar = crate::transfer::bar_for(progress, "tftp put");
    bar.set_length(size);
    let handler = Collect::new(
        ClientState::default(),
        move |st: &mut ClientState, ev, cmds: &mut Vec<CCmd>| match ev {
            CEvent::Negotiated(p) => st.params = Some(p),
            CEvent::ReadChunk { offset, len } => {
                cmds.push(match read_exact_at(&file, offset, len) {
                    Ok(b) => CCmd::Chunk(b),
                    Err(e) => CCmd::ReadFailed(io_error(&e)),
                })
            }
            CEvent::Progress { bytes } => bar.set_position(bytes),
            CEvent::Done { bytes } => {
                bar.finish_and_clear();
                st.done = Some(Ok(bytes));
            }
            CEvent::Failed(f) => {
                bar.finish_and_clear();
                st.done = Some(Err(f));
            }
            CEvent::Data { .. } => {}
        },
    );
    let mut hosted = Hosted::new(machine, handler);
    run_udp(server, &mut hosted, &clock, Duration::ZERO, |h| {
        h.state.done.is_some()
    })?;
    let st = hosted.into_parts().1.state;
    match st.done {
        Some(Ok(bytes)) => Ok(Transferred::new(
            remote, local, bytes, st.params, &config, started,
        )),
        Some(Err(f)) => Err(failure(f)),
        None => Err(ClientError::Protocol("no outcome".into())),
    }
}
