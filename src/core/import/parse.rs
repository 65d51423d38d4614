//! Cell-level parsing rules of DATA.md §1: timestamps, ids, numbers, event types.
//!
//! Hand-written byte parsers rather than polars' `strptime`, because a column may
//! mix the formats DATA.md allows (ISO dates next to `M/D/YYYY H:MM`) and every
//! failure must be traced back to its row.

use serde::{Deserialize, Serialize};

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_DAY: i64 = 86_400_000;

/// The three kinds of event DATA.md knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    View,
    Cart,
    Purchase,
}

impl EventKind {
    pub const ALL: [EventKind; 3] = [EventKind::View, EventKind::Cart, EventKind::Purchase];

    /// A small code for compact tables: view 0, cart 1, purchase 2 (`i8`,
    /// a type the build's polars features include; `u8` needs another one).
    pub fn code(self) -> i8 {
        self as i8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::Cart => "cart",
            EventKind::Purchase => "purchase",
        }
    }

    /// Maps an event label onto a kind, accepting the synonyms real exports use
    /// (case, spaces and punctuation ignored; DATA.md §1): `pv`, `click`,
    /// `page_view`, 浏览, 点击 → view; `addtocart`, `fav`, `wishlist`, 加购,
    /// 收藏 → cart (intent short of buying); `transaction`, `order`, `buy`,
    /// 购买, 下单 → purchase; ...
    pub fn parse(label: &str) -> Option<EventKind> {
        // Labels already in normal form (view, cart, purchase, Taobao's `pv`,
        // `fav`, `buy`) need no copy: the common case.
        if label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return EventKind::from_key(label);
        }
        EventKind::from_key(&normalise_name(label))
    }

    /// The kind of a label in normal form ([`normalise_name`]).
    fn from_key(key: &str) -> Option<EventKind> {
        match key {
            "view" | "views" | "viewed" | "pageview" | "pv" | "productview" | "viewitem" | "viewproduct" | "detail"
            | "detailview" | "click" | "visit" | "浏览" | "点击" | "查看" | "访问" => Some(EventKind::View),
            "cart" | "addtocart" | "addcart" | "cartadd" | "addtobasket" | "basket" | "addedtocart" | "carted"
            | "fav" | "favorite" | "favourite" | "wishlist" | "addtowishlist" | "加购" | "收藏" | "加入购物车"
            | "加购物车" | "购物车" => Some(EventKind::Cart),
            "purchase" | "purchased" | "transaction" | "order" | "buy" | "bought" | "sale" | "checkout"
            | "conversion" | "购买" | "下单" | "支付" | "付款" | "成交" => Some(EventKind::Purchase),
            _ => None,
        }
    }
}

/// Lower-cases a header or label and drops everything but letters and digits,
/// so that `Customer ID`, `customer_id` and `CustomerID` compare equal. Letters
/// of any script count (`用户ID` → `用户id`), full-width Latin letters and
/// digits as their ASCII forms (`用户ＩＤ` → `用户id`), and full-width
/// punctuation is dropped like any other (`金额（元）` → `金额元`).
pub fn normalise_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Normalises an id cell: trimmed, empty is missing, and a number written as a
/// float (`12346.0`, as spreadsheets and pandas export integer ids) is the
/// integer id (`12346`).
pub fn normalise_id(raw: &str) -> Option<&str> {
    // Most ids are a plain run of digits: nothing to trim, no float to undo.
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return Some(raw);
    }
    let s = raw.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("nan") || s.eq_ignore_ascii_case("null") {
        return None;
    }
    if let Some((int_part, frac)) = s.split_once('.') {
        let digits = int_part.strip_prefix('-').unwrap_or(int_part);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !frac.is_empty()
            && frac.bytes().all(|b| b == b'0')
        {
            return Some(int_part);
        }
    }
    Some(s)
}

/// The outcome of reading a numeric cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NumberCell {
    Empty,
    Value(f64),
    Invalid,
}

/// Parses a numeric cell. Non-finite values (`inf`, `NaN`, `1e999`) are invalid:
/// they would poison every sum they enter.
pub fn parse_number(raw: &str) -> NumberCell {
    let s = raw.trim();
    if s.is_empty() {
        return NumberCell::Empty;
    }
    match s.strip_prefix('+').unwrap_or(s).parse::<f64>() {
        Ok(v) if v.is_finite() => NumberCell::Value(v),
        _ => NumberCell::Invalid,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn valid_date(year: i64, month: u32, day: u32) -> bool {
    (1000..=9999).contains(&year) && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// Milliseconds since the Unix epoch (UTC) of a civil date and time.
pub fn epoch_ms(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    days_from_civil(year, month, day) * MS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) * MS_PER_SECOND
}

/// Formats epoch milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let rest = ms.rem_euclid(MS_PER_DAY) / MS_PER_SECOND;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rest / 3600, (rest / 60) % 60, rest % 60)
}

/// A tiny cursor over the bytes of one cell.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// Reads 1..=max ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(v)
    }
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
}

