//! The scenarios. Each takes an adapter's [`Start`] and panics when the adapter misbehaves.
//!
//! Rows of express-session's scenario table (spec section 1.4) come first, then cookie
//! attributes, bad input, secrets, expiry, concurrency and store failures.

use std::time::{Duration, SystemTime};

use session_core::{
    testing::{FlakyStore, RecordingStore},
    MemoryStore, Priority, SameSite, Secure, SessionConfig, SessionConfigBuilder, SessionId,
    SessionManager, Unset,
};

use crate::{client, Browser, Response, SetCookie, Start, TestServer};

/// The secret every scenario signs with.
pub const SECRET: &str = "scenario secret of at least thirty-two bytes";
const NAME: &str = "connect.sid";
const HOUR: Duration = Duration::from_secs(3600);

/// The default configuration of the scenarios: express-session's options with a one-hour
/// max age, and sessions listed under their `user` (for `/logout-everywhere`).
pub fn config() -> SessionConfigBuilder {
    SessionConfig::builder()
        .secret(SECRET)
        .max_age(Some(HOUR))
        .user_key("user")
}

/// A running app with a recording memory store.
struct Harness {
    server: TestServer,
    store: RecordingStore<MemoryStore>,
}

impl Harness {
    fn start(start: Start, config: SessionConfigBuilder) -> Self {
        let store = RecordingStore::new(MemoryStore::new());
        let manager = SessionManager::new(store.clone(), config.build().expect("valid config"));
        Self {
            server: start(manager),
            store,
        }
    }

    fn browser(&self) -> Browser {
        Browser::new(self.server.addr, NAME)
    }

    /// The kinds of store calls made since the last call to this method.
    fn calls(&self) -> Vec<&'static str> {
        self.store.take_kinds()
    }

    /// A browser holding a session with `count=0`, and the store calls forgotten.
    async fn browser_with_session(&self) -> Browser {
        let mut browser = self.browser();
        let first = browser.get("/").await;
        assert_eq!(first.body, "count=0");
        assert!(browser.cookie.is_some(), "first visit must set the cookie");
        self.calls();
        browser
    }
}

pub(crate) fn assert_ok(response: &Response, body: &str) {
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, body),
        "{response:?}"
    );
}

fn session_cookie(response: &Response) -> SetCookie {
    response
        .cookie(NAME)
        .unwrap_or_else(|| panic!("expected Set-Cookie: {response:?}"))
}

fn assert_no_cookie(response: &Response) {
    assert_eq!(response.cookie(NAME), None, "expected no Set-Cookie");
}

/// `Expires` is `from_now` ahead, within a few seconds.
pub(crate) fn assert_expires_in(cookie: &SetCookie, from_now: Duration) {
    let expires = cookie
        .expires()
        .unwrap_or_else(|| panic!("no Expires in {}", cookie.raw));
    let expected = SystemTime::now() + from_now;
    let gap = match expires.duration_since(expected) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    assert!(
        gap < Duration::from_secs(5),
        "Expires off by {gap:?}: {}",
        cookie.raw
    );
}

/// The id inside a signed cookie value as sent (`s%3A<id>.<mac>`).
fn cookie_id(value: &str) -> String {
    let signed = value.strip_prefix("s%3A").expect("signed cookie value");
    signed.rsplit_once('.').expect("id.mac").0.to_owned()
}

// ---- express-session's scenario table -------------------------------------------------------

/// New visitor, untouched, `saveUninitialized: false`: no write, no cookie.
pub async fn new_visitor_untouched_without_save_uninitialized(start: Start) {
    let app = Harness::start(start, config().save_uninitialized(false));
    let response = app.browser().get("/peek").await;
    assert_ok(&response, "count=none");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), Vec::<&str>::new());
}

/// New visitor, untouched, `saveUninitialized: true`: saved, and the cookie is set.
pub async fn new_visitor_untouched_with_save_uninitialized(start: Start) {
    let app = Harness::start(start, config());
    let response = app.browser().get("/peek").await;
    assert_ok(&response, "count=none");
    let cookie = session_cookie(&response);
    assert_eq!(app.calls(), ["create"]);
    assert!(cookie.value.starts_with("s%3A"), "{}", cookie.raw);
}

