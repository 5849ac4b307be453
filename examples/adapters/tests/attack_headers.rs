//! Adversarial review of c0a0085: display names with line breaks or controls refused with
//! `MailError::Permanent`, long words in subjects and attachment references written as
//! folded RFC 2047 encoded words. Every `.eml` line stays within 998 bytes, nothing panics.

use dunning::{MailError, Message};

fn message(to_name: Option<&str>, subject: &str, attachments: &[String]) -> Message {
    serde_json::from_value(serde_json::json!({
        "key": "overdue/F-1/1",
        "from": {"name": "Cobranza", "email": "cobranza@andinos.example"},
        "to": [{"name": to_name, "email": "ana@acme.example"}, {"name": "Otro", "email": "otro@acme.example"}],
        "subject": subject,
        "text": "t",
        "attachments": attachments,
        "locale": "es",
    }))
    .unwrap()
}

/// Every line of the message (without its line ending) within 998 bytes.
fn longest_line(eml: &[u8]) -> usize {
    eml.split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).len())
        .max()
        .unwrap_or(0)
}

/// The outcome of `to_eml`, caught if it panics.
fn eml(m: &Message) -> Result<Result<Vec<u8>, MailError>, String> {
    std::panic::catch_unwind(|| dunning_adapters::outbox::to_eml(m)).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

/// Subjects and attachment references: words of 899, 900 and 901 bytes, in ASCII and with
/// two-, three- and four-byte characters at the boundary, mixed with short words, tabs,
/// U+0085, U+2028 and empty text.
/// Relies on: `to_eml` rustdoc "A subject or an attachment reference with such a run is
/// written as encoded words, folded within the line limit", and the README "never a panic".
#[test]
fn subjects_and_references_of_every_length_fold_within_998_bytes() {
    let mut texts: Vec<String> = vec![String::new(), " ".into(), "   ".into(), "\t".into()];
    for n in [897usize, 898, 899, 900, 901, 902, 990, 998, 999, 1_200, 5_000] {
        for unit in ["x", "ñ", "€", "𝄞", "\"", "=?", "(", "\u{85}", "\u{2028}", "\t"] {
            let reps = n / unit.len();
            let word = unit.repeat(reps);
            texts.push(word.clone());
            texts.push(format!("x{word}"));
            texts.push(format!("Factura {word} vence"));
            texts.push(format!("{word} {word}"));
            texts.push(format!("{}{word}", "a ".repeat(300)));
        }
    }
    // A multi-byte character straddling the 900th byte.
    for pre in 897..=901 {
        texts.push(format!("{}ñ€𝄞", "x".repeat(pre)));
        texts.push(format!("{}ñ€𝄞 corto", "x".repeat(pre)));
    }
    let mut failures = Vec::new();
    for text in &texts {
        for m in [
            message(Some("Ana"), text, &[]),
            message(Some("Ana"), "s", std::slice::from_ref(text)),
            message(Some("Ana"), text, &[text.clone(), "b".into()]),
        ] {
            match eml(&m) {
                Err(panic) => failures.push(format!("{} bytes: panicked: {panic}", text.len())),
                Ok(Ok(bytes)) => {
                    let longest = longest_line(&bytes);
                    if longest > 998 {
                        failures.push(format!(
                            "{} bytes ({:?}...): a line of {longest}",
                            text.len(),
                            &text.chars().take(12).collect::<String>()
                        ));
                    }
                }
                Ok(Err(MailError::Permanent(_))) => {}
                Ok(Err(e)) => failures.push(format!("{} bytes: {e:?}", text.len())),
            }
        }
    }
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(8)]
    );
}

/// Display names: line breaks of every kind and other controls are refused with
/// `MailError::Permanent` naming the address; what is accepted is written within 998 bytes a
/// line, never a panic.
/// Relies on: `to_eml` rustdoc "# Errors [`MailError::Permanent`] for [...] a display name
/// holding a line break or another control character (or a run of more than 900 bytes without
/// a space: no header line could hold it)".
#[test]
fn display_names_with_breaks_are_refused_and_the_rest_fit_a_line() {
    for bad in [
        "A\u{85}B",
        "A\u{2028}B",
        "A\u{2029}B",
        "A\u{b}B",
        "A\u{c}B",
        "A\u{1b}B",
        "A\u{7f}B",
        "\r",
        "A\u{9f}B",
    ] {
        match eml(&message(Some(bad), "s", &[])) {
            Ok(Err(MailError::Permanent(reason))) => {
                assert!(reason.contains("ana@acme.example"), "{bad:?}: {reason}")
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    names_fit_a_line(&["x", "ñ", "€", "𝄞", "(", ",", "<"]);
}

/// A display name of quotes or backslashes (600 bytes of `"`: no run over 900 bytes, so
/// accepted) is written quoted, each escaped, on one `To:` line of 1,251 bytes.
/// Relies on: `to_eml` rustdoc "# Errors [`MailError::Permanent`] for [...] a display name
/// holding [...] a run of more than 900 bytes without a space: no header line could hold it"
/// (a name it accepts is one a header line holds), and the 998 characters of RFC 5322 the
/// commit enforces ("folded within 998 characters").
#[test]

fn display_names_of_quotes_and_backslashes_fit_a_line() {
    names_fit_a_line(&["\"", "\\"]);
}

fn names_fit_a_line(units: &[&str]) {
    let mut failures = Vec::new();
    for n in [300usize, 330, 450, 600, 800, 899, 900, 901] {
        for unit in units {
            let name = unit.repeat(n / unit.len());
            for name in [name.clone(), format!("Ana {name}"), format!("{name} {name}")] {
                match eml(&message(Some(&name), "s", &[])) {
                    Err(panic) => failures.push(format!("{unit:?}x{n}: panicked: {panic}")),
                    Ok(Ok(bytes)) => {
                        let longest = longest_line(&bytes);
                        if longest > 998 {
                            failures.push(format!(
                                "name of {} bytes of {unit:?}: a line of {longest}",
                                name.len()
                            ));
                        }
                    }
                    Ok(Err(MailError::Permanent(_))) => {}
                    Ok(Err(e)) => failures.push(format!("{unit:?}x{n}: {e:?}")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}
