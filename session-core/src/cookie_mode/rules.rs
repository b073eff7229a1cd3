//! When cookie mode writes the cookie: npm cookie-session's rules (`index.js`, 2.1), as a
//! pure function, plus `rolling`.

/// What is known about a cookie-mode session when its request ends.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts {
    /// A valid session cookie came with the request (cookie-session's `!isNew`).
    pub(crate) from_cookie: bool,
    /// The session is new, or differs from what its cookie held (cookie-session's
    /// `isChanged`: the serialised session against the one read).
    pub(crate) changed: bool,
    /// The session holds at least one key (cookie-session's `isPopulated`).
    pub(crate) populated: bool,
    /// The cookie verified with a secret other than the first.
    pub(crate) old_key: bool,
}

/// What to send for a live cookie-mode session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// The session's cookie(s), written anew.
    Write,
    /// Only the signature, signed again with the first secret (cookie-session's format, as
    /// `cookies` re-signs on read); the value is untouched.
    Resign,
    /// Nothing.
    Nothing,
}

/// Writes when the session is worth a cookie (it came from one, or holds data) and it changed
/// or `rolling` asks for every response; an empty new session writes nothing.
pub(crate) fn decide(facts: Facts, rolling: bool) -> Decision {
    let worth_a_cookie = facts.from_cookie || facts.populated;
    if worth_a_cookie && (facts.changed || rolling) {
        Decision::Write
    } else if facts.from_cookie && facts.old_key {
        Decision::Resign
    } else {
        Decision::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(from_cookie: bool, changed: bool, populated: bool) -> Facts {
        Facts {
            from_cookie,
            changed,
            populated,
            old_key: false,
        }
    }

    #[test]
    fn an_empty_new_session_writes_nothing_even_rolling() {
        assert_eq!(decide(facts(false, true, false), false), Decision::Nothing);
        assert_eq!(decide(facts(false, true, false), true), Decision::Nothing);
    }

    #[test]
    fn a_populated_new_session_is_written() {
        assert_eq!(decide(facts(false, true, true), false), Decision::Write);
    }

    #[test]
    fn an_unchanged_session_is_written_only_when_rolling() {
        assert_eq!(decide(facts(true, false, true), false), Decision::Nothing);
        assert_eq!(decide(facts(true, false, true), true), Decision::Write);
    }

    #[test]
    fn a_changed_session_is_written_even_when_emptied() {
        assert_eq!(decide(facts(true, true, false), false), Decision::Write);
    }

    #[test]
    fn an_old_signature_is_renewed_alone_when_nothing_else_is_written() {
        let old = Facts {
            old_key: true,
            ..facts(true, false, true)
        };
        assert_eq!(decide(old, false), Decision::Resign);
        let changed = Facts {
            changed: true,
            ..old
        };
        assert_eq!(decide(changed, false), Decision::Write);
    }
}
