//! The templates the crate ships: Spanish and English, for every kind of message.
//!
//! Each default is a subject, a plain-text body and an HTML body, built from one layout and
//! a sentence per kind, so every kind says the same things (items, totals, how to pay, who
//! writes) in the same place.

use crate::policy::TemplateKind;

/// The languages with shipped templates.
pub(crate) const LANGUAGES: [&str; 2] = ["es", "en"];

struct Words {
    greeting: &'static str,
    document: &'static str,
    due: &'static str,
    balance: &'static str,
    total: &'static str,
    overdue: &'static str,
    fee: &'static str,
    pay_online: &'static str,
    pay_button: &'static str,
    how_to_pay: &'static str,
    regards: &'static str,
    ignore: &'static str,
}

const ES: Words = Words {
    greeting: "Estimado/a",
    document: "Documento",
    due: "Vencimiento",
    balance: "Saldo",
    total: "Total adeudado",
    overdue: "vencido",
    fee: "recargo propuesto",
    pay_online: "Puede pagar en línea aquí",
    pay_button: "Pagar ahora",
    how_to_pay: "Instrucciones de pago",
    regards: "Saludos cordiales",
    ignore: "Si ya realizó el pago, por favor ignore este mensaje.",
};

const EN: Words = Words {
    greeting: "Dear",
    document: "Document",
    due: "Due",
    balance: "Balance",
    total: "Total due",
    overdue: "overdue",
    fee: "proposed late fee",
    pay_online: "You can pay online here",
    pay_button: "Pay now",
    how_to_pay: "How to pay",
    regards: "Kind regards",
    ignore: "If you have already paid, please disregard this message.",
};

