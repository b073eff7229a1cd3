//! The scenarios of cookie mode ([`SessionManager::in_cookie`]): the whole session in the
//! cookie, no store. Each takes an adapter's [`Start`] and a [`CookieFormat`]; the
//! [`scenario_tests!`](crate::scenario_tests) macro runs every one on every adapter once per
//! format (modules `cookie_encrypted` and `cookie_session`), over real HTTP through the
//! reference app, with a [`Jar`] that keeps every cookie as a browser does. The encrypted
//! cookie is `connect.sid`; cookie-session's format is `session` and `session.sig`, as in Node.
//!
//! # The store-mode scenarios in cookie mode
//!
//! Every scenario of [`scenarios`](crate::scenarios) and [`integrity`](crate::integrity), and
//! how it runs here. None counts store calls: there is no store (and no Redis run: each
//! scenario runs once per format instead of once per backend). What differs follows from
//! that: nothing on the server can be deleted, touched or compared, so cookie mode has
//! npm cookie-session's rules (session-core's crate docs, "Cookie mode").
//!
//! | store-mode scenario | in cookie mode |
//! |---|---|
//! | `new_visitor_untouched_without_save_uninitialized` | the same: [`new_visitor_untouched_sends_nothing`] |
//! | `new_visitor_untouched_with_save_uninitialized` | differs, in [`new_visitor_untouched_sends_nothing`]: no cookie either. An empty new session is never written (cookie-session's rule); `saveUninitialized` has no effect, as there is no store to save it in |
//! | `new_visitor_writing_data` | the same, no store call to count: [`new_visitor_writing_data_gets_its_cookies`] (cookie-session: the exact bytes of the npm package) |
//! | `existing_untouched_is_touched_without_cookie` | no touch (nothing to touch), no cookie: [`existing_untouched_sends_nothing`] |
//! | `existing_untouched_with_resave_is_saved` | differs, in [`existing_untouched_sends_nothing`]: `resave` has no effect, the browser already holds the unchanged session |
//! | `existing_changed_with_max_age_is_saved_and_resent` | the same, the new session in the new value: [`existing_changed_is_resent`] |
//! | `existing_changed_browser_session_is_saved_without_cookie` | differs, in [`existing_changed_is_resent`]: the browser-session cookie is re-sent (without `Expires`), since the changed data lives in it |
//! | `existing_only_max_age_changed_is_touched` | differs, in [`a_session_keeps_its_own_lifetime`]: the encrypted cookie is re-sent (the lifetime is sealed in it); cookie-session sends nothing (`req.sessionOptions.maxAge` alone is no change in Node) |
//! | `rolling_resends_the_cookie_every_response` | the same: [`rolling_resends_the_cookie_every_response`] |
//! | `login_regenerates_the_id` | no record to delete: [`login_starts_a_new_session`]. The cookie of before login stays a valid copy of the anonymous session (never the user's) |
//! | `unset_keep_leaves_the_record`, `unset_destroy_deletes_the_record` | differ: [`unset_clears_the_cookies`]. `req.session = null` clears the cookies, as cookie-session does; `Unset` has no effect (no record) |
//! | `logout_deletes_the_record_and_clears_the_cookie` | differs: [`logout_clears_the_cookies`]. Cleared in the browser, but a copy of the cookie stays valid until it expires: there is nothing to delete |
//! | `secure_cookie_is_not_sent_over_plain_http` | the same: [`secure_cookie_is_not_sent_over_plain_http`] |
//! | `every_cookie_attribute_is_written`, `forwarded_https_is_trusted_only_when_configured` | the same, on every cookie of the format: [`every_cookie_attribute_is_written`] |
//! | `bad_cookies_get_a_fresh_session` | the same, plus each format's forgeries (another key, a value replayed under another name, a signature of another session): [`bad_cookies_get_a_fresh_session`] |
//! | `duplicated_cookie_name_first_wins` | the same (and the signature's name twice): [`duplicated_cookie_name_first_wins`] |
//! | `a_signed_unknown_id_is_never_adopted` | not run: there is no id to adopt. What a client could forge instead, a cookie sealed or signed with another key, is in [`bad_cookies_get_a_fresh_session`] |
//! | `rotated_secret_still_verifies_without_resigning` | differs: [`rotated_keys_still_open_the_cookie`]. The encrypted cookie is sealed again with the first key on its next write; cookie-session's signature alone is renewed on the first read, as npm `cookies` does |
//! | `remember_me_extends_the_cookie` | the encrypted cookie keeps the 30 days on later writes; cookie-session applies them to that response only (`req.sessionOptions.maxAge`): [`a_session_keeps_its_own_lifetime`] |
//! | `rolling_session_stays_alive_while_used` | the same: [`rolling_session_stays_alive_while_used`] |
//! | `non_rolling_session_expires_when_idle` | [`an_idle_session_expires`]: the encrypted cookie carries its expiry and a replayed copy is refused; cookie-session's carries none (the browser drops it; a replayed copy is read, as in Node) |
//! | `absurd_lifetimes_never_break_a_request` | the same: [`absurd_lifetimes_never_break_a_request`] |
//! | `an_oversized_session_is_refused_whole` | the limit is the browser's 4 KB per cookie ([`MAX_COOKIE_BYTES`]), not `max_session_bytes`: [`a_session_too_large_for_its_cookie_is_refused`] |
//! | `concurrent_clients_keep_their_own_sessions` | the same: [`concurrent_clients_keep_their_own_sessions`] |
//! | `failing_store_gives_an_error_never_a_new_session` | not run: there is no store to fail |
//! | `routes_that_never_touch_the_session_cost_nothing` | the same, shown by what a read would send: [`routes_that_never_touch_the_session_cost_nothing`] |
//! | `logout_is_never_undone_by_requests_in_flight`, `login_is_never_undone_by_requests_in_flight` | differ: [`requests_in_flight_follow_the_last_response`]. A late response sets its cookie again in that browser; nothing on the server can refuse it |
//! | `log_out_everywhere_ends_every_session_of_the_user` | not possible: [`what_needs_a_store_is_refused`] (`501 Not Implemented`, the session unchanged) |
//! | `parallel_changes_to_different_keys_both_persist` | differs: [`requests_in_flight_follow_the_last_response`]. The last response's cookie wins and the other change is lost; there is no stored record to merge into |
//! | `the_same_key_follows_the_conflict_policy` | not run: `ConflictPolicy` has no effect (no stored version to compare with); the last response wins |
//! | `serialised_requests_count_every_increment` | not run: `serialize_requests` has no effect. Each request reads its own copy of the cookie, so taking turns would not show it the previous request's write |
//! | `the_absolute_timeout_ends_an_active_session` | the same, the creation time riding in the cookie (sealed, or `__createdAt` in cookie-session's JSON): [`the_absolute_timeout_ends_an_active_session`] |

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use session_core::CookieFormat;
use session_core::{
    Priority, SameSite, Secure, SessionConfig, SessionConfigBuilder, SessionManager, Unset,
    MAX_COOKIE_BYTES,
};

