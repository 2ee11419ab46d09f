//! The file-transfer client: `wirekit ls`, `stat`, `get` and `put` over
//! WKFT/1.
//!
//! The local disk gets the same care as the server's: a download is written
//! to a partial (`.NAME.wkpart` beside the destination) and renamed into
//! place only after the whole-file digest matched, so a broken transfer
//! never leaves a truncated file under the name asked for — and `--resume`
//! continues from the partial.

use crate::client::local::{bar, partial_path};
use crate::client::{ClientError, connect, run_tcp};
use crate::clock::Clock;
use crate::endpoint::{Handler, Hosted};
use bytes::Bytes;
use indicatif::ProgressBar;
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wirekit_core::Now;
use wirekit_core::transfer::client::{Client, Command, Event, Failure};
use wirekit_core::transfer::{Entry, ErrorCode, Kind, Stat};
use wirekit_core::wire::transfer::Digest;

/// How a client talks to the server.
#[derive(Clone, Debug)]
pub struct Options {
    /// The server.
    pub addr: SocketAddr,
    /// Give up when nothing moves for this long.
    pub timeout: Duration,
    /// Draw a progress bar (on standard error).
    pub progress: bool,
}

/// What a finished transfer reports.
#[derive(Clone, Debug, Serialize)]
pub struct Transferred {
    /// The remote path.
    pub remote: String,
    /// The local path.
    pub local: PathBuf,
    /// The file's size.
    pub size: u64,
    /// Bytes that crossed the network this time (less on a resume).
    pub sent: u64,
    /// Where this transfer started (0 unless resumed).
    pub offset: u64,
    /// The whole file's BLAKE3 digest, hex.
    pub digest: String,
    /// Wall-clock seconds.
    pub seconds: f64,
}

fn local_err(what: &str, path: &Path, e: io::Error) -> ClientError {
    ClientError::Local(format!("{what} {}: {e}", path.display()))
}

fn remote_failure(f: Failure) -> ClientError {
    match f {
        Failure::Remote { code, message } => {
            ClientError::Refused(format!("{} {message}", code.code()))
        }
        Failure::DigestMismatch { .. } => ClientError::Verify(f.to_string()),
        Failure::LocalShort => ClientError::Local(f.to_string()),
        Failure::Protocol(_) | Failure::ConnectionClosed => ClientError::Protocol(f.to_string()),
    }
}

/// What a session is for; the handler walks through it.
#[derive(Debug)]
enum Plan {
    List(Option<String>),
    Stat(String),
    Get {
        remote: String,
        resume_from: u64,
    },
    /// `resume`: ask `STAT` first to learn how much the server kept.
    Put {
        remote: String,
        size: u64,
        resume: bool,
    },
}

/// The client's local side: answers the machine's events from the local disk.
#[derive(Debug)]
struct Local {
    plan: Option<Plan>,
    /// Download: the partial being written; its prefix reader on resume.
    dest: Option<File>,
    prefix: Option<File>,
    /// Upload: the source.
    source: Option<File>,
    progress: Option<ProgressBar>,
    show_progress: bool,
    offset: u64,
    outcome: Option<Result<Outcome, ClientError>>,
    /// A local write failed mid-download: report it at the end.
    write_error: Option<ClientError>,
}

#[derive(Debug)]
enum Outcome {
    Listing(Vec<Entry>),
    Status(Stat),
    Done { size: u64, digest: Digest },
}

fn read_up_to(file: Option<&mut File>, max: usize) -> Bytes {
    let Some(file) = file else {
        return Bytes::new();
    };
    let mut buf = vec![0; max];
    loop {
        match file.read(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                return Bytes::from(buf);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // The machine hears "the file ended early" and fails the request.
            Err(_) => return Bytes::new(),
        }
    }
}

