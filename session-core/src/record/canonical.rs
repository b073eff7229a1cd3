//! The record in the one shape express-session writes it: the `cookie` object first, its
//! fields in Node's order, an integer lifetime and an ISO date with milliseconds, without
//! white space. [`write`] writes that shape directly, byte for byte as serde's derived writer
//! did, in fewer steps. [`read`] decodes it directly when its strings are plain ASCII;
//! anything else (another order, an unknown field, an escape, a fractional or negative
//! number, white space) gives `None`, and the general reader decides, so the two never
//! disagree on what they both read.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserializer as _;

use super::{parse_date, RecordVisitor};
use crate::{
    calendar::{civil_from_days, days_in_month, days_since_epoch},
    deadline, CookieData, Priority, Record, SameSite,
};

/// The `cookie` fields in the order Node writes them (`Cookie.prototype.toJSON`).
const FIELDS: [&str; 9] = [
    "originalMaxAge",
    "partitioned",
    "priority",
    "expires",
    "secure",
    "httpOnly",
    "domain",
    "path",
    "sameSite",
];

/// The longest lifetime read here, in digits: any 15-digit integer is exact as the JavaScript
/// number the general reader converts it through.
const MAX_DIGITS: usize = 15;

/// Decodes `json` when it has the canonical shape; `None` otherwise.
pub(super) fn read(json: &str) -> Option<Record> {
    let mut cursor = Cursor { json, pos: 0 };
    cursor.eat("{\"cookie\":{")?;
    let cookie = read_cookie(&mut cursor)?;
    match cursor.next()? {
        b'}' if cursor.pos == json.len() => Some(Record {
            data: serde_json::Map::new(),
            cookie,
            created_at: None,
        }),
        b',' => read_rest(cursor.rest(), cookie),
        _ => None,
    }
}

/// The fields of the `cookie` object, up to and including its closing brace.
fn read_cookie(cursor: &mut Cursor<'_>) -> Option<CookieData> {
    let mut cookie = Cookie::default();
    if cursor.eat("}").is_some() {
        return Some(cookie.into_data());
    }
    let mut next_field = 0;
    loop {
        let index = cursor.field_name(next_field)?;
        next_field = index + 1;
        cookie.read_field(index, cursor)?;
        match cursor.next()? {
            b',' => continue,
            b'}' => return Some(cookie.into_data()),
            _ => return None,
        }
    }
}

/// The application's keys after the `cookie` object (`rest` starts with the first key): read
/// directly when they are plain ([`members`]), otherwise by the general reader as the object
/// they are the rest of.
fn read_rest(rest: &str, cookie: CookieData) -> Option<Record> {
    if !rest.starts_with('"') {
        return None;
    }
    if let Some(data) = members::read(rest) {
        return Some(Record {
            data,
            cookie,
            created_at: None,
        });
    }
    let mut object = String::with_capacity(1 + rest.len());
    object.push('{');
    object.push_str(rest);
    let mut deserializer = serde_json::Deserializer::from_str(&object);
    let read = deserializer.deserialize_map(RecordVisitor).ok()?;
    deserializer.end().ok()?;
    // A second `cookie` key: the general reader keeps the last one.
    if read.cookie.is_some() {
        return None;
    }
    Some(Record {
        data: read.data,
        cookie,
        created_at: read.created_at.and_then(parse_date),
    })
}

/// The cookie fields read so far; absent ones take the general reader's defaults.
#[derive(Default)]
struct Cookie<'a> {
    original_max_age: Option<u64>,
    partitioned: Option<bool>,
    priority: Option<Priority>,
    expires: Option<SystemTime>,
    secure: Option<bool>,
    http_only: Option<bool>,
    domain: Option<&'a str>,
    path: Option<&'a str>,
    same_site: Option<SameSite>,
}

impl<'a> Cookie<'a> {
    /// Reads the value of field `FIELDS[index]`, as the general reader interprets it.
    fn read_field(&mut self, index: usize, cursor: &mut Cursor<'a>) -> Option<()> {
        match index {
            0 => self.original_max_age = cursor.or_null(Cursor::lifetime)?,
            1 => self.partitioned = cursor.or_null(Cursor::boolean)?,
            2 => {
                self.priority = cursor
                    .or_null(Cursor::plain_string)?
                    .and_then(Priority::from_json)
            }
            3 => self.expires = cursor.or_null(Cursor::date)?,
            4 => self.secure = cursor.or_null(Cursor::boolean)?,
            5 => self.http_only = cursor.or_null(Cursor::boolean)?,
            6 => self.domain = cursor.or_null(Cursor::plain_string)?,
            7 => self.path = cursor.or_null(Cursor::plain_string)?,
            _ => self.same_site = cursor.or_null(Cursor::same_site)?.flatten(),
        }
        Some(())
    }