use crate::{
    client,
    scenarios::{assert_expires_in, assert_ok, SECRET},
    Jar, Response, SetCookie, Start, TestServer,
};

const HOUR: Duration = Duration::from_secs(3600);
const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);
/// The secret before a rotation.
const OLD_SECRET: &str = "the previous secret, also thirty-two bytes";
/// The secret of another app, which the scenarios' apps do not know.
const OTHER_SECRET: &str = "another app's secret, also thirty-two bytes";

/// What npm cookie-session writes for these sessions: base64 of their JSON.
const COUNT_0: &str = "eyJjb3VudCI6MH0="; // {"count":0}
const COUNT_1: &str = "eyJjb3VudCI6MX0="; // {"count":1}
const USER_ADA: &str = "eyJ1c2VyIjoiYWRhIn0="; // {"user":"ada"}
const REMEMBERED: &str = "eyJjb3VudCI6MCwicmVtZW1iZXIiOnRydWV9"; // {"count":0,"remember":true}

/// The session cookie's name in `format`: express-session's default for the encrypted cookie,
/// cookie-session's for its format.
pub fn cookie_name(format: CookieFormat) -> &'static str {
    if signed(format) {
        "session"
    } else {
        "connect.sid"
    }
}

/// Whether `format` is cookie-session's, which signs a readable value in a second cookie.
fn signed(format: CookieFormat) -> bool {
    format == CookieFormat::CookieSession
}

/// The names of the cookies that carry a session in `format`, in the order they are set.
fn names(format: CookieFormat) -> Vec<String> {
    let name = cookie_name(format);
    if signed(format) {
        vec![name.to_owned(), format!("{name}.sig")]
    } else {
        vec![name.to_owned()]
    }
}

/// The configuration of the cookie-mode scenarios with `secrets`: a one-hour max age,
/// sessions listed under `user` (which cookie mode refuses to list), the format's cookie name.
fn keyed(format: CookieFormat, secrets: &[&str]) -> SessionConfigBuilder {
    SessionConfig::builder()
        .secrets(secrets.iter().copied())
        .max_age(Some(HOUR))
        .user_key("user")
        .cookie_name(cookie_name(format))
}

/// The default configuration of the cookie-mode scenarios: [`SECRET`], a one-hour max age,
/// sessions listed under `user` (which cookie mode refuses to list), the format's cookie name.
pub fn cookie_config(format: CookieFormat) -> SessionConfigBuilder {
    keyed(format, &[SECRET])
}

/// A running app in cookie mode.
struct App {
    server: TestServer,
    format: CookieFormat,
}

