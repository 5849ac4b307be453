//! Taking a mail apart as a mail reader would, for the tests: headers unfolded, address
//! lists split outside quoted strings, comments and angle brackets, MIME parts split on the
//! declared boundary and decoded, encoded words decoded. Shared by the outbox and SMTP tests.
#![allow(dead_code)]

/// Display names that a naive writer turns into more recipients or broken headers.
pub const HOSTILE_NAMES: [&str; 8] = [
    "evil@attacker.example, Ana",
    "Ana\" <evil@attacker.example>, \"Bob",
    "Ana <evil@attacker.example>",
    "Ana\\",
    "(evil@attacker.example) Ana;",
    "Añа, evil@attacker.example",
    "=?utf-8?q?a?= evil@attacker.example,",
    "Ana: evil@attacker.example;",
];

/// An item number that, under a fixed boundary, would close the text part and open an HTML
/// part with a script.
pub const BOUNDARY_ATTACK: &str = "F-9\r\n--dunning-alternative\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<script>alert(1)</script>\r\n--dunning-alternative--\r\n";

/// A header section and a body, split at the first empty line.
pub struct Entity {
    /// Unfolded headers, names as written.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Entity {
    pub fn parse(text: &str) -> Entity {
        let (head, body) = text
            .split_once("\r\n\r\n")
            .or_else(|| text.split_once("\n\n"))
            .unwrap_or((text, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a continuation line first");
                last.1.push_str(line);
            } else {
                let (name, value) = line
                    .split_once(':')
                    .unwrap_or_else(|| panic!("not a header line: {line:?}"));
                assert!(
                    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()),
                    "header name {name:?}"
                );
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        Entity {
            headers,
            body: body.to_owned(),
        }
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn one(&self, name: &str) -> &str {
        let all = self.all(name);
        assert_eq!(all.len(), 1, "{name}: {all:?}");
        all[0]
    }

    pub fn names(&self) -> Vec<String> {
        self.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect()
    }

    /// The MIME parts of a multipart entity, split on its declared boundary.
    pub fn parts(&self) -> Vec<Entity> {
        let content_type = self.one("Content-Type");
        assert!(content_type.starts_with("multipart/"), "{content_type}");
        let boundary = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"'))
            .unwrap_or_else(|| panic!("no boundary in {content_type}"));
        let (open, close) = (format!("--{boundary}"), format!("--{boundary}--"));
        let mut parts = Vec::new();
        let mut current: Option<String> = None;
        for line in self.body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            if line == close {
                parts.extend(current.take());
                break;
            } else if line == open {
                parts.extend(current.replace(String::new()));
            } else if let Some(c) = &mut current {
                c.push_str(line);
                c.push_str("\r\n");
            }
        }
        parts.iter().map(|p| Entity::parse(p)).collect()
    }

    /// The body, decoded by its Content-Transfer-Encoding.
    pub fn decoded(&self) -> String {
        let encoding = self
            .all("Content-Transfer-Encoding")
            .first()
            .map_or("7bit".to_owned(), |e| e.to_ascii_lowercase());
        let bytes = match encoding.as_str() {
            "7bit" | "8bit" | "binary" => self.body.clone().into_bytes(),
            "quoted-printable" => quoted_printable(&self.body),
            "base64" => base64(&self.body),
            other => panic!("encoding {other}"),
        };
        String::from_utf8(bytes).unwrap()
    }
}

pub fn hex(b: u8) -> u8 {
    char::from(b).to_digit(16).unwrap() as u8
}

pub fn quoted_printable(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

pub fn base64(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .unwrap_or_else(|| panic!("{c}")) as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// An unstructured header value with its RFC 2047 encoded words decoded (whitespace between
/// two encoded words is dropped, as the RFC says).
pub fn unstructured(value: &str) -> String {
    let mut out = String::new();
    let mut after_word = false;
    let mut pending_space = String::new();
    for token in value.split_inclusive([' ', '\t']) {
        let word = token.trim_end_matches([' ', '\t']);
        let space = &token[word.len()..];
        let decoded = word
            .strip_prefix("=?")
            .and_then(|w| w.strip_suffix("?="))
            .and_then(|w| {
                let mut it = w.splitn(3, '?');
                let (_charset, enc, text) = (it.next()?, it.next()?, it.next()?);
                Some(match enc {
                    "b" | "B" => base64(text),
                    "q" | "Q" => quoted_printable(&text.replace('_', " ")),
                    _ => return None,
                })
            });
        match decoded {
            Some(bytes) => {
                if !after_word {
                    out.push_str(&pending_space);
                }
                out.push_str(&String::from_utf8(bytes).unwrap());
                after_word = true;
            }
            None => {
                out.push_str(&pending_space);
                out.push_str(word);
                after_word = false;
            }
        }
        pending_space = space.to_owned();
    }
    out
}

/// The addresses of an address-list header, split outside quoted strings, comments and
/// angle brackets, as a mail reader splits them.
pub fn addresses(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped, mut comment, mut angle) = (false, false, 0, false);
    let (mut bare, mut inside) = (String::new(), String::new());
    let mut push = |bare: &mut String, inside: &mut String| {
        let a = if inside.is_empty() {
            bare.trim()
        } else {
            inside.trim()
        };
        if !a.is_empty() {
            out.push(a.to_owned());
        }
        bare.clear();
        inside.clear();
    };
    for c in list.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted || comment > 0 => escaped = true,
            '"' if comment == 0 => {
                quoted = !quoted;
                bare.clear();
            }
            _ if quoted => {}
            '(' => comment += 1,
            ')' if comment > 0 => comment -= 1,
            _ if comment > 0 => {}
            '<' => {
                angle = true;
                inside.clear();
            }
            '>' => angle = false,
            ',' if !angle => push(&mut bare, &mut inside),
            c if angle => inside.push(c),
            c => bare.push(c),
        }
    }
    assert!(!quoted && comment == 0 && !angle, "unbalanced: {list}");
    push(&mut bare, &mut inside);
    out
}
