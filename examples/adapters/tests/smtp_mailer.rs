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

/// A rendered reminder with cc, bcc, reply-to and an attachment.
fn message(attachment: &std::path::Path) -> Message {
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
    item.attachments = vec![attachment.display().to_string()];
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

/// A fresh attachment file for one test (tests run in parallel and each removes its own).
fn attachment() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("dunning-smtp-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("F-1001.pdf");
    std::fs::write(&path, b"%PDF-1.4 factura de prueba").unwrap();
    path
}

#[tokio::test]
async fn delivers_to_a_real_server_with_headers_and_attachment() {
    let (port, inbox) = server(response::OK);
    let path = attachment();
    let m = message(&path);
    let mailer = SmtpMailer::localhost(port, from());
    let receipt = mailer.send(&m).await.unwrap();
    assert_eq!(receipt.message_id, "<overdue_F-1001_1@dunning.local>");
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
    assert!(
        text.contains("Message-ID: <overdue_F-1001_1@dunning.local>"),
        "{text}"
    );
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
    assert!(
        text.contains(&format!(
            "filename=\"{}\"",
            path.file_name().unwrap().to_string_lossy()
        )),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test]
async fn a_451_is_transient_and_a_550_permanent() {
    let path = attachment();
    let m = message(&path);
    let (port, _) = server(response::INTERNAL_ERROR);
    let err = SmtpMailer::localhost(port, from()).send(&m).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    let (port, _) = server(response::NO_MAILBOX);
    let err = SmtpMailer::localhost(port, from()).send(&m).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    // Nobody listening: a connection failure is transient.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = SmtpMailer::localhost(port, from()).send(&m).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
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
        .with_number(eml::BOUNDARY_ATTACK)
        .paid(money("1000", "CLP"), d(2026, 3, 30));
    let event = planner
        .preview(
            &"thanks".parse().unwrap(),
            &client,
            &item,
            utc(2026, 3, 30, 15, 0),
        )
        .unwrap();
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
    m.attachments = vec![path.display().to_string()];

    let (port, inbox) = server(response::OK);
    SmtpMailer::localhost(port, from()).send(&m).await.unwrap();
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

    let path = attachment();
    let m = message(&path);
    SmtpMailer::localhost(port, from()).send(&m).await.unwrap();
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
    assert_eq!(h["Message-ID"], "<overdue_F-1001_1@dunning.local>");
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
    assert_eq!(
        file["filename"],
        path.file_name().unwrap().to_string_lossy().as_ref()
    );
    assert_eq!(file["bytes"], b"%PDF-1.4 factura de prueba".len());
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    let _ = std::fs::remove_dir_all(dir);
}

/// Production URLs: plain `smtp://` sends, `?tls=required` (STARTTLS) refuses to send in the
/// clear to a server that offers no TLS, `smtps://` parses, and anything else is an error that
/// names the URL.
#[tokio::test]
async fn smtp_urls_choose_plain_starttls_or_tls() {
    let path = attachment();
    let m = message(&path);
    let (port, inbox) = server(response::OK);
    SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}"), from())
        .unwrap()
        .send(&m)
        .await
        .unwrap();
    assert_eq!(inbox.lock().unwrap().len(), 1);
    let err = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}?tls=required"), from())
        .unwrap()
        .send(&m)
        .await
        .unwrap_err();
    assert_eq!(inbox.lock().unwrap().len(), 1, "nothing sent in the clear: {err}");
    assert!(SmtpMailer::from_url("smtps://mail.example:465", from()).is_ok());
    let bad = SmtpMailer::from_url("ftp://mail.example", from()).err().unwrap();
    assert!(bad.contains("\"ftp://mail.example\""), "{bad}");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