impl App {
    fn start(start: Start, format: CookieFormat, config: SessionConfigBuilder) -> Self {
        let config = config.build().expect("valid config");
        let manager = SessionManager::in_cookie(format, config)
            .expect("the scenario secrets suit cookie mode");
        Self {
            server: start(manager),
            format,
        }
    }

    fn jar(&self) -> Jar {
        Jar::new(self.server.addr)
    }

    /// A jar holding a session with `count=0`.
    async fn jar_with_session(&self) -> Jar {
        let mut jar = self.jar();
        assert_ok(&jar.get("/").await, "count=0");
        let held: Vec<&str> = jar.cookies.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            held,
            names(self.format),
            "the first write sets the session's cookies"
        );
        jar
    }

    /// The session's cookies in `response`: exactly the format's, in order, none a removal
    /// (an empty value or an `Expires` in 1970; a cookie that the absolute timeout ends within
    /// the second may carry an `Expires` just past, as HTTP dates have whole seconds).
    fn written(&self, response: &Response) -> Vec<SetCookie> {
        let cookies = response.set_cookies();
        let sent: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(sent, names(self.format), "{response:?}");
        let epoch_day = UNIX_EPOCH + Duration::from_secs(24 * 3600);
        for cookie in &cookies {
            let removal = cookie.value.is_empty()
                || cookie.expires().is_some_and(|expires| expires < epoch_day);
            assert!(!removal, "{}", cookie.raw);
        }
        cookies
    }

    /// Checks that `response` clears every cookie of the format, on the same path.
    fn cleared(&self, response: &Response) {
        let cookies = response.set_cookies();
        let sent: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(sent, names(self.format), "{response:?}");
        for cookie in &cookies {
            assert!(cookie.is_removal(), "{}", cookie.raw);
            assert_eq!(cookie.attribute("Path"), Some(Some("/")), "{}", cookie.raw);
            assert!(cookie.has("HttpOnly"), "{}", cookie.raw);
        }
    }
}

fn assert_no_cookie(response: &Response) {
    assert!(
        response.set_cookies().is_empty(),
        "expected no Set-Cookie: {response:?}"
    );
}

/// The `Cookie` header `jar` would send, with cookie `name`'s value replaced by `value`.
fn with_value(jar: &Jar, name: &str, value: &[u8]) -> Vec<u8> {
    let pairs: Vec<Vec<u8>> = jar
        .cookies
        .iter()
        .map(|(held, held_value)| {
            let value = if held == name {
                value
            } else {
                held_value.as_bytes()
            };
            [held.as_bytes(), b"=", value].concat()
        })
        .collect();
    pairs.join(&b"; "[..])
}

/// `value` with its middle character changed.
fn flipped(value: &str) -> String {
    let mut bytes = value.as_bytes().to_vec();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ASCII")
}

// ---- the rules of writing --------------------------------------------------------------------

/// A new visitor whose session is read but not written gets no cookie, whether or not
/// `saveUninitialized` is set: an empty new session is never written.
pub async fn new_visitor_untouched_sends_nothing(start: Start, format: CookieFormat) {
    for save_uninitialized in [true, false] {
        let config = cookie_config(format).save_uninitialized(save_uninitialized);
        let app = App::start(start, format, config);
        let response = app.jar().get("/peek").await;
        assert_ok(&response, "count=none");
        assert_no_cookie(&response);
    }
}

/// A new visitor writing data gets the session's cookies with the default attributes; the
/// encrypted value is unreadable, cookie-session's is the npm package's exact bytes.
pub async fn new_visitor_writing_data_gets_its_cookies(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let response = app.jar().get("/").await;
    assert_ok(&response, "count=0");
    let cookies = app.written(&response);
    for cookie in &cookies {
        assert_eq!(
            cookie.attribute_names(),
            ["Path", "Expires", "HttpOnly", "SameSite"],
            "{}",
            cookie.raw
        );
        assert_eq!(cookie.attribute("Path"), Some(Some("/")));
        assert_eq!(cookie.attribute("SameSite"), Some(Some("Lax")));
        assert_expires_in(cookie, HOUR);
    }
    let base64url = |value: &str| {
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if signed(format) {
        assert_eq!(cookies[0].value, COUNT_0, "base64 of {{\"count\":0}}");
        let signature = &cookies[1].value;
        assert!(
            signature.len() == 27 && base64url(signature),
            "keygrip's HMAC-SHA1: {signature}"
        );
    } else {
        let sealed = &cookies[0].value;
        assert!(sealed.len() > 60 && base64url(sealed), "sealed: {sealed}");
        assert!(!sealed.contains("count"), "readable: {sealed}");
    }
}

/// Every attribute, on every cookie of the format, in express-session's order; under
/// `Secure::Auto`, `X-Forwarded-Proto: https` makes the cookies `Secure` only when the proxy
/// is trusted.
pub async fn every_cookie_attribute_is_written(start: Start, format: CookieFormat) {
    let config = cookie_config(format)
        .domain(Some("example.com".into()))
        .secure(Secure::Always)
        .trust_proxy(true)
        .partitioned(true)
        .priority(Some(Priority::High))
        .same_site(Some(SameSite::None));
    let app = App::start(start, format, config);
    let mut jar = app.jar();
    jar.extra_headers
        .push(("X-Forwarded-Proto".into(), b"https".to_vec()));
    for cookie in app.written(&jar.get("/").await) {
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
            ],
            "{}",
            cookie.raw
        );
        assert_eq!(cookie.attribute("Domain"), Some(Some("example.com")));
        assert_eq!(cookie.attribute("Priority"), Some(Some("High")));
        assert_eq!(cookie.attribute("SameSite"), Some(Some("None")));
    }
    for (trust, secure) in [(true, true), (false, false)] {
        let app = App::start(start, format, cookie_config(format).trust_proxy(trust));
        let mut jar = app.jar();
        jar.extra_headers
            .push(("X-Forwarded-Proto".into(), b"https".to_vec()));
        for cookie in app.written(&jar.get("/").await) {
            assert_eq!(
                cookie.has("Secure"),
                secure,
                "trust_proxy={trust}: {}",
                cookie.raw
            );
        }
    }
}

