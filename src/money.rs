//! Exact amounts in ISO 4217 currencies.
//!
//! Amounts are integers of the currency's minor unit (cents for USD, pesos for CLP, ten
//! thousandths for CLF), so no arithmetic here ever rounds.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

/// An ISO 4217 currency with its minor-unit exponent.
///
/// Serialized as its three-letter code (`"EUR"`). Codes without a minor unit (such as `XAU`)
/// are refused, since they cannot carry an exact amount.
///
/// # Example
/// ```
/// use dunning::Currency;
/// let clp: Currency = "CLP".parse()?;
/// assert_eq!(clp.exponent(), 0);
/// assert_eq!(Currency::from_code("CLF")?.exponent(), 4);
/// assert_eq!(Currency::from_code("usd")?.code(), "USD");
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    iso: iso_currency::Currency,
    exponent: u8,
}

impl Currency {
    /// The currency in 25 bits, never 0: its code's number in the ISO table and its exponent.
    pub(crate) fn bits(self) -> u32 {
        (1 << 24) | (u32::from(self.iso as u16) << 8) | u32::from(self.exponent)
    }

    /// Looks up a currency by its ISO 4217 alphabetic code (case-insensitive).
    ///
    /// # Errors
    /// [`ValidationError::UnknownCurrency`] for a code not in ISO 4217, and
    /// [`ValidationError::CurrencyWithoutMinorUnit`] for one that has no minor unit, both
    /// naming the field `currency` (a loader names the value's path instead,
    /// `items[3].total.currency`).
    ///
    /// ```
    /// use dunning::{Currency, ValidationError};
    /// assert_eq!(
    ///     Currency::from_code("XAU"),
    ///     Err(ValidationError::CurrencyWithoutMinorUnit { field: "currency".into(), code: "XAU".into() })
    /// );
    /// ```
    pub fn from_code(code: &str) -> Result<Self, ValidationError> {
        let upper = code.trim().to_ascii_uppercase();
        let iso =
            iso_currency::Currency::from_code(&upper).ok_or_else(|| ValidationError::UnknownCurrency {
                field: "currency".to_owned(),
                value: code.to_owned(),
            })?;
        let exponent = iso
            .exponent()
            .and_then(|e| u8::try_from(e).ok())
            .filter(|e| *e <= 6)
            .ok_or_else(|| ValidationError::CurrencyWithoutMinorUnit {
                field: "currency".to_owned(),
                code: upper.clone(),
            })?;
        Ok(Self { iso, exponent })
    }

    /// The three-letter code, e.g. `"CLP"`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.iso.code()
    }

    /// How many decimal digits the minor unit has: 0 for CLP, 2 for USD, 4 for CLF.
    #[must_use]
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// The currency's English name, e.g. `"Chilean peso"`.
    #[must_use]
    pub fn name(&self) -> &str {
        self.iso.name()
    }
}

impl PartialOrd for Currency {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Currency {
    fn cmp(&self, other: &Self) -> Ordering {
        self.code().cmp(other.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Self::from_code(&code).map_err(crate::error::de_error)
    }
}

/// An exact amount of money: an integer count of the currency's minor unit.
///
/// Serialized as `{"currency": "USD", "amount": "1234.56"}`; the amount is a decimal string
/// (or an integer of major units) with at most as many decimals as the currency has.
/// Floats are refused because they are not exact.
///
/// # Example
/// ```
/// use dunning::{Currency, Money};
/// let usd = Currency::from_code("USD")?;
/// let m = Money::parse("1234.5", usd)?;
/// assert_eq!(m.minor(), 123_450);
/// assert_eq!(m.to_string(), "USD 1234.50");
///
/// let clp = Currency::from_code("CLP")?;
/// assert!(Money::parse("10.5", clp).is_err()); // CLP has no decimals
/// # Ok::<(), dunning::ValidationError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount from a count of minor units (cents for USD).
    #[must_use]
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Zero in `currency`.
    #[must_use]
    pub fn zero(currency: Currency) -> Self {
        Self::from_minor(0, currency)
    }

