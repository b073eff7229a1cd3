//! [`Record`]: what a store keeps for one session, and its JSON form, which is exactly what
//! express-session hands to its stores (`JSON.stringify(req.session)`): a `cookie` object
//! followed by the application's keys, kept verbatim.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{
    de::{IgnoredAny, MapAccess, Visitor},
    Deserialize, Deserializer as _,
};
use serde_json::{Map, Value};

use crate::{deadline, Priority, SameSite, StoreError};

mod canonical;
mod loose;

use loose::{Key, Loose};

/// Top-level keys that cannot hold application data: `cookie` holds the cookie state, and
/// Node drops keys named like its `Session` methods when it loads a session.
pub const RESERVED_KEYS: &[&str] = &[
    "cookie",
    "id",
    "req",
    "save",
    "touch",
    "reload",
    "destroy",
    "regenerate",
    "resetMaxAge",
];

/// The top-level key that holds when a session was created (epoch milliseconds), written only
/// when an absolute timeout is configured. Node keeps it like any other key; handlers cannot
/// write it.
pub const CREATED_AT_KEY: &str = "__createdAt";

/// One stored session: the application data and the cookie state.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The application's keys and values, in JSON form.
    pub data: Map<String, Value>,
    /// The cookie state Node keeps with every session.
    pub cookie: CookieData,
    /// When the session was created, for the absolute timeout ([`CREATED_AT_KEY`]).
    pub created_at: Option<SystemTime>,
}

/// The `cookie` object of a stored session, with Node's field meanings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CookieData {
    /// The session's lifetime in milliseconds (`originalMaxAge`); `None` for a
    /// browser-session cookie.
    pub original_max_age: Option<u64>,
    /// When the cookie expires. After a store `touch` this can be stale: the store's own
    /// expiry is the truth.
    pub expires: Option<SystemTime>,
    /// The resolved `Secure` flag, when it was configured.
    pub secure: Option<bool>,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `Domain`.
    pub domain: Option<String>,
    /// `Path`.
    pub path: String,
    /// `SameSite`.
    pub same_site: Option<SameSite>,
    /// `Priority`.
    pub priority: Option<Priority>,
    /// `Partitioned`.
    pub partitioned: bool,
}

impl Default for CookieData {
    /// Node's defaults: `{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"}`.
    fn default() -> Self {
        Self {
            original_max_age: None,
            expires: None,
            secure: None,
            http_only: true,
            domain: None,
            path: "/".to_owned(),
            same_site: None,
            priority: None,
            partitioned: false,
        }
    }
}

/// The room an encoded record starts with: the cookie object (about 130 bytes with an
/// `expires`) and a few small keys.
const JSON_CAPACITY: usize = 256;

impl Record {
    /// A record holding `data` with default cookie state.
    pub fn new(data: Map<String, Value>) -> Self {
        Self {
            data,
            cookie: CookieData::default(),
            created_at: None,
        }
    }

    /// Encodes the record as Node writes it.
    ///
    /// ```
    /// use session_core::Record;
    /// let mut data = serde_json::Map::new();
    /// data.insert("user".into(), "alice".into());
    /// assert_eq!(
    ///     Record::new(data).to_json()?,
    ///     r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"user":"alice"}"#
    /// );
    /// # Ok::<_, session_core::StoreError>(())
    /// ```
    pub fn to_json(&self) -> Result<String, StoreError> {
        // serde_json's own `to_string` starts at 128 bytes, which a session with a cookie
        // object and a key or two already outgrows: one reallocation on every save.
        let mut json = Vec::with_capacity(JSON_CAPACITY);
        canonical::write(self, &mut json).map_err(|e| StoreError::Encode(Box::new(e)))?;
        String::from_utf8(json).map_err(|e| StoreError::Encode(Box::new(e)))
    }

    /// Decodes a record written by Node or by [`to_json`](Self::to_json). Keys Node would drop
    /// on load are dropped; every other key is kept verbatim, in order. A record without a
    /// `cookie` object is [`StoreError::Corrupt`], as it is for express-session.
    pub fn from_json(json: &str) -> Result<Self, StoreError> {
        match canonical::read(json) {
            Some(record) => Ok(record),
            None => Self::from_any_json(json),
        }
    }

    /// [`from_json`](Self::from_json) for any shape of record, through serde.
    fn from_any_json(json: &str) -> Result<Self, StoreError> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let read: ReadRecord<'_> = deserializer
            .deserialize_map(RecordVisitor)
            .map_err(StoreError::corrupt)?;
        deserializer.end().map_err(StoreError::corrupt)?;
        let cookie = read
            .cookie
            .ok_or_else(|| StoreError::corrupt("stored session has no `cookie` object"))?;
        Ok(Self {
            data: read.data,
            cookie: cookie.into_data(),
            created_at: read.created_at.and_then(parse_date),
        })
    }
}