impl Local {
    fn finish(
        &mut self,
        outcome: Result<Outcome, ClientError>,
        commands: &mut Vec<Command>,
        quit: bool,
    ) {
        if let Some(pb) = self.progress.take() {
            pb.finish_and_clear();
        }
        self.outcome = Some(outcome);
        if quit {
            commands.push(Command::Quit);
        }
    }
}

impl Handler<Client> for Local {
    fn on_event(&mut self, _now: Now, event: Event, commands: &mut Vec<Command>) -> Option<String> {
        self.react(event, commands);
        None
    }
}

impl Local {
    fn react(&mut self, event: Event, commands: &mut Vec<Command>) {
        match event {
            Event::Ready => match self.plan.take() {
                Some(Plan::List(path)) => commands.push(Command::List { path }),
                Some(Plan::Stat(path)) => commands.push(Command::Stat { path }),
                Some(Plan::Get {
                    remote,
                    resume_from,
                }) => commands.push(Command::Get {
                    path: remote,
                    offset: resume_from,
                }),
                Some(Plan::Put {
                    remote,
                    size,
                    resume: true,
                }) => {
                    self.plan = Some(Plan::Put {
                        remote: remote.clone(),
                        size,
                        resume: false,
                    });
                    commands.push(Command::Stat { path: remote });
                }
                Some(Plan::Put {
                    remote,
                    size,
                    resume: false,
                }) => {
                    self.progress = Some(bar(self.show_progress, size, 0, "put"));
                    commands.push(Command::Put {
                        path: remote,
                        size,
                        offset: 0,
                    });
                }
                None => commands.push(Command::Quit),
            },
            Event::Listing(entries) => self.finish(Ok(Outcome::Listing(entries)), commands, true),
            Event::Status(stat) => match self.plan.take() {
                // The STAT before a resumed PUT.
                Some(Plan::Put { remote, size, .. }) => {
                    let offset = match stat.kind {
                        Kind::Partial if stat.size <= size => stat.size,
                        Kind::File => {
                            return self.finish(
                                Err(ClientError::Refused(format!(
                                    "409 {remote} is already complete"
                                ))),
                                commands,
                                true,
                            );
                        }
                        _ => 0,
                    };
                    self.offset = offset;
                    self.progress = Some(bar(self.show_progress, size, offset, "put"));
                    commands.push(Command::Put {
                        path: remote,
                        size,
                        offset,
                    });
                }
                _ => self.finish(Ok(Outcome::Status(stat)), commands, true),
            },
            Event::ReadPrefix { max } => {
                commands.push(Command::Chunk(read_up_to(self.prefix.as_mut(), max)))
            }
            Event::Download { size, offset } => {
                self.offset = offset;
                self.prefix = None;
                if let Some(dest) = self.dest.as_mut() {
                    let cut = dest
                        .set_len(offset)
                        .and_then(|()| dest.seek(SeekFrom::End(0)).map(drop));
                    if let Err(e) = cut {
                        self.write_error = Some(ClientError::Local(format!("local file: {e}")));
                    }
                }
                self.progress = Some(bar(self.show_progress, size, offset, "get"));
            }
            Event::WriteChunk(bytes) => {
                if self.write_error.is_none()
                    && let Some(dest) = self.dest.as_mut()
                    && let Err(e) = dest.write_all(&bytes)
                {
                    self.write_error = Some(ClientError::Local(format!("local file: {e}")));
                }
                if let Some(pb) = &self.progress {
                    pb.inc(bytes.len() as u64);
                }
            }
            Event::ReadChunk { max } => {
                let chunk = read_up_to(self.source.as_mut(), max);
                if let Some(pb) = &self.progress {
                    pb.inc(chunk.len() as u64);
                }
                commands.push(Command::Chunk(chunk));
            }
            Event::Done { size, digest } => {
                let outcome = match self.write_error.take() {
                    Some(e) => Err(e),
                    None => Ok(Outcome::Done { size, digest }),
                };
                self.finish(outcome, commands, true);
            }
            // The STAT before a resumed PUT found nothing: the interrupted
            // attempt died before the server kept a byte. Start from 0.
            Event::Failed(Failure::Remote {
                code: ErrorCode::NotFound,
                ..
            }) if matches!(self.plan, Some(Plan::Put { .. })) => {
                if let Some(Plan::Put { remote, size, .. }) = self.plan.take() {
                    self.progress = Some(bar(self.show_progress, size, 0, "put"));
                    commands.push(Command::Put {
                        path: remote,
                        size,
                        offset: 0,
                    });
                }
            }
            Event::Failed(f) => {
                // After a refusal or a failed digest the session is still
                // good: say goodbye. After the others the machine has closed.
                let quit = matches!(f, Failure::Remote { .. } | Failure::DigestMismatch { .. });
                self.finish(Err(remote_failure(f)), commands, quit);
            }
        }
    }
}

