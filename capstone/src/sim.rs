//! KV/1 in Wirekit's simulator: the [`Apps`](wirekit_core::sim::Apps) that puts its machines on
//! simulated hosts, a client that checks every answer, and a scenario.

use crate::client::{Client, Event};
use crate::server::{Query, Server};
use crate::store::Store;
use crate::wire::{self, Request, Response};
use wirekit_core::Now;
use wirekit_core::host::Handler;
use wirekit_core::sim::scenario::{AppSpec, LinkSpec, ScenarioError};
use wirekit_core::sim::{App, Place, Responder, Scenario, Status, Workload};

/// The scenario's name for the server.
pub const SERVER: &str = "kv-server";
/// The scenario's name for the client.
pub const CLIENT: &str = "kv-client";
/// The port KV/1 listens on in the simulator (7000 plus a free number).
pub const PORT: u16 = 7079;

// ANCHOR: apps
/// Builds KV/1's applications: what [`Sim::with_apps`] is given.
///
/// [`Sim::with_apps`]: wirekit_core::sim::Sim::with_apps
pub fn apps(name: &str, place: &Place<'_>) -> Result<Box<dyn App>, ScenarioError> {
    match name {
        SERVER => Ok(place.stream_server(Server::new(), Store::default())),
        CLIENT => {
            let script = place
                .args()
                .iter()
                .map(|line| wire::parse_request(line.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|bad| ScenarioError::BadWorkload(format!("{CLIENT}: {bad}")))?;
            place.stream_client(Client::new(), Checker::new(script))
        }
        other => Err(wirekit_core::sim::custom::unknown(other)),
    }
}
// ANCHOR_END: apps

/// A client that sends its script, then `QUIT`, and checks each answer
/// against a model store of its own: the run completes only if every
/// answer is the one a correct server gives.
#[derive(Debug)]
pub struct Checker {
    script: Vec<Request>,
    model: Store,
    answered: u64,
    /// Bytes of the answers' lines.
    received: u64,
    status: Status,
}

impl Checker {
    /// A client for `script`.
    pub fn new(script: Vec<Request>) -> Self {
        let model = Store::default();
        let status = Status::Running;
        Checker {
            script,
            model,
            answered: 0,
            received: 0,
            status,
        }
    }
}

impl Handler<Client> for Checker {
    fn start(&mut self, _now: Now, cmds: &mut Vec<Request>) {
        cmds.extend(self.script.drain(..).chain([Request::Quit]));
    }

    // ANCHOR: check
    fn on_event(&mut self, _: Now, event: Event, _: &mut Vec<Request>) -> Option<String> {
        let note = format!("{event:?}");
        let ended_well = event == Event::Closed { unanswered: 0 };
        let verdict = match event {
            Event::Answered { request, response } => {
                let want = Query::of(request).map_or(Response::Bye, |q| self.model.answer(q));
                let mut line = bytes::BytesMut::new();
                wire::encode_response(&response, &mut line);
                self.answered += 1;
                self.received += line.len() as u64;
                let n = self.answered;
                (response != want).then(|| format!("answer {n}: {response:?}, not {want:?}"))
            }
            Event::Protocol(why) => Some(why),
            Event::Closed { unanswered: 0 } => None,
            Event::Closed { unanswered } => Some(format!("closed with {unanswered} unanswered")),
        };
        // The first failure is the one to report.
        if self.status == Status::Running {
            match verdict {
                Some(why) => self.status = Status::Failed(why),
                None if ended_well => self.status = Status::Completed,
                None => {}
            }
        }
        Some(note)
    }
    // ANCHOR_END: check
}

impl Responder<Client> for Checker {
    fn status(&self) -> Status {
        self.status.clone()
    }

    fn delivered(&self) -> u64 {
        self.received
    }
}

// ANCHOR: scenario
/// Two hosts joined by a link with netem `profile` both ways: a KV/1
/// server, and a client that runs `script` against it.
pub fn scenario(profile: &str, script: &[&str]) -> Result<Scenario, ScenarioError> {
    let profile: wirekit_core::sim::Netem = profile
        .parse()
        .map_err(|e| ScenarioError::BadWorkload(format!("{e}")))?;
    let app = |host: &str, start_ms, name: &str, server: Option<&str>, args: &[&str]| AppSpec {
        host: host.into(),
        start_ms,
        workload: Workload::Custom {
            name: name.into(),
            server: server.map(String::from),
            port: PORT,
            args: args.iter().map(|a| a.to_string()).collect(),
        },
        instances: 1,
    };
    Ok(Scenario {
        name: String::from("kv"),
        description: String::from("KV/1: a client's script against a server"),
        seed: 7,
        time_limit_ms: 60_000,
        linger_ms: 200,
        mtu: 1500,
        start_unix: 1_795_343_443,
        hosts: vec!["client".into(), "server".into()],
        links: vec![LinkSpec {
            a: "client".into(),
            b: "server".into(),
            a_to_b: profile.clone(),
            b_to_a: profile,
        }],
        apps: vec![
            app("server", 0, SERVER, None, &[]),
            app("client", 10, CLIENT, Some("server"), script),
        ],
        changes: Vec::new(),
    })
}
// ANCHOR_END: scenario
