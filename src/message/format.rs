//! Money and dates written for a locale.
//!
//! A small table of conventions, enough for the locales the crate ships templates for and a
//! sensible fallback for the rest: `es-CL` writes `$1.234.567` (CLP has no decimals),
//! `en-US` writes `$1,234.56`, `es-ES` writes `1.234,56 €`.

use chrono::{Datelike, NaiveDate};

use crate::money::{Currency, Money};

/// How a locale writes numbers, money and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Conventions {
    thousands: char,
    decimal: char,
    symbol_after: bool,
    spanish: bool,
    /// The local peso is written `$`, so the US dollar is written `US$`.
    peso: bool,
}

impl Conventions {
    /// The conventions of a BCP 47 tag such as `es-CL` or `en` (unknown tags: English).
    pub(crate) fn of(locale: &str) -> Self {
        let lower = locale.to_ascii_lowercase();
        let (lang, region) = match lower.split_once(['-', '_']) {
            Some((l, r)) => (l, r),
            None => (lower.as_str(), ""),
        };
        match (lang, region) {
            ("es", "cl" | "ar" | "co" | "uy" | "py") => Self {
                thousands: '.',
                decimal: ',',
                symbol_after: false,
                spanish: true,
                peso: true,
            },
            ("es", "mx") => Self {
                thousands: ',',
                decimal: '.',
                symbol_after: false,
                spanish: true,
                peso: true,
            },
            ("es", "us" | "pr") => Self {
                thousands: ',',
                decimal: '.',
                symbol_after: false,
                spanish: true,
                peso: false,
            },
            ("es", _) => Self {
                thousands: '.',
                decimal: ',',
                symbol_after: true,
                spanish: true,
                peso: false,
            },
            _ => Self {
                thousands: ',',
                decimal: '.',
                symbol_after: false,
                spanish: false,
                peso: false,
            },
        }
    }

    /// Whether the locale's language is Spanish.
    pub(crate) fn is_spanish(&self) -> bool {
        self.spanish
    }

    /// `1234567` grouped by thousands.
    fn group(&self, mut n: u64, out: &mut String) {
        let mut digits = Vec::with_capacity(20);
        loop {
            digits.push(b'0' + (n % 10) as u8);
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (i, d) in digits.iter().rev().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(self.thousands);
            }
            out.push(char::from(*d));
        }
    }

    /// An amount with its currency's symbol, grouped, with exactly the currency's decimals.
    pub(crate) fn money(&self, m: Money) -> String {
        let cur = m.currency();
        let symbol = if self.peso && cur.code() == "USD" {
            "US$"
        } else {
            symbol(cur)
        };
        let exp = u32::from(cur.exponent());
        let abs = m.minor().unsigned_abs();
        let unit = 10u64.pow(exp);
        let mut number = String::new();
        self.group(abs / unit, &mut number);
        if exp > 0 {
            number.push(self.decimal);
            number.push_str(&format!("{:0width$}", abs % unit, width = exp as usize));
        }
        let sign = if m.is_negative() { "-" } else { "" };
        if self.symbol_after {
            format!("{sign}{number} {symbol}")
        } else {
            format!("{sign}{symbol}{number}")
        }
    }

    /// A month in words: `mayo de 2026`, `May 2026`.
    pub(crate) fn month(&self, d: NaiveDate) -> String {
        let m = d.month0() as usize;
        if self.spanish {
            format!("{} de {}", MESES[m], d.year())
        } else {
            format!("{} {}", MONTHS[m], d.year())
        }
    }

    /// A date in words: `15 de marzo de 2026`, `March 15, 2026`.
    pub(crate) fn date(&self, d: NaiveDate) -> String {
        let m = d.month0() as usize;
        if self.spanish {
            format!("{} de {} de {}", d.day(), MESES[m], d.year())
        } else {
            format!("{} {}, {}", MONTHS[m], d.day(), d.year())
        }
    }
}

/// The symbol a reader expects: the local one for the common currencies, else the code.
fn symbol(c: Currency) -> &'static str {
    match c.code() {
        "CLP" | "USD" | "MXN" | "ARS" | "COP" | "UYU" | "CAD" | "AUD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "BRL" => "R$",
        "PEN" => "S/",
        "CLF" => "UF ",
        other => other,
    }
}

const MESES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str, code: &str) -> Money {
        Money::parse(text, Currency::from_code(code).unwrap()).unwrap()
    }

    #[test]
    fn money_per_locale_and_currency() {
        assert_eq!(Conventions::of("es-CL").money(m("1234567", "CLP")), "$1.234.567");
        assert_eq!(Conventions::of("en-US").money(m("1234.56", "USD")), "$1,234.56");
        assert_eq!(Conventions::of("es-ES").money(m("1234.56", "EUR")), "1.234,56 €");
        assert_eq!(Conventions::of("es").money(m("0.5", "EUR")), "0,50 €");
        assert_eq!(Conventions::of("en").money(m("-12", "CLP")), "-$12");
        assert_eq!(Conventions::of("es-CL").money(m("1.5", "CLF")), "UF 1,5000");
        assert_eq!(Conventions::of("xx").money(m("999", "CHF")), "CHF999.00");
        assert_eq!(Conventions::of("en").money(m("100", "CLP")), "$100");
        assert_eq!(Conventions::of("en").money(m("1000", "CLP")), "$1,000");
        assert_eq!(Conventions::of("es-CL").money(m("1250.5", "USD")), "US$1.250,50");
    }

    #[test]
    fn dates_in_words() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        assert_eq!(Conventions::of("es-CL").date(d), "15 de marzo de 2026");
        assert_eq!(Conventions::of("en-US").date(d), "March 15, 2026");
    }
}