    fn into_data(self) -> CookieData {
        CookieData {
            original_max_age: self.original_max_age,
            expires: self.expires,
            secure: self.secure,
            http_only: self.http_only.unwrap_or(true),
            domain: self.domain.map(str::to_owned),
            path: self.path.unwrap_or("/").to_owned(),
            same_site: self.same_site,
            priority: self.priority,
            partitioned: self.partitioned.unwrap_or(false),
        }
    }
}

/// A position in the JSON being read.
struct Cursor<'a> {
    json: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Steps over `literal` if it comes next.
    fn eat(&mut self, literal: &str) -> Option<()> {
        let end = self.pos.checked_add(literal.len())?;
        let found = self.json.as_bytes().get(self.pos..end)? == literal.as_bytes();
        found.then(|| self.pos = end)
    }

    /// The next byte, stepped over.
    fn next(&mut self) -> Option<u8> {
        let byte = *self.json.as_bytes().get(self.pos)?;
        self.pos += 1;
        Some(byte)
    }

    /// What follows the position.
    fn rest(&self) -> &'a str {
        &self.json[self.pos..]
    }

    /// `null` as `Some(None)`, otherwise what `read` reads.
    fn or_null<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.eat("null").is_some() {
            return Some(None);
        }
        read(self).map(Some)
    }

    /// The key of a cookie field and its colon, when it names `FIELDS[from]` or a later
    /// field; that field's index.
    fn field_name(&mut self, from: usize) -> Option<usize> {
        self.eat("\"")?;
        let rest = &self.json.as_bytes()[self.pos..];
        let index = (from..FIELDS.len()).find(|&index| {
            let name = FIELDS[index].as_bytes();
            rest.starts_with(name) && rest.get(name.len()..name.len() + 2) == Some(b"\":")
        })?;
        self.pos += FIELDS[index].len() + 2;
        Some(index)
    }

    /// A string of printable ASCII without escapes.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat("\"")?;
        let bytes = self.json.as_bytes();
        let start = self.pos;
        let mut end = start;
        while end < bytes.len() && PLAIN[usize::from(bytes[end])] {
            end += 1;
        }
        (bytes.get(end) == Some(&b'"')).then_some(())?;
        self.pos = end + 1;
        // ASCII only: both ends are character boundaries.
        self.json.get(start..end)
    }

    fn boolean(&mut self) -> Option<bool> {
        if self.eat("true").is_some() {
            return Some(true);
        }
        self.eat("false").map(|()| false)
    }

    /// A lifetime in milliseconds: an integer of at most [`MAX_DIGITS`] digits, without a
    /// leading zero (which JSON forbids), clamped as the general reader clamps it.
    fn lifetime(&mut self) -> Option<u64> {
        let rest = &self.json.as_bytes()[self.pos..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > MAX_DIGITS || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        self.pos += digits;
        number(&rest[..digits]).map(deadline::clamp_ms)
    }

    /// `SameSite` as Node stores it: a string, or `true` for `Strict`; `Some(None)` for a
    /// value that means no attribute.
    fn same_site(&mut self) -> Option<Option<SameSite>> {
        if let Some(flag) = self.boolean() {
            return Some(flag.then_some(SameSite::Strict));
        }
        Some(SameSite::from_json(self.plain_string()?))
    }

    /// A date as JavaScript's `toISOString` writes it, `2023-11-14T23:13:20.000Z`, from 1970
    /// on, with every field in range.
    fn date(&mut self) -> Option<SystemTime> {
        const PUNCTUATION: [(usize, u8); 7] = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (23, b'Z'),
        ];
        let text = self.plain_string()?.as_bytes();
        if text.len() != 24 || PUNCTUATION.iter().any(|&(at, byte)| text[at] != byte) {
            return None;
        }
        let field = |range: std::ops::Range<usize>| number(&text[range]);
        let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
        let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
        let valid = year >= 1970
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return None;
        }
        let seconds =
            days_since_epoch(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
        let ms = seconds * 1_000 + field(20..23)?;
        UNIX_EPOCH
            .checked_add(Duration::from_millis(ms))
            .map(deadline::writable)
    }
}

