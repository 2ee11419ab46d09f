//! The application logic of each [`Workload`]: a [`Responder`] per kind,
//! and the function that puts a machine, its responder and a socket together.
//!
//! Clients judge their own success here, strictly: a download compares every
//! byte with what the server's store generated, so a run can only ever end
//! byte-exact, not finished, or failed — never quietly wrong.

use super::app::{App, DatagramApp, Open, Responder, Status, StreamApp};
use super::custom::{Apps, Place};
use super::scenario::{ScenarioError, Workload};
use super::store::{MemStore, content, mem_store, same_bytes};
use crate::echo::{self, DatagramServer, Echoed, StreamClient, StreamServer, UdpClient, UdpEvent};
use crate::host::Handler;
use crate::machine::PeerId;
use crate::request::{RequestEvent, ServeEvent};
use crate::time::Now;
use crate::timestamp::{self, ClientEvent, DatagramEvent, Service};
use crate::transfer::store::Files;
use crate::transfer::{client, server};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::convert::Infallible;
use smoltcp::wire::IpEndpoint;

/// Answers a transfer server from a [`MemStore`].
#[derive(Debug)]
pub struct StoreResponder {
    files: Files<MemStore>,
}

impl Handler<server::Server> for StoreResponder {
    fn on_event(
        &mut self,
        _now: Now,
        event: server::Event,
        cmds: &mut Vec<server::Command>,
    ) -> Option<String> {
        let note = match &event {
            server::Event::OpenRead { path, .. } => Some(format!("open {path}")),
            server::Event::BeginUpload { path, size, .. } => {
                Some(format!("upload of {path} ({size} bytes)"))
            }
            server::Event::CommitUpload { path, size, .. } => {
                Some(format!("commit {path} ({size} bytes)"))
            }
            server::Event::Protocol(e) => Some(format!("protocol error: {e}")),
            _ => None,
        };
        cmds.extend(self.files.answer(event));
        note
    }
}

impl Responder<server::Server> for StoreResponder {
    fn status(&self) -> Status {
        Status::Running
    }
}

/// Downloads one file and checks it byte by byte.
#[derive(Debug)]
pub struct GetResponder {
    path: String,
    expected: Bytes,
    received: u64,
    status: Status,
}

impl Handler<client::Client> for GetResponder {
    fn on_event(
        &mut self,
        _now: Now,
        event: client::Event,
        cmds: &mut Vec<client::Command>,
    ) -> Option<String> {
        match event {
            client::Event::Ready => {
                cmds.push(client::Command::Get {
                    path: self.path.clone(),
                    offset: 0,
                    version: None,
                });
                Some(format!("ready; GET {}", self.path))
            }
            client::Event::Download { size, .. } => Some(format!("download of {size} bytes")),
            client::Event::WriteChunk(b) => {
                let at = self.received as usize;
                let want = self.expected.get(at..at + b.len());
                if !want.is_some_and(|w| same_bytes(w, &b)) {
                    let off = want
                        .and_then(|w| w.iter().zip(b.iter()).position(|(x, y)| x != y))
                        .unwrap_or(0);
                    self.status = Status::Failed(format!("wrong byte at offset {}", at + off));
                    return Some(format!("WRONG BYTES at offset {}", at + off));
                }
                self.received += b.len() as u64;
                None
            }
            client::Event::Done { size, .. } => {
                if size == self.expected.len() as u64 && self.received == size {
                    if self.status == Status::Running {
                        self.status = Status::Completed;
                    }
                    cmds.push(client::Command::Quit);
                    Some(format!("done: {size} bytes, digest verified"))
                } else {
                    self.status = Status::Failed(format!(
                        "done with {} of {} bytes",
                        self.received,
                        self.expected.len()
                    ));
                    Some(String::from("done with the wrong size"))
                }
            }
            client::Event::Failed(f) => {
                if self.status == Status::Running {
                    self.status = Status::Failed(format!("{f}"));
                }
                Some(format!("failed: {f}"))
            }
            other => Some(format!("{other:?}")),
        }
    }
}

