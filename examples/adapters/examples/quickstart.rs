//! The quickstart: the whole library with real parts. It creates (or reuses) a SQLite file
//! with demo data drawn from the seeds, runs one dispatcher tick for the day, writes each
//! message it sends as an `.eml` file, and prints what it sent, what it did not send and
//! why, and the forecast.
//!
//! ```text
//! cargo run --example quickstart                      # today, 30-day forecast
//! cargo run --example quickstart -- --today 2026-04-01 --horizon 14
//! cargo run --example quickstart -- --db /tmp/demo.sqlite --outbox /tmp/outbox
//! DATABASE_URL=postgres://user@localhost/dunning cargo run --example quickstart
//! ```
//!
//! Runs on its embedded defaults: the policy below (TOML, as a host would load it) and
//! Chilean and Spanish clients with CLP and EUR invoices, dated around the first run's day.
//! Run it twice on one day: the second run sends nothing, and says so.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use dunning::*;
use dunning_adapters::{outbox, pg_store, smtp, sqlite_store};

const POLICY: &str = r#"
time_zone = "America/Santiago"
send_time = "09:00"
payment_term_days = 30
locale = "es-CL"
min_gap_days = 0

payment_instructions = "Transferencia a Banco Ejemplo, cuenta corriente 12-345-678, RUT 76.123.456-7"
reply_to = "cobranza@andinos.example, finanzas@andinos.example"

[company]
name = "Servicios Andinos SpA"
phone = "+56 2 2345 6789"
website = "https://andinos.example"
email = "cobranza@andinos.example"

[calendar]
non_working_weekdays = ["Sat", "Sun"]

[standing]
closing_soon_after_days = 30
closed_after_days = 60

[[statements]]
id = "estado-de-cuenta"
rrule = "FREQ=MONTHLY;BYMONTHDAY=1"
start = "2026-01-01"

[[rules]]
id = "factura-emitida"
anchor = "issued"
expires_after_days = 7
when = { kinds = ["invoice"] }

[[rules]]
id = "proximo-a-vencer"
anchor = "due"
offset_days = -5
when = { kinds = ["invoice"] }

[[rules]]
id = "vence-hoy"
anchor = "due"
when = { kinds = ["invoice"] }

[[rules]]
id = "vencido"
anchor = "due"
offset_days = 3
every_days = 7
count = 4
when = { kinds = ["invoice"] }

[[rules]]
id = "accion-pendiente"
anchor = "sent"
offset_days = 3
every_days = 3
count = 1
[rules.when]
kinds = ["proposal", "signature", "approval", "form", "message"]
"#;

struct Args {
    today: NaiveDate,
    horizon: u32,
    db: PathBuf,
    outbox: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    #[allow(clippy::disallowed_methods)] // the example is the shell: it may read the clock
    let mut args = Args {
        today: Utc::now().date_naive(),
        horizon: 30,
        db: PathBuf::from("target/dunning-quickstart/dunning.sqlite"),
        outbox: PathBuf::from("target/dunning-quickstart/outbox"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--today" => {
                args.today = value
                    .parse()
                    .map_err(|e| format!("--today {value:?}: {e} (expected YYYY-MM-DD)"))?
            }
            "--horizon" => {
                args.horizon = value
                    .parse()
                    .map_err(|e| format!("--horizon {value:?}: {e} (expected days)"))?
            }
            "--db" => args.db = PathBuf::from(value),
            "--outbox" => args.outbox = PathBuf::from(value),
            other => {
                return Err(format!(
                    "unknown option {other}; use --today YYYY-MM-DD --horizon DAYS --db FILE --outbox DIR"
                ));
            }
        }
    }
    Ok(args)
}