/// An existing session read and not changed: nothing is sent, with `resave` or without (the
/// browser already holds the session as it is).
pub async fn existing_untouched_sends_nothing(start: Start, format: CookieFormat) {
    for resave in [false, true] {
        let app = App::start(start, format, cookie_config(format).resave(resave));
        let mut jar = app.jar_with_session().await;
        let before = jar.cookies.clone();
        let response = jar.get("/peek").await;
        assert_ok(&response, "count=0");
        assert_no_cookie(&response);
        assert_eq!(jar.cookies, before);
    }
}

/// An existing session changed: its cookies are re-sent with a full lifetime and the new
/// session in the value. A browser-session cookie is re-sent too (without `Expires`): the
/// change lives in it.
pub async fn existing_changed_is_resent(start: Start, format: CookieFormat) {
    let name = cookie_name(format);
    let app = App::start(start, format, cookie_config(format));
    let mut jar = app.jar_with_session().await;
    let before = jar.value(name).map(str::to_owned);
    let response = jar.get("/").await;
    assert_ok(&response, "count=1");
    let cookies = app.written(&response);
    for cookie in &cookies {
        assert_expires_in(cookie, HOUR);
    }
    assert_ne!(Some(&cookies[0].value), before.as_ref());
    if signed(format) {
        assert_eq!(cookies[0].value, COUNT_1, "base64 of {{\"count\":1}}");
    }
    assert_ok(&jar.get("/peek").await, "count=1");

    let app = App::start(start, format, cookie_config(format).max_age(None));
    let mut jar = app.jar();
    for (visit, body) in [(1, "count=0"), (2, "count=1")] {
        let response = jar.get("/").await;
        assert_ok(&response, body);
        for cookie in app.written(&response) {
            assert!(!cookie.has("Expires"), "visit {visit}: {}", cookie.raw);
        }
    }
}

/// `rolling`: every response that reads an existing session re-sends its cookies with a full
/// lifetime; an empty new session is still not written.
pub async fn rolling_resends_the_cookie_every_response(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format).rolling(true));
    assert_no_cookie(&app.jar().get("/peek").await);
    let mut jar = app.jar_with_session().await;
    let read = jar.get("/peek").await;
    assert_ok(&read, "count=0");
    for cookie in app.written(&read) {
        assert_expires_in(&cookie, HOUR);
    }
    let write = jar.get("/").await;
    assert_ok(&write, "count=1");
    for cookie in app.written(&write) {
        assert_expires_in(&cookie, HOUR);
    }
    assert_ok(&jar.get("/peek").await, "count=1");
}

/// Login (`regenerate`) starts a new session that holds only the user. With no store, the
/// cookie of before login cannot be ended: it stays a valid copy of the anonymous session,
/// and never gives the user.
pub async fn login_starts_a_new_session(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let mut jar = app.jar_with_session().await;
    let mut anonymous = jar.clone();
    let response = jar.get("/login?user=ada").await;
    assert_ok(&response, "user=ada");
    let cookies = app.written(&response);
    if signed(format) {
        assert_eq!(cookies[0].value, USER_ADA, "base64 of {{\"user\":\"ada\"}}");
    }
    assert_ok(&jar.get("/whoami").await, "user=ada");
    assert_ok(&jar.get("/peek").await, "count=none");
    assert_ok(&anonymous.get("/whoami").await, "user=none");
    assert_ok(&anonymous.get("/peek").await, "count=0");

    let mut newcomer = app.jar();
    assert_ok(&newcomer.get("/login?user=bo").await, "user=bo");
    assert_ok(&newcomer.get("/whoami").await, "user=bo");
    assert_eq!(app.jar().get("/login").await.status, 400);
}

