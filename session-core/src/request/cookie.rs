//! The request's side of cookie mode: reading the session out of its cookie, and at the end
//! writing it back, renewing its signature or clearing it, by [`cookie_mode::rules`](crate::cookie_mode::rules).

use std::time::SystemTime;

use super::RequestSession;
use crate::{
    cookie_header,
    cookie_mode::{
        rules::{self, Decision, Facts},
        CookieCodec, Opened, Outgoing,
    },
    deadline,
    session::Lifecycle,
    set_cookie, Session, SessionError, SetCookies,
};

impl RequestSession {
    /// The session in the request's cookie, when it opens (verifies, decodes, has not expired
    /// and is not past its absolute end); a new session otherwise, never an error.
    pub(super) fn load_from_cookie(&self, codec: &CookieCodec) -> Result<Session, SessionError> {
        let manager = &self.inner.manager;
        match self.open_cookie(codec) {
            Some(opened) if !self.over(&opened) => {
                Session::from_cookie(manager.clone(), opened, self.inner.secure)
            }
            _ => Session::generate(manager.clone(), None, self.inner.secure),
        }
    }

    /// The request's cookie, opened.
    pub(super) fn open_cookie(&self, codec: &CookieCodec) -> Option<Opened> {
        let value = cookie_header::decode_value(self.inner.cookie.as_deref()?)?;
        let signature = match self.inner.signature.as_deref() {
            Some(raw) => Some(cookie_header::decode_value(raw)?),
            None => None,
        };
        codec.open(&self.config().cookie.name, &value, signature.as_deref())
    }

    fn over(&self, opened: &Opened) -> bool {
        let absolute = self.config().integrity.absolute_timeout;
        let ends_at = deadline::absolute_end(opened.created_at, absolute);
        deadline::is_over(ends_at, SystemTime::now())
    }

    /// The cookies a cookie-mode request's end sends.
    pub(super) fn finish_in_cookie(
        &self,
        session: &Session,
        codec: &CookieCodec,
    ) -> Result<SetCookies, SessionError> {
        let lifecycle = session.state().lifecycle;
        match lifecycle {
            // cookie-session's `req.session = null`: both cookies expire.
            Lifecycle::Destroyed | Lifecycle::Unset => Ok(self.clear_cookies(codec)),
            Lifecycle::Ended => Ok(SetCookies::none()),
            Lifecycle::Live => self.write_cookie(session, codec),
        }
    }

    fn clear_cookies(&self, codec: &CookieCodec) -> SetCookies {
        let mut cookies = SetCookies::none();
        if self.inner.cookie.is_none() {
            return cookies;
        }
        let policy = &self.config().cookie;
        let secure = self.cookie_secure();
        cookies.push(set_cookie::removal_cookie(policy, secure));
        if let Some(signature) = codec.signature_name() {
            cookies.push(set_cookie::removal_of(policy, signature, secure));
        }
        cookies
    }

    /// A signature cookie that did not verify is cleared, as npm `cookies` does on read.
    fn clear_bad_signature(&self, codec: &CookieCodec, from_cookie: bool) -> SetCookies {
        let policy = &self.config().cookie;
        match codec.signature_name() {
            Some(name) if !from_cookie && self.inner.signature.is_some() => {
                SetCookies::one(set_cookie::removal_of(policy, name, self.cookie_secure()))
            }
            _ => SetCookies::none(),
        }
    }

    fn write_cookie(
        &self,
        session: &Session,
        codec: &CookieCodec,
    ) -> Result<SetCookies, SessionError> {
        let config = self.config();
        let mut state = session.state();
        let from_cookie = state.cookie_id.is_some();
        let lifetime_changed = matches!(codec, CookieCodec::Encrypted(_))
            && state.original_max_age != state.stored_max_age;
        let facts = Facts {
            from_cookie,
            changed: !from_cookie || state.is_modified() || lifetime_changed,
            populated: !state.data.is_empty(),
            old_key: state.old_key,
        };
        let decision = rules::decide(facts, config.rolling);
        if decision == Decision::Nothing {
            return Ok(self.clear_bad_signature(codec, from_cookie));
        }
        if self.cookie_secure() && !self.inner.secure {
            tracing::debug!("Secure cookie not sent over plain HTTP");
            return Ok(SetCookies::none());
        }
        let policy = &config.cookie;
        let secure = self.cookie_secure();
        if decision == Decision::Resign {
            let value = self
                .inner
                .cookie
                .as_deref()
                .and_then(cookie_header::decode_value)
                .unwrap_or_default();
            return Ok(match codec.resign(&policy.name, &value) {
                Some((name, signature)) => SetCookies::one(set_cookie::raw_cookie(
                    policy, &name, &signature, None, secure,
                )),
                None => SetCookies::none(),
            });
        }
        state.touch();
        let now = SystemTime::now();
        let outgoing = Outgoing {
            id: &state.id,
            data: &state.data,
            max_age: state.original_max_age,
            expires: Some(deadline::store_deadline(
                state.expires,
                config.browser_session_ttl,
                state.ends_at,
                now,
            )),
            created_at: state.created_at,
        };
        let written = codec.write(&policy.name, &outgoing)?;
        if !from_cookie {
            crate::telemetry::created("cookie");
        }
        let expires = state.expires;
        let mut cookies = SetCookies::none();
        for (name, value) in written {
            cookies.push(set_cookie::raw_cookie(
                policy, &name, &value, expires, secure,
            ));
        }
        Ok(cookies)
    }
}
