//! The SMTP example adapter against a real SMTP server on localhost, started by the test.

#[path = "../../../tests/common/mod.rs"]
mod common;
mod eml;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::*;
use dunning::*;
use dunning_adapters::smtp::SmtpMailer;
use mailin::{Action, Handler, Response, SessionBuilder, response};

#[derive(Debug, Clone, Default)]
struct Received {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

/// Records what it receives; answers `rcpt` with `reply`.
#[derive(Clone)]
struct Recorder {
    reply: Response,
    current: Received,
    inbox: Arc<Mutex<Vec<Received>>>,
}

impl Handler for Recorder {
    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, from: &str) -> Response {
        self.current = Received {
            from: from.to_owned(),
            ..Received::default()
        };
        response::OK
    }
    fn rcpt(&mut self, to: &str) -> Response {
        self.current.to.push(to.to_owned());
        self.reply.clone()
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        self.inbox.lock().unwrap().push(self.current.clone());
        response::OK
    }
}

/// Starts an SMTP server on a free loopback port: mailin's protocol state machine (the one
/// mailin-embedded runs) over plain TCP, one thread per connection, no TLS (lettre talks plain
/// SMTP to localhost in tests). It lives until the test process ends.
fn server(reply: Response) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let handler = Recorder {
        reply,
        current: Received::default(),
        inbox: inbox.clone(),
    };
    let builder = SessionBuilder::new("localhost");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (builder, handler) = (builder.clone(), handler.clone());
            std::thread::spawn(move || serve(&builder, handler, stream));
        }
    });
    (port, inbox)
}

/// One SMTP session: the greeting, then a reply to each line until the client quits.
fn serve(builder: &SessionBuilder, handler: Recorder, stream: std::net::TcpStream) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader, Write};
    let peer = stream.peer_addr()?.ip();
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut session = builder.build(peer, handler);
    session.greeting().write_to(&mut out)?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let res = session.process(&line);
        match res.action {
            Action::Reply => res.write_to(&mut out)?,
            Action::NoReply => {}
            Action::Close | Action::UpgradeTls => {
                res.write_to(&mut out)?;
                return out.flush();
            }
        }
        out.flush()?;
    }
}

fn from() -> Mailbox {
    Mailbox {
        name: Some("Cobranza Andinos".into()),
        email: "cobranza@andinos.example".into(),
    }
}

/// A rendered reminder with cc, bcc, reply-to and an attachment (a reference relative to the
/// mailer's attachment folder).
fn message(attachment: &str) -> Message {
    let mut policy = Policy::new(tz("America/Santiago")).with_rule(rule("overdue", Anchor::Due, 0));
    policy.reply_to = vec!["pagos@andinos.example".into()];
    policy.cc = vec!["copia@andinos.example".into()];
    policy.bcc = vec!["auditoria@andinos.example".into()];
    let planner = Planner::new(&policy).unwrap();
    let messages = Messages::new(&policy).unwrap();
    let client = client("acme", "America/Santiago").with_locale("es-CL");
    let mut item = invoice(
        "F-1001",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("119000", "CLP"),
    );
    item.attachments = vec![attachment.to_owned()];
    let plan = planner
        .plan(
            std::slice::from_ref(&client),
            &[item],
            &[],
            utc(2026, 4, 1, 13, 0),
            Horizon::NONE,
        )
        .unwrap();
    messages
        .render(&plan.due()[0], &client, &RenderOptions::default())
        .unwrap()
}

/// A fresh folder for one test (tests run in parallel and each removes its own), holding the
/// attachment file `F-1001.pdf` (the reference [`ATTACHMENT`]).
fn attachment() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("dunning-smtp-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(ATTACHMENT), b"%PDF-1.4 factura de prueba").unwrap();
    dir
}

/// The attachment reference [`message`] is given in most tests.
const ATTACHMENT: &str = "F-1001.pdf";

/// The mailer the tests send through: plain SMTP to `port`, attachments from `dir`.
fn mailer(port: u16, dir: &std::path::Path) -> SmtpMailer {
    SmtpMailer::localhost(port, from()).with_attachment_dir(dir)
}

