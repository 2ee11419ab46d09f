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
