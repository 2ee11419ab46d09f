//! The façade as JavaScript sees it, run by wasm-bindgen-test under node
//! (`cargo xtask test` runs it with wasm-bindgen-test-runner): the bindings
//! convert, throw `Error`s with sentences, and run the core's simulator in
//! wasm32 to the same hash as a run to the end.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;
use wirekit_wasm::{Run, check_netem, parse_scenario, presets, simulate};

fn preset_json(name: &str) -> String {
    let list: serde_json::Value = serde_json::from_str(&presets().expect("presets")).expect("json");
    let p = list
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["name"] == name)
        .expect("the preset");
    p["scenario"].to_string()
}

#[wasm_bindgen_test]
fn every_preset_runs_in_frames_to_its_summary_hash() {
    let list: serde_json::Value = serde_json::from_str(&presets().expect("presets")).expect("json");
    for p in list.as_array().expect("a list") {
        let text = p["scenario"].to_string();
        let mut run = Run::new(&text, "7").expect("a valid preset");
        let mut t = 0.0;
        while run.advance(t) {
            t += 100_000.0;
        }
        let summary: serde_json::Value =
            serde_json::from_str(&simulate(&text, "7").expect("summary")).expect("json");
        assert_eq!(summary["trace_hash"], run.trace_hash(), "{}", p["name"]);
        assert!(run.summary().contains(&run.trace_hash()));
    }
}

#[wasm_bindgen_test]
fn the_capture_and_packets_come_out() {
    let mut run = Run::new(&preset_json("tcp-time"), "1").expect("valid");
    run.finish();
    assert!(run.done());
    let pcap = run.pcap();
    assert_eq!(
        pcap.get(..4),
        Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]),
        "pcap magic"
    );
    let view: serde_json::Value =
        serde_json::from_str(&run.packet(0.0).expect("packet")).expect("json");
    assert_eq!(view["tcp"]["dst_port"], 7037);
    let states: serde_json::Value =
        serde_json::from_str(&run.states_at(run.now_us()).expect("states")).expect("json");
    assert_eq!(states.as_array().map(Vec::len), Some(2));
}

#[wasm_bindgen_test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(Run::new("{", "1").is_err());
    assert!(Run::new(&preset_json("udp-time"), "seven").is_err());
    assert!(check_netem("loss lots").is_err());
    assert!(parse_scenario("hosts = 3").is_err());
}
