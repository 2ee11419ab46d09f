//! `wirekit tftp get|put`: the core's TFTP client on the blocking datagram
//! loop, with the local file behind it. Downloads land in a partial renamed
//! into place only when complete; blocks are written in large batches.

use crate::client::local::{Batched, bar_for, partial_path};
use crate::client::{ClientError, Collect, run_udp};
use crate::clock::Clock;
use crate::endpoint::Hosted;
use crate::store::read_exact_at;
use crate::store::tftp::io_error;
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
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
    let part = partial_path(local);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&part)
        .map_err(|e| ClientError::Local(format!("cannot write {}: {e}", part.display())))?;
    let machine = match Client::get(remote, config, clock.now()) {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_file(&part);
            return Err(ClientError::Local(format!("{e:?}")));
        }
    };
    let bar = bar_for(progress, "tftp get");
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
    if let Err(e) = run_udp(server, &mut hosted, &clock, |h| h.state.done.is_some()) {
        let _ = fs::remove_file(&part);
        return Err(e);
    }
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
    let bar = bar_for(progress, "tftp put");
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
    run_udp(server, &mut hosted, &clock, |h| h.state.done.is_some())?;
    let st = hosted.into_parts().1.state;
    match st.done {
        Some(Ok(bytes)) => Ok(Transferred::new(
            remote, local, bytes, st.params, &config, started,
        )),
        Some(Err(f)) => Err(failure(f)),
        None => Err(ClientError::Protocol("no outcome".into())),
    }
}