/// The Message-ID of [`message`]: its key, and the domain of the mailer's sender (the
/// rendered message names none).
const MESSAGE_ID: &str = "<dunning.overdue/F-1001/1@andinos.example>";

#[tokio::test]
async fn delivers_to_a_real_server_with_headers_and_attachment() {
    let (port, inbox) = server(response::OK);
    let dir = attachment();
    let m = message(ATTACHMENT);
    assert_eq!(m.from, None);
    let receipt = mailer(port, &dir).send(&m).await.unwrap();
    assert_eq!(receipt.message_id, MESSAGE_ID);
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.from, "cobranza@andinos.example");
    let mut to = r.to.clone();
    to.sort();
    assert_eq!(
        to,
        [
            "auditoria@andinos.example",
            "billing@acme.example",
            "copia@andinos.example"
        ]
    );
    let text = String::from_utf8_lossy(&r.data);
    assert!(text.contains(&format!("Message-ID: {MESSAGE_ID}")), "{text}");
    assert!(text.contains("Reply-To: pagos@andinos.example"), "{text}");
    assert!(text.contains("Cc: copia@andinos.example"), "{text}");
    assert!(
        !text.contains("auditoria@andinos.example"),
        "bcc stays out of the headers"
    );
    assert!(
        text.contains("Subject: Su factura =?utf-8?b?TsKw?= F-1001 vence hoy"),
        "{text}"
    );
    assert!(text.contains("Content-Type: text/html"), "{text}");
    assert!(text.contains(&format!("filename=\"{ATTACHMENT}\"")), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_451_is_transient_and_a_550_permanent() {
    let dir = attachment();
    let m = message(ATTACHMENT);
    let (port, _) = server(response::INTERNAL_ERROR);
    let err = mailer(port, &dir).send(&m).await.unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err}");
    let (port, _) = server(response::NO_MAILBOX);
    let err = mailer(port, &dir).send(&m).await.unwrap_err();
    assert!(matches!(err, MailError::Permanent(_)), "{err}");
    // Nobody listening: a connection failure is transient.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = mailer(port, &dir).send(&m).await.unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_dispatcher_retries_a_451_and_gives_up_on_a_550() {
    let (port, _) = server(response::INTERNAL_ERROR);
    let policy = Policy::new(tz("America/Santiago")).with_rule(rule("overdue", Anchor::Due, 0));
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    let store = Arc::new(MemoryStore::new(
        vec![client("acme", "America/Santiago")],
        items.clone(),
    ));
    let d1 = Dispatcher::new(
        store.clone(),
        Arc::new(SmtpMailer::localhost(port, from())),
        &policy,
    )
    .unwrap();
    let report = d1.tick(utc(2026, 4, 1, 13, 0)).await.unwrap();
    assert_eq!(report.retried().count(), 1);
    assert!(matches!(
        store.delivery(&"overdue/F-1/1".into()).await.unwrap(),
        Some(Delivery::Retrying { .. })
    ));
    let (port, _) = server(response::NO_MAILBOX);
    let store = Arc::new(MemoryStore::new(vec![client("acme", "America/Santiago")], items));
    let d2 = Dispatcher::new(
        store.clone(),
        Arc::new(SmtpMailer::localhost(port, from())),
        &policy,
    )
    .unwrap();
    let report = d2.tick(utc(2026, 4, 1, 13, 0)).await.unwrap();
    assert_eq!(report.failed().count(), 1);
    assert!(matches!(
        store.delivery(&"overdue/F-1/1".into()).await.unwrap(),
        Some(Delivery::Failed { .. })
    ));
}

