//! Wall-clock speed of the simulator: `cargo run --release -p wirekit-core
//! --features sim --example sim_speed`. Prints, as one JSON line each,
//! simulated packets per second on a lossy UDP scenario and on a 10 MiB TCP
//! transfer over a 1% loss link. Numbers only; only the TCP transfer's completion is asserted.

use std::time::Instant;
use wirekit_core::sim::scenario::{AppSpec, LinkSpec, Scenario, Workload};
use wirekit_core::sim::store::FileSpec;
use wirekit_core::sim::{Outcome, preset, run};

/// `sim_speed PRESET RUNS`: runs a preset RUNS times (seeds 7, 8, …) after
/// one warm-up and prints `{"packets_per_s":…}` — the native figure the
/// browser's is compared with, by the same method (`tests/browser/bench.mjs`).
fn preset_speed(name: &str, runs: u64) {
    let scenario = preset(name).expect("preset");
    run(&scenario, 7).expect("runs");
    let t = Instant::now();
    let mut packets = 0;
    for i in 0..runs {
        packets += run(&scenario, 7 + i).expect("runs").stats.packets_sent;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{{\"packets_per_s\":{:.0},\"runs\":{runs},\"packets\":{packets},\"seconds\":{s:.4},\"preset\":\"{name}\"}}",
        packets as f64 / s
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [name, runs] = args.as_slice() {
        preset_speed(name, runs.parse().expect("a number of runs"));
        return;
    }
    let mut tcp = preset("tcp-transfer-lossy").expect("preset");
    tcp.links[0].a_to_b = "delay 20ms loss 1%".parse().expect("profile");
    tcp.links[0].b_to_a = tcp.links[0].a_to_b.clone();
    if let Workload::TransferServer { files, .. } = &mut tcp.apps[0].workload {
        *files = vec![FileSpec {
            name: "file.bin".into(),
            size: 10 * 1024 * 1024,
        }];
    }
    tcp.time_limit_ms = 3_600_000;
    let t = Instant::now();
    let r = run(&tcp, 7).expect("runs");
    let wall = t.elapsed();
    assert_eq!(r.outcome, Outcome::Completed);
    report(
        "tcp-lossy",
        "10 MiB over TCP, 1% loss",
        r.stats.packets_sent,
        wall.as_secs_f64(),
    );

    // Many UDP clients hammering one echo server over a lossy link.
    let mut hosts = vec!["server".to_string()];
    let mut links = Vec::new();
    let mut apps = vec![AppSpec {
        host: "server".into(),
        start_ms: 0,
        workload: Workload::EchoUdpServer {
            port: 7,
            mode: Default::default(),
        },
        instances: 1,
    }];
    for i in 0..50 {
        let name = format!("c{i}");
        hosts.push(name.clone());
        links.push(LinkSpec {
            a: name.clone(),
            b: "server".into(),
            a_to_b: "delay 5ms loss 2%".parse().expect("profile"),
            b_to_a: "delay 5ms loss 2%".parse().expect("profile"),
        });
        apps.push(AppSpec {
            host: name,
            start_ms: i,
            workload: Workload::EchoUdpClient {
                server: "server".into(),
                port: 7,
                requests: 2000,
                backoff: Default::default(),
            },
            instances: 1,
        });
    }
    let udp = Scenario {
        name: "udp-flood".into(),
        description: String::new(),
        seed: 1,
        time_limit_ms: 600_000,
        linger_ms: 0,
        mtu: 1500,
        start_unix: 0,
        hosts,
        links,
        apps,
        changes: Vec::new(),
    };
    let t = Instant::now();
    let r = run(&udp, 7).expect("runs");
    let wall = t.elapsed();
    report(
        "udp-echo",
        "50 UDP echo clients, 2% loss",
        r.stats.packets_sent,
        wall.as_secs_f64(),
    );
}

/// One JSON line per scenario, read by `cargo xtask bench --parts sim`.
fn report(scenario: &str, label: &str, packets: u64, seconds: f64) {
    println!(
        "{{\"scenario\":\"{scenario}\",\"label\":\"{label}\",\"packets\":{packets},\"seconds\":{seconds:.4},\"packets_per_s\":{:.0}}}",
        packets as f64 / seconds
    );
}