/// Subject and opening sentence of each kind.
fn lines(kind: TemplateKind, lang: &str) -> (&'static str, &'static str) {
    use TemplateKind as K;
    if lang == "es" {
        match kind {
            K::Issued => (
                "Factura N° {{item.number}} de {{company.name}}",
                "Le enviamos la factura N° {{item.number}}, emitida el {{date item.issued_on}} por {{money item.total}}{{#if item.due_on}}, con vencimiento el {{date item.due_on}}{{/if}}.",
            ),
            K::DueSoon => (
                "Recordatorio: la factura N° {{item.number}} vence el {{date item.due_on}}",
                "Le recordamos que la factura N° {{item.number}} vence el {{date item.due_on}}, en {{item.days_until_due}} día(s).",
            ),
            K::DueToday => (
                "Su factura N° {{item.number}} vence hoy",
                "Le recordamos que la factura N° {{item.number}} vence hoy, {{date item.due_on}}.",
            ),
            K::Overdue => (
                "Factura N° {{item.number}} vencida",
                "La factura N° {{item.number}} venció el {{date item.due_on}} y registra {{item.days_past_due}} día(s) de atraso.",
            ),
            K::ThankYou => (
                "Gracias por su pago",
                "Hemos recibido el pago de la factura N° {{item.number}}. ¡Muchas gracias!",
            ),
            K::Statement => (
                "Estado de cuenta de {{client.name}}",
                "Le enviamos su estado de cuenta{{#if statement.period}} de {{statement.period}}{{/if}} con todos sus documentos pendientes.",
            ),
            K::OverdueStatement => (
                "Documentos vencidos de {{client.name}}",
                "Le enviamos el detalle de sus documentos vencidos{{#if statement.period}} a {{statement.period}}{{/if}}.",
            ),
            K::ClosingSoon => (
                "Aviso: su cuenta está pronta a cerrar",
                "Su cuenta registra {{standing.days_overdue}} día(s) de mora. Si no se regulariza, su línea de crédito se cerrará al cumplir {{standing.closed_after_days}} días.",
            ),
            K::Closed => (
                "Su línea de crédito ha sido cerrada",
                "Su cuenta registra {{standing.days_overdue}} día(s) de mora y su línea de crédito ha sido cerrada hasta que se regularice la deuda.",
            ),
            K::PendingInvoice => (
                "Recordatorio: factura N° {{item.number}} pendiente",
                "La factura N° {{item.number}} que le enviamos sigue pendiente de pago.",
            ),
            K::PendingProposal => (
                "Recordatorio: propuesta {{item.number}} pendiente de firma",
                "La propuesta {{item.number}} espera su firma.",
            ),
            K::PendingSignature => (
                "Recordatorio: documento {{item.number}} pendiente de firma",
                "El documento {{item.number}} espera su firma.",
            ),
            K::PendingApproval => (
                "Recordatorio: documento {{item.number}} pendiente de aprobación",
                "El documento {{item.number}} espera su aprobación.",
            ),
            K::PendingForm => (
                "Recordatorio: formulario {{item.number}} pendiente",
                "El formulario {{item.number}} espera ser completado y enviado.",
            ),
            K::PendingMessage => (
                "Recordatorio: mensaje {{item.number}} pendiente",
                "Tiene un mensaje pendiente de respuesta ({{item.number}}).",
            ),
        }
    } else {
        match kind {
            K::Issued => (
                "Invoice {{item.number}} from {{company.name}}",
                "Please find invoice {{item.number}}, issued on {{date item.issued_on}} for {{money item.total}}{{#if item.due_on}}, due on {{date item.due_on}}{{/if}}.",
            ),
            K::DueSoon => (
                "Reminder: invoice {{item.number}} is due on {{date item.due_on}}",
                "This is a reminder that invoice {{item.number}} is due on {{date item.due_on}}, in {{item.days_until_due}} day(s).",
            ),
            K::DueToday => (
                "Your invoice {{item.number}} is due today",
                "This is a reminder that invoice {{item.number}} is due today, {{date item.due_on}}.",
            ),
            K::Overdue => (
                "Invoice {{item.number}} is overdue",
                "Invoice {{item.number}} was due on {{date item.due_on}} and is {{item.days_past_due}} day(s) overdue.",
            ),
            K::ThankYou => (
                "Thank you for your payment",
                "We have received the payment of invoice {{item.number}}. Thank you!",
            ),
            K::Statement => (
                "Account statement for {{client.name}}",
                "Please find your account statement{{#if statement.period}} for {{statement.period}}{{/if}} with every open document.",
            ),
            K::OverdueStatement => (
                "Overdue documents of {{client.name}}",
                "Please find the list of your overdue documents{{#if statement.period}} as of {{statement.period}}{{/if}}.",
            ),
            K::ClosingSoon => (
                "Notice: your account will close soon",
                "Your account is {{standing.days_overdue}} day(s) past due. Unless it is settled, your credit line will close at {{standing.closed_after_days}} days.",
            ),
            K::Closed => (
                "Your credit line has been closed",
                "Your account is {{standing.days_overdue}} day(s) past due and your credit line has been closed until the debt is settled.",
            ),
            K::PendingInvoice => (
                "Reminder: invoice {{item.number}} is pending",
                "Invoice {{item.number}} that we sent you is still waiting for payment.",
            ),
            K::PendingProposal => (
                "Reminder: proposal {{item.number}} awaits your signature",
                "Proposal {{item.number}} is waiting for your signature.",
            ),
            K::PendingSignature => (
                "Reminder: document {{item.number}} awaits your signature",
                "Document {{item.number}} is waiting for your signature.",
            ),
            K::PendingApproval => (
                "Reminder: document {{item.number}} awaits your approval",
                "Document {{item.number}} is waiting for your approval.",
            ),
            K::PendingForm => (
                "Reminder: form {{item.number}} is pending",
                "Form {{item.number}} is waiting to be completed and submitted.",
            ),
            K::PendingMessage => (
                "Reminder: message {{item.number}} awaits your answer",
                "A message is waiting for your answer ({{item.number}}).",
            ),
        }
    }
}

/// Whether the kind lists amounts (pending actions other than invoices have none).
fn has_amounts(kind: TemplateKind) -> bool {
    !matches!(
        kind,
        TemplateKind::PendingProposal
            | TemplateKind::PendingSignature
            | TemplateKind::PendingApproval
            | TemplateKind::PendingForm
            | TemplateKind::PendingMessage
    )
}

