//! npm cookie-session 2.x's value: `base64(JSON.stringify(session))`, standard alphabet with
//! padding, the application's keys only (no `cookie` object). The creation time of the
//! absolute timeout rides along as `__createdAt`, which Node keeps like any other key.

use std::time::{Duration, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::Value;

use super::{Opened, Outgoing};
use crate::{deadline, SessionError, CREATED_AT_KEY};

pub(super) fn encode(session: &Outgoing<'_>) -> Result<String, SessionError> {
    let json = match session.created_at {
        None => serde_json::to_string(session.data),
        Some(created_at) => {
            let mut data = session.data.clone();
            let ms = created_at.duration_since(UNIX_EPOCH).map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
            data.insert(CREATED_AT_KEY.to_owned(), ms.into());
            serde_json::to_string(&data)
        }
    }
    .map_err(SessionError::Value)?;
    Ok(STANDARD.encode(json))
}

/// The session in a verified cookie value; `None` when it is not base64 JSON of an object,
/// which cookie-session treats as a new session too.
pub(super) fn decode(value: &str, old_key: bool) -> Option<Opened> {
    let json = STANDARD.decode(value).ok()?;
    let Value::Object(mut data) = serde_json::from_slice(&json).ok()? else {
        return None;
    };
    let created_at = data
        .shift_remove(CREATED_AT_KEY)
        .and_then(|ms| ms.as_f64())
        .filter(|ms| *ms >= 0.0)
        .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms as u64)))
        .map(deadline::writable);
    Some(Opened {
        id: None,
        data,
        max_age: None,
        created_at,
        old_key,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};

    use super::*;
    use crate::SessionId;

    fn outgoing<'a>(id: &'a SessionId, data: &'a Map<String, Value>) -> Outgoing<'a> {
        Outgoing {
            id,
            data,
            max_age: None,
            expires: None,
            created_at: None,
        }
    }

    #[test]
    fn writes_what_cookie_session_writes() {
        // `../shared/spec/node-stores.md` §2.
        let id = SessionId::from("unused-by-this-format");
        for (data, value) in [
            (json!({"count": 2}), "eyJjb3VudCI6Mn0="),
            (
                json!({"user": "alice", "remember": true}),
                "eyJ1c2VyIjoiYWxpY2UiLCJyZW1lbWJlciI6dHJ1ZX0=",
            ),
            (json!({"n": "é✓"}), "eyJuIjoiw6ninJMifQ=="),
            (json!({"views": 1}), "eyJ2aWV3cyI6MX0="),
        ] {
            let data = data.as_object().cloned().unwrap();
            assert_eq!(encode(&outgoing(&id, &data)).unwrap(), value);
            assert_eq!(decode(value, false).unwrap().data, data);
        }
    }

    #[test]
    fn keeps_the_creation_time_outside_the_data() {
        let id = SessionId::from("unused-by-this-format");
        let data = json!({"n": 1}).as_object().cloned().unwrap();
        let created = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
        let session = Outgoing {
            created_at: Some(created),
            ..outgoing(&id, &data)
        };
        let value = encode(&session).unwrap();
        let json = String::from_utf8(STANDARD.decode(&value).unwrap()).unwrap();
        assert_eq!(json, r#"{"n":1,"__createdAt":1700000000000}"#);
        let opened = decode(&value, false).unwrap();
        assert_eq!(opened.created_at, Some(created));
        assert_eq!(opened.data, data);
    }

    #[test]
    fn anything_but_base64_json_of_an_object_is_no_session() {
        for value in ["", "!!!", "bm90IGpzb24=", "WzEsMl0=", "MTI="] {
            assert!(decode(value, false).is_none(), "{value}");
        }
    }
}
