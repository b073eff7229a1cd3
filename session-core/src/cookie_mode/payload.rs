//! What an encrypted cookie seals: the session's id, data, lifetime, expiry and creation time,
//! as compact JSON. Only this crate reads it, so it need not match anything in Node.

use std::{
    borrow::Cow,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Opened, Outgoing};
use crate::{deadline, SessionError, SessionId};

#[derive(Serialize)]
struct Out<'a> {
    /// The id.
    i: &'a str,
    /// `originalMaxAge` in milliseconds; absent for a browser-session cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    m: Option<u64>,
    /// When the cookie expires (epoch milliseconds): the server refuses it after, whatever
    /// the browser does.
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<u64>,
    /// When the session was created (epoch milliseconds), for the absolute timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    c: Option<u64>,
    /// The data.
    d: &'a Map<String, Value>,
}

/// Read from the decrypted text, borrowing the id (ours never needs an escape).
#[derive(Deserialize)]
struct In<'a> {
    #[serde(borrow)]
    i: Cow<'a, str>,
    m: Option<u64>,
    e: Option<u64>,
    c: Option<u64>,
    d: Map<String, Value>,
}

pub(super) fn encode(session: &Outgoing<'_>) -> Result<String, SessionError> {
    let out = Out {
        i: session.id.as_str(),
        m: session.max_age,
        e: session.expires.map(epoch_ms),
        c: session.created_at.map(epoch_ms),
        d: session.data,
    };
    serde_json::to_string(&out).map_err(SessionError::Value)
}

/// The sealed session, unless it is not one of ours or its expiry has passed.
pub(super) fn decode(plain: &[u8], old_key: bool, now: SystemTime) -> Option<Opened> {
    // Checked as UTF-8 once, rather than string by string as `from_slice` does.
    let read: In<'_> = serde_json::from_str(std::str::from_utf8(plain).ok()?).ok()?;
    let at = |ms: u64| UNIX_EPOCH.checked_add(Duration::from_millis(ms));
    if read.e.and_then(at).is_some_and(|expires| expires <= now) {
        return None;
    }
    Some(Opened {
        id: Some(SessionId::from(&*read.i)),
        data: read.d,
        max_age: Some(read.m.map(deadline::clamp_ms)),
        created_at: read.c.and_then(at).map(deadline::writable),
        old_key,
    })
}

fn epoch_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn round_trips_and_refuses_what_has_expired() {
        let id = SessionId::from("an-id-of-twenty-two-chars");
        let data = json!({"user": "ann"}).as_object().cloned().unwrap();
        let now = SystemTime::now();
        let session = Outgoing {
            id: &id,
            data: &data,
            max_age: Some(60_000),
            expires: Some(now + Duration::from_secs(60)),
            created_at: Some(now),
        };
        let plain = encode(&session).unwrap();
        let opened = decode(plain.as_bytes(), true, now).unwrap();
        assert_eq!(opened.id, Some(id));
        assert_eq!(opened.data, data);
        assert_eq!(opened.max_age, Some(Some(60_000)));
        assert!(opened.old_key);
        assert!(decode(plain.as_bytes(), false, now + Duration::from_secs(61)).is_none());
        assert!(decode(b"{\"d\":{}}", false, now).is_none(), "not ours");
        assert!(decode(b"garbage", false, now).is_none());
    }
}