/// Logout clears every cookie of the format in the browser (expired, same `Path`,
/// `HttpOnly`). A copy of the cookie taken before stays valid until it expires: there is
/// nothing on the server to delete, the documented limit of cookie mode.
pub async fn logout_clears_the_cookies(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let mut jar = app.jar();
    assert_ok(&jar.get("/login?user=ada").await, "user=ada");
    let mut stolen = jar.clone();
    let response = jar.get("/logout").await;
    assert_ok(&response, "bye");
    app.cleared(&response);
    assert!(
        jar.cookies.is_empty(),
        "the browser drops the cookies: {jar:?}"
    );
    assert_ok(&jar.get("/whoami").await, "user=none");
    assert_ok(&stolen.get("/whoami").await, "user=ada");
}

/// `/unset` (`req.session = null`) clears the cookies, as cookie-session does, whatever
/// `Unset` says (there is no record to keep or delete).
pub async fn unset_clears_the_cookies(start: Start, format: CookieFormat) {
    for unset in [Unset::Keep, Unset::Destroy] {
        let app = App::start(start, format, cookie_config(format).unset(unset));
        let mut jar = app.jar_with_session().await;
        let response = jar.get("/unset").await;
        assert_ok(&response, "unset");
        app.cleared(&response);
        assert_ok(&jar.get("/peek").await, "count=none");
    }
}

/// `Secure::Always` over plain HTTP: nothing is sent (a browser would refuse the cookie);
/// over HTTPS the cookies carry `Secure`.
pub async fn secure_cookie_is_not_sent_over_plain_http(start: Start, format: CookieFormat) {
    let config = cookie_config(format)
        .secure(Secure::Always)
        .trust_proxy(true);
    let app = App::start(start, format, config);
    let response = app.jar().get("/").await;
    assert_ok(&response, "count=0");
    assert_no_cookie(&response);
    let mut https = app.jar();
    https
        .extra_headers
        .push(("X-Forwarded-Proto".into(), b"https".to_vec()));
    for cookie in app.written(&https.get("/").await) {
        assert!(cookie.has("Secure"), "{}", cookie.raw);
    }
}

// ---- bad input ------------------------------------------------------------------------------

/// Each bad cookie yields `200` and a fresh session, never a 5xx and never the session it
/// imitates: tampered, truncated, garbage, empty, 8 KiB, non-UTF-8, no value, sealed or signed
/// with a key the app does not know, a valid value replayed under another cookie name, and
/// for cookie-session a missing, truncated or borrowed signature. A read-only request answers
/// a cookie-session signature that does not verify by clearing it, as npm `cookies` does.
pub async fn bad_cookies_get_a_fresh_session(start: Start, format: CookieFormat) {
    let name = cookie_name(format);
    let app = App::start(start, format, cookie_config(format));
    let mut valid = app.jar_with_session().await;
    assert_ok(&valid.get("/").await, "count=1");
    let value = valid.value(name).expect("session cookie").to_owned();
    let other_key = App::start(start, format, keyed(format, &[OTHER_SECRET]));
    let mut foreign = other_key.jar_with_session().await;
    assert_ok(&foreign.get("/").await, "count=1");

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "tampered",
            with_value(&valid, name, flipped(&value).as_bytes()),
        ),
        (
            "truncated",
            with_value(&valid, name, &value.as_bytes()[..value.len() - 5]),
        ),
        ("garbage", with_value(&valid, name, b"%%%zz")),
        ("empty", with_value(&valid, name, b"")),
        (
            "8 KiB",
            with_value(&valid, name, "A".repeat(8 * 1024).as_bytes()),
        ),
        ("non-UTF-8", with_value(&valid, name, &[0xff, 0xfe, 0x80])),
        ("no value", name.as_bytes().to_vec()),
        (
            "another key",
            foreign.header().expect("foreign cookies").into_bytes(),
        ),
    ];
    let signature_name = format!("{name}.sig");
    if signed(format) {
        let signature = valid.value(&signature_name).expect("signature").to_owned();
        let other_session = app.jar_with_session().await;
        let borrowed = other_session.value(&signature_name).expect("signature");
        cases.extend([
            ("no signature", format!("{name}={value}").into_bytes()),
            (
                "truncated signature",
                with_value(&valid, &signature_name, &signature.as_bytes()[..20]),
            ),
            (
                "another session's signature",
                with_value(&valid, &signature_name, borrowed.as_bytes()),
            ),
        ]);
    }
    for (what, header) in cases {
        let response = client::get(app.server.addr, "/", &[("Cookie", &header)]).await;
        assert_eq!(
            (response.status, response.body.as_str()),
            (200, "count=0"),
            "{what}: {response:?}"
        );
        app.written(&response);
    }

    // Replayed under another cookie name, to an app with the same secret.
    let renamed = App::start(start, format, cookie_config(format).cookie_name("other"));
    let replayed: Vec<String> = valid
        .cookies
        .iter()
        .map(|(held, v)| format!("other{}={v}", &held[name.len()..]))
        .collect();
    let replayed = replayed.join("; ");
    let response = client::get(renamed.server.addr, "/", &[("Cookie", replayed.as_bytes())]).await;
    assert_ok(&response, "count=0");

    if signed(format) {
        let forged = with_value(&valid, name, USER_ADA.as_bytes());
        let read = client::get(app.server.addr, "/whoami", &[("Cookie", &forged)]).await;
        assert_ok(&read, "user=none");
        let cleared = read
            .cookie(&signature_name)
            .expect("the bad signature is cleared");
        assert!(cleared.is_removal(), "{}", cleared.raw);
        assert_eq!(read.cookie(name), None, "the value is left alone");
    }
}

