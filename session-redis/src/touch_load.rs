//! The load of a read-only request: one script that reads the session and moves its expiry to
//! the session's own lifetime, read from the stored JSON, in one round trip.
//!
//! ```lua
//! local value = redis.call('GET', KEYS[1])
//! if not value then return false end
//! local ms = string.match(value, '^{"cookie":{"originalMaxAge":(%d+)[,}]')
//! local ttl = false
//! if ms then
//!   ttl = math.ceil(tonumber(ms) / 1000)
//! elseif string.find(value, '^{"cookie":{"originalMaxAge":null[,}]') then
//!   ttl = tonumber(ARGV[1])
//! end
//! if ttl and ttl > 0 then
//!   redis.call('EXPIRE', KEYS[1], math.min(ttl, tonumber(ARGV[2])))
//!   return {value, 1}
//! end
//! return {value, 0}
//! ```
//!
//! `KEYS[1]` is the session key; `ARGV` holds the browser-session TTL (for a cookie without
//! `originalMaxAge`) and the longest TTL, both in seconds. The lifetime comes from the very
//! start of the value, where Node and this crate both write `{"cookie":{"originalMaxAge":…`:
//! a string pattern, not a JSON decoder, so the script costs Redis a few microseconds. A
//! value that does not start that way (corrupt, or written by something else) is returned
//! untouched: a record that cannot be decoded never gets a fresh lifetime, and a session with
//! its own lifetime ("remember me") is never first shortened or stretched to the usual one.

use fred::{bytes::Bytes, bytes_utils::Str, types::Value};
use session_core::{Loaded, StoreError};

use crate::{command::Command, script::Script, stored};

/// The load-and-touch script (see the module docs).
static LOAD_AND_TOUCH: Script = Script::new(
    r#"local value = redis.call('GET', KEYS[1])
if not value then return false end
local ms = string.match(value, '^{"cookie":{"originalMaxAge":(%d+)[,}]')
local ttl = false
if ms then
  ttl = math.ceil(tonumber(ms) / 1000)
elseif string.find(value, '^{"cookie":{"originalMaxAge":null[,}]') then
  ttl = tonumber(ARGV[1])
end
if ttl and ttl > 0 then
  redis.call('EXPIRE', KEYS[1], math.min(ttl, tonumber(ARGV[2])))
  return {value, 1}
end
return {value, 0}"#,
);

/// One load-and-touch's arguments, kept to send it again as `EVAL` after a `NOSCRIPT`.
#[derive(Debug)]
pub(crate) struct LoadAndTouch {
    key: Str,
    browser_session_ttl: i64,
    longest_ttl: i64,
}

impl LoadAndTouch {
    /// A load of `key` that touches a browser-session record for `browser_session_ttl`
    /// seconds, and no record for longer than `longest_ttl`.
    pub(crate) fn new(key: Str, browser_session_ttl: i64, longest_ttl: i64) -> Self {
        Self {
            key,
            browser_session_ttl,
            longest_ttl,
        }
    }

    /// As `EVALSHA`.
    pub(crate) fn evalsha(&self) -> Command {
        LOAD_AND_TOUCH.evalsha(self.key.clone(), self.args())
    }

    /// As `EVAL`, for when Redis does not have the script.
    pub(crate) fn eval(&self) -> Command {
        LOAD_AND_TOUCH.eval(self.key.clone(), self.args())
    }

    fn args(&self) -> [Value; 2] {
        [self.browser_session_ttl.into(), self.longest_ttl.into()]
    }
}

/// What the script's reply means: no session, or the session and whether it was touched.
pub(crate) fn outcome(reply: Value) -> Result<Option<Loaded>, StoreError> {
    let (value, touched) = match reply {
        Value::Null => return Ok(None),
        Value::Array(mut parts) if parts.len() == 2 => {
            let touched = parts.pop().and_then(|flag| flag.as_i64()) == Some(1);
            let value = parts.pop().unwrap_or(Value::Null);
            (value, touched)
        }
        other => return Err(StoreError::backend(crate::command::unexpected(&other))),
    };
    let bytes: Bytes = match value {
        Value::String(text) => text.into_inner(),
        Value::Bytes(bytes) => bytes,
        other => return Err(StoreError::backend(crate::command::unexpected(&other))),
    };
    let loaded = stored::loaded(&bytes)?;
    Ok(Some(if touched { loaded.touched() } else { loaded }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_nothing_or_a_record_and_whether_it_was_touched() {
        assert_eq!(outcome(Value::Null).ok(), Some(None));
        let json = r#"{"cookie":{"originalMaxAge":600000,"expires":null,"httpOnly":true,"path":"/"},"n":1}"#;
        for flag in [0, 1] {
            let reply = Value::Array(vec![Value::from(json), Value::Integer(flag)]);
            let loaded = outcome(reply).expect("a record").expect("present");
            assert_eq!(loaded.touched, flag == 1);
            assert_eq!(loaded.record.data["n"], 1);
            assert_eq!(loaded.version, stored::version_of(json.as_bytes()));
        }
        let garbage = Value::Array(vec![Value::from("garbage"), Value::Integer(0)]);
        assert!(matches!(outcome(garbage), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            outcome(Value::Integer(3)),
            Err(StoreError::Backend(_))
        ));
    }

    #[test]
    fn the_script_text_and_the_docs_agree() {
        let documented: Vec<&str> = include_str!("touch_load.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! "))
            .skip_while(|line| !line.starts_with("local value"))
            .take_while(|line| !line.starts_with("```"))
            .collect();
        assert_eq!(documented.join("\n"), LOAD_AND_TOUCH.text());
    }
}
