//! KV/1 in the simulator: a client's script completes over lossy links for
//! every seed tried, byte-exact in its answers, and a server that answers
//! wrongly is caught.

use wirekit_capstone::cli::SCRIPT;
use wirekit_capstone::server::{Command, Event, Server};
use wirekit_capstone::sim::{SERVER, apps, scenario};
use wirekit_capstone::wire::Response;
use wirekit_core::Now;
use wirekit_core::host::Handler;
use wirekit_core::sim::scenario::ScenarioError;
use wirekit_core::sim::{App, Options, Outcome, Place, Responder, Sim, Status, report};

fn run(profile: &str, seed: u64, apps: &dyn wirekit_core::sim::Apps) -> wirekit_core::sim::Report {
    let s = scenario(profile, &SCRIPT).expect("a scenario");
    let mut sim = Sim::with_apps(&s, seed, Options::default(), apps).expect("builds");
    sim.run();
    report(&s, seed, &mut sim)
}

#[test]
fn the_script_completes_over_lossy_links() {
    for seed in 0..20 {
        let r = run("delay 10ms loss 20%", seed, &apps);
        assert_eq!(r.outcome, Outcome::Completed, "seed {seed}");
        assert_eq!(r.apps[1].status, Status::Completed);
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let a = run("delay 10ms 5ms loss 10% duplicate 5%", 3, &apps);
    let b = run("delay 10ms 5ms loss 10% duplicate 5%", 3, &apps);
    assert_eq!(a.trace_hash, b.trace_hash);
}

// ANCHOR: amnesiac
/// A store that has forgotten every key.
#[derive(Debug)]
struct Amnesiac;

impl Handler<Server> for Amnesiac {
    fn on_event(&mut self, _: Now, event: Event, cmds: &mut Vec<Command>) -> Option<String> {
        if let Event::Asked(_) = event {
            cmds.push(Command::Answer(Response::NotFound));
        }
        None
    }
}

impl Responder<Server> for Amnesiac {
    fn status(&self) -> Status {
        Status::Running
    }
}

#[test]
fn a_wrong_answer_fails_the_run() {
    let lying = |name: &str, place: &Place<'_>| -> Result<Box<dyn App>, ScenarioError> {
        match name {
            SERVER => Ok(place.stream_server(Server::new(), Amnesiac)),
            other => apps(other, place),
        }
    };
    let r = run("delay 10ms", 1, &lying);
    assert!(
        matches!(&r.outcome, Outcome::Failed(why) if why.starts_with("answer 1: NotFound")),
        "{:?}",
        r.outcome
    );
}
// ANCHOR_END: amnesiac

#[test]
fn a_bad_script_is_a_scenario_error() {
    let s = scenario("delay 1ms", &["FETCH everything"]).expect("a scenario");
    let err = Sim::with_apps(&s, 1, Options::default(), &apps).map(|_| ());
    assert!(matches!(err, Err(ScenarioError::BadWorkload(why)) if why.contains("unknown verb")));
}
