//! The conditional save: one script that replaces a session's value only if it is still the
//! exact bytes the request read, and otherwise says what is there now.
//!
//! ```lua
//! local current = redis.call('GET', KEYS[1])
//! if not current then return 0 end                                  -- gone
//! if redis.sha1hex(current) ~= ARGV[1] then return current end      -- changed
//! redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
//! return 1                                                          -- written
//! ```
//!
//! `KEYS[1]` is the session key; `ARGV` holds the SHA-1 (hex) of the value the request read,
//! the new value and its TTL in seconds. The value stays byte for byte what connect-redis
//! writes: the version lives nowhere in Redis, it is the digest of the stored bytes, so a
//! write by an Express app (which knows nothing of versions) changes it too.

use fred::{bytes::Bytes, bytes_utils::Str, types::Value};
use session_core::{Saved, StoreError, Version};

use crate::{command::Command, script::Script, stored};

/// The save script (see the module docs).
static SAVE: Script = Script::new(
    "local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if redis.sha1hex(current) ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1",
);

/// One save's arguments, kept to send the save again as `EVAL` after a `NOSCRIPT`.
#[derive(Debug)]
pub(crate) struct Save {
    key: Str,
    expected: Str,
    value: Bytes,
    ttl: i64,
}

impl Save {
    /// A save of `value` under `key` for `ttl` seconds, over the value whose version is
    /// `expected`.
    pub(crate) fn new(key: Str, expected: &Version, value: Bytes, ttl: i64) -> Self {
        Self {
            key,
            expected: expected.to_hex().into(),
            value,
            ttl,
        }
    }

    /// The save as `EVALSHA`.
    pub(crate) fn evalsha(&self) -> Command {
        SAVE.evalsha(self.key.clone(), self.args())
    }

    /// The save as `EVAL`, for when Redis does not have the script.
    pub(crate) fn eval(&self) -> Command {
        SAVE.eval(self.key.clone(), self.args())
    }

    fn args(&self) -> [Value; 3] {
        [
            self.expected.clone().into(),
            self.value.clone().into(),
            self.ttl.into(),
        ]
    }
}

/// What the script's reply means, `written` being the version of the value sent.
pub(crate) fn outcome(reply: Value, written: Version) -> Result<Saved, StoreError> {
    match reply {
        Value::Integer(1) => Ok(Saved::Written(written)),
        Value::Integer(0) => Ok(Saved::Gone),
        Value::String(current) => Ok(Saved::Changed(stored::loaded(current.as_bytes())?)),
        Value::Bytes(current) => Ok(Saved::Changed(stored::loaded(&current)?)),
        other => Err(StoreError::backend(crate::command::unexpected(&other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_written_gone_or_the_current_record() {
        let written = Version::from_bytes(&[7; 20]);
        assert_eq!(
            outcome(Value::Integer(1), written).ok(),
            Some(Saved::Written(written))
        );
        assert_eq!(outcome(Value::Integer(0), written).ok(), Some(Saved::Gone));
        let json = r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"by":"express"}"#;
        let Ok(Saved::Changed(current)) = outcome(Value::from(json), written) else {
            panic!("a value is the current record");
        };
        assert_eq!(current.record.data["by"], "express");
        assert_eq!(current.version, stored::version_of(json.as_bytes()));
        assert!(matches!(
            outcome(Value::from("garbage"), written),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            outcome(Value::Null, written),
            Err(StoreError::Backend(_))
        ));
    }

    #[test]
    fn the_script_text_and_the_docs_agree() {
        let documented: Vec<&str> = include_str!("save.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! "))
            .skip_while(|line| !line.starts_with("local current"))
            .take_while(|line| !line.starts_with("```"))
            .map(|line| line.split("  --").next().unwrap_or(line).trim_end())
            .collect();
        assert_eq!(documented.join("\n"), SAVE.text());
    }
}