/// Parses `H:MM[:SS[.fff]] [AM|PM]`; returns milliseconds into the day.
fn parse_time(c: &mut Cursor) -> Option<i64> {
    let mut hour = c.digits(1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.digits(2, 2)?;
    let mut second = 0;
    let mut millis = 0i64;
    if c.eat(b':') {
        second = c.digits(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            let start = c.i;
            let mut scale = 100i64;
            while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                millis += i64::from(d - b'0') * scale;
                scale /= 10;
                c.i += 1;
            }
            if c.i == start {
                return None;
            }
        }
    }
    let save = c.i;
    c.skip_spaces();
    let rest = &c.b[c.i..];
    if rest.len() >= 2 && (rest[..2].eq_ignore_ascii_case(b"am") || rest[..2].eq_ignore_ascii_case(b"pm")) {
        if !(1..=12).contains(&hour) {
            return None;
        }
        let pm = rest[0].eq_ignore_ascii_case(&b'p');
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
        c.i += 2;
    } else {
        c.i = save;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(i64::from(hour * 3600 + minute * 60 + second.min(59)) * MS_PER_SECOND + millis)
}

/// Parses a UTC designator or offset (`Z`, `UTC`, `+02:00`, `-0500`); returns
/// the offset in milliseconds to subtract.
fn parse_zone(c: &mut Cursor) -> Option<i64> {
    c.skip_spaces();
    if c.done() {
        return Some(0);
    }
    if c.eat(b'Z') || c.eat(b'z') {
        return c.done().then_some(0);
    }
    let rest = &c.b[c.i..];
    if rest.eq_ignore_ascii_case(b"utc") || rest.eq_ignore_ascii_case(b"gmt") {
        return Some(0);
    }
    let sign = if c.eat(b'+') {
        1
    } else if c.eat(b'-') {
        -1
    } else {
        return None;
    };
    let hours = c.digits(2, 2)?;
    c.eat(b':');
    let minutes = if c.done() { 0 } else { c.digits(2, 2)? };
    if !c.done() || hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60) * MS_PER_SECOND)
}