impl Responder<client::Client> for GetResponder {
    fn status(&self) -> Status {
        self.status.clone()
    }

    fn delivered(&self) -> u64 {
        self.received
    }
}

/// Uploads one generated file.
#[derive(Debug)]
pub struct PutResponder {
    path: String,
    data: Bytes,
    read: usize,
    stored: u64,
    status: Status,
}

impl Handler<client::Client> for PutResponder {
    fn on_event(
        &mut self,
        _now: Now,
        event: client::Event,
        cmds: &mut Vec<client::Command>,
    ) -> Option<String> {
        match event {
            client::Event::Ready => {
                cmds.push(client::Command::Put {
                    path: self.path.clone(),
                    size: self.data.len() as u64,
                    offset: 0,
                    replace: false,
                    restart: false,
                });
                Some(format!(
                    "ready; PUT {} ({} bytes)",
                    self.path,
                    self.data.len()
                ))
            }
            client::Event::ReadChunk { max } => {
                let end = (self.read + max).min(self.data.len());
                cmds.push(client::Command::Chunk(self.data.slice(self.read..end)));
                self.read = end;
                None
            }
            client::Event::Done { size, .. } => {
                self.stored = size;
                if self.status == Status::Running {
                    self.status = Status::Completed;
                }
                cmds.push(client::Command::Quit);
                Some(format!("stored: {size} bytes, digest confirmed"))
            }
            client::Event::Failed(f) => {
                if self.status == Status::Running {
                    self.status = Status::Failed(format!("{f}"));
                }
                Some(format!("failed: {f}"))
            }
            other => Some(format!("{other:?}")),
        }
    }
}

impl Responder<client::Client> for PutResponder {
    fn status(&self) -> Status {
        self.status.clone()
    }

    fn delivered(&self) -> u64 {
        self.stored
    }
}

/// A server event worth a trace note: anything but a routine answer.
trait Noteworthy: core::fmt::Debug {
    fn routine(&self) -> bool;
}

impl Noteworthy for echo::ServerEvent {
    fn routine(&self) -> bool {
        matches!(self, echo::ServerEvent::Answered { .. })
    }
}

impl Noteworthy for timestamp::ServerEvent {
    fn routine(&self) -> bool {
        matches!(self, timestamp::ServerEvent::Answered { .. })
    }
}

impl Noteworthy for ServeEvent {
    fn routine(&self) -> bool {
        matches!(self, ServeEvent::Answered { .. })
    }
}

/// Lets an echo or timestamp server run (a stream or datagrams); notes
/// what is not routine (drops, protocol errors, closes).
#[derive(Debug, Default)]
pub struct ServerResponder;

impl<M> Handler<M> for ServerResponder
where
    M: crate::Machine<Command = Infallible>,
    M::Event: Noteworthy,
{
    fn on_event(&mut self, _now: Now, event: M::Event, _: &mut Vec<Infallible>) -> Option<String> {
        (!event.routine()).then(|| format!("{event:?}"))
    }
}

impl<M> Responder<M> for ServerResponder
where
    M: crate::Machine<Command = Infallible>,
    M::Event: Noteworthy,
{
    fn status(&self) -> Status {
        Status::Running
    }
}

/// Sends generated bytes over a stream echo and waits for all of them.
#[derive(Debug)]
pub struct EchoStreamResponder {
    data: Bytes,
    echoed: u64,
    status: Status,
}

impl Handler<StreamClient> for EchoStreamResponder {
    fn start(&mut self, _now: Now, cmds: &mut Vec<echo::StreamCommand>) {
        cmds.push(echo::StreamCommand::Send(self.data.clone()));
        cmds.push(echo::StreamCommand::Finish);
    }

