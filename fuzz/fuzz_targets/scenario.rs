//! Scenarios as the browser lab and `wirekit sim` read them (JSON): any
//! bytes are a scenario or an error, never a panic; a scenario survives
//! being written and read back unchanged, and the simulator either builds
//! its network or says why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::sim::{Options, Scenario, Sim};

fuzz_target!(|bytes: &[u8]| {
    let Ok(scenario) = serde_json::from_slice::<Scenario>(bytes) else {
        return;
    };
    let text = serde_json::to_string(&scenario).expect("a scenario encodes");
    let again: Scenario = serde_json::from_str(&text).expect("and decodes");
    assert_eq!(again, scenario);
    let _ = Sim::new(&scenario, 1, Options::default());
});