/// New visitor writing data: saved, cookie with the default attributes.
pub async fn new_visitor_writing_data(start: Start) {
    for save_uninitialized in [true, false] {
        let app = Harness::start(start, config().save_uninitialized(save_uninitialized));
        let response = app.browser().get("/").await;
        assert_ok(&response, "count=0");
        assert_eq!(app.calls(), ["create"]);
        let cookie = session_cookie(&response);
        assert_eq!(
            cookie.attribute_names(),
            ["Path", "Expires", "HttpOnly", "SameSite"]
        );
        assert_eq!(cookie.attribute("Path"), Some(Some("/")));
        assert_eq!(cookie.attribute("SameSite"), Some(Some("Lax")));
        assert!(!cookie.has("Secure"), "plain HTTP under Secure::Auto");
        assert_expires_in(&cookie, HOUR);
        assert_eq!(cookie_id(&cookie.value).len(), 32);
    }
}

/// Existing session, untouched, `resave: false`, `rolling: false`: touch, no cookie.
pub async fn existing_untouched_is_touched_without_cookie(start: Start) {
    let app = Harness::start(start, config());
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/peek").await;
    assert_ok(&response, "count=0");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), ["load", "touch"]);
}

/// Existing session, untouched, `resave: true`: a full save on every request, no cookie.
pub async fn existing_untouched_with_resave_is_saved(start: Start) {
    let app = Harness::start(start, config().resave(true));
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/peek").await;
    assert_ok(&response, "count=0");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), ["load", "save"]);
}

/// Existing session, data changed, max age set: saved, cookie re-sent with a new `Expires`.
pub async fn existing_changed_with_max_age_is_saved_and_resent(start: Start) {
    let app = Harness::start(start, config());
    let mut browser = app.browser_with_session().await;
    let before = browser.cookie.clone();
    let response = browser.get("/").await;
    assert_ok(&response, "count=1");
    assert_eq!(app.calls(), ["load", "save"]);
    let cookie = session_cookie(&response);
    assert_expires_in(&cookie, HOUR);
    assert_eq!(Some(cookie.value), before, "same id, same signed value");
}

/// Existing session, data changed, browser-session cookie: saved, no cookie.
pub async fn existing_changed_browser_session_is_saved_without_cookie(start: Start) {
    let app = Harness::start(start, config().max_age(None));
    let mut browser = app.browser();
    let first = browser.get("/").await;
    assert!(
        !session_cookie(&first).has("Expires"),
        "browser-session cookie has no Expires"
    );
    app.calls();
    let response = browser.get("/").await;
    assert_ok(&response, "count=1");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), ["load", "save"]);
}

/// Existing session, only its max age changed: a touch, no cookie (cookie changes are not
/// data changes).
pub async fn existing_only_max_age_changed_is_touched(start: Start) {
    let app = Harness::start(start, config());
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/max-age?ms=60000").await;
    assert_ok(&response, "ok");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), ["load", "touch"]);
}

/// `rolling: true`: the cookie goes out on every response, with a touch or a save.
pub async fn rolling_resends_the_cookie_every_response(start: Start) {
    let app = Harness::start(start, config().rolling(true));
    let mut browser = app.browser_with_session().await;
    let read = browser.get("/peek").await;
    assert_expires_in(&session_cookie(&read), HOUR);
    assert_eq!(app.calls(), ["load", "touch"]);
    let write = browser.get("/").await;
    assert_ok(&write, "count=1");
    assert_expires_in(&session_cookie(&write), HOUR);
    assert_eq!(app.calls(), ["load", "save"]);
}