fn session(opts: &Options, local: Local) -> Result<Local, ClientError> {
    let clock = Clock::new();
    let mut stream = connect(opts.addr, opts.timeout)?;
    let mut hosted = Hosted::new(Client::new(), local);
    let run = run_tcp(&mut stream, &mut hosted, &clock, opts.timeout);
    let misuse = hosted.failure().map(str::to_owned);
    let local = into_handler(hosted);
    match (run, local.outcome.is_some()) {
        // An outcome wins: a server that refused us before the handshake
        // (ERR 503, too many connections) leaves no session to say QUIT to.
        (_, true) => Ok(local),
        _ if misuse.is_some() => Err(ClientError::Local(format!(
            "request not sent: {}",
            misuse.unwrap_or_default()
        ))),
        (Err(e), false) => Err(e),
        (Ok(()), false) => Err(ClientError::Protocol(
            "the server closed the connection".into(),
        )),
    }
}

fn into_handler(hosted: Hosted<Client, Local>) -> Local {
    hosted.into_parts().1
}

fn new_local(plan: Plan, show_progress: bool) -> Local {
    Local {
        plan: Some(plan),
        dest: None,
        prefix: None,
        source: None,
        progress: None,
        show_progress,
        offset: 0,
        outcome: None,
        write_error: None,
    }
}

/// `LIST`: the entries of a remote directory.
pub fn list(opts: &Options, path: Option<String>) -> Result<Vec<Entry>, ClientError> {
    let mut local = session(opts, new_local(Plan::List(path), false))?;
    match local.outcome.take() {
        Some(Ok(Outcome::Listing(v))) => Ok(v),
        Some(Err(e)) => Err(e),
        _ => Err(ClientError::Protocol("unexpected answer".into())),
    }
}

/// `STAT`: what is at a remote path.
pub fn stat(opts: &Options, path: String) -> Result<Stat, ClientError> {
    let mut local = session(opts, new_local(Plan::Stat(path), false))?;
    match local.outcome.take() {
        Some(Ok(Outcome::Status(s))) => Ok(s),
        Some(Err(e)) => Err(e),
        _ => Err(ClientError::Protocol("unexpected answer".into())),
    }
}

