//! [`Script`]: a single-key Lua script, sent as `EVALSHA` (its SHA-1, what Redis caches it
//! under) or as `EVAL` (its text, which also caches it).
//!
//! Every script touches exactly the one key it declares, so it runs on Redis Cluster too: a
//! session key (`sess:<id>`, fixed by connect-redis) and a user's index key hash to
//! different slots, which is why they are never in one script.

use std::sync::OnceLock;

use fred::{bytes_utils::Str, error::Error as ClientError, types::Value};

use crate::{command::Command, stored::sha1_hex};

/// A Lua script of one key, with its SHA-1 computed once.
#[derive(Debug)]
pub(crate) struct Script {
    text: &'static str,
    sha: OnceLock<String>,
}

impl Script {
    /// The script `text`.
    pub(crate) const fn new(text: &'static str) -> Self {
        Self {
            text,
            sha: OnceLock::new(),
        }
    }

    /// The text.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &'static str {
        self.text
    }

    /// The SHA-1 of the text in lower-case hex, as `SCRIPT LOAD` answers it.
    pub(crate) fn sha(&'static self) -> &'static str {
        self.sha.get_or_init(|| sha1_hex(self.text))
    }

    /// `EVALSHA sha 1 key args...`: the script by its SHA-1, which fails with `NOSCRIPT` when
    /// the server does not have it cached ([`is_noscript`]).
    pub(crate) fn evalsha<const N: usize>(&'static self, key: Str, args: [Value; N]) -> Command {
        self.call("EVALSHA", self.sha(), key, args)
    }

    /// `EVAL text 1 key args...`: the script by its text; never `NOSCRIPT`.
    pub(crate) fn eval<const N: usize>(&'static self, key: Str, args: [Value; N]) -> Command {
        self.call("EVAL", self.text, key, args)
    }

    fn call<const N: usize>(
        &'static self,
        name: &'static str,
        script: &'static str,
        key: Str,
        args: [Value; N],
    ) -> Command {
        let head = [
            Value::from_static_str(script),
            Value::Integer(1),
            key.clone().into(),
        ];
        Command::routed(name, &key, head.into_iter().chain(args))
    }
}

/// Whether Redis refused an `EVALSHA` because it does not have the script (after a restart,
/// a `SCRIPT FLUSH`, or a failover to a replica that never saw it).
pub(crate) fn is_noscript(error: &ClientError) -> bool {
    error.details().starts_with("NOSCRIPT")
}
