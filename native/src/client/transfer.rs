//! The file-transfer client: `wirekit ls`, `stat`, `get` and `put` over
//! WKFT/1.
//!
//! The local disk gets the same care as the server's: a download is written
//! to a partial (`.NAME.wkpart` beside the destination) and renamed into
//! place only after the whole-file digest matched, so a broken transfer
//! never leaves a truncated file under the name asked for — and `--resume`
//! continues from the partial.

use crate::client::local::{Dest, kept_partial, partial_path};
use crate::client::progress::bar;
use crate::client::{ClientError, connect, run_tcp};
use crate::clock::Clock;
use crate::endpoint::{Handler, Hosted};
use bytes::Bytes;
use indicatif::ProgressBar;
use rustix::fs::XattrFlags;
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wirekit_core::Now;
use wirekit_core::transfer::client::{Client, Command, Event, Failure};
use wirekit_core::transfer::{Entry, ErrorCode, Kind, Stat};
use wirekit_core::wire::transfer::{Digest, Version};

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

fn remote_failure(f: Failure, path: &str) -> ClientError {
    match f {
        // The bytes that came, or were kept, are of another version of the
        // file: as worthless as bytes that failed their digest.
        Failure::Remote {
            code: ErrorCode::Changed,
            message,
        } => ClientError::Verify(format!(
            "412 {message} ({path}); what was downloaded is removed: get it again"
        )),
        Failure::Remote { code, message } => {
            ClientError::Refused(format!("{} {message} ({path})", code.code()))
        }
        Failure::DigestMismatch { .. } => ClientError::Verify(f.to_string()),
        Failure::LocalShort => ClientError::Local(f.to_string()),
        Failure::Protocol(e) => ClientError::Protocol(e.to_string()),
        Failure::ConnectionClosed => ClientError::Protocol(
            "the server closed the connection in the middle of the request".into(),
        ),
        Failure::Unsupported => ClientError::Refused(format!("{f} ({path})")),
        Failure::Cancelled => ClientError::Local(format!("{f} ({path}); --resume continues it")),
        Failure::PrefixDiffers => ClientError::Refused(format!(
            "409 {f} ({path}): another upload's bytes; nothing was sent. \
             Add --restart to start over (their bytes are lost)"
        )),
    }
}

/// The version of the remote file a local partial began with, kept on the
/// partial so that a resume asks the server for that version and no other
/// (WKFT/1.1). Filesystems without extended attributes keep none; the
/// whole-file digest still catches a changed file, at the end.
const VERSION_ATTR: &str = "user.wirekit.version";

fn remember_version(file: &File, version: Version) {
    let text = version.to_string();
    if let Err(e) = rustix::fs::fsetxattr(file, VERSION_ATTR, text.as_bytes(), XattrFlags::empty())
    {
        tracing::debug!("cannot keep the remote version on the partial: {e}");
    }
}

fn remembered_version(file: &File) -> Option<Version> {
    let mut buf = [0u8; 16];
    let n = rustix::fs::fgetxattr(file, VERSION_ATTR, &mut buf).ok()?;
    let text = std::str::from_utf8(buf.get(..n)?).ok()?;
    u64::from_str_radix(text, 16).ok().map(Version)
}

/// What to do with what an earlier, interrupted transfer kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partial {
    /// Refuse to touch it: the user decides (`--resume` or `--restart`).
    Keep,
    /// Continue from it.
    Resume,
    /// Throw it away and start from byte 0.
    Restart,
}

/// What a session is for; the handler walks through it.
#[derive(Debug)]
enum Plan {
    List(Option<String>),
    Stat(String),
    Get {
        remote: String,
        resume_from: u64,
        /// The remote file's version the kept bytes came from.
        version: Option<Version>,
    },
    /// Unless restarting, `STAT` first: to learn how much an earlier
    /// attempt left on the server, and never to discard it unasked.
    Put {
        remote: String,
        size: u64,
        partial: Partial,
        stated: bool,
        /// Take the place of a complete file (`--force`, WKFT/1.1).
        replace: bool,
    },
    Delete(String),
}