/// What [`RecordVisitor`] reads, borrowing from the JSON.
struct ReadRecord<'de> {
    data: Map<String, Value>,
    cookie: Option<WireCookieIn<'de>>,
    created_at: Option<Loose<'de>>,
}

/// Reads a stored session in one pass: the `cookie` object into [`WireCookieIn`], the creation
/// time aside, reserved keys skipped, every other key kept as JSON.
struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = ReadRecord<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a session object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut read = ReadRecord {
            data: Map::new(),
            cookie: None,
            created_at: None,
        };
        while let Some(Key(key)) = access.next_key::<Key<'de>>()? {
            if key == "cookie" {
                read.cookie = Some(access.next_value::<WireCookieIn<'de>>()?);
            } else if key == CREATED_AT_KEY {
                read.created_at = Some(access.next_value::<Loose<'de>>()?);
            } else if RESERVED_KEYS.contains(&&*key) {
                access.next_value::<IgnoredAny>()?;
            } else {
                let value = access.next_value::<Value>()?;
                read.data.insert(key.into_owned(), value);
            }
        }
        Ok(read)
    }
}

/// Node's `cookie` object as stored. Every field is read as any JSON value and interpreted
/// leniently ([`WireCookieIn::into_data`]): the store's expiry, not these fields, decides
/// whether a session lives, so an odd field must not make a live session unreadable.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCookieIn<'a> {
    #[serde(borrow)]
    original_max_age: Option<Loose<'a>>,
    #[serde(borrow)]
    expires: Option<Loose<'a>>,
    #[serde(borrow)]
    secure: Option<Loose<'a>>,
    #[serde(borrow)]
    http_only: Option<Loose<'a>>,
    #[serde(borrow)]
    domain: Option<Loose<'a>>,
    #[serde(borrow)]
    path: Option<Loose<'a>>,
    #[serde(borrow)]
    same_site: Option<Loose<'a>>,
    #[serde(borrow)]
    priority: Option<Loose<'a>>,
    #[serde(borrow)]
    partitioned: Option<Loose<'a>>,
}

impl WireCookieIn<'_> {
    fn into_data(self) -> CookieData {
        let flag = |value: Option<Loose<'_>>| value.and_then(|v| v.as_bool());
        let text = |value: Option<Loose<'_>>| value.and_then(Loose::into_text);
        CookieData {
            // Node writes any number here (a max age of 1e15 ms is a valid JavaScript
            // number); past 100 years it counts as 100 years. `as` saturates, NaN is 0.
            original_max_age: self
                .original_max_age
                .and_then(|v| v.as_f64())
                .map(|ms| deadline::clamp_ms(ms.max(0.0) as u64)),
            expires: self.expires.and_then(parse_date),
            secure: flag(self.secure),
            http_only: flag(self.http_only).unwrap_or(true),
            domain: text(self.domain),
            path: text(self.path).unwrap_or_else(|| "/".to_owned()),
            same_site: match self.same_site {
                Some(Loose::Bool(true)) => Some(SameSite::Strict),
                Some(Loose::Text(s)) => SameSite::from_json(&s),
                _ => None,
            },
            priority: self.priority.and_then(|p| match p {
                Loose::Text(p) => Priority::from_json(&p),
                _ => None,
            }),
            partitioned: flag(self.partitioned).unwrap_or(false),
        }
    }
}

/// An ISO-8601 string (with or without milliseconds) or epoch milliseconds, to the whole
/// millisecond (Node's clock, and what is written back) and no later than the latest
/// writable date, so that what is read writes back as itself.
fn parse_date(value: Loose<'_>) -> Option<SystemTime> {
    match value {
        Loose::Text(s) => {
            let time = humantime::parse_rfc3339_weak(&s).ok()?;
            let since = time.duration_since(UNIX_EPOCH).ok()?;
            let whole_ms = Duration::from_millis(u64::try_from(since.as_millis()).ok()?);
            UNIX_EPOCH.checked_add(whole_ms).map(deadline::writable)
        }
        Loose::Number(ms) => {
            let since = (ms >= 0.0).then(|| Duration::from_millis(ms as u64))?;
            UNIX_EPOCH.checked_add(since).map(deadline::writable)
        }
        _ => None,
    }
}

