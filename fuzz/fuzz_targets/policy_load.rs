//! Policies from hostile JSON and TOML: loading gives a policy or an error, never a panic; a
//! policy that loads is validated and compiled (or refused) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = [
        serde_json::from_str::<dunning::Policy>(text).ok(),
        toml::from_str::<dunning::Policy>(text).ok(),
    ];
    for policy in loaded.into_iter().flatten() {
        if let Ok(planner) = dunning::Planner::new(&policy) {
            let _ = planner.warnings();
            let _ = dunning::Messages::new(&policy);
        }
    }
});