/// Login regenerates: the old record is deleted, a new id is created and sent.
pub async fn login_regenerates_the_id(start: Start) {
    let app = Harness::start(start, config());
    let mut browser = app.browser_with_session().await;
    let old_cookie = browser.cookie.clone().expect("cookie");
    let response = browser.get("/login?user=ada").await;
    assert_ok(&response, "user=ada");
    let cookie = session_cookie(&response);
    let calls = app.store.take();
    let kinds: Vec<_> = calls.iter().map(|c| c.kind()).collect();
    assert_eq!(kinds, ["load", "delete", "create"]);
    assert_eq!(
        calls[1].session_id().map(SessionId::as_str),
        Some(cookie_id(&old_cookie).as_str()),
        "the old record is deleted"
    );
    assert_eq!(
        calls[2].session_id().map(SessionId::as_str),
        Some(cookie_id(&cookie.value).as_str()),
        "the new id is created"
    );
    assert_ne!(
        cookie_id(&cookie.value),
        cookie_id(&old_cookie),
        "login must change the id"
    );
    assert_ok(&browser.get("/whoami").await, "user=ada");
    assert_ok(&browser.get("/peek").await, "count=none");

    let mut stale = app.browser();
    stale.cookie = Some(old_cookie);
    assert_ok(&stale.get("/whoami").await, "user=none");
    assert_eq!(app.browser().get("/login").await.status, 400);
}

/// `req.session = null` with `unset: 'keep'`: nothing written, no cookie, record kept.
pub async fn unset_keep_leaves_the_record(start: Start) {
    let app = Harness::start(start, config());
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/unset").await;
    assert_ok(&response, "unset");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), ["load"]);
    assert_ok(&browser.get("/peek").await, "count=0");
}

/// `req.session = null` with `unset: 'destroy'`: the record is deleted, no cookie.
pub async fn unset_destroy_deletes_the_record(start: Start) {
    let app = Harness::start(start, config().unset(Unset::Destroy));
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/unset").await;
    assert_ok(&response, "unset");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), ["load", "delete"]);
    assert_ok(&browser.get("/peek").await, "count=none");
}

/// `destroy()`: the record is deleted and, as express-session v2 does, the cookie is cleared
/// with the same `Path`.
pub async fn logout_deletes_the_record_and_clears_the_cookie(start: Start) {
    let app = Harness::start(start, config());
    let mut browser = app.browser_with_session().await;
    browser.get("/login?user=ada").await;
    let logged_in = browser.cookie.clone();
    app.calls();
    let response = browser.get("/logout").await;
    assert_ok(&response, "bye");
    assert_eq!(app.calls(), ["load", "delete"]);
    let removal = session_cookie(&response);
    assert!(removal.is_removal(), "{}", removal.raw);
    assert_eq!(removal.attribute("Path"), Some(Some("/")));
    assert!(removal.has("HttpOnly"));
    assert_eq!(browser.cookie, None, "the browser drops the cookie");

    let mut replay = app.browser();
    replay.cookie = logged_in;
    assert_ok(&replay.get("/whoami").await, "user=none");
}

/// `Secure::Always` on plain HTTP: the session is saved but no cookie is sent.
pub async fn secure_cookie_is_not_sent_over_plain_http(start: Start) {
    let app = Harness::start(start, config().secure(Secure::Always));
    let response = app.browser().get("/").await;
    assert_ok(&response, "count=0");
    assert_no_cookie(&response);
    assert_eq!(app.calls(), ["create"]);
}

// ---- cookie attributes ----------------------------------------------------------------------

/// Every attribute, in express-session's order.
pub async fn every_cookie_attribute_is_written(start: Start) {
    let app = Harness::start(
        start,
        config()
            .domain(Some("example.com".into()))
            .secure(Secure::Always)
            .trust_proxy(true)
            .partitioned(true)
            .priority(Some(Priority::High))
            .same_site(Some(SameSite::None)),
    );
    let mut browser = app.browser();
    browser
        .extra_headers
        .push(("X-Forwarded-Proto".into(), b"https".to_vec()));
    let cookie = session_cookie(&browser.get("/").await);
    assert_eq!(
        cookie.attribute_names(),
        [
            "Domain",
            "Path",
            "Expires",
            "HttpOnly",
            "Secure",
            "Partitioned",
            "Priority",
            "SameSite"
        ]
    );
    assert_eq!(cookie.attribute("Domain"), Some(Some("example.com")));
    assert_eq!(cookie.attribute("Priority"), Some(Some("High")));
    assert_eq!(cookie.attribute("SameSite"), Some(Some("None")));
}

