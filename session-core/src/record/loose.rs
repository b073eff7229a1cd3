//! [`Loose`]: one JSON value of a stored session's `cookie` object (or its creation time), read
//! leniently and without allocating: strings are borrowed from the stored JSON unless they
//! hold escapes, objects and arrays are skipped. [`Key`]: an object key, borrowed the same way.

use std::{borrow::Cow, fmt};

use serde::{
    de::{IgnoredAny, MapAccess, SeqAccess, Visitor},
    Deserialize, Deserializer,
};

/// A JSON value as the lenient readers of `cookie` fields see it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Loose<'de> {
    Bool(bool),
    /// Any JSON number, as JavaScript holds it.
    Number(f64),
    Text(Cow<'de, str>),
    /// `null`, an object or an array: nothing these readers use.
    Other,
}

impl Loose<'_> {
    pub(super) fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    pub(super) fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(number) => Some(*number),
            _ => None,
        }
    }

    pub(super) fn into_text(self) -> Option<String> {
        match self {
            Self::Text(text) => Some(text.into_owned()),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Loose::Number(value as f64))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Loose::Number(value as f64))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Loose::Number(value))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Text(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Loose::Text(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Loose::Text(Cow::Owned(value)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

/// An object key, borrowed from the JSON unless it holds escapes.
pub(super) struct Key<'de>(pub(super) Cow<'de, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Loose<'_> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn borrows_plain_strings_and_owns_escaped_ones() {
        assert!(matches!(read(r#""/""#), Loose::Text(Cow::Borrowed("/"))));
        assert_eq!(read(r#""a\"b""#), Loose::Text(Cow::Owned("a\"b".into())));
        let key: Key<'_> = serde_json::from_str(r#""count""#).unwrap();
        assert!(matches!(key.0, Cow::Borrowed("count")));
        let key: Key<'_> = serde_json::from_str(r#""c\u00f6unt""#).unwrap();
        assert_eq!(key.0, "cöunt");
    }

    #[test]
    fn reads_every_json_type() {
        assert_eq!(read("true"), Loose::Bool(true));
        assert_eq!(read("-5"), Loose::Number(-5.0));
        assert_eq!(read("18446744073709551615"), Loose::Number(u64::MAX as f64));
        assert_eq!(read("1e300"), Loose::Number(1e300));
        assert_eq!(read("null"), Loose::Other);
        assert_eq!(read(r#"{"a":[1,{"b":null}]}"#), Loose::Other);
        assert_eq!(read(r#"[1,"x",{}]"#), Loose::Other);
    }
}