/// Where a download's bytes go.
#[derive(Debug)]
enum Sink {
    /// Nothing yet: a fresh download opens its partial once bytes come.
    /// Nothing yet: a fresh download opens its partial once bytes come,
    /// and keeps on it the remote version it began with.
    Unopened(PathBuf, Option<Version>),
    File(File),
    Stdout(io::Stdout),
    /// Checked, then thrown away (`wirekit bench get`).
    Discard,
}

/// The client's local side: answers the machine's events from the local disk.
#[derive(Debug)]
struct Local {
    plan: Option<Plan>,
    /// Download: where the bytes go; the kept prefix's reader on resume.
    sink: Sink,
    prefix: Option<File>,
    /// Upload: the source, and how much of it has been read so far.
    source: Option<File>,
    read: u64,
    progress: Option<ProgressBar>,
    show_progress: bool,
    offset: u64,
    outcome: Option<Result<Outcome, ClientError>>,
    /// A local write failed mid-download: report it at the end.
    write_error: Option<ClientError>,
    /// The server's greeting came: it speaks the protocol.
    greeted: bool,
    /// The remote path asked about, for the words of a refusal.
    path: String,
    /// When the command's work began: the progress bar's clock.
    begun: std::time::Instant,
}

#[derive(Debug)]
enum Outcome {
    Listing(Vec<Entry>),
    Status(Stat),
    Done { size: u64, digest: Digest },
    Deleted,
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

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        if let Sink::Unopened(part, version) = self {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&*part)
                .map_err(|e| local_err("cannot write", part, e))?;
            if let Some(v) = version {
                remember_version(&file, *v);
            }
            *self = Sink::File(file);
        }
        match self {
            Sink::File(f) => f
                .write_all(bytes)
                .map_err(|e| ClientError::Local(format!("cannot write the download: {e}"))),
            Sink::Stdout(out) => match out.write_all(bytes) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(ClientError::ClosedPipe),
                other => other.map_err(|e| {
                    ClientError::Local(format!("cannot write to standard output: {e}"))
                }),
            },
            Sink::Discard | Sink::Unopened(..) => Ok(()),
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

    fn start_put(
        &mut self,
        remote: String,
        size: u64,
        offset: u64,
        replace: bool,
        restart: bool,
        commands: &mut Vec<Command>,
    ) {
        tracing::debug!(%remote, size, offset, replace, restart, "upload starts");
        self.offset = offset;
        self.progress = Some(bar(
            self.show_progress,
            Some(size),
            offset,
            "put",
            self.begun,
        ));
        commands.push(Command::Put {
            path: remote,
            size,
            offset,
            replace,
            restart,
        });
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
            Event::Ready => {
                tracing::debug!("session ready");
                self.greeted = true;
                match self.plan.take() {
                    Some(Plan::List(path)) => commands.push(Command::List { path }),
                    Some(Plan::Stat(path)) => commands.push(Command::Stat { path }),
                    Some(Plan::Delete(path)) => commands.push(Command::Delete { path }),
                    Some(Plan::Get {
                        remote,
                        resume_from,
                        version,
                    }) => commands.push(Command::Get {
                        path: remote,
                        offset: resume_from,
                        version,
                    }),
                    Some(Plan::Put {
                        remote,
                        size,
                        partial: Partial::Restart,
                        replace,
                        ..
                    }) => self.start_put(remote, size, 0, replace, true, commands),
                    Some(Plan::Put {
                        remote,
                        size,
                        partial,
                        replace,
                        ..
                    }) => {
                        self.plan = Some(Plan::Put {
                            remote: remote.clone(),
                            size,
                            partial,
                            stated: true,
                            replace,
                        });
                        commands.push(Command::Stat { path: remote });
                    }
                    None => commands.push(Command::Quit),
                }
            }
            Event::Listing(entries) => self.finish(Ok(Outcome::Listing(entries)), commands, true),
            Event::Status(stat) => match self.plan.take() {
                // The STAT before a PUT.
                Some(Plan::Put {
                    remote,
                    size,
                    partial,
                    replace,
                    ..
                }) => {
                    let refuse = |why: String| Err(ClientError::Refused(why));
                    let offset = match (stat.kind, partial) {
                        (Kind::Partial, Partial::Resume) if stat.size <= size => stat.size,
                        (Kind::Partial, Partial::Resume) => {
                            return self.finish(
                                refuse(format!(
                                    "409 exists: the server keeps {} bytes of {remote}, more than the {size} of this file; \
                                     add --restart to start over"
                                , stat.size)),
                                commands,
                                true,
                            );
                        }
                        (Kind::Partial, _) => {
                            return self.finish(
                                refuse(format!(
                                    "409 exists: the server keeps an interrupted upload of {remote} ({} bytes); \
                                     add --resume to continue it or --restart to start over",
                                    stat.size
                                )),
                                commands,
                                true,
                            );
                        }
                        (Kind::File, _) if replace => 0,
                        (Kind::File, _) => {
                            return self.finish(
                                refuse(format!(
                                    "409 exists: the server already has {remote}; \
                                     add --force to replace it, or choose another remote name"
                                )),
                                commands,
                                true,
                            );
                        }
                        (Kind::Dir, _) => {
                            return self.finish(
                                refuse(format!(
                                    "409 exists: {remote} is a directory on the server; name a file in it"
                                )),
                                commands,
                                true,
                            );
                        }
                    };
                    self.start_put(remote, size, offset, replace, false, commands);
                }
                _ => self.finish(Ok(Outcome::Status(stat)), commands, true),
            },
            Event::ReadPrefix { max } => {
                commands.push(Command::Chunk(read_up_to(self.prefix.as_mut(), max)))
            }
            Event::Download {
                size,
                offset,
                version,
            } => {
                tracing::debug!(size, offset, ?version, "download accepted");
                self.offset = offset;
                self.prefix = None;
                if let Sink::Unopened(_, v) = &mut self.sink {
                    *v = version;
                }
                if let (Sink::File(dest), Some(v)) = (&self.sink, version) {
                    remember_version(dest, v);
                }
                if let Sink::File(dest) = &mut self.sink {
                    let cut = dest
                        .set_len(offset)
                        .and_then(|()| dest.seek(SeekFrom::End(0)).map(drop));
                    if let Err(e) = cut {
                        self.write_error = Some(ClientError::Local(format!("local file: {e}")));
                    }
                }
                self.progress = Some(bar(
                    self.show_progress,
                    Some(size),
                    offset,
                    "get",
                    self.begun,
                ));
            }
            Event::WriteChunk(bytes) => {
                if self.write_error.is_none()
                    && let Err(e) = self.sink.write(&bytes)
                {
                    self.write_error = Some(e);
                }
                if let Some(pb) = &self.progress {
                    pb.inc(bytes.len() as u64);
                }
            }
            Event::ReadChunk { max } => {
                let chunk = read_up_to(self.source.as_mut(), max);
                self.read += chunk.len() as u64;
                // A resumed upload reads its kept prefix again to hash it;
                // only what follows crosses the network.
                if let Some(pb) = &self.progress {
                    pb.set_position(self.read.max(self.offset));
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
            Event::Deleted => self.finish(Ok(Outcome::Deleted), commands, true),
            Event::Failed(Failure::Remote {
                code: ErrorCode::NotFound,
                ..
            }) if matches!(self.plan, Some(Plan::Put { stated: true, .. })) => {
                // Nothing at the name yet: the usual case of an upload.
                if let Some(Plan::Put {
                    remote,
                    size,
                    replace,
                    ..
                }) = self.plan.take()
                {
                    self.start_put(remote, size, 0, replace, false, commands);
                }
            }
            Event::Failed(f) => {
                // After a refusal or a failed digest the session is still
                // good: say goodbye. After the others the machine has closed.
                let quit = matches!(f, Failure::Remote { .. } | Failure::DigestMismatch { .. });
                let path = self.path.clone();
                self.finish(Err(remote_failure(f, &path)), commands, quit);
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
    let mut local = hosted.into_parts().1;
    if !local.greeted
        && let Some(Err(ClientError::Protocol(why))) = &local.outcome
    {
        let hint = format!(
            "{why} from {}: is it a file-transfer server (wirekit serve's port 7021)?",
            opts.addr
        );
        local.outcome = Some(Err(ClientError::Protocol(hint)));
    }
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

fn new_local(plan: Plan, show_progress: bool, sink: Sink) -> Local {
    Local {
        path: match &plan {
            Plan::List(p) => p.clone().unwrap_or_else(|| "/".into()),
            Plan::Stat(p)
            | Plan::Delete(p)
            | Plan::Get { remote: p, .. }
            | Plan::Put { remote: p, .. } => p.clone(),
        },
        plan: Some(plan),
        sink,
        prefix: None,
        source: None,
        read: 0,
        progress: None,
        show_progress,
        offset: 0,
        outcome: None,
        write_error: None,
        greeted: false,
        begun: std::time::Instant::now(),
    }
}

fn unexpected() -> ClientError {
    ClientError::Protocol("the server answered something else".into())
}

/// `LIST`: the entries of a remote directory.
pub fn list(opts: &Options, path: Option<String>) -> Result<Vec<Entry>, ClientError> {
    let mut local = session(opts, new_local(Plan::List(path), false, Sink::Discard))?;
    match local.outcome.take() {
        Some(Ok(Outcome::Listing(v))) => Ok(v),
        Some(Err(e)) => Err(e),
        _ => Err(unexpected()),
    }
}

/// `STAT`: what is at a remote path.
pub fn stat(opts: &Options, path: String) -> Result<Stat, ClientError> {
    let mut local = session(opts, new_local(Plan::Stat(path), false, Sink::Discard))?;
    match local.outcome.take() {
        Some(Ok(Outcome::Status(s))) => Ok(s),
        Some(Err(e)) => Err(e),
        _ => Err(unexpected()),
    }
}

/// `DELETE` (WKFT/1.1): removes a remote file, or a partial of that name.
pub fn delete(opts: &Options, path: String) -> Result<(), ClientError> {
    let mut local = session(opts, new_local(Plan::Delete(path), false, Sink::Discard))?;
    match local.outcome.take() {
        Some(Ok(Outcome::Deleted)) => Ok(()),
        Some(Err(e)) => Err(e),
        _ => Err(unexpected()),
    }
}

/// Downloads `remote` to `dest`. A file gets its bytes through a partial
/// renamed into place once the digest matched; `partial` says what to do
/// with one an earlier attempt left.
pub fn get(
    opts: &Options,
    remote: &str,
    dest: impl Into<Dest>,
    partial: Partial,
) -> Result<Transferred, ClientError> {
    let started = std::time::Instant::now();
    let dest = &dest.into();
    let (sink, prefix, kept, part) = match dest {
        Dest::Stdout => (Sink::Stdout(io::stdout()), None, 0, None),
        Dest::File(local) => {
            let part = partial_path(local);
            let kept = kept_partial(&part)?;
            match (kept, partial) {
                (Some(n), Partial::Keep) => {
                    return Err(ClientError::Local(format!(
                        "an interrupted download of {remote} is kept in {} ({n} bytes): \
                         add --resume to continue it or --restart to start over",
                        part.display()
                    )));
                }
                (Some(n), Partial::Resume) => {
                    let open = |write| {
                        OpenOptions::new()
                            .read(true)
                            .write(write)
                            .open(&part)
                            .map_err(|e| local_err("cannot open", &part, e))
                    };
                    (Sink::File(open(true)?), Some(open(false)?), n, Some(part))
                }
                (Some(_), Partial::Restart) => {
                    fs::remove_file(&part).map_err(|e| local_err("cannot remove", &part, e))?;
                    (Sink::Unopened(part.clone(), None), None, 0, Some(part))
                }
                (None, _) => (Sink::Unopened(part.clone(), None), None, 0, Some(part)),
            }
        }
    };
    let version = match &sink {
        Sink::File(f) => remembered_version(f),
        _ => None,
    };
    let plan = Plan::Get {
        remote: remote.to_owned(),
        resume_from: kept,
        version,
    };
    let mut state = new_local(plan, opts.progress, sink);
    state.prefix = prefix;
    let result = session(opts, state).and_then(|mut state| {
        let outcome = state.outcome.take();
        match outcome {
            Some(Ok(Outcome::Done { size, digest })) => Ok((state, size, digest)),
            Some(Err(e)) => Err(e),
            _ => Err(unexpected()),
        }
    });
    let kept_now = || {
        part.as_deref()
            .and_then(|p| fs::metadata(p).ok())
            .map(|m| m.len())
    };
    let (mut state, size, digest) = match result {
        Ok(done) => done,
        Err(e) => {
            let part = part.as_deref();
            return Err(match e {
                // Bytes that failed their digest are worthless, prefix included.
                ClientError::Verify(_) => {
                    if let Some(p) = part {
                        let _ = fs::remove_file(p);
                    }
                    e
                }
                ClientError::Interrupted(_) => ClientError::Interrupted(match (kept_now(), part) {
                    (Some(n), Some(p)) if n > 0 => {
                        format!(": {n} bytes kept in {}", p.display())
                    }
                    _ => String::new(),
                }),
                e => e,
            });
        }
    };
    if let (Sink::File(file), Dest::File(local), Some(part)) = (&state.sink, dest, &part) {
        file.sync_all()
            .map_err(|e| local_err("cannot write", part, e))?;
        fs::rename(part, local).map_err(|e| local_err("cannot rename into", local, e))?;
    } else if let (Sink::Unopened(..), Dest::File(local)) = (&state.sink, dest) {
        // An empty file: no byte ever opened the partial.
        File::create(local).map_err(|e| local_err("cannot write", local, e))?;
    }
    state.sink = Sink::Discard;
    let offset = state.offset;
    Ok(Transferred {
        remote: remote.to_owned(),
        local: match dest {
            Dest::File(l) => l.clone(),
            Dest::Stdout => PathBuf::from("-"),
        },
        size,
        sent: size - offset.min(size),
        offset,
        digest: digest.to_string(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Uploads the file `local` as `remote`; see [`put_from`].
pub fn put(
    opts: &Options,
    local: &Path,
    remote: &str,
    partial: Partial,
) -> Result<Transferred, ClientError> {
    let source = File::open(local).map_err(|e| local_err("cannot read", local, e))?;
    put_from(opts, source, local, remote, partial, false)
}

/// Uploads `source` (opened from `local`) as `remote`. Unless restarting, the server is asked
/// first what is at the name: a file is not overwritten, a partial is
/// continued only with [`Partial::Resume`].
pub fn put_from(
    opts: &Options,
    source: File,
    local: &Path,
    remote: &str,
    partial: Partial,
    replace: bool,
) -> Result<Transferred, ClientError> {
    let started = std::time::Instant::now();
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
    let plan = Plan::Put {
        remote: remote.to_owned(),
        size,
        partial,
        stated: false,
        replace,
    };
    let mut state = new_local(plan, opts.progress, Sink::Discard);
    state.source = Some(source);
    let mut state = session(opts, state).map_err(|e| match e {
        ClientError::Interrupted(_) => {
            ClientError::Interrupted(": the server keeps what it received as a partial".into())
        }
        e => e,
    })?;
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
        _ => Err(unexpected()),
    }
}

/// Downloads `remote` and throws the bytes away (after the digest check):
/// what `wirekit bench get` measures. Returns the size.
pub fn get_to_sink(opts: &Options, remote: &str) -> Result<u64, ClientError> {
    let plan = Plan::Get {
        remote: remote.to_owned(),
        resume_from: 0,
        version: None,
    };
    let mut state = session(opts, new_local(plan, false, Sink::Discard))?;
    match state.outcome.take() {
        Some(Ok(Outcome::Done { size, .. })) => Ok(size),
        Some(Err(e)) => Err(e),
        _ => Err(unexpected()),
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
