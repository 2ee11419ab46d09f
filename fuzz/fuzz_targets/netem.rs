//! netem profiles as people type them: any text parses or is refused with an
//! error, never a panic; what parses prints back to text that parses to the
//! same profile (the round trip the module promises).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirekit_core::sim::Netem;

fuzz_target!(|text: &str| {
    if let Ok(profile) = text.parse::<Netem>() {
        let printed = profile.to_string();
        let again: Netem = printed
            .parse()
            .unwrap_or_else(|e| panic!("{printed:?} from {text:?} does not parse: {e}"));
        assert_eq!(again, profile, "{text:?} printed as {printed:?}");
    }
});