/// `X-Forwarded-Proto: https` makes `Secure::Auto` secure only when the proxy is trusted.
pub async fn forwarded_https_is_trusted_only_when_configured(start: Start) {
    for (trust, secure) in [(true, true), (false, false)] {
        let app = Harness::start(
            start,
            config()
                .trust_proxy(trust)
                .same_site(Some(SameSite::Strict)),
        );
        let mut browser = app.browser();
        browser
            .extra_headers
            .push(("X-Forwarded-Proto".into(), b"https".to_vec()));
        let cookie = session_cookie(&browser.get("/").await);
        assert_eq!(
            cookie.has("Secure"),
            secure,
            "trust_proxy={trust}: {}",
            cookie.raw
        );
        assert_eq!(cookie.attribute("SameSite"), Some(Some("Strict")));
    }
}

// ---- bad input ------------------------------------------------------------------------------

/// Each bad cookie yields `200` and a fresh session, never a 5xx; unverifiable cookies cost
/// no store load.
pub async fn bad_cookies_get_a_fresh_session(start: Start) {
    let app = Harness::start(start, config());
    let valid = app.browser_with_session().await.cookie.expect("cookie");
    let (id, _) = valid.rsplit_once('.').expect("id.mac");
    let long = format!("{NAME}={}", "a".repeat(8 * 1024));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bad MAC", format!("{NAME}={id}.AAAA").into_bytes()),
        (
            "flipped MAC",
            format!("{NAME}={}x", &valid[..valid.len() - 1]).into_bytes(),
        ),
        (
            "unsigned",
            format!("{NAME}={}", cookie_id(&valid)).into_bytes(),
        ),
        ("garbage", format!("{NAME}=%%%zz;;==;").into_bytes()),
        ("empty", format!("{NAME}=").into_bytes()),
        ("8 KiB", long.into_bytes()),
        (
            "non-UTF-8",
            [
                format!("{NAME}=s%3A").into_bytes(),
                vec![0xff, 0xfe, 0x80],
                b".mac".to_vec(),
            ]
            .concat(),
        ),
        ("no value", NAME.as_bytes().to_vec()),
    ];
    for (what, header) in cases {
        let response = client::get(app.server.addr, "/", &[("Cookie", &header)]).await;
        assert_eq!(
            (response.status, response.body.as_str()),
            (200, "count=0"),
            "{what}: {response:?}"
        );
        let fresh = session_cookie(&response);
        assert_ne!(
            cookie_id(&fresh.value),
            cookie_id(&valid),
            "{what}: id adopted"
        );
        assert_eq!(
            app.calls(),
            ["create"],
            "{what}: an unverifiable cookie must not reach the store"
        );
    }
}

/// The name twice: the first occurrence wins, as in Node's `cookie.parse`.
pub async fn duplicated_cookie_name_first_wins(start: Start) {
    let app = Harness::start(start, config());
    let valid = app.browser_with_session().await.cookie.expect("cookie");
    let bad_first = format!("{NAME}=s%3Aforged.AAAA; {NAME}={valid}");
    let response = client::get(app.server.addr, "/", &[("Cookie", bad_first.as_bytes())]).await;
    assert_ok(&response, "count=0");
    let good_first = format!("other=1; {NAME}={valid}; {NAME}=s%3Aforged.AAAA");
    let response = client::get(app.server.addr, "/", &[("Cookie", good_first.as_bytes())]).await;
    assert_ok(&response, "count=1");
}

/// A correctly signed id that the store does not hold gets a new id.
pub async fn a_signed_unknown_id_is_never_adopted(start: Start) {
    let app = Harness::start(start, config());
    let keyring = config().build().expect("config").keyring().clone();
    let chosen = "attacker-chosen-id-0123456789abc";
    let value = keyring
        .sign(chosen)
        .replace(':', "%3A")
        .replace('/', "%2F")
        .replace('+', "%2B");
    let mut browser = app.browser();
    browser.cookie = Some(value);
    let response = browser.get("/").await;
    assert_ok(&response, "count=0");
    assert_eq!(app.calls(), ["load", "create"]);
    let issued = session_cookie(&response);
    assert_ne!(cookie_id(&issued.value), chosen);
}

// ---- secrets ----------------------------------------------------------------------------------