/// The session cookie's name twice: the first occurrence wins, as in Node's `cookie.parse`;
/// cookie-session's signature likewise.
pub async fn duplicated_cookie_name_first_wins(start: Start, format: CookieFormat) {
    let name = cookie_name(format);
    let app = App::start(start, format, cookie_config(format));
    let valid = app.jar_with_session().await;
    let header = valid.header().expect("cookies");
    let forged = format!("{name}=forged");
    let mut cases = vec![
        (format!("{forged}; {header}"), "count=0"),
        (format!("other=1; {header}; {forged}"), "count=1"),
    ];
    if signed(format) {
        let value = valid.value(name).expect("value");
        let signature = valid.value(&format!("{name}.sig")).expect("signature");
        cases.push((
            format!("{name}={value}; {name}.sig=AAAA; {name}.sig={signature}"),
            "count=0",
        ));
        cases.push((
            format!("{name}={value}; {name}.sig={signature}; {name}.sig=AAAA"),
            "count=1",
        ));
    }
    for (cookie, body) in cases {
        let response = client::get(app.server.addr, "/", &[("Cookie", cookie.as_bytes())]).await;
        assert_ok(&response, body);
    }
}

// ---- secrets ----------------------------------------------------------------------------------

/// Key rotation (`SECRET=new,old`): a cookie of the old key still opens. The encrypted cookie
/// is sealed again with the first key on its next write, not before; cookie-session's
/// signature alone is renewed at the first read (the value untouched, as npm `cookies` does).
/// New cookies use the first key only.
pub async fn rotated_keys_still_open_the_cookie(start: Start, format: CookieFormat) {
    let name = cookie_name(format);
    let with = |secrets: &[&str]| App::start(start, format, keyed(format, secrets));
    let (old, rotated, new) = (
        with(&[OLD_SECRET]),
        with(&[SECRET, OLD_SECRET]),
        with(&[SECRET]),
    );
    let issued = old.jar_with_session().await;
    let mut jar = issued.at(rotated.server.addr);
    let read = jar.get("/peek").await;
    assert_ok(&read, "count=0");
    if signed(format) {
        let signature_name = format!("{name}.sig");
        let renewed = read.set_cookies();
        let sent: Vec<&str> = renewed.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            sent,
            [signature_name.as_str()],
            "the signature alone: {read:?}"
        );
        assert!(!renewed[0].is_removal(), "{}", renewed[0].raw);
        assert_eq!(renewed[0].attribute("Path"), Some(Some("/")));
        assert!(renewed[0].has("HttpOnly"));
        assert_ne!(jar.value(&signature_name), issued.value(&signature_name));
        assert_eq!(
            jar.value(name),
            issued.value(name),
            "the value is untouched"
        );
        assert_no_cookie(&jar.get("/peek").await);
        assert_ok(&jar.at(new.server.addr).get("/peek").await, "count=0");
    } else {
        assert_no_cookie(&read);
        assert_eq!(
            jar.cookies, issued.cookies,
            "resealed on its next write, not before"
        );
        assert_ok(&jar.at(new.server.addr).get("/peek").await, "count=none");
        let write = jar.get("/").await;
        assert_ok(&write, "count=1");
        rotated.written(&write);
        assert_ok(&jar.at(new.server.addr).get("/peek").await, "count=1");
    }
    assert_ok(&jar.at(old.server.addr).get("/peek").await, "count=none");
    let newcomer = rotated.jar_with_session().await;
    assert_ok(&newcomer.at(new.server.addr).get("/peek").await, "count=0");
    assert_ok(
        &newcomer.at(old.server.addr).get("/peek").await,
        "count=none",
    );
}

// ---- expiry -------------------------------------------------------------------------------