    fn on_event(
        &mut self,
        _now: Now,
        event: echo::StreamEvent,
        _: &mut Vec<echo::StreamCommand>,
    ) -> Option<String> {
        match event {
            echo::StreamEvent::Echoed(b) => {
                self.echoed += b.len() as u64;
                None
            }
            echo::StreamEvent::Complete { bytes } => {
                self.status = Status::Completed;
                Some(format!("complete: {bytes} bytes echoed"))
            }
            echo::StreamEvent::Protocol(e) => {
                self.status = Status::Failed(format!("{e:?}"));
                Some(format!("protocol error: {e:?}"))
            }
        }
    }
}

impl Responder<StreamClient> for EchoStreamResponder {
    fn status(&self) -> Status {
        self.status.clone()
    }

    fn delivered(&self) -> u64 {
        self.echoed
    }
}

/// Sends `requests` echo datagrams one after another.
#[derive(Debug)]
pub struct EchoUdpResponder {
    requests: u32,
    sent: u32,
    replies: u32,
    retries: u64,
    bytes: u64,
    status: Status,
}

impl EchoUdpResponder {
    fn request(&mut self, cmds: &mut Vec<Bytes>) {
        self.sent += 1;
        cmds.push(Bytes::from(format!("ping {}", self.sent)));
    }
}

impl Handler<UdpClient> for EchoUdpResponder {
    fn start(&mut self, _now: Now, cmds: &mut Vec<Bytes>) {
        if self.requests == 0 {
            self.status = Status::Completed;
        } else {
            self.request(cmds);
        }
    }

    fn on_event(&mut self, _now: Now, event: UdpEvent, cmds: &mut Vec<Bytes>) -> Option<String> {
        let (bytes, attempts) = match replied(event, &mut self.retries, &mut self.status) {
            Ok(reply) => reply,
            Err(note) => return note,
        };
        self.replies += 1;
        self.bytes += bytes.len() as u64;
        let note = format!(
            "reply {} after {attempts} attempt(s): {}",
            self.replies,
            String::from_utf8_lossy(&bytes)
        );
        if self.sent < self.requests {
            self.request(cmds);
        } else {
            self.status = Status::Completed;
        }
        Some(note)
    }
}

impl Responder<UdpClient> for EchoUdpResponder {
    fn status(&self) -> Status {
        self.status.clone()
    }

    fn delivered(&self) -> u64 {
        self.bytes
    }

    fn retries(&self) -> u64 {
        self.retries
    }
}

/// Asks a datagram time server once.
#[derive(Debug)]
pub struct TimeUdpResponder {
    retries: u64,
    status: Status,
}

impl Handler<timestamp::DatagramClient> for TimeUdpResponder {
    fn start(&mut self, _now: Now, cmds: &mut Vec<Bytes>) {
        // Time and daytime ignore what the request holds.
        cmds.push(Bytes::new());
    }

    fn on_event(&mut self, _now: Now, event: DatagramEvent, _: &mut Vec<Bytes>) -> Option<String> {
        match replied(event, &mut self.retries, &mut self.status) {
            Ok((answer, _)) => Some(time_note(answer, &mut self.status)),
            Err(note) => note,
        }
    }
}

impl Responder<timestamp::DatagramClient> for TimeUdpResponder {
    fn status(&self) -> Status {
        self.status.clone()
    }

    fn retries(&self) -> u64 {
        self.retries
    }
}

/// What every request client's events have in common: retries are counted
/// and noted, a server that stays silent fails the run. The reply (and
/// its attempts) is left to the protocol's responder.
fn replied<V>(
    event: RequestEvent<V>,
    retries: &mut u64,
    status: &mut Status,
) -> Result<(V, u32), Option<String>> {
    match event {
        RequestEvent::Reply { value, attempts } => Ok((value, attempts)),
        RequestEvent::Retrying { attempt, wait } => {
            *retries += 1;
            Err(Some(format!(
                "retry: attempt {attempt}, waiting {} ms",
                wait.as_millis()
            )))
        }
        RequestEvent::ServerDown { attempts } => {
            let why = format!("server down after {attempts} attempts");
            *status = Status::Failed(why.clone());
            Err(Some(why))
        }
        RequestEvent::Stray { from } => Err(Some(format!("stray datagram from peer {}", from.0))),
    }
}