/// A cookie signed with an older secret still loads its session after rotation, and is not
/// re-signed; new cookies are signed with the new secret.
pub async fn rotated_secret_still_verifies_without_resigning(start: Start) {
    let store = RecordingStore::new(MemoryStore::new());
    let old_secret = "the previous secret, also thirty-two bytes";
    let before = start(SessionManager::new(
        store.clone(),
        SessionConfig::builder()
            .secret(old_secret)
            .max_age(Some(HOUR))
            .build()
            .expect("config"),
    ));
    let mut browser = Browser::new(before.addr, NAME);
    assert_ok(&browser.get("/").await, "count=0");
    let old_cookie = browser.cookie.clone();

    let rotated = SessionConfig::builder()
        .secrets([SECRET, old_secret])
        .max_age(Some(HOUR));
    let after = start(SessionManager::new(
        store.clone(),
        rotated.build().expect("config"),
    ));
    let mut browser = browser.at(after.addr);
    let peek = browser.get("/peek").await;
    assert_ok(&peek, "count=0");
    assert_no_cookie(&peek);
    assert_eq!(browser.cookie, old_cookie);

    let mut newcomer = Browser::new(after.addr, NAME);
    newcomer.get("/").await;
    let new_value = newcomer.cookie.expect("cookie");
    let only_new = SessionConfig::builder()
        .secret(SECRET)
        .build()
        .expect("config");
    let decoded = new_value
        .replace("%3A", ":")
        .replace("%2F", "/")
        .replace("%2B", "+");
    assert!(
        only_new.keyring().verify(&decoded).is_some(),
        "new cookies use the first secret"
    );
}

// ---- expiry -------------------------------------------------------------------------------

/// `/remember` makes this session's cookie last 30 days.
pub async fn remember_me_extends_the_cookie(start: Start) {
    let app = Harness::start(start, config());
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/remember").await;
    assert_ok(&response, "ok");
    assert_eq!(app.calls(), ["load", "save"]);
    assert_expires_in(
        &session_cookie(&response),
        Duration::from_secs(30 * 24 * 3600),
    );
    // The longer life sticks to the session on later writes.
    assert_expires_in(
        &session_cookie(&browser.get("/").await),
        Duration::from_secs(30 * 24 * 3600),
    );
}

/// A rolling session with a short max age survives as long as it is used.
pub async fn rolling_session_stays_alive_while_used(start: Start) {
    // Four uses a second apart outlive a 3 s max age; the margin absorbs a loaded CI machine.
    let max_age = Duration::from_millis(3_000);
    let app = Harness::start(start, config().rolling(true).max_age(Some(max_age)));
    let mut browser = app.browser_with_session().await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let response = browser.get("/peek").await;
        assert_ok(&response, "count=0");
        assert!(
            response.cookie(NAME).is_some(),
            "rolling re-sends the cookie"
        );
    }
}

/// A session left idle past its max age is gone.
pub async fn non_rolling_session_expires_when_idle(start: Start) {
    let app = Harness::start(start, config().max_age(Some(Duration::from_millis(1_000))));
    let mut browser = app.browser_with_session().await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_ok(&browser.get("/peek").await, "count=none");
}

/// A handler that sets an absurd lifetime (here 9 500 years) gets a working cookie, never a
/// panic: lifetimes count as at most 100 years.
pub async fn absurd_lifetimes_never_break_a_request(start: Start) {
    let app = Harness::start(start, config().rolling(true));
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/max-age?ms=300000000000000").await;
    assert_ok(&response, "ok");
    let cookie = session_cookie(&response);
    let expires = cookie.expires().expect("a valid Expires");
    let century = Duration::from_secs(100 * 365 * 24 * 3600 + 24 * 3600);
    assert!(expires <= SystemTime::now() + century, "{}", cookie.raw);
    let next = browser.get("/").await;
    assert_ok(&next, "count=1");
    assert!(session_cookie(&next).expires().is_some());
}

