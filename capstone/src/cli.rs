//! `wirekit-kv`: serve KV/1, ask a server, try both in one process, or run
//! the simulator scenario.

use crate::client::Event;
use crate::serve::{Kv, ask, serve};
use crate::wire::{self, Request, Response};
use std::net::SocketAddr;
use wirekit::drive::Model;
use wirekit_core::sim::{Options, Sim, report};

const USAGE: &str = "usage:
  wirekit-kv serve [ADDR]            serve KV/1 (default 127.0.0.1:7079) until killed
  wirekit-kv ask ADDR REQUEST...     send requests ('SET k v', 'GET k', 'DEL k')
  wirekit-kv local REQUEST...        serve on a free port and ask it, in one process
  wirekit-kv sim [SEED] [NETEM]      run a client's script against a server in the simulator";

/// The script the simulated client runs.
pub const SCRIPT: [&str; 6] = [
    "SET colour blue",
    "SET size 42",
    "GET colour",
    "DEL size",
    "GET size",
    "SET colour dark red",
];

/// Runs the command line; returns the exit code.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => 0,
        Err((code, why)) => {
            eprintln!("wirekit-kv: {why}");
            code
        }
    }
}

fn run(args: &[String]) -> Result<(), (i32, String)> {
    let usage = || (2, String::from(USAGE));
    let (verb, rest) = args.split_first().ok_or_else(usage)?;
    match verb.as_str() {
        "serve" => {
            let addr = parse_addr(rest.first().map_or("127.0.0.1:7079", String::as_str))?;
            let (local, _serving) = serve(addr, Kv::default(), Model::Async).map_err(io)?;
            println!(
                "KV/1 on {local}; try: printf 'SET a 1\\nGET a\\nQUIT\\n' | nc {} {}",
                local.ip(),
                local.port()
            );
            loop {
                std::thread::park();
            }
        }
        "ask" => {
            let (addr, requests) = rest.split_first().ok_or_else(usage)?;
            talk(parse_addr(addr)?, requests)
        }
        "local" => {
            let (addr, serving) =
                serve(parse_addr("127.0.0.1:0")?, Kv::default(), Model::Async).map_err(io)?;
            let result = talk(addr, rest);
            serving.stop();
            result
        }
        "sim" => simulate(rest),
        _ => Err(usage()),
    }
}

fn io(e: std::io::Error) -> (i32, String) {
    (1, e.to_string())
}

fn parse_addr(text: &str) -> Result<SocketAddr, (i32, String)> {
    text.parse().map_err(|e| (2, format!("{text}: {e}")))
}

// ANCHOR: talk
/// Asks `requests` and prints each answer beside its request.
fn talk(addr: SocketAddr, requests: &[String]) -> Result<(), (i32, String)> {
    let requests = requests
        .iter()
        .map(|r| wire::parse_request(r.as_bytes()).map_err(|e| (2, format!("`{r}`: {e}"))))
        .collect::<Result<Vec<Request>, _>>()?;
    for event in ask(addr, requests).map_err(|e| (e.exit_code(), e.to_string()))? {
        match event {
            Event::Answered { request, response } => {
                println!(
                    "{} -> {}",
                    line(|b| wire::encode_request(&request, b)),
                    line(|b| wire::encode_response(&response, b))
                );
                if let Response::Err(why) = response {
                    return Err((4, format!("server refused: {why}")));
                }
            }
            Event::Protocol(why) => return Err((5, format!("protocol error: {why}"))),
            Event::Closed { unanswered: 0 } => {}
            Event::Closed { unanswered } => {
                return Err((5, format!("closed with {unanswered} requests unanswered")));
            }
        }
    }
    Ok(())
}
// ANCHOR_END: talk

fn line(write: impl FnOnce(&mut bytes::BytesMut)) -> String {
    let mut buf = bytes::BytesMut::new();
    write(&mut buf);
    String::from_utf8_lossy(&buf).trim_end().to_string()
}

// ANCHOR: simulate
/// Runs [`SCRIPT`] in the simulator over a link with netem `profile`.
fn simulate(args: &[String]) -> Result<(), (i32, String)> {
    let seed = match args.first() {
        Some(s) => s.parse().map_err(|e| (2, format!("seed {s}: {e}")))?,
        None => 7,
    };
    let profile = args.get(1).map_or("delay 10ms loss 10%", String::as_str);
    let bad = |e: wirekit_core::sim::ScenarioError| (2, e.to_string());
    let scenario = crate::sim::scenario(profile, &SCRIPT).map_err(bad)?;
    let mut sim =
        Sim::with_apps(&scenario, seed, Options::default(), &crate::sim::apps).map_err(bad)?;
    sim.run();
    let report = report(&scenario, seed, &mut sim);
    print!("{}", report.summary());
    match report.outcome {
        wirekit_core::sim::Outcome::Completed => Ok(()),
        other => Err((5, other.to_string())),
    }
}
// ANCHOR_END: simulate