/// Parses the optional `[T| ]time[zone]` tail after a date.
fn parse_time_tail(c: &mut Cursor, day_ms: i64) -> Option<i64> {
    if c.done() {
        return Some(day_ms);
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    c.skip_spaces();
    if c.done() {
        return Some(day_ms);
    }
    let time = parse_time(c)?;
    let offset = parse_zone(c)?;
    Some(day_ms + time - offset)
}

/// The commonest layout, `YYYY-MM-DD HH:MM:SS` (or with a `T`), read by
/// position: a third of the general parser's time on a 10M-row log. Anything
/// else (and any invalid date or time) is left to the general parser, which
/// accepts the same values.
fn parse_plain_datetime(b: &[u8]) -> Option<i64> {
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |v, &c| c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !valid_date(i64::from(year), month, day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(epoch_ms(i64::from(year), month, day, hour, minute, second.min(59)))
}

/// Parses one timestamp cell into epoch milliseconds (UTC; naive times are
/// taken as UTC). Accepted, as DATA.md §1 lists: ISO 8601 (`2011-12-09`,
/// `2011-12-09T12:50:00Z`, offsets), `YYYY-MM-DD HH:MM[:SS]`, `YYYY/MM/DD`,
/// `YYYYMMDD`, `M/D/YYYY H:MM[:SS] [AM|PM]`, `D.M.YYYY`, and Unix seconds or
/// milliseconds (13 or more digits).
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    parse_plain_datetime(raw.as_bytes()).or_else(|| parse_any_timestamp(raw))
}

/// [`parse_timestamp`] for every accepted layout (the plain one included).
fn parse_any_timestamp(raw: &str) -> Option<i64> {
    let s = raw.trim();
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b.iter().all(u8::is_ascii_digit) || (b[0] == b'-' && b.len() > 1 && b[1..].iter().all(u8::is_ascii_digit)) {
        return parse_all_digits(s);
    }
    // Unix seconds with a fraction, e.g. `1570000000.25` (nine digits first:
    // dates never start so, and the search for a dot is skipped for them).
    if b.len() > 10
        && b[..9].iter().all(u8::is_ascii_digit)
        && let Some((secs, frac)) = s.split_once('.')
        && secs.bytes().all(|c| c.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|c| c.is_ascii_digit())
    {
        let whole: i64 = secs.parse().ok()?;
        let fraction: f64 = format!("0.{frac}").parse().ok()?;
        return Some(whole * MS_PER_SECOND + (fraction * 1000.0).round() as i64);
    }
    let mut c = Cursor { b, i: 0 };
    let first = c.digits(1, 4)?;
    let first_len = c.i;
    let sep = c.peek()?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    c.i += 1;
    let (year, month, day) = if first_len == 4 {
        // Year first: YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD
        let month = c.digits(1, 2)?;
        if !c.eat(sep) {
            return None;
        }
        let day = c.digits(1, 2)?;
        (i64::from(first), month, day)
    } else {
        // M/D/YYYY (US, as DATA.md names it) or D.M.YYYY (European dots).
        let second = c.digits(1, 2)?;
        if !c.eat(sep) {
            return None;
        }
        let year = c.digits(4, 4)?;
        if sep == b'.' { (i64::from(year), second, first) } else { (i64::from(year), first, second) }
    };
    if !valid_date(year, month, day) {
        return None;
    }
    parse_time_tail(&mut c, days_from_civil(year, month, day) * MS_PER_DAY)
}

fn parse_all_digits(s: &str) -> Option<i64> {
    let digits = s.trim_start_matches('-');
    if digits.len() == 8 && !s.starts_with('-') {
        let year = i64::from(s[0..4].parse::<u32>().ok()?);
        let month: u32 = s[4..6].parse().ok()?;
        let day: u32 = s[6..8].parse().ok()?;
        if valid_date(year, month, day) && (1900..=2200).contains(&year) {
            return Some(days_from_civil(year, month, day) * MS_PER_DAY);
        }
    }
    let v: i64 = s.parse().ok()?;
    if digits.len() >= 13 {
        Some(v)
    } else if digits.len() >= 9 {
        v.checked_mul(MS_PER_SECOND)
    } else {
        // Short integers are more likely a day count or a mistake than a time.
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_plain_datetime_fast_path_agrees_with_the_general_parser() {
        assert_eq!(parse_plain_datetime(b"2025-03-10 11:33:43"), Some(ms(2025, 3, 10, 11, 33, 43)));
        assert_eq!(parse_plain_datetime(b"2024-02-29T23:59:60"), Some(ms(2024, 2, 29, 23, 59, 59)));
        // A sweep of dates and times, valid and not, against the general parser.
        for (year, month, day) in
            [(2025, 2, 28), (2025, 2, 29), (2024, 2, 29), (1999, 12, 31), (999, 1, 1), (2025, 13, 1)]
        {
            for (hour, minute, second) in [(0, 0, 0), (11, 33, 43), (23, 59, 60), (24, 0, 0), (11, 60, 0), (11, 0, 61)]
            {
                for sep in [' ', 'T'] {
                    let cell = format!("{year:04}-{month:02}-{day:02}{sep}{hour:02}:{minute:02}:{second:02}");
                    assert_eq!(parse_plain_datetime(cell.as_bytes()), parse_any_timestamp(&cell), "{cell}");
                }
            }
        }
        // Other layouts are the general parser's.
        for cell in ["2025/03/10 11:33:43", "2025-03-1a 11:33:43", " 2025-03-10 11:33:43", "2025-03-10 11:33"] {
            assert_eq!(parse_plain_datetime(cell.as_bytes()), None, "{cell}");
        }
        assert_eq!(parse_timestamp("2025/03/10 11:33:43"), Some(ms(2025, 3, 10, 11, 33, 43)));
    }

    use super::*;

    fn ms(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        epoch_ms(y, mo, d, h, mi, s)
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 10_957, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn timestamp_formats_of_data_md() {
        let t = ms(2011, 12, 9, 12, 50, 0);
        assert_eq!(parse_timestamp("2011-12-09 12:50:00"), Some(t));
        assert_eq!(parse_timestamp("2011-12-09 12:50"), Some(t));
        assert_eq!(parse_timestamp("2011-12-09T12:50:00"), Some(t));
        assert_eq!(parse_timestamp("2011-12-09T12:50:00Z"), Some(t));
        assert_eq!(parse_timestamp("2011-12-09T14:50:00+02:00"), Some(t));
        assert_eq!(parse_timestamp("2011-12-09 12:50:00 UTC"), Some(t));
        assert_eq!(parse_timestamp("2011-12-09T12:50:00.250"), Some(t + 250));
        assert_eq!(parse_timestamp("12/9/2011 12:50"), Some(t));
        assert_eq!(parse_timestamp("12/9/2011 12:50 PM"), Some(t));
        assert_eq!(parse_timestamp("12/09/2011 12:50:00 pm"), Some(t));
        assert_eq!(parse_timestamp("9.12.2011 12:50"), Some(t));
        assert_eq!(parse_timestamp("2011/12/09 12:50:00"), Some(t));
        assert_eq!(parse_timestamp("1323435000"), Some(t));
        assert_eq!(parse_timestamp("1323435000000"), Some(t));
        assert_eq!(parse_timestamp("1323435000.5"), Some(t + 500));
    }

    #[test]
    fn date_only_means_midnight() {
        let midnight = ms(1997, 9, 30, 0, 0, 0);
        assert_eq!(parse_timestamp("1997-09-30"), Some(midnight));
        assert_eq!(parse_timestamp("19970930"), Some(midnight));
        assert_eq!(parse_timestamp("9/30/1997"), Some(midnight));
        assert_eq!(parse_timestamp(" 1997-09-30 "), Some(midnight));
    }

    #[test]
    fn garbage_timestamps_are_rejected() {
        for bad in [
            "",
            "yesterday",
            "2011-13-01",
            "2011-02-30",
            "2011-12-09 25:00",
            "2011-12-09x",
            "12/9/11",
            "42",
            "2011-12-09 12:50 +99:00",
            "1/2/3/4",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?} should not parse");
        }
    }

    #[test]
    fn ids_written_as_floats_are_integers() {
        assert_eq!(normalise_id("12346.0"), Some("12346"));
        assert_eq!(normalise_id(" 12346 "), Some("12346"));
        assert_eq!(normalise_id("12346.00"), Some("12346"));
        assert_eq!(normalise_id("12346.5"), Some("12346.5"));
        assert_eq!(normalise_id("A12.0"), Some("A12.0"));
        assert_eq!(normalise_id("00001"), Some("00001"));
        assert_eq!(normalise_id(""), None);
        assert_eq!(normalise_id("NaN"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(" 2.5 "), NumberCell::Value(2.5));
        assert_eq!(parse_number("+3"), NumberCell::Value(3.0));
        assert_eq!(parse_number("-1"), NumberCell::Value(-1.0));
        assert_eq!(parse_number(""), NumberCell::Empty);
        assert_eq!(parse_number("abc"), NumberCell::Invalid);
        assert_eq!(parse_number("1e999"), NumberCell::Invalid);
        assert_eq!(parse_number("NaN"), NumberCell::Invalid);
    }

    #[test]
    fn event_synonyms() {
        assert_eq!(EventKind::parse("addtocart"), Some(EventKind::Cart));
        assert_eq!(EventKind::parse("Add_To_Cart"), Some(EventKind::Cart));
        assert_eq!(EventKind::parse("transaction"), Some(EventKind::Purchase));
        assert_eq!(EventKind::parse("ORDER"), Some(EventKind::Purchase));
        assert_eq!(EventKind::parse("buy"), Some(EventKind::Purchase));
        assert_eq!(EventKind::parse("page_view"), Some(EventKind::View));
        assert_eq!(EventKind::parse("remove_from_cart"), None);
        assert_eq!(EventKind::parse(""), None);
    }

    /// DATA.md §1's synonyms, Taobao UserBehavior's `pv`/`fav`/`cart`/`buy`
    /// and the Chinese labels of shop exports.
    #[test]
    fn event_synonyms_of_data_md_and_chinese_exports() {
        use EventKind::*;
        for (labels, kind) in [
            (&["pv", "PV", "click", "page_view", "浏览", "点击", " 浏览 "][..], View),
            (&["addtocart", "fav", "Favorite", "wishlist", "加购", "收藏", "加入购物车"][..], Cart),
            (&["transaction", "order", "buy", "购买", "下单"][..], Purchase),
        ] {
            for label in labels {
                assert_eq!(EventKind::parse(label), Some(kind), "{label:?}");
            }
        }
        assert_eq!(EventKind::parse("退货"), None, "a return is not a purchase");
    }

    #[test]
    fn names_normalise_in_any_script_and_full_width() {
        assert_eq!(normalise_name("用户ID"), "用户id");
        assert_eq!(normalise_name("用户ＩＤ"), "用户id");
        assert_eq!(normalise_name("金额（元）"), "金额元");
        assert_eq!(normalise_name(" 下单 时间 "), "下单时间");
        assert_eq!(normalise_name("Customer_ID"), "customerid");
    }
}