/// Hostile values through SMTP: display names that look like address lists (a company's
/// and contacts'), an attachment whose file name holds a line break and a header, and an
/// item number holding MIME boundary lines. The envelope goes to exactly the intended
/// recipients, and the message has one mailbox per recipient, no added header and no added
/// MIME part.
#[tokio::test]
async fn hostile_names_file_names_and_item_numbers_change_no_recipient_header_or_part() {
    let mut policy =
        Policy::new(tz("America/Santiago")).with_rule(Rule::thank_you("thanks".parse().unwrap()));
    policy.company.name = "Servicios Andinos, evil@attacker.example".into();
    policy.company.email = "cobranza@andinos.example".into();
    policy.cc = vec!["copia@andinos.example".into()];
    policy.bcc = vec!["auditoria@andinos.example".into()];
    let planner = Planner::new(&policy).unwrap();
    let mut client = client("acme", "America/Santiago").with_locale("en");
    client.contacts.clear();
    for (i, name) in eml::HOSTILE_NAMES.iter().enumerate() {
        client = client.with_contact(Contact::new(*name, format!("c{i}@acme.example")));
    }
    let item = invoice("F-9", "acme", d(2026, 3, 2), d(2026, 4, 1), money("1000", "CLP"))
        .paid(money("1000", "CLP"), d(2026, 3, 30));
    let mut event = planner
        .preview(
            &"thanks".parse().unwrap(),
            &client,
            &item,
            utc(2026, 3, 30, 15, 0),
        )
        .unwrap();
    // The planner refuses such a number; an event a host builds may still carry one.
    for member in &mut event.items {
        member.number = eml::BOUNDARY_ATTACK.into();
    }
    let mut m = Messages::new(&policy)
        .unwrap()
        .render(&event, &client, &RenderOptions::default())
        .unwrap();
    // A file whose name holds a line break: messages refuse such a reference when they are
    // rendered, a host may still build a message with it by hand.
    let dir = std::env::temp_dir().join(format!("dunning-smtp-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("F-9.pdf\r\nBcc: evil@attacker.example\r\n\r\n<script>x.pdf");
    std::fs::write(&path, b"%PDF-1.4").unwrap();
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    m.attachments = vec![name];

    let (port, inbox) = server(response::OK);
    mailer(port, &dir).send(&m).await.unwrap();
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let mut rcpt = got[0].to.clone();
    rcpt.sort();
    let mut intended: Vec<String> = (0..eml::HOSTILE_NAMES.len())
        .map(|i| format!("c{i}@acme.example"))
        .chain(["copia@andinos.example".into(), "auditoria@andinos.example".into()])
        .collect();
    intended.sort();
    assert_eq!(rcpt, intended);

    let text = String::from_utf8(got[0].data.clone()).unwrap();
    assert!(
        !text.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{text}"
    );
    let e = eml::Entity::parse(&text);
    for name in e.names() {
        assert!(
            [
                "from",
                "to",
                "cc",
                "subject",
                "message-id",
                "date",
                "mime-version",
                "content-type",
                "content-transfer-encoding"
            ]
            .contains(&name.as_str()),
            "header {name:?} in {:?}",
            e.headers
        );
    }
    let to: Vec<String> = (0..eml::HOSTILE_NAMES.len())
        .map(|i| format!("c{i}@acme.example"))
        .collect();
    assert_eq!(eml::addresses(e.one("To")), to, "{text}");
    assert_eq!(
        eml::addresses(e.one("From")),
        ["cobranza@andinos.example"],
        "{text}"
    );
    assert_eq!(eml::addresses(e.one("Cc")), ["copia@andinos.example"], "{text}");
    // The body and the attachment, and nothing else.
    let top = e.parts();
    assert_eq!(top.len(), 2, "{text}");
    let attachment = &top[1];
    assert_eq!(attachment.all("Content-Disposition").len(), 1, "{text}");
    for name in attachment.names() {
        assert!(
            ["content-type", "content-disposition", "content-transfer-encoding"].contains(&name.as_str()),
            "attachment header {name:?}"
        );
    }
    let alternative = top[0].parts();
    let kinds: Vec<&str> = alternative
        .iter()
        .map(|p| p.one("Content-Type").split(';').next().unwrap())
        .collect();
    assert_eq!(kinds, ["text/plain", "text/html"], "{text}");
    let html = alternative[1].decoded();
    assert!(
        !html.contains("<script>") && html.contains("&lt;script&gt;"),
        "{html}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// aiosmtpd, a fuller SMTP server, with a handler that parses each message with Python's
/// `email` package and writes what it found as a JSON line.
const AIOSMTPD: &str = r#"
import email, json, sys, time
from email import policy
from aiosmtpd.controller import Controller

out_path, port = sys.argv[1], int(sys.argv[2])

class Parse:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            text = part.get_content() if part.get_content_maintype() == "text" else None
            parts.append({
                "type": part.get_content_type(),
                "filename": part.get_filename(),
                "bytes": len(part.get_payload(decode=True) or b""),
                "text": text,
            })
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": sorted(envelope.rcpt_tos),
            "headers": {k: str(v) for k, v in msg.items()},
            "defects": [type(d).__name__ for d in msg.defects],
            "parts": parts,
        }
        with open(out_path, "a") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"

controller = Controller(Parse(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"#;

/// The same message through aiosmtpd, parsed by Python's `email` package: well-formed MIME,
/// the headers and parts a mail client reads. Runs where `python3 -m pip install aiosmtpd`
/// was done; `.ci/run` does it and sets `DUNNING_REQUIRE_AIOSMTPD`, so CI never skips it.
#[tokio::test]
async fn aiosmtpd_parses_well_formed_mime_with_every_header_and_part() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let have = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var_os("DUNNING_REQUIRE_AIOSMTPD").is_none(),
            "DUNNING_REQUIRE_AIOSMTPD is set but python3 cannot import aiosmtpd"
        );
        eprintln!("aiosmtpd not installed (python3 -m pip install aiosmtpd): skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("dunning-aiosmtpd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("server.py");
    std::fs::write(&script, AIOSMTPD).unwrap();
    let out = dir.join("received.jsonl");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");

    let files = attachment();
    let m = message(ATTACHMENT);
    mailer(port, &files).send(&m).await.unwrap();
    drop(server.stdin.take()); // aiosmtpd stops once its input closes
    server.wait().unwrap();

    let line = std::fs::read_to_string(&out).unwrap();
    let got: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(got["mail_from"], "cobranza@andinos.example");
    assert_eq!(
        got["rcpt_tos"],
        serde_json::json!([
            "auditoria@andinos.example",
            "billing@acme.example",
            "copia@andinos.example"
        ])
    );
    assert_eq!(got["defects"], serde_json::json!([]), "{got}");
    let h = &got["headers"];
    assert_eq!(h["From"], "Cobranza Andinos <cobranza@andinos.example>");
    assert_eq!(h["Cc"], "copia@andinos.example");
    assert_eq!(h["Reply-To"], "pagos@andinos.example");
    assert_eq!(
        h["Subject"],
        m.subject.as_str(),
        "decoded back to the rendered subject"
    );
    assert_eq!(h["Message-ID"], MESSAGE_ID);
    assert!(h.get("Bcc").is_none(), "bcc stays out of the headers");
    let parts = got["parts"].as_array().unwrap();
    // Text travels in SMTP's canonical form, lines ending in CRLF.
    let body = |t: &str| {
        let part = parts
            .iter()
            .find(|p| p["type"] == t)
            .unwrap_or_else(|| panic!("{t}: {got}"));
        part["text"].as_str().unwrap().replace("\r\n", "\n")
    };
    assert_eq!(body("text/plain").trim_end(), m.text.trim_end());
    assert_eq!(
        body("text/html").trim_end(),
        m.html.as_deref().unwrap().trim_end()
    );
    let file = parts.iter().find(|p| !p["filename"].is_null()).unwrap();
    assert_eq!(file["filename"], ATTACHMENT);
    assert_eq!(file["bytes"], b"%PDF-1.4 factura de prueba".len());
    let _ = std::fs::remove_dir_all(files);
    let _ = std::fs::remove_dir_all(dir);
}

/// Production URLs: plain `smtp://` sends, `?tls=required` (STARTTLS) refuses to send in the
/// clear to a server that offers no TLS, `smtps://` parses, and anything else is an error that
/// names the URL.
#[tokio::test]
async fn smtp_urls_choose_plain_starttls_or_tls() {
    let dir = attachment();
    let m = message(ATTACHMENT);
    let (port, inbox) = server(response::OK);
    SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}"), from())
        .unwrap()
        .with_attachment_dir(&dir)
        .send(&m)
        .await
        .unwrap();
    assert_eq!(inbox.lock().unwrap().len(), 1);
    let err = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}?tls=required"), from())
        .unwrap()
        .with_attachment_dir(&dir)
        .send(&m)
        .await
        .unwrap_err();
    assert_eq!(inbox.lock().unwrap().len(), 1, "nothing sent in the clear: {err}");
    assert!(SmtpMailer::from_url("smtps://mail.example:465", from()).is_ok());
    let bad = SmtpMailer::from_url("ftp://mail.example", from()).err().unwrap();
    assert!(bad.contains("\"ftp://mail.example\""), "{bad}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Where a [`scripted`] server stops behaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// None: a well-behaved server.
    Never,
    /// Drops the connection after its greeting.
    DropAfterGreeting,
    /// Drops it when `MAIL FROM` comes.
    DropOnMail,
    /// Drops it when `RCPT TO` comes.
    DropOnRcpt,
    /// Drops it when `DATA` comes, before its `354`.
    DropOnData,
    /// Never answers `RCPT TO`.
    StallOnRcpt,
    /// Takes the whole message, final dot included, and drops the connection before
    /// answering: the message may well be delivered.
    DropAfterDot,
    /// Takes the whole message and never answers.
    StallAfterDot,
}

/// A scripted SMTP server on a free loopback port, answering as a real one until `fault`.
/// Counts the messages whose final dot it received (handed over, so possibly delivered).
fn scripted(fault: Fault) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handed_over = Arc::new(AtomicUsize::new(0));
    let count = handed_over.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let count = count.clone();
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut out = stream.try_clone()?;
                let mut input = BufReader::new(stream);
                // Reads until the client goes away: a stalled server keeps the connection.
                let stall = |input: &mut BufReader<_>| {
                    let mut rest = Vec::new();
                    let _ = std::io::Read::read_to_end(input, &mut rest);
                };
                out.write_all(b"220 scripted ESMTP\r\n")?;
                if fault == Fault::DropAfterGreeting {
                    return Ok(());
                }
                let mut line = String::new();
                let mut in_data = false;
                loop {
                    line.clear();
                    if input.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            count.fetch_add(1, Ordering::SeqCst);
                            match fault {
                                Fault::DropAfterDot => return Ok(()),
                                Fault::StallAfterDot => {
                                    stall(&mut input);
                                    return Ok(());
                                }
                                _ => out.write_all(b"250 queued\r\n")?,
                            }
                        }
                        continue;
                    }
                    let command = line.to_ascii_uppercase();
                    if command.starts_with("EHLO") || command.starts_with("HELO") {
                        out.write_all(b"250-scripted\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
                    } else if (command.starts_with("MAIL") && fault == Fault::DropOnMail)
                        || (command.starts_with("RCPT") && fault == Fault::DropOnRcpt)
                    {
                        return Ok(());
                    } else if command.starts_with("RCPT") && fault == Fault::StallOnRcpt {
                        stall(&mut input);
                        return Ok(());
                    } else if command.starts_with("DATA") {
                        if fault == Fault::DropOnData {
                            return Ok(());
                        }
                        in_data = true;
                        out.write_all(b"354 go ahead\r\n")?;
                    } else if command.starts_with("QUIT") {
                        out.write_all(b"221 bye\r\n")?;
                        return Ok(());
                    } else {
                        out.write_all(b"250 ok\r\n")?;
                    }
                }
            });
        }
    });
    (port, handed_over)
}