    /// Parses a plain decimal amount (`"1234.56"`, `"-3"`, `"0.5"`) in `currency`: digits,
    /// at most one decimal point, a leading `-` for a negative amount, and nothing else (no
    /// `+`, spaces, exponents or thousands separators).
    ///
    /// # Example
    /// ```
    /// use dunning::{Currency, Money};
    /// let usd = Currency::from_code("USD")?;
    /// assert_eq!(Money::parse("1234.5", usd)?.minor(), 123_450);
    /// for bad in ["+5", " 5", "1e3", "1,000", "12.345", "", ".5", "5."] {
    ///     assert!(Money::parse(bad, usd).is_err(), "{bad:?}");
    /// }
    /// # Ok::<(), dunning::ValidationError>(())
    /// ```
    ///
    /// # Errors
    /// [`ValidationError::InvalidAmount`] when the text is not a plain decimal number, has more
    /// decimals than the currency allows, or does not fit in 64 bits of minor units.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, ValidationError> {
        let bad = |reason| ValidationError::InvalidAmount {
            value: text.to_owned(),
            currency: currency.code().to_owned(),
            reason,
        };
        // One way to write an amount: no sign but a minus, no spaces, no exponent.
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(bad("not a number"));
        }
        if whole.is_empty() {
            return Err(bad("no digits before the decimal point"));
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not a plain decimal number"));
        }
        if digits.contains('.') && frac.is_empty() {
            return Err(bad("no digits after the decimal point"));
        }
        let exp = usize::from(currency.exponent());
        if frac.len() > exp {
            return Err(bad("more decimals than the currency's minor unit"));
        }
        // Accumulated with its sign, so the most negative amount (`i64::MIN` minor units,
        // which a balance can reach) reads back too.
        let mut minor: i64 = 0;
        let padded = frac.bytes().chain(std::iter::repeat_n(b'0', exp - frac.len()));
        for b in whole.bytes().chain(padded) {
            let digit = i64::from(b - b'0');
            minor = minor
                .checked_mul(10)
                .and_then(|m| {
                    if negative {
                        m.checked_sub(digit)
                    } else {
                        m.checked_add(digit)
                    }
                })
                .ok_or_else(|| bad("too large"))?;
        }
        Ok(Self::from_minor(minor, currency))
    }

    /// The amount in minor units.
    #[must_use]
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is above zero.
    #[must_use]
    pub fn is_positive(&self) -> bool {
        self.minor > 0
    }

    /// Whether the amount is below zero.
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// `self + other`, or `None` on overflow or when the currencies differ.
    #[must_use]
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_add(other.minor))
            .flatten()
            .map(|minor| Money::from_minor(minor, self.currency))
    }

    /// `self - other`, or `None` on overflow or when the currencies differ.
    #[must_use]
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_sub(other.minor))
            .flatten()
            .map(|minor| Money::from_minor(minor, self.currency))
    }

    /// The amount as a plain decimal string with exactly the currency's decimals
    /// (`"1234.50"`, `"150000"`), as used in serialization.
    #[must_use]
    pub fn decimal(&self) -> String {
        let exp = u32::from(self.currency.exponent());
        let abs = self.minor.unsigned_abs();
        let sign = if self.minor < 0 { "-" } else { "" };
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = exp as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.decimal())
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyRepr {
    currency: Currency,
    amount: AmountRepr,
}

/// An amount as written: a decimal string, or a whole number (exact in JSON and TOML). A
/// number with a fraction is refused: it went through binary floating point on its way.
struct AmountRepr(String);

