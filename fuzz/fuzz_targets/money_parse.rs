//! Amounts from hostile text: parsed exactly or refused, never a panic; what parses writes
//! back to text that parses to the same amount.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for code in ["CLP", "USD", "BHD", "CLF"] {
        let Ok(currency) = dunning::Currency::from_code(code) else { return };
        if let Ok(m) = dunning::Money::parse(text, currency) {
            let again = dunning::Money::parse(&m.decimal(), currency).expect("a written amount parses");
            assert_eq!(again, m);
            let json = serde_json::to_string(&m).expect("an amount serializes");
            assert_eq!(serde_json::from_str::<dunning::Money>(&json).expect("and reads back"), m);
        }
    }
    let _ = dunning::Currency::from_code(text);
});