/// A session's own lifetime (`/remember`, `/max-age`). The encrypted cookie keeps it: the 30
/// days of `/remember` hold on later writes, and a changed lifetime alone re-sends the
/// cookie. cookie-session's format has no place for it: as `req.sessionOptions.maxAge` in
/// Node, it applies to that response's cookies only, and alone is no change.
pub async fn a_session_keeps_its_own_lifetime(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let mut jar = app.jar_with_session().await;
    let remember = jar.get("/remember").await;
    assert_ok(&remember, "ok");
    let cookies = app.written(&remember);
    for cookie in &cookies {
        assert_expires_in(cookie, MONTH);
    }
    if signed(format) {
        assert_eq!(cookies[0].value, REMEMBERED);
    }
    let later = jar.get("/").await;
    assert_ok(&later, "count=1");
    let kept = if signed(format) { HOUR } else { MONTH };
    for cookie in app.written(&later) {
        assert_expires_in(&cookie, kept);
    }
    let minute = Duration::from_secs(60);
    let shorter = jar
        .get(&format!("/max-age?ms={}", minute.as_millis()))
        .await;
    assert_ok(&shorter, "ok");
    if signed(format) {
        assert_no_cookie(&shorter);
    } else {
        for cookie in app.written(&shorter) {
            assert_expires_in(&cookie, minute);
        }
        let next = jar.get("/").await;
        assert_ok(&next, "count=2");
        for cookie in app.written(&next) {
            assert_expires_in(&cookie, minute);
        }
    }
}

/// A lifetime of 9 500 years gives a working cookie, never a panic: it counts as 100 years.
pub async fn absurd_lifetimes_never_break_a_request(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format).rolling(true));
    let mut jar = app.jar_with_session().await;
    let response = jar.get("/max-age?ms=300000000000000").await;
    assert_ok(&response, "ok");
    let century = Duration::from_secs(100 * 365 * 24 * 3600 + 24 * 3600);
    for cookie in app.written(&response) {
        let expires = cookie.expires().expect("a valid Expires");
        assert!(expires <= SystemTime::now() + century, "{}", cookie.raw);
    }
    let next = jar.get("/").await;
    assert_ok(&next, "count=1");
    for cookie in app.written(&next) {
        assert!(cookie.expires().is_some(), "{}", cookie.raw);
    }
}

/// A session left idle past its max age is over. The encrypted cookie carries its expiry,
/// so the server refuses a copy replayed after it. cookie-session's format carries none: the
/// browser drops the cookie at its `Expires`, and a replayed copy is still read, as in Node
/// (the documented limit of that format).
pub async fn an_idle_session_expires(start: Start, format: CookieFormat) {
    let max_age = Duration::from_millis(1_000);
    let app = App::start(start, format, cookie_config(format).max_age(Some(max_age)));
    let mut jar = app.jar_with_session().await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let replayed = jar.get("/peek").await;
    assert_ok(
        &replayed,
        if signed(format) {
            "count=0"
        } else {
            "count=none"
        },
    );
}

/// A rolling session with a short max age survives as long as it is used: each read
/// re-sends its cookies (and, encrypted, a new sealed expiry).
pub async fn rolling_session_stays_alive_while_used(start: Start, format: CookieFormat) {
    // Four uses a second apart outlive a 3 s max age; the margin absorbs a loaded CI machine.
    let max_age = Duration::from_millis(3_000);
    let config = cookie_config(format).rolling(true).max_age(Some(max_age));
    let app = App::start(start, format, config);
    let mut jar = app.jar_with_session().await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let response = jar.get("/peek").await;
        assert_ok(&response, "count=0");
        app.written(&response);
    }
}

/// A rolling session used every few hundred milliseconds still ends at its absolute timeout
/// (its creation time rides in the cookie), and its cookies never claim to outlive it.
pub async fn the_absolute_timeout_ends_an_active_session(start: Start, format: CookieFormat) {
    let absolute = Duration::from_millis(2_000);
    let config = cookie_config(format)
        .rolling(true)
        .absolute_timeout(Some(absolute));
    let app = App::start(start, format, config);
    let started = SystemTime::now();
    let mut jar = app.jar_with_session().await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let response = jar.get("/peek").await;
        assert_ok(&response, "count=0");
        for cookie in app.written(&response) {
            let expires = cookie.expires().expect("Expires");
            assert!(
                expires <= started + absolute + Duration::from_secs(1),
                "the cookie outlives the session: {}",
                cookie.raw
            );
        }
    }
    let elapsed = started.elapsed().unwrap_or_default();
    tokio::time::sleep((absolute + Duration::from_millis(600)).saturating_sub(elapsed)).await;
    assert_ok(&jar.get("/peek").await, "count=none");
}

