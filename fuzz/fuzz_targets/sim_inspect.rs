//! The browser lab's packet inspector: any bytes, as any scenario's packet —
//! no panic, and every field it shows stays within its stated bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::sim::inspect::{HEX_BYTES, Ports, inspect};
use wirekit_core::sim::presets;

fuzz_target!(|input: (u8, Vec<u8>)| {
    let (which, bytes) = input;
    let all = presets();
    let scenario = &all[usize::from(which) % all.len()];
    let view = inspect(1, &bytes, &Ports::of(scenario));
    assert_eq!(view.len as usize, bytes.len());
    assert!(view.payload_hex.len() <= 2 * HEX_BYTES);
    assert!(view.decoded.len() <= 16);
});
