//! The application's keys after the `cookie` object, read and written directly when every
//! member is plain: a key of printable ASCII without escapes, not reserved and not repeated,
//! holding `null`, a boolean, an unsigned integer of at most [`MAX_DIGITS`] digits, or a
//! string of printable ASCII without escapes. That is what a counter, a user id, a role or a
//! flag looks like; anything else (an object, an array, a fraction, a negative number, an
//! escape) goes to serde, so the two never disagree on what they both handle.

use serde_json::{Map, Number, Value};

use super::{Cursor, MAX_DIGITS, PLAIN};
use crate::record::{CREATED_AT_KEY, RESERVED_KEYS};

/// Reads `rest` (the members after the `cookie` object, up to and including the closing
/// brace, with nothing after it) when every member is plain; `None` otherwise.
pub(super) fn read(rest: &str) -> Option<Map<String, Value>> {
    let mut cursor = Cursor { json: rest, pos: 0 };
    let mut data = Map::new();
    loop {
        let key = cursor.plain_string()?;
        if is_reserved(key) || data.contains_key(key) {
            return None;
        }
        cursor.eat(":")?;
        let value = cursor.plain_value()?;
        data.insert(key.to_owned(), value);
        match cursor.next()? {
            b',' => continue,
            b'}' if cursor.pos == rest.len() => return Some(data),
            _ => return None,
        }
    }
}

/// Writes `data` as members (each preceded by a comma) and the closing brace when every
/// member is plain; `false`, having written nothing, otherwise.
pub(super) fn write(json: &mut Vec<u8>, data: &Map<String, Value>) -> bool {
    let plain = data
        .iter()
        .all(|(key, value)| is_plain(key) && !is_reserved(key) && is_plain_value(value));
    if !plain {
        return false;
    }
    for (key, value) in data {
        json.extend_from_slice(b",\"");
        json.extend_from_slice(key.as_bytes());
        json.extend_from_slice(b"\":");
        match value {
            Value::Null => json.extend_from_slice(b"null"),
            Value::Bool(true) => json.extend_from_slice(b"true"),
            Value::Bool(false) => json.extend_from_slice(b"false"),
            Value::Number(n) => {
                if let Some(n) = n.as_u64() {
                    super::write_number(json, n);
                }
            }
            Value::String(s) => {
                json.push(b'"');
                json.extend_from_slice(s.as_bytes());
                json.push(b'"');
            }
            Value::Array(_) | Value::Object(_) => {}
        }
    }
    json.push(b'}');
    true
}

/// Keys the general reader treats apart: this reader leaves them to it.
fn is_reserved(key: &str) -> bool {
    key == CREATED_AT_KEY || RESERVED_KEYS.contains(&key)
}

fn is_plain(text: &str) -> bool {
    text.bytes().all(|b| PLAIN[usize::from(b)])
}

/// The values [`Cursor::plain_value`] reads, so that what is written here reads back here.
fn is_plain_value(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) => true,
        Value::Number(n) => n
            .as_u64()
            .is_some_and(|n| n < 10_u64.pow(MAX_DIGITS as u32)),
        Value::String(s) => is_plain(s),
        Value::Array(_) | Value::Object(_) => false,
    }
}

impl Cursor<'_> {
    /// `null`, a boolean, an unsigned integer of at most [`MAX_DIGITS`] digits without a
    /// leading zero and not followed by a fraction or an exponent, or a plain string.
    fn plain_value(&mut self) -> Option<Value> {
        match self.json.as_bytes().get(self.pos)? {
            b'n' => self.eat("null").map(|()| Value::Null),
            b't' | b'f' => self.boolean().map(Value::Bool),
            b'"' => self
                .plain_string()
                .map(|text| Value::String(text.to_owned())),
            _ => self.integer().map(|n| Value::Number(Number::from(n))),
        }
    }

    fn integer(&mut self) -> Option<u64> {
        let rest = &self.json.as_bytes()[self.pos..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > MAX_DIGITS || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        if matches!(rest.get(digits), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.pos += digits;
        super::number(&rest[..digits])
    }
}

#[cfg(test)]
mod tests;
