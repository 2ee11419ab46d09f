//! `wirekit tftp get|put`: the core's TFTP client on the blocking datagram
//! loop, with the local file behind it. Downloads land in a partial renamed
//! into place only when complete; blocks are written in large batches.

use crate::client::local::{Batched, Dest, kept_partial, partial_path};
use crate::client::progress::{bar, set_total};
use crate::client::{ClientError, Collect, run_udp};
use crate::clock::Clock;
use crate::endpoint::Hosted;
use crate::store::read_exact_at;
use crate::store::tftp::io_error;
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;
use wirekit_core::tftp::Failure;
use wirekit_core::tftp::client::{Client, ClientConfig, Command as CCmd, Event as CEvent};

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
        started: Instant,
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

#[derive(Debug)]
struct ClientState {
    params: Option<wirekit_core::tftp::Params>,
    done: Option<Result<u64, Failure>>,
    local_error: Option<ClientError>,
    /// When the server was last heard: a timeout reports the real silence.
    heard: Instant,
}

impl ClientState {
    fn new() -> Self {
        ClientState {
            params: None,
            done: None,
            local_error: None,
            heard: Instant::now(),
        }
    }

    fn failure(&self, server: SocketAddr, f: Failure) -> ClientError {
        match f {
            Failure::Peer { code, message } => ClientError::Refused(format!(
                "TFTP error {} ({}): {message}",
                code.code(),
                code.meaning()
            )),
            Failure::TimedOut { timeouts } => ClientError::Silent {
                addr: server,
                waited: self.heard.elapsed(),
                retries: timeouts,
            },
            other => ClientError::Protocol(other.to_string()),
        }
    }
}

fn misuse(e: wirekit_core::tftp::Misuse) -> ClientError {
    ClientError::Usage(e.to_string())
}

/// Where a download's blocks go: a partial opened once the first block
/// came, or standard output (blocks arrive in order).
enum Out {
    Unopened(PathBuf),
    File(Batched),
    Stdout(std::io::Stdout),
}

impl Out {
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), ClientError> {
        if let Out::Unopened(part) = self {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&*part)
                .map_err(|e| ClientError::Local(format!("cannot write {}: {e}", part.display())))?;
            *self = Out::File(Batched::new(file));
        }
        match self {
            Out::File(b) => b
                .write(offset, data)
                .map_err(|e| ClientError::Local(format!("cannot write the download: {e}"))),
            Out::Stdout(out) => match out.write_all(data) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    Err(ClientError::ClosedPipe)
                }
                other => other.map_err(|e| {
                    ClientError::Local(format!("cannot write to standard output: {e}"))
                }),
            },
            Out::Unopened(_) => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        match self {
            Out::File(b) => b
                .flush()
                .map_err(|e| ClientError::Local(format!("cannot write the download: {e}"))),
            Out::Stdout(out) => out.flush().map_err(|e| ClientError::Local(e.to_string())),
            Out::Unopened(_) => Ok(()),
        }
    }
}

