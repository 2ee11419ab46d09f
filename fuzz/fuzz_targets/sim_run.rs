//! The simulator under any impairment: every preset over a link profile
//! drawn from the input, for a bounded virtual time — no panic, and the same
//! seed gives the same trace hash twice (the determinism the browser lab
//! and `wirekit sim` rely on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::sim::{Netem, presets, run};

fuzz_target!(|input: (u8, u64, u16, &str, &str)| {
    let (which, seed, limit_ms, there, back) = input;
    let all = presets();
    let mut scenario = all[usize::from(which) % all.len()].clone();
    // A few virtual seconds at most: enough for handshakes, losses and
    // retries, short enough for thousands of runs a minute.
    scenario.time_limit_ms = u64::from(limit_ms % 5_000);
    for (text, dir) in [(there, 0), (back, 1)] {
        if let Ok(profile) = text.parse::<Netem>() {
            let link = &mut scenario.links[0];
            if dir == 0 {
                link.a_to_b = profile;
            } else {
                link.b_to_a = profile;
            }
        }
    }
    let first = run(&scenario, seed).expect("a preset builds");
    let second = run(&scenario, seed).expect("a preset builds");
    assert_eq!(first.trace_hash, second.trace_hash);
    assert!(first.ended_at.as_micros() <= scenario.time_limit_ms * 1000);
});
