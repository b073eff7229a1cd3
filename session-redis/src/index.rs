//! The user index, for [`Store::sessions_of`](session_core::Store::sessions_of) ("log out
//! everywhere"): one sorted set per user, whose members are session ids scored by the
//! session's deadline in epoch milliseconds.
//!
//! Every write or touch that names a user sends, ahead of the session command and in the same
//! round trip, one `EVAL` of this single-key script:
//!
//! ```lua
//! redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
//! redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
//! local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
//! if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
//! return 0
//! ```
//!
//! `KEYS[1]` is the user's index key; `ARGV` holds the session's deadline, its id and the
//! current time. The entry is added (or its deadline moved), entries whose deadline has passed
//! are dropped, and the key expires with its last session, so an index never outlives the
//! sessions it lists. A listing is `ZRANGEBYSCORE key now +inf`: the sessions whose deadline
//! has not passed.
//!
//! The script goes out as `EVAL`, not `EVALSHA`: its entry must be in place before the session
//! command runs, and an `EVALSHA` that met `NOSCRIPT` (after a restart or a `SCRIPT FLUSH`)
//! would leave the session written but not yet listed until a retry. `EVAL` costs the script's
//! text (about 250 bytes) on each write that names a user, and cannot fail that way.
//!
//! An entry is only a hint: it may name a session that was deleted since, or whose write then
//! failed, or that another user now holds; readers load each session to check. Sessions that
//! only an Express app writes or touches are not listed (connect-redis knows nothing of the
//! index).

use std::time::SystemTime;

use fred::{bytes_utils::Str, types::Value};
use session_core::SessionId;

use crate::{command::Command, script::Script, time::epoch_ms};

/// The index script (see the module docs).
static INDEX: Script = Script::new(
    "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 0",
);

/// The highest deadline an entry is scored with: 2^53 - 1 ms (the year 287396), the largest
/// integer a sorted-set score (a double) holds exactly, so the script always reads back a
/// whole number for `PEXPIREAT`.
const MAX_SCORE: i64 = (1 << 53) - 1;

/// Lists session `id` in the index `key` until `deadline`: the index script as `EVAL`.
pub(crate) fn entry(key: Str, id: &SessionId, deadline: SystemTime) -> Command {
    let now = epoch_ms(SystemTime::now());
    INDEX.eval(
        key,
        [
            epoch_ms(deadline).min(MAX_SCORE).into(),
            id.as_str().into(),
            now.into(),
        ],
    )
}

/// The ids listed in the index `key` whose deadline has not passed.
pub(crate) fn listing(key: Str) -> Command {
    Command::zrangebyscore_from(key, epoch_ms(SystemTime::now()))
}

/// The members of a listing's reply as session ids.
pub(crate) fn ids(reply: Value) -> Result<Vec<SessionId>, fred::error::Error> {
    let ids: Vec<String> = reply.convert()?;
    Ok(ids.into_iter().map(SessionId::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_text_and_the_docs_agree() {
        let documented: Vec<&str> = include_str!("index.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! "))
            .skip_while(|line| !line.starts_with("redis.call('ZADD'"))
            .take_while(|line| !line.starts_with("```"))
            .collect();
        assert_eq!(documented.join("\n"), INDEX.text());
    }

    #[test]
    fn replies_are_ids() {
        let reply = Value::Array(vec![Value::from("a1"), Value::from("a2")]);
        let listed = ids(reply).expect("ids");
        assert_eq!(listed, [SessionId::from("a1"), SessionId::from("a2")]);
        assert!(ids(Value::Array(Vec::new())).expect("none").is_empty());
    }
}
