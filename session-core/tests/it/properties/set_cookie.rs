//! The `Set-Cookie` writer, end to end: a `SessionManager` over a `MemoryStore`, configured
//! with any options `SessionConfigBuilder::build` accepts, runs a browser's requests one after
//! another, each doing anything a handler can do to its session. Every `finish()` returns one
//! `Set-Cookie` value at most, and every value it gives
//!
//! - is a valid `http::HeaderValue` and starts with `<name>=`;
//! - carries the configured attributes (each once): `Path`, `Domain`, `HttpOnly`, `Secure`
//!   (always, or on HTTPS under `Secure::Auto`), `Partitioned`, `Priority`, `SameSite`;
//! - has an `Expires`, when it has one, that parses and is no later than the year 9999: the
//!   epoch for the cookie that clears the session, at most 100 years ahead otherwise;
//! - carries a value that the manager verifies as the session's id when the browser sends it
//!   back (or is empty, for the cookie that clears the session).
//!
//! `fuzz/fuzz_targets/set_cookie.rs` compiles this file too: it uses nothing but
//! session-core's public API, the standard library, `http`, `httpdate`, `serde_json` and
//! `tokio`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use session_core::{
    ConflictPolicy, MemoryStore, Priority, RequestFacts, SameSite, Secure, Session, SessionConfig,
    SessionConfigBuilder, SessionError, SessionId, SessionManager, Unset,
};

/// The configuration of a case; [`SetCookieCase::config`] builds it.
#[derive(Debug, Clone)]
pub(crate) struct ConfigPlan {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) http_only: bool,
    pub(crate) secure: Secure,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) priority: Option<Priority>,
    pub(crate) partitioned: bool,
    pub(crate) max_age: Option<Duration>,
    pub(crate) rolling: bool,
    pub(crate) resave: bool,
    pub(crate) save_uninitialized: bool,
    pub(crate) unset: Unset,
    pub(crate) browser_session_ttl: Duration,
    pub(crate) absolute_timeout: Option<Duration>,
    pub(crate) conflicts: ConflictPolicy,
    /// `user_key("user")`, which `log_out_everywhere` needs.
    pub(crate) user_key: bool,
    /// `hash_ids_at_rest` with a fixed key.
    pub(crate) hash_ids: bool,
    pub(crate) serialize_requests: bool,
    /// Whether the requests arrive over TLS.
    pub(crate) tls: bool,
}

impl Default for ConfigPlan {
    /// The builder's defaults, over plain HTTP.
    fn default() -> Self {
        Self {
            name: "connect.sid".to_owned(),
            path: "/".to_owned(),
            domain: None,
            http_only: true,
            secure: Secure::Auto,
            same_site: Some(SameSite::Lax),
            priority: None,
            partitioned: false,
            max_age: None,
            rolling: false,
            resave: false,
            save_uninitialized: true,
            unset: Unset::Keep,
            browser_session_ttl: Duration::from_secs(86_400),
            absolute_timeout: None,
            conflicts: ConflictPolicy::LastWriterWins,
            user_key: false,
            hash_ids: false,
            serialize_requests: false,
            tls: false,
        }
    }
}

/// What a handler does to its session.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Read(String),
    Insert(String, Value),
    Remove(String),
    Clear,
    SetMaxAge(Option<Duration>),
    Touch,
    Save,
    Reload,
    Regenerate,
    CycleId,
    Destroy,
    Unset,
    LogOutEverywhere,
    LogOutOtherSessions,
}

/// A configuration and a browser's requests, one after another. A request without actions
/// never asks for its session.
#[derive(Debug, Clone)]
pub(crate) struct SetCookieCase {
    pub(crate) config: ConfigPlan,
    pub(crate) requests: Vec<Vec<Action>>,
}

/// The latest `Expires` anything may write: 9999-12-31T23:59:59Z.
const LATEST: Duration = Duration::from_secs(253_402_300_799);

/// The longest lifetime a session may have (100 years), and a day of slack for the clock.
const LONGEST: Duration = Duration::from_secs((100 * 365 + 1) * 24 * 3600);

impl SetCookieCase {
    /// The builder the plan describes; `build()` may refuse it.
    pub(crate) fn config(&self) -> SessionConfigBuilder {
        let plan = &self.config;
        let mut builder = SessionConfig::builder()
            .secret("the set-cookie property secret, 32 bytes and more")
            .cookie_name(plan.name.clone())
            .path(plan.path.clone())
            .domain(plan.domain.clone())
            .http_only(plan.http_only)
            .secure(plan.secure)
            .same_site(plan.same_site)
            .priority(plan.priority)
            .partitioned(plan.partitioned)
            .max_age(plan.max_age)
            .rolling(plan.rolling)
            .resave(plan.resave)
            .save_uninitialized(plan.save_uninitialized)
            .unset(plan.unset)
            .browser_session_ttl(plan.browser_session_ttl)
            .absolute_timeout(plan.absolute_timeout)
            .conflicts(plan.conflicts)
            .serialize_requests(plan.serialize_requests);
        if plan.user_key {
            builder = builder.user_key("user");
        }
        if plan.hash_ids {
            builder = builder.hash_ids_at_rest("the id hash key of the property tests, 32+");
        }
        builder
    }
}

