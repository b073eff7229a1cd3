//! The reference app's route logic (`examples/README.md`), written once against
//! [`session_core::Session`]. Each framework's example only maps requests and replies.

use std::time::Duration;

use session_core::{Session, SessionError};

/// A reply: status code and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `text/plain` body.
    pub body: String,
}

impl Reply {
    fn ok(body: impl Into<String>) -> Self {
        Self {
            status: 200,
            body: body.into(),
        }
    }
}

/// The app's answer when a session operation fails, in a handler or at the end of the
/// request: every adapter is configured with it (`on_error`), so both answer the same way.
/// The body names no detail; the status is the error's (`503`, `413`, `409` or `500`).
pub fn error_reply(error: &SessionError) -> Reply {
    Reply {
        status: error.status_code(),
        body: format!("session error: {}", error.reason_phrase()),
    }
}

/// How long `/remember` makes a session last.
pub const REMEMBER_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// `GET /`: the visit counter. `count` starts at 0 and grows by one per visit.
pub fn visit(session: &Session) -> Result<Reply, SessionError> {
    let count = session.get::<u64>("count")?.map_or(0, |count| count + 1);
    session.insert("count", count)?;
    Ok(Reply::ok(format!("count={count}")))
}

/// `GET /peek?key=K`: the counter `K` (default `count`), without changing anything.
pub fn peek(session: &Session, key: Option<&str>) -> Result<Reply, SessionError> {
    let key = match counter_key(key.or(Some("count"))) {
        Ok(key) => key,
        Err(reply) => return Ok(reply),
    };
    Ok(Reply::ok(match session.get::<u64>(key)? {
        Some(count) => format!("{key}={count}"),
        None => format!("{key}=none"),
    }))
}

/// `GET /bump?key=K`: adds one to the counter `K` (absent: 0), so that concurrent requests
/// can each change their own key of one session.
pub fn bump(session: &Session, key: Option<&str>) -> Result<Reply, SessionError> {
    let key = match counter_key(key) {
        Ok(key) => key,
        Err(reply) => return Ok(reply),
    };
    let count = session.get::<u64>(key)?.unwrap_or(0) + 1;
    session.insert(key, count)?;
    Ok(Reply::ok(format!("{key}={count}")))
}

/// A counter's name: 1 to 32 of `[A-Za-z0-9_-]`, and not `user` or `remember`, which other
/// routes own; otherwise the `400` to answer.
fn counter_key(key: Option<&str>) -> Result<&str, Reply> {
    match key {
        Some(key)
            if (1..=32).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                && !["user", "remember"].contains(&key) =>
        {
            Ok(key)
        }
        _ => Err(Reply {
            status: 400,
            body: "invalid key".to_owned(),
        }),
    }
}

/// `GET /login?user=U`: a new session (new id, old record gone) holding `user`.
pub async fn login(session: &Session, user: Option<&str>) -> Result<Reply, SessionError> {
    let Some(user) = user.filter(|user| !user.is_empty()) else {
        return Ok(Reply {
            status: 400,
            body: "missing user".to_owned(),
        });
    };
    session.regenerate().await?;
    session.insert("user", user)?;
    Ok(Reply::ok(format!("user={user}")))
}

/// `GET /whoami`: the logged-in user, if any.
pub fn whoami(session: &Session) -> Result<Reply, SessionError> {
    Ok(Reply::ok(match session.get::<String>("user")? {
        Some(user) => format!("user={user}"),
        None => "user=none".to_owned(),
    }))
}

/// `GET /logout`: destroys the session and clears the cookie.
pub async fn logout(session: &Session) -> Result<Reply, SessionError> {
    session.destroy().await?;
    Ok(Reply::ok("bye"))
}

/// `GET /logout-everywhere`: ends every session of this session's user, this one included,
/// and clears the cookie; answers how many sessions ended.
pub async fn logout_everywhere(session: &Session) -> Result<Reply, SessionError> {
    let revoked = session.log_out_everywhere().await?;
    Ok(Reply::ok(format!("revoked={revoked}")))
}

/// `GET /remember`: this session lasts 30 days.
pub fn remember(session: &Session) -> Result<Reply, SessionError> {
    session.set_max_age(Some(REMEMBER_FOR));
    session.insert("remember", true)?;
    Ok(Reply::ok("ok"))
}

/// `GET /max-age?ms=N`: changes only this session's max age (no data change), or makes it a
/// browser-session cookie when `ms` is absent.
pub fn set_max_age(session: &Session, ms: Option<u64>) -> Result<Reply, SessionError> {
    session.set_max_age(ms.map(Duration::from_millis));
    Ok(Reply::ok("ok"))
}

/// `GET /unset`: drops the session from the request (`req.session = null`).
pub fn unset(session: &Session) -> Result<Reply, SessionError> {
    session.unset();
    Ok(Reply::ok("unset"))
}
