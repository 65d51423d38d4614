//! Numbers as a marketer reads them: thousands separators, units, sensible
//! precision. Shared by the app and the command line's summaries.

/// `1234567` → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234567.4` → "1,234,567" (rounded to a whole number).
pub fn count(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let rounded = value.round();
    let sign = if rounded < 0.0 { "-" } else { "" };
    format!("{sign}{}", thousands(rounded.abs() as u64))
}

/// A number with `decimals` places and thousands separators: 12345.678, 2 → "12,345.68".
pub fn decimal(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole = thousands(whole.parse::<u64>().unwrap_or(0));
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    if fraction.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") }
}

/// Money in the data's currency (unnamed in the data): "12,345.68"; large
/// amounts without cents.
pub fn money(value: f64) -> String {
    if value.abs() >= 100_000.0 { count(value) } else { decimal(value, 2) }
}

/// A share 0..1 as a percentage: 0.1234 → "12.3%".
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "–".to_string();
    }
    format!("{:.1}%", share * 100.0)
}

/// Days, whole above ten: "3.5 days", "42 days", "1 day".
pub fn days(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    if (value - 1.0).abs() < 1e-9 {
        "1 day".to_string()
    } else if value.abs() >= 10.0 {
        format!("{} days", count(value))
    } else {
        format!("{value:.1} days")
    }
}

/// Seconds: "0.42 s", "12.3 s", "2 min 05 s".
pub fn seconds(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2} s")
    } else if value < 60.0 {
        format!("{value:.1} s")
    } else {
        format!("{} min {:02} s", (value / 60.0).floor(), (value % 60.0).floor())
    }
}

/// A file's name without its folder, as the status bar and notices show it.
pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(25_900), "25,900");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1000.0), "1,000");
        assert_eq!(count(1234567.4), "1,234,567");
        assert_eq!(count(-4372.0), "-4,372");
        assert_eq!(count(f64::NAN), "–");
        assert_eq!(decimal(12345.678, 2), "12,345.68");
        assert_eq!(decimal(-0.004, 2), "0.00");
        assert_eq!(decimal(-1234.5, 1), "-1,234.5");
        assert_eq!(money(1234.5), "1,234.50");
        assert_eq!(money(1234567.0), "1,234,567");
    }

    #[test]
    fn units() {
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(days(1.0), "1 day");
        assert_eq!(days(3.46), "3.5 days");
        assert_eq!(days(42.4), "42 days");
        assert_eq!(seconds(0.421), "0.42 s");
        assert_eq!(seconds(125.0), "2 min 05 s");
    }
}
