//! Amounts of money as Stripe counts them: whole numbers of the currency's smallest unit (cents
//! for euros, yen for yen), read from what an operator types ("9.00") and written for members
//! ("9.00 €", "$9.00").

/// Currencies without a minor unit, as Stripe lists them.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Digits after the decimal point in `currency` (a lower-case ISO code).
pub fn decimals(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency) {
        0
    } else {
        2
    }
}

/// A currency code as Stripe takes it: three ASCII letters, lower case.
pub fn parse_currency(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_lowercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(code)
    } else {
        Err(format!(
            "{text:?} is not a currency code such as eur, usd or gbp"
        ))
    }
}

/// "9.00" (or "9", or "9.5") in `currency`, as a count of its smallest unit.
pub fn parse_amount(text: &str, currency: &str) -> Result<i64, String> {
    let text = text.trim();
    let places = decimals(currency);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let fraction_ok = fraction.is_empty() || digits(fraction);
    if !digits(whole) || !fraction_ok || fraction.len() > places as usize {
        return Err(if places == 0 {
            format!("{text:?} is not a whole amount such as 900")
        } else {
            format!("{text:?} is not an amount such as 9.00")
        });
    }
    let scale = 10_i64.pow(places);
    let padded = format!("{fraction:0<width$}", width = places as usize);
    let whole: i64 = whole
        .parse()
        .map_err(|_| format!("{text:?} is too large"))?;
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded
            .parse()
            .map_err(|_| format!("{text:?} is not an amount"))?
    };
    let amount = whole
        .checked_mul(scale)
        .and_then(|a| a.checked_add(fraction))
        .filter(|a| *a <= 99_999_999)
        .ok_or_else(|| format!("{text:?} is more than Stripe takes for one price"))?;
    if amount == 0 {
        return Err("a price must be more than nothing".to_owned());
    }
    Ok(amount)
}

/// `amount` of `currency` as a member reads it: "9.00 €", "$9.00", "£9.00", "900 JPY".
pub fn format_amount(amount: i64, currency: &str) -> String {
    let places = decimals(currency);
    let number = if places == 0 {
        amount.to_string()
    } else {
        let scale = 10_i64.pow(places);
        format!(
            "{}{}.{:0width$}",
            if amount < 0 { "-" } else { "" },
            (amount / scale).abs(),
            (amount % scale).abs(),
            width = places as usize
        )
    };
    match currency {
        "eur" => format!("{number} €"),
        "usd" => format!("${number}"),
        "gbp" => format!("£{number}"),
        other => format!("{number} {}", other.to_ascii_uppercase()),
    }
}

/// "9.00 € a month", "90.00 € a year".
pub fn plan_price(amount: i64, currency: &str, interval: &str) -> String {
    let per = if interval == "year" {
        "a year"
    } else {
        "a month"
    };
    format!("{} {per}", format_amount(amount, currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_are_read_in_the_currencys_smallest_unit() {
        assert_eq!(parse_amount("9.00", "eur"), Ok(900));
        assert_eq!(parse_amount("9", "eur"), Ok(900));
        assert_eq!(parse_amount("9.5", "eur"), Ok(950));
        assert_eq!(parse_amount("90.00", "usd"), Ok(9000));
        assert_eq!(parse_amount("900", "jpy"), Ok(900));
        for bad in [
            "", "9.001", "-9", "9,00", "nine", "0", "0.00", "1e3", "900.5",
        ] {
            let currency = if bad == "900.5" { "jpy" } else { "eur" };
            assert!(parse_amount(bad, currency).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_are_written_as_members_read_them() {
        assert_eq!(plan_price(900, "eur", "month"), "9.00 € a month");
        assert_eq!(plan_price(9000, "usd", "year"), "$90.00 a year");
        assert_eq!(format_amount(1205, "gbp"), "£12.05");
        assert_eq!(format_amount(900, "jpy"), "900 JPY");
        assert_eq!(format_amount(950, "chf"), "9.50 CHF");
    }

    proptest! {
        #[test]
        fn an_amount_written_with_two_places_reads_back_the_same(cents in 1_i64..99_999_999) {
            let text = format!("{}.{:02}", cents / 100, cents % 100);
            prop_assert_eq!(parse_amount(&text, "eur"), Ok(cents));
        }

        #[test]
        fn reading_any_text_as_an_amount_never_panics(text in ".{0,20}") {
            let _ = parse_amount(&text, "eur");
            let _ = parse_amount(&text, "jpy");
        }
    }
}