/// Downloads `remote` into `dest`: a file through a partial renamed on
/// success (TFTP cannot resume, so a failure removes it), or standard output.
pub fn get(
    server: SocketAddr,
    remote: &str,
    dest: impl Into<Dest>,
    config: ClientConfig,
    progress: bool,
) -> Result<Transferred, ClientError> {
    let started = Instant::now();
    let dest = &dest.into();
    let clock = Clock::new();
    let machine = Client::get(remote, config, clock.now()).map_err(misuse)?;
    let part = match dest {
        Dest::File(local) => Some(partial_path(local)),
        Dest::Stdout => None,
    };
    if let Some(n) = part.as_deref().map(kept_partial).transpose()?.flatten() {
        let p = part.as_deref().map(Path::display);
        return Err(ClientError::Local(format!(
            "an interrupted download left {} ({n} bytes), which TFTP cannot continue: \
             remove it to start over (or continue it over WKFT/1 with wirekit get --resume)",
            p.map(|d| d.to_string()).unwrap_or_default()
        )));
    }
    let mut out = match &part {
        Some(p) => Out::Unopened(p.clone()),
        None => Out::Stdout(std::io::stdout()),
    };
    let bar = bar(progress, None, 0, "tftp get", started);
    let handler = Collect::new(
        ClientState::new(),
        move |st: &mut ClientState, ev, _: &mut Vec<CCmd>| match ev {
            CEvent::Negotiated(p) => {
                tracing::debug!(?p, "options negotiated");
                st.heard = Instant::now();
                if let Some(size) = p.tsize {
                    set_total(&bar, size, 0);
                }
                st.params = Some(p);
            }
            CEvent::Data { offset, data } => {
                st.heard = Instant::now();
                if st.local_error.is_none()
                    && let Err(e) = out.write(offset, &data)
                {
                    st.local_error = Some(e);
                }
                bar.set_position(offset + data.len() as u64);
            }
            CEvent::Done { bytes } => {
                bar.finish_and_clear();
                if st.local_error.is_none()
                    && let Err(e) = out.flush()
                {
                    st.local_error = Some(e);
                }
                if let Out::Unopened(part) = &out {
                    // An empty file: no block had bytes to open the partial.
                    if let Err(e) = File::create(part) {
                        st.local_error = Some(ClientError::Local(format!(
                            "cannot write {}: {e}",
                            part.display()
                        )));
                    }
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
    let discard = || {
        if let Some(p) = &part {
            let _ = fs::remove_file(p);
        }
    };
    // The machine would dally after the last block to acknowledge it again
    // should the server not have heard; a command line exits at once, like
    // tftp-hpa's and curl's. A server that missed the last ACK retries, then
    // gives up — the file is already complete here.
    if let Err(e) = run_udp(server, &mut hosted, &clock, |h| h.state.done.is_some()) {
        discard();
        return Err(match e {
            ClientError::Interrupted(_) => {
                ClientError::Interrupted(": TFTP cannot resume, so nothing was kept".into())
            }
            e => e,
        });
    }
    let mut st = hosted.into_parts().1.state;
    let outcome = match st.done.take() {
        Some(Ok(bytes)) => match st.local_error.take() {
            Some(e) => Err(e),
            None => Ok(bytes),
        },
        Some(Err(f)) => Err(st.failure(server, f)),
        None => Err(ClientError::Protocol(
            "the transfer ended without an outcome".into(),
        )),
    };
    let bytes = outcome.inspect_err(|_| discard())?;
    let local = match dest {
        Dest::File(local) => {
            let part = partial_path(local);
            fs::rename(&part, local).map_err(|e| {
                ClientError::Local(format!("cannot rename into {}: {e}", local.display()))
            })?;
            local.clone()
        }
        Dest::Stdout => PathBuf::from("-"),
    };
    Ok(Transferred::new(
        remote, &local, bytes, st.params, &config, started,
    ))
}

/// Uploads the file `local` as `remote`; see [`put_from`].
pub fn put(
    server: SocketAddr,
    local: &Path,
    remote: &str,
    config: ClientConfig,
    progress: bool,
) -> Result<Transferred, ClientError> {
    let file = File::open(local)
        .map_err(|e| ClientError::Local(format!("cannot read {}: {e}", local.display())))?;
    put_from(server, file, local, remote, config, progress)
}

/// Uploads `file` (opened from `local`) as `remote`.
pub fn put_from(
    server: SocketAddr,
    file: File,
    local: &Path,
    remote: &str,
    config: ClientConfig,
    progress: bool,
) -> Result<Transferred, ClientError> {
    let started = Instant::now();
    let clock = Clock::new();
    let size = file
        .metadata()
        .map_err(|e| ClientError::Local(format!("cannot read {}: {e}", local.display())))?
        .len();
    let machine = Client::put(remote, Some(size), config, clock.now()).map_err(misuse)?;
    let bar = bar(progress, Some(size), 0, "tftp put", started);
    let handler = Collect::new(
        ClientState::new(),
        move |st: &mut ClientState, ev, cmds: &mut Vec<CCmd>| match ev {
            CEvent::Negotiated(p) => {
                tracing::debug!(?p, "options negotiated");
                st.heard = Instant::now();
                st.params = Some(p);
            }
            CEvent::ReadChunk { offset, len } => {
                cmds.push(match read_exact_at(&file, offset, len) {
                    Ok(b) => CCmd::Chunk(b),
                    Err(e) => CCmd::ReadFailed(io_error(&e)),
                })
            }
            CEvent::Progress { bytes } => {
                st.heard = Instant::now();
                bar.set_position(bytes)
            }
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
    run_udp(server, &mut hosted, &clock, |h| h.state.done.is_some()).map_err(|e| match e {
        ClientError::Interrupted(_) => {
            ClientError::Interrupted(": TFTP cannot resume; the server discards the upload".into())
        }
        e => e,
    })?;
    let mut st = hosted.into_parts().1.state;
    match st.done.take() {
        Some(Ok(bytes)) => Ok(Transferred::new(
            remote, local, bytes, st.params, &config, started,
        )),
        Some(Err(f)) => Err(st.failure(server, f)),
        None => Err(ClientError::Protocol(
            "the transfer ended without an outcome".into(),
        )),
    }
}