fn demo(today: NaiveDate) -> Result<(Vec<Client>, Vec<Item>), ValidationError> {
    let santiago = TimeZone::from_name("America/Santiago")?;
    let madrid = TimeZone::from_name("Europe/Madrid")?;
    let clp = Currency::from_code("CLP")?;
    let eur = Currency::from_code("EUR")?;
    let ago = |days: i64| today - Duration::days(days);
    let clients = vec![
        Client::new("constructora-andes".parse()?, "Constructora Andes SpA")
            .with_time_zone(santiago)
            .with_locale("es-CL")
            .with_contact(Contact::new("María Soto", "pagos@andes.example"))
            .with_contact(
                Contact::new("Jorge Díaz", "gerencia@andes.example").with_role(ContactRole::Manager),
            ),
        Client::new("vinos-del-maule".parse()?, "Vinos del Maule Ltda.")
            .with_time_zone(santiago)
            .with_contact(Contact::new("Camila Rojas", "finanzas@maule.example"))
            .with_overrides(ClientOverrides::default().reminders(false)),
        Client::new("gestoria-retiro".parse()?, "Gestoría Retiro SL")
            .with_time_zone(madrid)
            .with_locale("es-ES")
            .with_contact(Contact::new("Lucía Martín", "lucia@retiro.example")),
    ];
    let invoice =
        |id: &str, client: &str, issued: NaiveDate, total: Money| -> Result<Item, ValidationError> {
            Ok(Item::invoice(id.parse()?, client.parse()?, issued, total))
        };
    let items = vec![
        invoice(
            "F-1001",
            "constructora-andes",
            ago(25),
            Money::parse("1190000", clp)?,
        )?,
        invoice(
            "F-1002",
            "constructora-andes",
            ago(33),
            Money::parse("2380000", clp)?,
        )?
        .paid(Money::parse("1000000", clp)?, ago(5)),
        invoice(
            "F-1003",
            "constructora-andes",
            ago(40),
            Money::parse("595000", clp)?,
        )?
        .with_pause(Pause::new(PauseKind::Promise, "pagará el viernes").until(today + Duration::days(3))),
        invoice("F-2001", "vinos-del-maule", ago(31), Money::parse("450000", clp)?)?,
        invoice(
            "A-2026-17",
            "gestoria-retiro",
            ago(30),
            Money::parse("1210.00", eur)?,
        )?,
        invoice(
            "A-2026-18",
            "gestoria-retiro",
            today,
            Money::parse("242.00", eur)?,
        )?,
        Item::action(
            "P-77".parse()?,
            "gestoria-retiro".parse()?,
            ItemKind::Proposal,
            ago(3),
        ),
    ];
    Ok((clients, items))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let policy: Policy = toml::from_str(POLICY)?;
    for w in Planner::new(&policy)?.warnings() {
        println!("policy warning: {w}");
    }
    // PostgreSQL when DATABASE_URL is set (postgres://user@host:port/db), else a SQLite file.
    let store: Arc<dyn Store> = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = pg_store::PgStore::connect(&url).await?;
            let shown = url.split('@').next_back().unwrap_or_default();
            if store.is_empty().await? {
                let (clients, items) = demo(args.today)?;
                store.put_clients(&clients).await?;
                store.put_items(&items).await?;
                println!("created the demo portfolio in postgres {shown}");
            } else {
                println!("reusing postgres {shown}");
            }
            Arc::new(store)
        }
        Ok(url) if !url.is_empty() => {
            return Err(format!("DATABASE_URL {url:?} is not a postgres:// URL").into());
        }
        _ => {
            if let Some(dir) = args.db.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let store = sqlite_store::SqliteStore::open(&args.db)?;
            if store.is_empty()? {
                let (clients, items) = demo(args.today)?;
                store.put_clients(&clients)?;
                store.put_items(&items)?;
                println!("created {} with the demo portfolio", args.db.display());
            } else {
                println!("reusing {}", args.db.display());
            }
            Arc::new(store)
        }
    };
    // SMTP when SMTP_URL is set (smtp://host:587?tls=required, smtps://host:465), else files.
    let (mailer, destination): (Arc<dyn Mailer>, String) = match std::env::var("SMTP_URL") {
        Ok(url) if !url.is_empty() => {
            let from = Mailbox {
                name: Some(policy.company.name.clone()),
                email: policy.company.email.clone(),
            };
            (
                Arc::new(smtp::SmtpMailer::from_url(&url, from)?),
                format!("sent through {url}"),
            )
        }
        _ => (
            Arc::new(outbox::OutboxMailer::new(&args.outbox)?),
            format!("written as .eml files to {}", args.outbox.display()),
        ),
    };
    // The day's tick at 15:00 UTC (09:00 has passed in Santiago and in Madrid).
    let now = args
        .today
        .and_time(NaiveTime::from_hms_opt(15, 0, 0).unwrap_or_default())
        .and_utc();
    let dispatcher =
        Dispatcher::new(store.clone(), mailer, &policy)?.with_clock(Arc::new(ManualClock::new(now)));
    let report = dispatcher.tick(now).await?;

    println!("\ndunning quickstart — tick at {now}\n");
    println!("SENT ({}), {destination}", report.sent().count());
    for s in report.sent() {
        if let SendOutcome::Sent { message_id } = &s.outcome {
            println!("  {:<46} {message_id}", s.key);
        }
    }
    if report.sent().next().is_none() {
        println!("  nothing to send: what is due today was already sent (or nothing is due)");
    }
    for s in report
        .sends
        .iter()
        .filter(|s| !matches!(s.outcome, SendOutcome::Sent { .. }))
    {
        match &s.outcome {
            SendOutcome::Skipped { skip } => println!("  skipped {} ({skip}): {skip:?}", s.key),
            SendOutcome::Retrying { error, .. } => {
                println!("  will retry {} (attempt {}): {error}", s.key, s.attempt)
            }
            other => println!("  {other} {}: {other:?}", s.key),
        }
    }

    let snapshot = store.load().await?;
    let plan = dispatcher.planner().plan(
        &snapshot.clients,
        &snapshot.items,
        &snapshot.history,
        now,
        Horizon::days(args.horizon),
    )?;
    println!("\nNOT SENT, AND WHY ({})", plan.suppressed().len());
    for s in plan.suppressed() {
        println!("  {}  {:<22} {}", s.on, s.client, s.explain());
    }
    println!(
        "\nFORECAST, NEXT {} DAYS ({})",
        args.horizon,
        plan.upcoming().len()
    );
    for e in plan.upcoming() {
        print_event(e);
    }
    if !plan.standings().is_empty() {
        println!("\nSTANDING");
        for s in plan.standings() {
            println!(
                "  {:<22} {:?}, {} days overdue since {}",
                s.client, s.state, s.days_overdue, s.since
            );
        }
    }
    Ok(())
}

fn print_event(e: &Event) {
    let to: Vec<&str> = e.recipients.iter().map(|r| r.email.as_str()).collect();
    let amount = e.amount_due.map(|m| m.to_string()).unwrap_or_default();
    println!(
        "  {}  {:<22} {:<44} {:>14}  to {}\n      why: {}",
        e.send_on,
        e.client,
        e.key,
        amount,
        to.join(", "),
        e.explain()
    );
}