/// The default subject, text body and HTML body of `kind` in `lang` (`es` or `en`).
pub(crate) fn template(kind: TemplateKind, lang: &str) -> (String, String, String) {
    let w = if lang == "es" { &ES } else { &EN };
    let (subject, intro) = lines(kind, lang);
    let amounts = has_amounts(kind);
    let pays = amounts && kind != TemplateKind::ThankYou;

    let mut text = format!("{} {{{{contact.name}}}}:\n\n{intro}\n", w.greeting);
    if amounts {
        text.push_str(&format!(
            "\n{{{{#each items}}}}\n- {doc} {{{{number}}}}{{{{#if due_on}}}}, {due} {{{{date due_on}}}}{{{{/if}}}}: {bal} {{{{money balance}}}}{{{{#if late_fee}}}} ({fee} {{{{money late_fee}}}}){{{{/if}}}}\n{{{{/each}}}}\n{{{{#each totals}}}}\n{total} ({{{{currency}}}}): {{{{money balance}}}}\n{{{{/each}}}}\n",
            doc = w.document,
            due = w.due.to_lowercase(),
            bal = w.balance.to_lowercase(),
            fee = w.fee,
            total = w.total,
        ));
    }
    if pays {
        text.push_str(&format!(
            "{{{{#if payment_link}}}}\n{}: {{{{payment_link}}}}\n{{{{/if}}}}{{{{#if payment_instructions}}}}\n{}:\n{{{{payment_instructions}}}}\n{{{{/if}}}}\n{}\n",
            w.pay_online, w.how_to_pay, w.ignore
        ));
    }
    text.push_str(&format!(
        "\n{},\n{{{{company.name}}}}\n{{{{#if company.phone}}}}{{{{company.phone}}}}\n{{{{/if}}}}{{{{#if company.website}}}}{{{{company.website}}}}\n{{{{/if}}}}",
        w.regards
    ));

    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"{{locale}}\"><body style=\"margin:0;padding:24px;background:{{branding.secondary_color}};font-family:Arial,Helvetica,sans-serif;color:#222\">\n<table role=\"presentation\" width=\"100%\" style=\"max-width:640px;margin:0 auto;background:#ffffff;border-top:4px solid {{branding.primary_color}}\">\n{{#if branding.logo_url}}<tr><td style=\"padding:16px;text-align:{{branding.logo_alignment}}\"><img src=\"{{branding.logo_url}}\" alt=\"{{company.name}}\" height=\"48\"></td></tr>\n{{/if}}<tr><td style=\"padding:16px\">\n",
    );
    html.push_str(&format!(
        "<p>{} {{{{contact.name}}}}:</p>\n<p>{intro}</p>\n",
        w.greeting
    ));
    if amounts {
        html.push_str(&format!(
            "{{{{#if items}}}}<table width=\"100%\" style=\"border-collapse:collapse\">\n<tr style=\"background:{{{{branding.secondary_color}}}}\"><th align=\"left\">{doc}</th><th align=\"left\">{due}</th><th align=\"right\">{bal}</th></tr>\n{{{{#each items}}}}<tr><td>{{{{number}}}}</td><td>{{{{#if due_on}}}}{{{{date due_on}}}}{{{{/if}}}}{{{{#if overdue}}}} ({over}){{{{/if}}}}</td><td align=\"right\">{{{{money balance}}}}{{{{#if late_fee}}}}<br><small>{fee}: {{{{money late_fee}}}}</small>{{{{/if}}}}</td></tr>\n{{{{/each}}}}</table>\n{{{{/if}}}}{{{{#each totals}}}}<p style=\"text-align:right\"><strong>{total} ({{{{currency}}}}): {{{{money balance}}}}</strong></p>\n{{{{/each}}}}",
            doc = w.document,
            due = w.due,
            bal = w.balance,
            over = w.overdue,
            fee = w.fee,
            total = w.total,
        ));
    }
    if pays {
        html.push_str(&format!(
            "{{{{#if payment_link}}}}<p><a href=\"{{{{payment_link}}}}\" style=\"display:inline-block;padding:10px 18px;background:{{{{branding.primary_color}}}};color:#ffffff;text-decoration:none\">{}</a></p>\n{{{{/if}}}}{{{{#if payment_instructions}}}}<h3 style=\"color:{{{{branding.primary_color}}}}\">{}</h3>\n<p style=\"white-space:pre-line\">{{{{payment_instructions}}}}</p>\n{{{{/if}}}}<p><small>{}</small></p>\n",
            w.pay_button, w.how_to_pay, w.ignore
        ));
    }
    html.push_str(&format!(
        "<p>{},<br>{{{{company.name}}}}</p>\n</td></tr>\n<tr><td style=\"padding:16px;font-size:12px;color:#666\">{{{{company.name}}}}{{{{#if company.address}}}} · {{{{company.address}}}}{{{{/if}}}}{{{{#if company.phone}}}} · {{{{company.phone}}}}{{{{/if}}}}{{{{#if company.website}}}} · {{{{company.website}}}}{{{{/if}}}}</td></tr>\n</table>\n</body></html>\n",
        w.regards
    ));
    (subject.to_owned(), text, html)
}
