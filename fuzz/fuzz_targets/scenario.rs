//! Scenarios as the browser lab and `wirekit sim` read them (JSON, and
//! the TOML files `wirekit sim FILE` takes): any bytes are a scenario or an
//! error, never a panic; a scenario survives being written and read back
//! unchanged, and the simulator either builds its network or says why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::sim::{Options, Scenario, Sim};

fuzz_target!(|bytes: &[u8]| {
    // TOML, as `wirekit sim FILE.toml` reads it and `--show` writes it.
    if let Ok(text) = std::str::from_utf8(bytes)
        && let Ok(scenario) = toml::from_str::<Scenario>(text)
        && let Ok(shown) = toml::to_string(&scenario)
    {
        let again: Scenario = toml::from_str(&shown).expect("what --show prints reads back");
        assert_eq!(again, scenario);
    }
    let Ok(scenario) = serde_json::from_slice::<Scenario>(bytes) else {
        return;
    };
    let text = serde_json::to_string(&scenario).expect("a scenario encodes");
    let again: Scenario = serde_json::from_str(&text).expect("and decodes");
    assert_eq!(again, scenario);
    let _ = Sim::new(&scenario, 1, Options::default());
});