/// A session that grows past the configured size limit answers `413`, and none of that
/// request's change is stored.
pub async fn an_oversized_session_is_refused_whole(start: Start) {
    let app = Harness::start(start, config().max_session_bytes(Some(200)));
    let mut browser = app.browser_with_session().await;
    let (a, b) = ("a".repeat(32), "b".repeat(32));
    assert_ok(
        &browser.get(&format!("/bump?key={a}")).await,
        &format!("{a}=1"),
    );
    let refused = browser.get(&format!("/bump?key={b}")).await;
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (413, "session error: Payload Too Large"),
        "{refused:?}"
    );
    assert_no_cookie(&refused);
    assert_ok(
        &browser.get(&format!("/peek?key={b}")).await,
        &format!("{b}=none"),
    );
    assert_ok(
        &browser.get(&format!("/peek?key={a}")).await,
        &format!("{a}=1"),
    );
}

// ---- concurrency ----------------------------------------------------------------------------

/// 200 concurrent clients, each with its own session and counter.
pub async fn concurrent_clients_keep_their_own_sessions(start: Start) {
    let app = Harness::start(start, config());
    let addr = app.server.addr;
    let clients: Vec<_> = (0..200)
        .map(|_| {
            tokio::spawn(async move {
                let mut browser = Browser::new(addr, NAME);
                for expected in 0..3 {
                    let response = browser.get("/").await;
                    assert_eq!(response.body, format!("count={expected}"));
                }
                browser.cookie.expect("cookie")
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for client in clients {
        let cookie = client.await.expect("client task");
        assert!(
            ids.insert(cookie_id(&cookie)),
            "two clients share a session id"
        );
    }
    assert_eq!(ids.len(), 200);
}

// ---- failures and cost ----------------------------------------------------------------------

/// A failing store gives an opaque `503`, never a silent new session, and service resumes.
pub async fn failing_store_gives_an_error_never_a_new_session(start: Start) {
    let store = FlakyStore::new(MemoryStore::new());
    let manager = SessionManager::new(store.clone(), config().build().expect("config"));
    let server = start(manager);
    let mut browser = Browser::new(server.addr, NAME);
    assert_ok(&browser.get("/").await, "count=0");
    let cookie = browser.cookie.clone();

    store.set_failing(true);
    for path in ["/", "/peek", "/login?user=x"] {
        let response = browser.get(path).await;
        assert_eq!(response.status, 503, "{path}: {response:?}");
        assert!(
            !response.body.contains("switched off"),
            "error details leak: {}",
            response.body
        );
        assert_no_cookie(&response);
    }
    let stranger = Browser::new(server.addr, NAME).get("/").await;
    assert_eq!(
        stranger.status, 503,
        "a new session that cannot be saved is not acknowledged"
    );
    assert_no_cookie(&stranger);

    store.set_failing(false);
    assert_eq!(browser.cookie, cookie);
    assert_ok(&browser.get("/").await, "count=1");
}

/// A route that never asks for the session does no store I/O and sends no cookie, with or
/// without a cookie in the request.
pub async fn routes_that_never_touch_the_session_cost_nothing(start: Start) {
    let app = Harness::start(start, config().rolling(true).resave(true));
    let mut browser = app.browser_with_session().await;
    let response = browser.get("/health").await;
    assert_ok(&response, "ok");
    assert_no_cookie(&response);
    let anonymous = app.browser().get("/health").await;
    assert_ok(&anonymous, "ok");
    assert_no_cookie(&anonymous);
    assert_eq!(app.calls(), Vec::<&str>::new());
}

/// A handler's session error (here: writing the reserved key `cookie`) goes through the same
/// error hook as the layer's own failures (here: a store that is down): the reference app
/// configures one hook that answers `session error: <reason>`, and both answer with it.
pub async fn handler_errors_answer_like_the_layers_own(start: Start) {
    let store = FlakyStore::new(MemoryStore::new());
    let manager = SessionManager::new(store.clone(), config().build().expect("config"));
    let server = start(manager);
    let mut browser = Browser::new(server.addr, NAME);
    assert_ok(&browser.get("/").await, "count=0");
    let handler = browser.get("/bump?key=cookie").await;
    assert_eq!(
        (handler.status, handler.body.as_str()),
        (500, "session error: Internal Server Error"),
        "{handler:?}"
    );
    store.set_failing(true);
    let layer = browser.get("/").await;
    assert_eq!(
        (layer.status, layer.body.as_str()),
        (503, "session error: Service Unavailable"),
        "{layer:?}"
    );
}
