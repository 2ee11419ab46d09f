//! Whole runs of the presets and small scenarios.

use super::*;

fn quick(name: &str, seed: u64) -> Report {
    run(&preset(name).expect("preset exists"), seed).expect("preset builds")
}

#[test]
fn every_preset_runs() {
    for s in presets() {
        let r = run(&s, 7).expect("preset builds");
        std::println!(
            "{}: {:?} at {:?} (end {}), {} B, {} bit/s, retx {}, retries {}, drops {:?}, events {}, hash {}",
            s.name,
            r.outcome,
            r.completed_at,
            r.ended_at,
            r.delivered_bytes,
            r.goodput_bps,
            r.tcp_retransmissions,
            r.app_retries,
            r.drops,
            r.events,
            &r.trace_hash[..16]
        );
        assert!(r.events > 0, "{}", s.name);
    }
}

#[test]
fn transfer_lossy_completes_byte_exact() {
    let r = quick("tcp-transfer-lossy", 7);
    assert_eq!(r.outcome, Outcome::Completed, "{r:?}");
    assert_eq!(r.delivered_bytes, 1024 * 1024);
}

#[test]
fn a_large_stream_echo_does_not_deadlock() {
    // Both sides write more than the socket buffers hold: each must keep
    // reading while its own output waits, or neither ever moves again.
    let mut s = preset("tcp-echo").expect("preset");
    if let Workload::EchoStreamClient { bytes, .. } = &mut s.apps[1].workload {
        *bytes = workload::MAX_ECHO_BYTES;
    }
    let r = run(&s, 3).expect("runs");
    assert_eq!(r.outcome, Outcome::Completed, "{r:?}");
    assert_eq!(r.delivered_bytes, workload::MAX_ECHO_BYTES);
}

#[test]
fn time_clients_read_the_virtual_wall_clock() {
    for name in ["tcp-time", "udp-time"] {
        let s = preset(name).expect("preset");
        let r = run_with(
            &s,
            1,
            Options {
                keep_trace: true,
                pcap: false,
                ..Options::default()
            },
        )
        .expect("runs");
        assert_eq!(r.outcome, Outcome::Completed, "{name}");
        let want = alloc::format!("time: {} s since 1970", s.start_unix);
        assert!(
            r.trace
                .iter()
                .any(|t| matches!(&t.kind, TraceKind::App { note, .. } if *note == want)),
            "{name}: {want}"
        );
    }
}

#[test]
fn a_closed_port_refuses_the_connection() {
    let mut s = preset("tcp-echo").expect("preset");
    if let Workload::EchoStreamClient { port, .. } = &mut s.apps[1].workload {
        *port = 9;
    }
    s.links[0].a_to_b = Netem::default();
    s.links[0].b_to_a = Netem::default();
    let r = run(&s, 1).expect("runs");
    assert_eq!(r.outcome, Outcome::Failed("connection refused".into()));
}

#[test]
fn a_small_mtu_is_a_black_hole_for_full_segments() {
    let mut s = preset("tcp-transfer-clean").expect("preset");
    s.time_limit_ms = 5_000;
    s.links[0].b_to_a = "delay 20ms mtu 1000".parse().expect("profile");
    let r = run(&s, 1).expect("runs");
    assert_eq!(r.outcome, Outcome::DidNotFinish);
    assert!(r.drops.iter().any(|(why, n)| why == "mtu" && *n > 0));
}

#[test]
fn a_partition_that_heals_lets_the_download_finish() {
    use super::scenario::{ChangeSpec, Direction};
    let mut s = preset("tcp-transfer-clean").expect("preset");
    for (at_ms, profile) in [(200, "partition"), (3_000, "delay 20ms")] {
        s.changes.push(ChangeSpec {
            at_ms,
            link: 0,
            direction: Direction::Both,
            profile: profile.parse().expect("profile"),
        });
    }
    let r = run(&s, 1).expect("runs");
    assert_eq!(r.outcome, Outcome::Completed);
    assert!(r.completed_at.expect("completed").as_micros() > 3_000_000);
    assert!(r.drops.iter().any(|(why, n)| why == "partition" && *n > 0));
    assert!(r.tcp_retransmissions > 0);
}

#[test]
fn a_server_with_three_instances_serves_three_clients_at_once() {
    let mut s = preset("tcp-transfer-lossy").expect("preset");
    s.apps[0].instances = 3;
    s.apps[1].instances = 3;
    if let Workload::TransferServer { files, .. } = &mut s.apps[0].workload {
        files[0].size = 200 * 1024;
    }
    let r = run(&s, 4).expect("runs");
    assert_eq!(r.outcome, Outcome::Completed, "{r:?}");
    assert_eq!(r.delivered_bytes, 3 * 200 * 1024);
    // With one listener, two of the three would be refused.
    s.apps[0].instances = 1;
    let r = run(&s, 4).expect("runs");
    assert_eq!(r.outcome, Outcome::Failed("connection refused".into()));
}

/// A custom application: a server that only counts what it answers.
#[derive(Debug, Default)]
struct Counting(u64);

impl<M: crate::Machine> crate::host::Handler<M> for Counting {
    fn on_event(&mut self, _: crate::Now, _: M::Event, _: &mut Vec<M::Command>) -> Option<String> {
        self.0 += 1;
        Some(alloc::format!("answered {}", self.0))
    }
}

impl<M: crate::Machine> Responder<M> for Counting {
    fn status(&self) -> Status {
        Status::Running
    }
}

#[test]
fn a_custom_application_runs_where_the_scenario_puts_it() {
    use crate::echo::{DatagramMode, DatagramServer};
    let mut s = preset("udp-echo-backoff").expect("preset");
    s.links[0].a_to_b = "delay 10ms".parse().expect("profile");
    s.links[0].b_to_a = "delay 10ms".parse().expect("profile");
    s.apps[0].workload = Workload::Custom {
        name: "counting-echo".into(),
        server: None,
        port: 7007,
        args: Vec::new(),
    };
    let apps = |name: &str, at: &Place<'_>| -> Result<alloc::boxed::Box<dyn App>, ScenarioError> {
        match name {
            "counting-echo" => {
                Ok(at.datagram_server(DatagramServer::new(DatagramMode::Plain), Counting(0)))
            }
            other => Err(custom::unknown(other)),
        }
    };
    let mut sim = Sim::with_apps(
        &s,
        7,
        Options {
            keep_trace: true,
            ..Options::default()
        },
        &apps,
    )
    .expect("builds");
    sim.run();
    let r = report(&s, 7, &mut sim);
    assert_eq!(r.outcome, Outcome::Completed);
    assert_eq!(r.apps[0].kind, "counting-echo");
    // The built-in client got five replies; the custom server's notes are traced.
    assert!(r.trace.iter().any(
        |t| matches!(&t.kind, TraceKind::App { app: 0, note } if note.starts_with("answered"))
    ));
    // Without a builder the same scenario is refused, by name.
    let refused = Sim::new(&s, 7, Options::default()).map(|_| ());
    assert_eq!(refused, Err(custom::unknown("counting-echo")));
}