/// A timestamp answer, noted; it ends the client's run one way or the other.
fn time_note(answer: ClientEvent, status: &mut Status) -> String {
    match answer {
        ClientEvent::Time(t) => {
            *status = Status::Completed;
            format!("time: {} s since 1970", t.secs())
        }
        ClientEvent::Daytime(d) => {
            *status = Status::Completed;
            format!("daytime: {d:?}")
        }
        ClientEvent::Stamped { time, data } => {
            *status = Status::Completed;
            format!("stamp: {} s since 1970: {data}", time.secs())
        }
        ClientEvent::Protocol(e) => {
            *status = Status::Failed(format!("{e:?}"));
            format!("protocol error: {e:?}")
        }
    }
}

/// Reads the time from a stream server that speaks first and closes.
#[derive(Debug)]
pub struct TimeStreamResponder {
    status: Status,
}

impl Handler<timestamp::StreamClient> for TimeStreamResponder {
    fn on_event(
        &mut self,
        _now: Now,
        event: ClientEvent,
        _: &mut Vec<Infallible>,
    ) -> Option<String> {
        Some(time_note(event, &mut self.status))
    }
}

impl Responder<timestamp::StreamClient> for TimeStreamResponder {
    fn status(&self) -> Status {
        self.status.clone()
    }
}

/// Largest stream echo payload: the client keeps everything unechoed.
pub const MAX_ECHO_BYTES: u64 = echo::MAX_IN_FLIGHT as u64;

