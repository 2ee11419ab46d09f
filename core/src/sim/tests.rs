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
#[ignore = "debugging aid: prints the end of a trace"]
fn dump_goes_bad() {
    let s = preset("tcp-transfer-goes-bad").expect("preset");
    let r = run_with(
        &s,
        7,
        Options {
            keep_trace: true,
            pcap: false,
        },
    )
    .expect("runs");
    for rec in r.trace.iter().rev().take(60).rev() {
        std::println!("{} {:?}", rec.at, rec.kind);
    }
}

#[test]
#[ignore = "debugging aid: finds a stalled download"]
fn dump_stall() {
    let mut s = preset("tcp-transfer-lossy").expect("preset");
    s.links[0].a_to_b = "delay 20ms loss 20%".parse().expect("p");
    s.links[0].b_to_a = s.links[0].a_to_b.clone();
    s.time_limit_ms = 30_000;
    for seed in 0..20 {
        let r = run_with(
            &s,
            seed,
            Options {
                keep_trace: true,
                pcap: false,
            },
        )
        .expect("runs");
        std::println!("seed {seed}: {:?} {}", r.outcome, r.delivered_bytes);
        if r.outcome == Outcome::DidNotFinish && r.delivered_bytes == 0 {
            for rec in r.trace.iter().take(80) {
                std::println!("{} {:?}", rec.at, rec.kind);
            }
            break;
        }
    }
}