/// A session that outgrows its cookie (a browser keeps [`MAX_COOKIE_BYTES`] of name and
/// value) answers `413` with no cookie, never a cookie the browser would silently drop; the
/// browser keeps the session as it was. The limit is the cookie's, not lower.
pub async fn a_session_too_large_for_its_cookie_is_refused(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let mut jar = app.jar_with_session().await;
    let key = |n: usize| format!("k{n:0>31}");
    let mut largest = 0;
    let mut refused = None;
    for n in 0..200 {
        let response = jar.get(&format!("/bump?key={}", key(n))).await;
        if response.status == 413 {
            refused = Some((n, response));
            break;
        }
        assert_ok(&response, &format!("{}=1", key(n)));
        for cookie in app.written(&response) {
            let size = cookie.name.len() + 1 + cookie.value.len();
            assert!(size <= MAX_COOKIE_BYTES, "{size} bytes: {}", cookie.name);
            largest = largest.max(size);
        }
    }
    let (n, response) = refused.expect("a 413 within 200 keys of 32 bytes");
    assert_eq!(
        (response.status, response.body.as_str()),
        (413, "session error: Payload Too Large"),
        "{response:?}"
    );
    assert_no_cookie(&response);
    assert!(
        largest > MAX_COOKIE_BYTES - 100,
        "refused at {largest} bytes, well under the limit"
    );
    assert_ok(
        &jar.get(&format!("/peek?key={}", key(n))).await,
        &format!("{}=none", key(n)),
    );
    assert_ok(
        &jar.get(&format!("/peek?key={}", key(n - 1))).await,
        &format!("{}=1", key(n - 1)),
    );
    assert_ok(&jar.get("/peek").await, "count=0");
}

// ---- cost, and what cookie mode cannot do -----------------------------------------------------

/// A route that never asks for its session sends nothing and does not even open the cookie:
/// no cookie with `rolling` (which re-sends on every read), and, for a cookie-session
/// signature that does not verify (which a read clears), no removal.
pub async fn routes_that_never_touch_the_session_cost_nothing(start: Start, format: CookieFormat) {
    let name = cookie_name(format);
    let app = App::start(start, format, cookie_config(format).rolling(true));
    let mut jar = app.jar_with_session().await;
    let response = jar.get("/health").await;
    assert_ok(&response, "ok");
    assert_no_cookie(&response);
    let anonymous = app.jar().get("/health").await;
    assert_ok(&anonymous, "ok");
    assert_no_cookie(&anonymous);

    let mut bad = jar.clone();
    let damaged = if signed(format) {
        format!("{name}.sig")
    } else {
        name.to_owned()
    };
    bad.set(&damaged, "AAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let read = bad.send("/peek").await;
    assert_ok(&read, "count=none");
    if signed(format) {
        let cleared = read
            .cookie(&damaged)
            .expect("a read clears the bad signature");
        assert!(cleared.is_removal(), "{}", cleared.raw);
    }
    let health = bad.send("/health").await;
    assert_ok(&health, "ok");
    assert_no_cookie(&health);
}

/// What needs a store (listing and ending a user's sessions, `/logout-everywhere`) answers an
/// `501 Not Implemented` (`SessionError::NeedsStore`), and the session stays as it was.
pub async fn what_needs_a_store_is_refused(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let mut jar = app.jar();
    assert_ok(&jar.get("/login?user=ada").await, "user=ada");
    let response = jar.get("/logout-everywhere").await;
    assert_eq!(
        (response.status, response.body.as_str()),
        (501, "session error: Not Implemented"),
        "{response:?}"
    );
    assert_no_cookie(&response);
    assert_ok(&jar.get("/whoami").await, "user=ada");
}

/// 100 concurrent clients, each with its own session and counter.
pub async fn concurrent_clients_keep_their_own_sessions(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let addr = app.server.addr;
    let clients: Vec<_> = (0..100)
        .map(|_| {
            tokio::spawn(async move {
                let mut jar = Jar::new(addr);
                for expected in 0..3 {
                    let response = jar.get("/").await;
                    assert_eq!(response.body, format!("count={expected}"), "{response:?}");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client task");
    }
}

/// Requests in flight: each response carries the whole session as its request saw it, and
/// the browser keeps the last one it receives, as with cookie-session. Of two changes made at
/// once only the later response's survives, and a late response undoes a logout in that
/// browser: with no store, there is nothing to merge into and nothing to refuse it (what
/// `integrity.rs` guarantees in store mode, and the documented limit of cookie mode).
pub async fn requests_in_flight_follow_the_last_response(start: Start, format: CookieFormat) {
    let app = App::start(start, format, cookie_config(format));
    let mut jar = app.jar();
    assert_ok(&jar.get("/login?user=ada").await, "user=ada");
    let (a, b) = tokio::join!(jar.send("/bump?key=a"), jar.send("/bump?key=b"));
    assert_ok(&a, "a=1");
    assert_ok(&b, "b=1");
    jar.absorb(&a);
    jar.absorb(&b);
    assert_ok(&jar.get("/peek?key=b").await, "b=1");
    assert_ok(&jar.get("/peek?key=a").await, "a=none");

    let before_logout = jar.clone();
    assert_ok(&jar.get("/logout").await, "bye");
    assert!(jar.cookies.is_empty(), "{jar:?}");
    let late = before_logout.send("/bump?key=late").await;
    assert_ok(&late, "late=1");
    jar.absorb(&late);
    assert_ok(&jar.get("/whoami").await, "user=ada");
}