/// Downloads `remote` to `local` through a partial; `resume` continues a
/// partial left by an earlier attempt.
pub fn get(
    opts: &Options,
    remote: &str,
    local: &Path,
    resume: bool,
) -> Result<Transferred, ClientError> {
    let started = std::time::Instant::now();
    let part = partial_path(local);
    let mut open = OpenOptions::new();
    open.read(true).write(true).create(true);
    if !resume {
        open.truncate(true);
    }
    let dest = open
        .open(&part)
        .map_err(|e| local_err("cannot write", &part, e))?;
    let kept = dest
        .metadata()
        .map_err(|e| local_err("cannot read", &part, e))?
        .len();
    let prefix = if kept > 0 {
        Some(File::open(&part).map_err(|e| local_err("cannot read", &part, e))?)
    } else {
        None
    };
    let mut state = new_local(
        Plan::Get {
            remote: remote.to_owned(),
            resume_from: kept,
        },
        opts.progress,
    );
    state.dest = Some(dest);
    state.prefix = prefix;
    // A partial is worth keeping only once bytes arrived: a failure before
    // (refused connection, wrong service, bad path) leaves nothing behind.
    let drop_if_empty = || {
        if fs::metadata(&part).is_ok_and(|m| m.len() == 0) {
            let _ = fs::remove_file(&part);
        }
    };
    let mut state = match session(opts, state) {
        Ok(s) => s,
        Err(e) => {
            drop_if_empty();
            return Err(e);
        }
    };
    let offset = state.offset;
    match state.outcome.take() {
        Some(Ok(Outcome::Done { size, digest })) => {
            let dest = state
                .dest
                .take()
                .ok_or_else(|| ClientError::Local("no destination".into()))?;
            dest.sync_all()
                .map_err(|e| local_err("cannot write", &part, e))?;
            drop(dest);
            fs::rename(&part, local).map_err(|e| local_err("cannot rename into", local, e))?;
            Ok(Transferred {
                remote: remote.to_owned(),
                local: local.to_owned(),
                size,
                sent: size - offset.min(size),
                offset,
                digest: digest.to_string(),
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        Some(Err(e)) => {
            if matches!(e, ClientError::Verify(_)) {
                // Bytes that failed their digest are worthless, prefix included.
                let _ = fs::remove_file(&part);
            } else {
                drop_if_empty();
            }
            Err(e)
        }
        _ => {
            drop_if_empty();
            Err(ClientError::Protocol("unexpected answer".into()))
        }
    }
}

/// Uploads `local` as `remote`; `resume` first asks the server how much of
/// an earlier attempt it kept.
pub fn put(
    opts: &Options,
    local: &Path,
    remote: &str,
    resume: bool,
) -> Result<Transferred, ClientError> {
    let started = std::time::Instant::now();
    let source = File::open(local).map_err(|e| local_err("cannot read", local, e))?;
    let meta = source
        .metadata()
        .map_err(|e| local_err("cannot read", local, e))?;
    if !meta.is_file() {
        return Err(ClientError::Local(format!(
            "{} is not a regular file",
            local.display()
        )));
    }
    let size = meta.len();
    let mut state = new_local(
        Plan::Put {
            remote: remote.to_owned(),
            size,
            resume,
        },
        opts.progress,
    );
    state.source = Some(source);
    let mut state = session(opts, state)?;
    match state.outcome.take() {
        Some(Ok(Outcome::Done { size, digest })) => Ok(Transferred {
            remote: remote.to_owned(),
            local: local.to_owned(),
            size,
            sent: size - state.offset.min(size),
            offset: state.offset,
            digest: digest.to_string(),
            seconds: started.elapsed().as_secs_f64(),
        }),
        Some(Err(e)) => Err(e),
        _ => Err(ClientError::Protocol("unexpected answer".into())),
    }
}

/// Downloads `remote` and throws the bytes away (after the digest check):
/// what `wirekit bench get` measures. Returns the size.
pub fn get_to_sink(opts: &Options, remote: &str) -> Result<u64, ClientError> {
    let plan = Plan::Get {
        remote: remote.to_owned(),
        resume_from: 0,
    };
    let mut state = session(opts, new_local(plan, false))?;
    match state.outcome.take() {
        Some(Ok(Outcome::Done { size, .. })) => Ok(size),
        Some(Err(e)) => Err(e),
        _ => Err(ClientError::Protocol("unexpected answer".into())),
    }
}

/// The code of a refusal, for tests and scripts.
pub fn refused_code(e: &ClientError) -> Option<ErrorCode> {
    let ClientError::Refused(text) = e else {
        return None;
    };
    let code: u16 = text.split_whitespace().next()?.parse().ok()?;
    ErrorCode::ALL.into_iter().find(|c| c.code() == code)
}