/// Runs the case (when its configuration builds) on a current-thread runtime and checks
/// every response. Returns how many `Set-Cookie` values were checked.
pub(crate) fn check_set_cookie(case: &SetCookieCase) -> usize {
    let Ok(config) = case.config().build() else {
        return 0;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(run(case, SessionManager::new(MemoryStore::new(), config)))
}

async fn run(case: &SetCookieCase, manager: SessionManager) -> usize {
    let mut jar: Option<String> = None;
    let mut checked = 0;
    for actions in &case.requests {
        let facts = RequestFacts::plain_http().with_tls(case.config.tls);
        let request = manager.begin(jar.as_deref().map(str::as_bytes), facts);
        let mut session = None;
        if !actions.is_empty() {
            let loaded = request
                .session()
                .await
                .unwrap_or_else(|e| panic!("loading the session failed: {e} ({case:?})"));
            for action in actions {
                apply(&loaded, action).await;
            }
            session = Some(loaded);
        }
        let cookies = request
            .finish()
            .await
            .unwrap_or_else(|e| panic!("finish failed: {e} ({case:?})"));
        assert!(cookies.len() <= 1, "a store session sent {cookies:?}");
        let Some(header) = cookies.first() else {
            continue;
        };
        let Some(session) = session else {
            panic!("a request that never asked for its session sent {header:?}");
        };
        jar = check_header(case, &manager, header, &session.id());
        checked += 1;
    }
    checked
}

/// Does `action`; a refusal must be one a handler can be given (a reserved key, a destroyed
/// session, ...), never a failure of the store or of the session machinery.
async fn apply(session: &Session, action: &Action) {
    let outcome = match action {
        Action::Read(key) => {
            let _ = session.get_value(key);
            Ok(())
        }
        Action::Insert(key, value) => session.insert_value(key, value.clone()),
        Action::Remove(key) => session.remove_value(key).map(drop),
        Action::Clear => session.clear(),
        Action::SetMaxAge(max_age) => {
            session.set_max_age(*max_age);
            Ok(())
        }
        Action::Touch => {
            session.touch();
            Ok(())
        }
        Action::Save => session.save().await,
        Action::Reload => session.reload().await,
        Action::Regenerate => session.regenerate().await,
        Action::CycleId => session.cycle_id().await,
        Action::Destroy => session.destroy().await,
        Action::Unset => {
            session.unset();
            Ok(())
        }
        Action::LogOutEverywhere => session.log_out_everywhere().await.map(drop),
        Action::LogOutOtherSessions => session.log_out_other_sessions().await.map(drop),
    };
    if let Err(error) = outcome {
        assert!(
            matches!(
                error,
                SessionError::ReservedKey(_)
                    | SessionError::Destroyed
                    | SessionError::Ended
                    | SessionError::Missing
                    | SessionError::NoUserKey
            ),
            "{action:?} failed: {error:?}"
        );
    }
}

/// Checks one `Set-Cookie` value; returns the `name=value` pair the browser keeps, or `None`
/// when the value clears the cookie.
fn check_header(
    case: &SetCookieCase,
    manager: &SessionManager,
    header: &str,
    id: &SessionId,
) -> Option<String> {
    let plan = &case.config;
    assert!(
        http::HeaderValue::from_str(header).is_ok(),
        "not a valid header value: {header:?}"
    );
    let rest = header
        .strip_prefix(&format!("{}=", plan.name))
        .unwrap_or_else(|| panic!("{header:?} does not start with {}=", plan.name));
    let mut parts = rest.split("; ");
    let value = parts.next().unwrap_or_default();
    let attributes: Vec<&str> = parts.collect();
    let find = |prefix: &str| {
        let found: Vec<&str> = attributes
            .iter()
            .filter_map(|attribute| attribute.strip_prefix(prefix))
            .collect();
        assert!(found.len() <= 1, "{prefix:?} twice in {header:?}");
        found.first().copied()
    };
    let flag = |name: &str| find(name) == Some("");
    assert_eq!(find("Path="), Some(plan.path.as_str()), "{header:?}");
    assert_eq!(find("Domain="), plan.domain.as_deref(), "{header:?}");
    assert_eq!(flag("HttpOnly"), plan.http_only, "{header:?}");
    let secure = plan.secure == Secure::Always || (plan.secure == Secure::Auto && plan.tls);
    assert_eq!(flag("Secure"), secure, "{header:?}");
    assert_eq!(flag("Partitioned"), plan.partitioned, "{header:?}");
    assert_eq!(
        find("Priority="),
        plan.priority.map(Priority::as_attribute),
        "{header:?}"
    );
    assert_eq!(
        find("SameSite="),
        plan.same_site.map(SameSite::as_attribute),
        "{header:?}"
    );
    let known = [
        "Path=",
        "Domain=",
        "Expires=",
        "HttpOnly",
        "Secure",
        "Partitioned",
        "Priority=",
        "SameSite=",
    ];
    for attribute in &attributes {
        assert!(
            known.iter().any(|name| attribute.starts_with(name)),
            "unknown attribute {attribute:?} in {header:?}"
        );
    }
    let expires = find("Expires=").map(|date| {
        let at = httpdate::parse_http_date(date)
            .unwrap_or_else(|e| panic!("Expires={date:?} is not an HTTP date ({e}): {header:?}"));
        assert!(at <= UNIX_EPOCH + LATEST, "Expires past 9999: {header:?}");
        at
    });
    if value.is_empty() {
        assert_eq!(expires, Some(UNIX_EPOCH), "a removal cookie: {header:?}");
        return None;
    }
    if let Some(expires) = expires {
        assert!(
            expires <= SystemTime::now() + LONGEST,
            "Expires more than 100 years ahead: {header:?}"
        );
    }
    let pair = format!("{}={value}", plan.name);
    let facts = RequestFacts::plain_http().with_tls(plan.tls);
    let sent_back = manager.begin([pair.as_bytes()], facts);
    assert_eq!(
        sent_back.verified_cookie_id().as_ref(),
        Some(id),
        "{header:?} does not verify as the session's id"
    );
    Some(pair)
}