/// Builds the application for `w`. `server` resolves a host name to its
/// endpoint; `file_size` finds the size of a file a server host's transfer
/// server holds (what a download must receive); `local_port` is the port a
/// client uses; `seed` drives jitter; `custom` builds the caller's own
/// applications.
pub fn build(
    w: &Workload,
    server: &dyn Fn(&str, u16) -> Result<IpEndpoint, ScenarioError>,
    file_size: &dyn Fn(&str, u16, &str) -> Option<u64>,
    local_port: u16,
    seed: u64,
    custom: &dyn Apps,
) -> Result<Box<dyn App>, ScenarioError> {
    let bad = |e: &dyn core::fmt::Debug| ScenarioError::BadWorkload(format!("{e:?}"));
    Ok(match w {
        Workload::TransferServer { port, files } => Box::new(StreamApp::new(
            server::Server::new(),
            StoreResponder {
                files: Files::new(mem_store(files)),
            },
            Open::Listen(*port),
        )),
        Workload::TransferGet {
            server: host,
            port,
            path,
        } => {
            // The client checks against what the server's store generates.
            let remote = server(host, *port)?;
            let size = file_size(host, *port, path).unwrap_or(0);
            Box::new(StreamApp::new(
                client::Client::new(),
                GetResponder {
                    path: path.clone(),
                    expected: Bytes::from(content(path, size)),
                    received: 0,
                    status: Status::Running,
                },
                Open::Connect { remote, local_port },
            ))
        }
        Workload::TransferPut {
            server: host,
            port,
            path,
            size,
        } => {
            if *size > super::store::MAX_UPLOAD {
                return Err(ScenarioError::BadWorkload(format!(
                    "upload of {size} bytes: at most {}",
                    super::store::MAX_UPLOAD
                )));
            }
            Box::new(StreamApp::new(
                client::Client::new(),
                PutResponder {
                    path: path.clone(),
                    data: Bytes::from(content(path, *size)),
                    read: 0,
                    stored: 0,
                    status: Status::Running,
                },
                Open::Connect {
                    remote: server(host, *port)?,
                    local_port,
                },
            ))
        }
        Workload::EchoStreamServer { port, mode } => Box::new(StreamApp::new(
            StreamServer::new(*mode),
            ServerResponder,
            Open::Listen(*port),
        )),
        Workload::EchoStreamClient {
            server: host,
            port,
            bytes,
        } => {
            if *bytes > MAX_ECHO_BYTES {
                return Err(ScenarioError::BadWorkload(format!(
                    "echo of {bytes} bytes: at most {MAX_ECHO_BYTES}"
                )));
            }
            Box::new(StreamApp::new(
                StreamClient::new(),
                EchoStreamResponder {
                    data: Bytes::from(content("echo", *bytes)),
                    echoed: 0,
                    status: Status::Running,
                },
                Open::Connect {
                    remote: server(host, *port)?,
                    local_port,
                },
            ))
        }
        Workload::EchoUdpServer { port, mode } => Box::new(DatagramApp::new(
            DatagramServer::new(*mode),
            ServerResponder,
            *port,
            &[],
        )),
        Workload::EchoUdpClient {
            server: host,
            port,
            requests,
            backoff,
        } => Box::new(DatagramApp::new(
            UdpClient::new(Echoed, *backoff, seed).map_err(|e| bad(&e))?,
            EchoUdpResponder {
                requests: *requests,
                sent: 0,
                replies: 0,
                retries: 0,
                bytes: 0,
                status: Status::Running,
            },
            local_port,
            &[(PeerId::FIRST, server(host, *port)?)],
        )),
        Workload::TimeStreamServer { port, service } => {
            let service = stream_service(*service)?;
            Box::new(StreamApp::accepting(
                move |now| timestamp::StreamServer::new(service, now),
                ServerResponder,
                *port,
            ))
        }
        Workload::TimeStreamClient {
            server: host,
            port,
            service,
        } => Box::new(StreamApp::new(
            timestamp::StreamClient::new(stream_service(*service)?),
            TimeStreamResponder {
                status: Status::Running,
            },
            Open::Connect {
                remote: server(host, *port)?,
                local_port,
            },
        )),
        Workload::TimeUdpServer { port, service } => Box::new(DatagramApp::new(
            timestamp::DatagramServer::new(*service),
            ServerResponder,
            *port,
            &[],
        )),
        Workload::TftpServer { port, files } => {
            let files = super::tftp::ServeFiles::new(files);
            Box::new(super::listen::ListenerApp::new(
                crate::tftp::listener::Listener::default(),
                *port,
                move || files.clone(),
            ))
        }
        Workload::TftpGet {
            server: host,
            port,
            path,
            blksize,
            windowsize,
        } => {
            let size = file_size(host, *port, path).unwrap_or(0);
            let d = crate::tftp::client::ClientConfig::default();
            let config = crate::tftp::client::ClientConfig {
                wishes: crate::tftp::options::Wishes {
                    blksize: *blksize,
                    windowsize: *windowsize,
                    tsize: true,
                    ..d.wishes
                },
                ..d
            };
            let start = Now::default();
            let machine =
                crate::tftp::client::Client::get(path, config, start).map_err(|e| bad(&e))?;
            Box::new(DatagramApp::new(
                machine,
                super::tftp::CheckedGet::new(path, size),
                local_port,
                &[(PeerId::FIRST, server(host, *port)?)],
            ))
        }
        Workload::TimeUdpClient {
            server: host,
            port,
            service,
            backoff,
        } => Box::new(DatagramApp::new(
            timestamp::DatagramClient::new(*service, *backoff, seed).map_err(|e| bad(&e))?,
            TimeUdpResponder {
                retries: 0,
                status: Status::Running,
            },
            local_port,
            &[(PeerId::FIRST, server(host, *port)?)],
        )),
        Workload::Custom {
            name,
            server: host,
            port,
            args,
        } => {
            let place = Place {
                port: *port,
                server: host.as_deref().map(|h| server(h, *port)).transpose()?,
                local_port,
                seed,
                args,
            };
            custom.build(name, &place)?
        }
    })
}

/// The stream time workloads speak RFC 867 and RFC 868; the stamped echo
/// has a client of its own that the simulator does not run yet.
fn stream_service(s: Service) -> Result<Service, ScenarioError> {
    match s {
        Service::Time | Service::Daytime => Ok(s),
        Service::Stamp => Err(ScenarioError::BadWorkload(String::from(
            "the stamp service is not simulated over streams",
        ))),
    }
}
