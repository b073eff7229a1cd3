//! The per-request decisions of express-session (`index.js`, `shouldSave`, `shouldTouch`,
//! `shouldSetCookie`, `shouldDestroy`), in one place, as pure functions of the request's facts.
//!
//! Adapters never decide anything: they hand the core the cookie header and the transport,
//! and [`RequestSession::finish`](crate::RequestSession::finish) applies these rules.

/// What is known about a session when its request ends.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts {
    /// The request carried a verified cookie for the session's current id
    /// (express-session's `cookieId === req.sessionID`).
    pub(crate) cookie_matches: bool,
    /// The id changed or the data differs from what was loaded or generated.
    pub(crate) modified: bool,
    /// The store already holds exactly this id and data (loaded without `resave`, or saved
    /// explicitly with no change since).
    pub(crate) saved: bool,
    /// A save happened or was assumed (express-session's `savedHash` is set).
    pub(crate) save_mark: bool,
    /// The cookie has an `Expires` (not a browser-session cookie).
    pub(crate) has_expiry: bool,
}

/// The configuration knobs the rules read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Policy {
    pub(crate) rolling: bool,
    pub(crate) save_uninitialized: bool,
}

/// What to do with a live session at the end of its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Write the whole record.
    pub(crate) save: bool,
    /// Move the record's expiry only.
    pub(crate) touch: bool,
    /// Send `Set-Cookie`.
    pub(crate) set_cookie: bool,
}

/// Decides the store write and the cookie for a session that is still live.
pub(crate) fn decide(facts: Facts, policy: Policy) -> Decision {
    let save = if !policy.save_uninitialized && !facts.save_mark && !facts.cookie_matches {
        facts.modified
    } else {
        !facts.saved
    };
    let touch = facts.cookie_matches && !save;
    let set_cookie = if facts.cookie_matches {
        policy.rolling || (facts.has_expiry && facts.modified)
    } else {
        policy.save_uninitialized || facts.modified
    };
    Decision {
        save,
        touch,
        set_cookie,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_session(modified: bool) -> Facts {
        Facts {
            cookie_matches: false,
            modified,
            saved: false,
            save_mark: false,
            has_expiry: true,
        }
    }

    fn existing(modified: bool, resave: bool) -> Facts {
        Facts {
            cookie_matches: true,
            modified,
            saved: !resave && !modified,
            save_mark: !resave,
            has_expiry: true,
        }
    }

    const DEFAULTS: Policy = Policy {
        rolling: false,
        save_uninitialized: true,
    };
    const NO_UNINIT: Policy = Policy {
        rolling: false,
        save_uninitialized: false,
    };

    #[test]
    fn new_untouched_session_without_save_uninitialized_is_dropped() {
        let d = decide(new_session(false), NO_UNINIT);
        assert_eq!(
            d,
            Decision {
                save: false,
                touch: false,
                set_cookie: false
            }
        );
    }

    #[test]
    fn new_untouched_session_with_save_uninitialized_is_saved() {
        let d = decide(new_session(false), DEFAULTS);
        assert_eq!(
            d,
            Decision {
                save: true,
                touch: false,
                set_cookie: true
            }
        );
    }

    #[test]
    fn new_written_session_is_saved_either_way() {
        for policy in [DEFAULTS, NO_UNINIT] {
            let d = decide(new_session(true), policy);
            assert_eq!(
                d,
                Decision {
                    save: true,
                    touch: false,
                    set_cookie: true
                }
            );
        }
    }

    #[test]
    fn existing_untouched_session_is_touched_without_cookie() {
        let d = decide(existing(false, false), DEFAULTS);
        assert_eq!(
            d,
            Decision {
                save: false,
                touch: true,
                set_cookie: false
            }
        );
    }

    #[test]
    fn resave_writes_every_request() {
        let d = decide(existing(false, true), DEFAULTS);
        assert_eq!(
            d,
            Decision {
                save: true,
                touch: false,
                set_cookie: false
            }
        );
    }

    #[test]
    fn changed_session_is_saved_and_resent_only_with_an_expiry() {
        let d = decide(existing(true, false), DEFAULTS);
        assert_eq!(
            d,
            Decision {
                save: true,
                touch: false,
                set_cookie: true
            }
        );
        let browser = Facts {
            has_expiry: false,
            ..existing(true, false)
        };
        assert!(!decide(browser, DEFAULTS).set_cookie);
    }

    #[test]
    fn rolling_resends_on_every_response() {
        let rolling = Policy {
            rolling: true,
            ..DEFAULTS
        };
        assert!(decide(existing(false, false), rolling).set_cookie);
        assert!(decide(existing(true, false), rolling).set_cookie);
    }
}