/// A message without attachments (the scripted servers need nothing more).
fn plain_message(key: &str) -> Message {
    serde_json::from_value(serde_json::json!({
        "key": key,
        "to": [{"name": "Ana", "email": "ana@acme.example"}],
        "subject": format!("about {key}"),
        "text": format!("body of {key}"),
        "locale": "es",
    }))
    .unwrap()
}

/// The review's probe: a server that takes the whole message and drops the connection
/// before answering may have delivered it. The mailer says the outcome is unknown, so the
/// dispatcher (at-most-once, its default) records it as such and never sends it again; it
/// said `Transient("response error: incomplete response")`, and the next tick sent the
/// message a second time.
#[tokio::test]
async fn a_drop_after_the_message_was_handed_over_is_ambiguous_and_never_sent_twice() {
    let (port, handed_over) = scripted(Fault::DropAfterDot);
    let err = SmtpMailer::localhost(port, from())
        .send(&plain_message("overdue/F-1/1"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Ambiguous(_)), "{err:?}");

    let (port, handed_over_by_ticks) = scripted(Fault::DropAfterDot);
    let policy = Policy::new(tz("America/Santiago")).with_rule(rule("overdue", Anchor::Due, 0));
    let items = vec![invoice(
        "F-1",
        "acme",
        d(2026, 3, 2),
        d(2026, 4, 1),
        money("1000", "CLP"),
    )];
    let store = Arc::new(MemoryStore::new(vec![client("acme", "America/Santiago")], items));
    let dispatcher = Dispatcher::new(
        store.clone(),
        Arc::new(SmtpMailer::localhost(port, from())),
        &policy,
    )
    .unwrap();
    let report = dispatcher.tick(utc(2026, 4, 1, 13, 0)).await.unwrap();
    assert_eq!(report.unknown().count(), 1, "{report:?}");
    // Past any backoff: nothing goes again.
    for hour in [14, 18, 22] {
        let report = dispatcher.tick(utc(2026, 4, 1, hour, 0)).await.unwrap();
        assert_eq!(report.sent().count() + report.retried().count(), 0, "{report:?}");
    }
    assert!(matches!(
        store.delivery(&"overdue/F-1/1".into()).await.unwrap(),
        Some(Delivery::Unknown { .. })
    ));
    use std::sync::atomic::Ordering::SeqCst;
    assert_eq!(handed_over.load(SeqCst), 1);
    assert_eq!(
        handed_over_by_ticks.load(SeqCst),
        1,
        "the message went more than once"
    );
}