/// Milliseconds since the Unix epoch, as JavaScript's `Date.now()`.
fn epoch_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn writes_every_cookie_field_in_node_order() {
        let record = Record {
            data: Map::new(),
            created_at: None,
            cookie: CookieData {
                original_max_age: Some(86_400_000),
                expires: Some(at(1_700_086_400_000)),
                secure: Some(true),
                http_only: true,
                domain: Some("example.com".into()),
                path: "/".into(),
                same_site: Some(SameSite::None),
                priority: Some(Priority::High),
                partitioned: true,
            },
        };
        assert_eq!(
            record.to_json().unwrap(),
            r#"{"cookie":{"originalMaxAge":86400000,"partitioned":true,"priority":"high","expires":"2023-11-15T22:13:20.000Z","secure":true,"httpOnly":true,"domain":"example.com","path":"/","sameSite":"none"}}"#
        );
    }

    #[test]
    fn reads_what_node_writes_and_round_trips_it() {
        let node = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2023-11-14T23:13:20.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"user":"alice","passport":{"user":7},"flash":{}}"#;
        let record = Record::from_json(node).unwrap();
        assert_eq!(record.cookie.original_max_age, Some(3_600_000));
        assert_eq!(record.cookie.expires, Some(at(1_700_003_600_000)));
        assert_eq!(record.cookie.same_site, Some(SameSite::Lax));
        assert_eq!(record.data["passport"]["user"], 7);
        assert_eq!(
            record.to_json().unwrap(),
            node,
            "written back byte for byte, key order kept"
        );
    }

    #[test]
    fn tolerates_what_node_tolerates() {
        let no_millis = r#"{"cookie":{"originalMaxAge":1,"expires":"2023-11-14T23:00:00Z"}}"#;
        assert_eq!(
            Record::from_json(no_millis).unwrap().cookie.expires,
            Some(at(1_700_002_800_000))
        );
        let epoch = r#"{"cookie":{"originalMaxAge":null,"expires":1700000000000}}"#;
        assert_eq!(
            Record::from_json(epoch).unwrap().cookie.expires,
            Some(at(1_700_000_000_000))
        );
        let bare = Record::from_json(r#"{"cookie":{}}"#).unwrap();
        assert_eq!(bare.cookie, CookieData::default());
    }

    #[test]
    fn the_creation_time_round_trips_outside_the_data() {
        let mut record = Record::new(Map::new());
        record.created_at = Some(at(1_700_000_000_123));
        let json = record.to_json().unwrap();
        assert_eq!(
            json,
            r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"__createdAt":1700000000123}"#
        );
        let read = Record::from_json(&json).unwrap();
        assert_eq!(read.created_at, Some(at(1_700_000_000_123)));
        assert!(read.data.is_empty(), "not application data");
        // Wherever Node put it, and whatever it holds.
        let moved = r#"{"cookie":{},"a":1,"__createdAt":1700000000000}"#;
        assert_eq!(
            Record::from_json(moved).unwrap().created_at,
            Some(at(1_700_000_000_000))
        );
        let junk = r#"{"cookie":{},"__createdAt":"soon"}"#;
        assert_eq!(Record::from_json(junk).unwrap().created_at, None);
    }

    #[test]
    fn dates_and_lifetimes_from_elsewhere_never_break_a_record() {
        let huge = r#"{"cookie":{"originalMaxAge":1e15,"expires":1e300},"__createdAt":1e300}"#;
        let record = Record::from_json(huge).unwrap();
        assert_eq!(
            record.cookie.original_max_age,
            Some(deadline::MAX_LIFETIME_MS)
        );
        assert_eq!(record.cookie.expires, Some(deadline::latest_date()));
        let json = record.to_json().expect("writable");
        assert!(
            json.contains(r#""expires":"9999-12-31T23:59:59.000Z""#),
            "{json}"
        );
        let negative = r#"{"cookie":{"originalMaxAge":-5,"expires":-1}}"#;
        let record = Record::from_json(negative).unwrap();
        assert_eq!(record.cookie.original_max_age, Some(0));
        assert_eq!(record.cookie.expires, None);
    }

    #[test]
    fn drops_keys_node_drops_on_load() {
        let json = r#"{"cookie":{},"id":"x","save":1,"resetMaxAge":2,"keep":true}"#;
        let record = Record::from_json(json).unwrap();
        assert_eq!(record.data.keys().collect::<Vec<_>>(), ["keep"]);
    }

    #[test]
    fn a_record_without_cookie_is_corrupt() {
        assert!(matches!(
            Record::from_json(r#"{"user":"a"}"#),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            Record::from_json("not json"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            Record::from_json(r#"{"cookie":3}"#),
            Err(StoreError::Corrupt(_))
        ));
    }
}