impl Serialize for AmountRepr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AmountRepr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Amount;
        impl serde::de::Visitor<'_> for Amount {
            type Value = AmountRepr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount: a decimal string such as \"1234.56\", or a whole number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AmountRepr, E> {
                Ok(AmountRepr(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AmountRepr, E> {
                Ok(AmountRepr(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AmountRepr, E> {
                Ok(AmountRepr(v.to_string()))
            }
            fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<AmountRepr, E> {
                Ok(AmountRepr(v.to_string()))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<AmountRepr, E> {
                Ok(AmountRepr(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<AmountRepr, E> {
                // A whole number written with a point or an exponent (`12.0`, `1e2`) is that
                // number, if a double holds it exactly.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if v.fract() == 0.0 && v.abs() <= EXACT {
                    return Ok(AmountRepr(format!("{v:.0}")));
                }
                let what = if v.fract() == 0.0 || !v.is_finite() {
                    "too large to read exactly"
                } else {
                    "a number with a fraction, which is not exact"
                };
                Err(E::custom(format_args!(
                    "the amount {v} is {what}: write it as a string, such as \"{v}\""
                )))
            }
        }
        d.deserialize_any(Amount)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MoneyRepr {
            currency: self.currency,
            amount: AmountRepr(self.decimal()),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = MoneyRepr::deserialize(d)?;
        Money::parse(&repr.amount.0, repr.currency).map_err(crate::error::de_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn exponents_come_from_iso_4217() {
        assert_eq!(cur("CLP").exponent(), 0);
        assert_eq!(cur("USD").exponent(), 2);
        assert_eq!(cur("CLF").exponent(), 4);
        assert_eq!(cur("BHD").exponent(), 3);
    }

    #[test]
    fn unknown_and_unitless_codes_are_refused() {
        assert_eq!(
            Currency::from_code("ABC"),
            Err(ValidationError::UnknownCurrency {
                field: "currency".into(),
                value: "ABC".into()
            })
        );
        assert!(matches!(
            Currency::from_code("XAU"),
            Err(ValidationError::CurrencyWithoutMinorUnit { .. })
        ));
    }

    #[test]
    fn parse_is_exact_per_exponent() {
        assert_eq!(Money::parse("1234.56", cur("USD")).unwrap().minor(), 123_456);
        assert_eq!(Money::parse("0.5", cur("USD")).unwrap().minor(), 50);
        assert_eq!(Money::parse("-3", cur("USD")).unwrap().minor(), -300);
        assert_eq!(Money::parse("1234567", cur("CLP")).unwrap().minor(), 1_234_567);
        assert_eq!(Money::parse("1.2345", cur("CLF")).unwrap().minor(), 12_345);
        for bad in ["", ".", "1.", "1,5", "1e3", "--1", "abc", "1.234"] {
            assert!(Money::parse(bad, cur("USD")).is_err(), "{bad:?} parsed");
        }
        assert!(Money::parse("10.5", cur("CLP")).is_err());
        assert!(Money::parse("99999999999999999999", cur("CLP")).is_err());
    }

    #[test]
    fn decimal_round_trips() {
        for (text, code) in [
            ("1234.50", "USD"),
            ("-0.05", "USD"),
            ("150000", "CLP"),
            ("0.0001", "CLF"),
        ] {
            let m = Money::parse(text, cur(code)).unwrap();
            assert_eq!(m.decimal(), text);
        }
    }

    #[test]
    fn serde_uses_a_decimal_string_and_refuses_floats() {
        let m = Money::parse("12.30", cur("EUR")).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"currency":"EUR","amount":"12.30"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        let whole: Money = serde_json::from_str(r#"{"currency":"CLP","amount":150000}"#).unwrap();
        assert_eq!(whole.minor(), 150_000);
        assert!(serde_json::from_str::<Money>(r#"{"currency":"USD","amount":1.5}"#).is_err());
        let err = serde_json::from_str::<Money>(r#"{"currency":"XYZ","amount":"1"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown currency \"XYZ\""), "{err}");
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let a = Money::from_minor(5, cur("USD"));
        let b = Money::from_minor(5, cur("EUR"));
        assert!(a.checked_add(b).is_none());
        assert!(Money::from_minor(i64::MAX, cur("USD")).checked_add(a).is_none());
        assert_eq!(a.checked_sub(a).unwrap().minor(), 0);
    }
}