/// No answer after the final dot, within the mailer's timeout: ambiguous too (it waited
/// forever, lettre's tokio transport having no read timeout, until the dispatcher's timeout).
#[tokio::test]
async fn no_answer_after_the_message_was_handed_over_is_ambiguous() {
    let (port, handed_over) = scripted(Fault::StallAfterDot);
    let mailer = SmtpMailer::localhost(port, from()).with_timeout(std::time::Duration::from_millis(300));
    let sent = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        mailer.send(&plain_message("overdue/F-1/1")),
    )
    .await
    .expect("the mailer gives up within its timeout");
    let err = sent.unwrap_err();
    assert!(matches!(err, MailError::Ambiguous(_)), "{err:?}");
    assert_eq!(handed_over.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// What certainly fails before any byte of the message reaches the server stays transient
/// (retried): a refused connection, a connection dropped after the greeting or at `MAIL
/// FROM`, `RCPT TO` or `DATA`, a server that does not answer `RCPT TO`.
#[tokio::test]
async fn failures_before_the_message_is_handed_over_stay_transient() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = SmtpMailer::localhost(port, from())
        .send(&plain_message("overdue/F-1/1"))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transient(_)), "refused: {err:?}");
    for fault in [
        Fault::DropAfterGreeting,
        Fault::DropOnMail,
        Fault::DropOnRcpt,
        Fault::DropOnData,
        Fault::StallOnRcpt,
    ] {
        let (port, handed_over) = scripted(fault);
        let mailer = SmtpMailer::localhost(port, from()).with_timeout(std::time::Duration::from_millis(300));
        let err = mailer.send(&plain_message("overdue/F-1/1")).await.unwrap_err();
        assert!(matches!(err, MailError::Transient(_)), "{fault:?}: {err:?}");
        assert_eq!(handed_over.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
    // The script without a fault: the message goes.
    let (port, handed_over) = scripted(Fault::Never);
    SmtpMailer::localhost(port, from())
        .send(&plain_message("overdue/F-1/1"))
        .await
        .unwrap();
    assert_eq!(handed_over.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// By default the mailer reads no attachment: an item whose attachment is `/etc/passwd`
/// mailed that file to the client.
#[tokio::test]
async fn without_an_attachment_folder_no_file_is_read_or_sent() {
    let (port, inbox) = server(response::OK);
    let mut m = plain_message("overdue/F-1/1");
    m.attachments = vec!["/etc/passwd".into()];
    let err = SmtpMailer::localhost(port, from())
        .send(&m)
        .await
        .expect_err("/etc/passwd was attached");
    assert!(
        matches!(&err, MailError::Permanent(e) if e.contains("\"/etc/passwd\"")),
        "{err:?}"
    );
    m.attachments = vec![ATTACHMENT.into()];
    let err = SmtpMailer::localhost(port, from()).send(&m).await.unwrap_err();
    assert!(
        matches!(&err, MailError::Permanent(e) if e.contains("F-1001.pdf")),
        "{err:?}"
    );
    assert!(inbox.lock().unwrap().is_empty(), "nothing was sent");
}

/// Attachments are read only from under the attachment folder: an absolute path, a `..`
/// component, a symbolic link that leads out (to a file or a folder), a folder are refused
/// with a permanent error naming the reference, and nothing is sent; files in subfolders
/// and links that stay inside are attached.
#[tokio::test]
async fn attachments_are_read_only_from_under_the_attachment_folder() {
    let root = attachment();
    let dir = root.join("facturas");
    std::fs::create_dir_all(dir.join("2026")).unwrap();
    std::fs::write(dir.join("2026/F-2.pdf"), b"%PDF-1.4 F-2").unwrap();
    std::fs::write(root.join("x"), b"outside").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd.pdf")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.join("etc")).unwrap();
    std::os::unix::fs::symlink("../x", dir.join("up.pdf")).unwrap();
    std::os::unix::fs::symlink("2026/F-2.pdf", dir.join("inside.pdf")).unwrap();
    let (port, inbox) = server(response::OK);
    let mailer = mailer(port, &dir);
    for reference in [
        "/etc/passwd",
        "../x",
        "2026/../../x",
        "passwd.pdf",
        "etc/passwd",
        "up.pdf",
        "2026",
        "",
        "missing.pdf",
    ] {
        let mut m = plain_message("overdue/F-1/1");
        m.attachments = vec![reference.into()];
        let err = mailer
            .send(&m)
            .await
            .expect_err(&format!("{reference:?} was attached"));
        assert!(
            matches!(&err, MailError::Permanent(e) if e.contains(&format!("attachment {reference:?}"))),
            "{reference:?}: {err:?}"
        );
    }
    assert!(inbox.lock().unwrap().is_empty(), "nothing was sent");

    let mut m = plain_message("overdue/F-1/1");
    m.attachments = vec!["2026/F-2.pdf".into(), "./inside.pdf".into()];
    mailer.send(&m).await.unwrap();
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let text = String::from_utf8_lossy(&got[0].data);
    assert!(text.contains("filename=\"F-2.pdf\""), "{text}");
    assert!(text.contains("filename=\"inside.pdf\""), "{text}");
    assert!(!text.contains("root:"), "{text}");
    let _ = std::fs::remove_dir_all(root);
}

/// The Message-ID's domain is the sender's: the message's own, else the mailer's.
#[tokio::test]
async fn the_message_id_names_the_senders_domain() {
    let (port, inbox) = server(response::OK);
    let mut m = plain_message("overdue/F.1/1");
    let receipt = SmtpMailer::localhost(port, from()).send(&m).await.unwrap();
    assert_eq!(receipt.message_id, "<dunning.overdue/F%2E1/1@andinos.example>");
    m.from = Some(Mailbox {
        name: None,
        email: "billing@Otra.Example".into(),
    });
    let receipt = SmtpMailer::localhost(port, from()).send(&m).await.unwrap();
    assert_eq!(receipt.message_id, "<dunning.overdue/F%2E1/1@otra.example>");
    let got = inbox.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&got[1].data);
    assert!(
        text.contains("Message-ID: <dunning.overdue/F%2E1/1@otra.example>"),
        "{text}"
    );
}