/// Writes `record` as Node would (`JSON.stringify(req.session)`).
pub(super) fn write(record: &Record, json: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let cookie = &record.cookie;
    json.extend_from_slice(b"{\"cookie\":{\"originalMaxAge\":");
    match cookie.original_max_age {
        Some(ms) => write_number(json, ms),
        None => json.extend_from_slice(b"null"),
    }
    if cookie.partitioned {
        json.extend_from_slice(b",\"partitioned\":true");
    }
    if let Some(priority) = cookie.priority {
        write_member(json, "priority", priority.as_json());
    }
    json.extend_from_slice(b",\"expires\":");
    match cookie.expires {
        Some(expires) => write_date(json, expires),
        None => json.extend_from_slice(b"null"),
    }
    if let Some(secure) = cookie.secure {
        json.extend_from_slice(if secure {
            b",\"secure\":true"
        } else {
            b",\"secure\":false"
        });
    }
    json.extend_from_slice(if cookie.http_only {
        b",\"httpOnly\":true"
    } else {
        b",\"httpOnly\":false"
    });
    if let Some(domain) = &cookie.domain {
        write_member(json, "domain", domain);
    }
    write_member(json, "path", &cookie.path);
    if let Some(same_site) = cookie.same_site {
        write_member(json, "sameSite", same_site.as_json());
    }
    json.push(b'}');
    if let Some(created_at) = record.created_at {
        json.extend_from_slice(b",\"__createdAt\":");
        write_number(json, super::epoch_ms(created_at));
    }
    write_data(json, &record.data)
}

/// The application's keys after the `cookie` object, and the closing brace.
fn write_data(
    json: &mut Vec<u8>,
    data: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), serde_json::Error> {
    if data.is_empty() {
        json.push(b'}');
        return Ok(());
    }
    if members::write(json, data) {
        return Ok(());
    }
    // The map as an object of its own, whose opening brace becomes the comma that follows
    // the cookie object.
    let brace = json.len();
    serde_json::to_writer(&mut *json, data)?;
    json[brace] = b',';
    Ok(())
}

/// `,"name":` and `value` as a JSON string.
fn write_member(json: &mut Vec<u8>, name: &str, value: &str) {
    json.extend_from_slice(b",\"");
    json.extend_from_slice(name.as_bytes());
    json.extend_from_slice(b"\":");
    if value.bytes().all(|b| PLAIN[usize::from(b)]) {
        json.push(b'"');
        json.extend_from_slice(value.as_bytes());
        json.push(b'"');
    } else {
        // Escaped as serde escapes; writing a string into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *json, value);
    }
}

fn write_number(json: &mut Vec<u8>, n: u64) {
    json.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A date as JavaScript's `toISOString` writes it, between 1970 and the latest writable date
/// (an earlier one, which no clock or store gives, as 1970's first millisecond).
fn write_date(json: &mut Vec<u8>, date: SystemTime) {
    let since = deadline::writable(date)
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let (days, seconds) = (since.as_secs() / 86_400, since.as_secs() % 86_400);
    let (year, month, day) = civil_from_days(days);
    let fields = [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (seconds / 3_600, 2, b':'),
        (seconds / 60 % 60, 2, b':'),
        (seconds % 60, 2, b'.'),
        (u64::from(since.subsec_millis()), 3, b'Z'),
    ];
    json.push(b'"');
    for (value, width, separator) in fields {
        for place in (0..width).rev() {
            json.push(b'0' + (value / 10_u64.pow(place) % 10) as u8);
        }
        json.push(separator);
    }
    json.push(b'"');
}

/// The bytes a plain string holds: printable ASCII but the quote and the backslash.
const PLAIN: [bool; 256] = {
    let mut plain = [false; 256];
    let mut byte = b' ';
    while byte <= b'~' {
        plain[byte as usize] = byte != b'"' && byte != b'\\';
        byte += 1;
    }
    plain
};

/// The value of a few ASCII digits.
fn number(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

mod members;
#[cfg(test)]
mod tests;
