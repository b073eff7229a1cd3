//! Cookie mode end to end: the session in the cookie, encrypted or in cookie-session's format,
//! with cookie-session's rules for when it is written.

use std::time::Duration;

use serde_json::json;

use crate::{
    ConfigError, CookieFormat, RequestFacts, SessionConfig, SessionConfigBuilder, SessionError,
    SessionManager, SetCookies,
};

const KEY: &str = "cookie mode secret of at least 32 bytes";
const OLD_KEY: &str = "an older cookie mode secret, 32 bytes!!";
/// `../shared/spec/node-stores.md` §2.
const ONE: &str = "cookie-key-one-0123456789abcdef0123456";
const TWO: &str = "cookie-key-two-0123456789abcdef0123456";

fn config(secrets: &[&str]) -> SessionConfigBuilder {
    SessionConfig::builder()
        .secrets(secrets.iter().copied())
        .max_age(Some(Duration::from_secs(600)))
}

fn manager(format: CookieFormat, config: SessionConfigBuilder) -> SessionManager {
    SessionManager::in_cookie(format, config.build().unwrap()).unwrap()
}

/// The `name=value` pairs a browser sends back after `cookies`.
fn jar(cookies: &SetCookies) -> String {
    cookies
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

/// One request with `cookie` that runs `handle` on the session; the cookies it sets.
async fn request(
    manager: &SessionManager,
    cookie: &str,
    handle: impl FnOnce(&crate::Session),
) -> Result<SetCookies, SessionError> {
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    handle(&request.session().await?);
    request.finish().await
}

async fn read(manager: &SessionManager, cookie: &str) -> serde_json::Value {
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    let keys = session.keys();
    json!(keys
        .iter()
        .map(|k| (k.clone(), session.get_value(k).unwrap()))
        .collect::<serde_json::Map<_, _>>())
}

#[tokio::test]
async fn an_encrypted_session_round_trips_and_is_written_only_when_it_changes() {
    let manager = manager(CookieFormat::Encrypted, config(&[KEY]));
    let empty = request(&manager, "", |_| {}).await.unwrap();
    assert!(empty.is_empty(), "an empty new session writes nothing");
    let first = request(&manager, "", |s| s.insert("count", 0).unwrap())
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let cookie = first.first().unwrap();
    assert!(
        cookie.starts_with("connect.sid=") && cookie.contains("Expires="),
        "{cookie}"
    );
    assert!(!cookie.contains("count"), "sealed: {cookie}");
    let jar = jar(&first);
    assert_eq!(read(&manager, &jar).await, json!({"count": 0}));
    let untouched = request(&manager, &jar, |s| drop(s.get::<u64>("count")))
        .await
        .unwrap();
    assert!(untouched.is_empty(), "unchanged: no cookie");
    let changed = request(&manager, &jar, |s| s.insert("count", 1).unwrap())
        .await
        .unwrap();
    assert_eq!(
        read(&manager, &self::jar(&changed)).await,
        json!({"count": 1})
    );
    let rolling = self::manager(CookieFormat::Encrypted, config(&[KEY]).rolling(true));
    let cookie = self::jar(
        &request(&rolling, "", |s| s.insert("n", 1).unwrap())
            .await
            .unwrap(),
    );
    let resent = request(&rolling, &cookie, |_| {}).await.unwrap();
    assert_eq!(resent.len(), 1, "rolling re-sends an unchanged session");
}

#[tokio::test]
async fn tampered_truncated_foreign_or_garbage_cookies_are_a_fresh_session() {
    let manager = manager(CookieFormat::Encrypted, config(&[KEY]));
    let written = request(&manager, "", |s| s.insert("user", "ann").unwrap())
        .await
        .unwrap();
    let jar = jar(&written);
    let value = jar.split_once('=').unwrap().1.to_owned();
    let mut flipped = value.clone().into_bytes();
    let at = flipped.len() / 2;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    let other_name = manager_named("other.sid");
    let replay = request(&other_name, &format!("other.sid={value}"), |_| {}).await;
    assert!(replay.unwrap().is_empty());
    for cookie in [
        format!("connect.sid={}", String::from_utf8(flipped).unwrap()),
        format!("connect.sid={}", &value[..value.len() - 5]),
        "connect.sid=garbage".to_owned(),
        "connect.sid=".to_owned(),
        format!("connect.sid={}", "A".repeat(5000)),
    ] {
        assert_eq!(read(&manager, &cookie).await, json!({}), "{cookie}");
    }
    assert_eq!(
        read(&other_name, &format!("other.sid={value}")).await,
        json!({})
    );
}

fn manager_named(name: &str) -> SessionManager {
    manager(CookieFormat::Encrypted, config(&[KEY]).cookie_name(name))
}

#[tokio::test]
async fn an_old_key_still_opens_and_the_next_write_reseals_with_the_first() {
    let before = manager(CookieFormat::Encrypted, config(&[OLD_KEY]));
    let sealed = jar(&request(&before, "", |s| s.insert("n", 1).unwrap())
        .await
        .unwrap());
    let rotated = manager(CookieFormat::Encrypted, config(&[KEY, OLD_KEY]));
    assert_eq!(read(&rotated, &sealed).await, json!({"n": 1}));
    let untouched = request(&rotated, &sealed, |_| {}).await.unwrap();
    assert!(
        untouched.is_empty(),
        "resealed on its next write, not before"
    );
    let resealed = jar(&request(&rotated, &sealed, |s| s.insert("n", 2).unwrap())
        .await
        .unwrap());
    let new_only = manager(CookieFormat::Encrypted, config(&[KEY]));
    assert_eq!(read(&new_only, &resealed).await, json!({"n": 2}));
}

#[tokio::test]
async fn logout_clears_the_cookie_and_login_starts_a_new_session() {
    let manager = manager(CookieFormat::Encrypted, config(&[KEY]));
    let cookie = jar(&request(&manager, "", |s| s.insert("n", 1).unwrap())
        .await
        .unwrap());
    let request_ = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request_.session().await.unwrap();
    let old_id = session.id();
    session.regenerate().await.unwrap();
    session.insert("user", "ann").unwrap();
    assert_ne!(session.id(), old_id);
    let login = jar(&request_.finish().await.unwrap());
    assert_eq!(read(&manager, &login).await, json!({"user": "ann"}));
    let request_ = manager.begin([login.as_bytes()], RequestFacts::plain_http());
    request_.session().await.unwrap().destroy().await.unwrap();
    let cleared = request_.finish().await.unwrap();
    assert!(cleared.first().unwrap().contains("1970"), "{cleared:?}");
}

#[tokio::test]
async fn remember_me_survives_later_writes_and_expiry_is_enforced_by_the_server() {
    let manager = manager(CookieFormat::Encrypted, config(&[KEY]));
    let month = Duration::from_secs(30 * 24 * 3600);
    let cookie = jar(&request(&manager, "", |s| {
        s.set_max_age(Some(month));
        s.insert("remember", true).unwrap();
    })
    .await
    .unwrap());
    let later = request(&manager, &cookie, |s| {
        assert_eq!(s.max_age(), Some(month));
        s.insert("n", 1).unwrap();
    })
    .await
    .unwrap();
    let expires = later.first().unwrap();
    assert!(expires.contains("Expires="), "{expires}");

    let short = self::manager(
        CookieFormat::Encrypted,
        config(&[KEY]).max_age(Some(Duration::from_millis(300))),
    );
    let cookie = jar(&request(&short, "", |s| s.insert("n", 1).unwrap())
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        read(&short, &cookie).await,
        json!({}),
        "replayed after its expiry"
    );
}

#[tokio::test]
async fn the_absolute_timeout_ends_a_cookie_session() {
    let manager = manager(
        CookieFormat::Encrypted,
        config(&[KEY])
            .rolling(true)
            .absolute_timeout(Some(Duration::from_millis(400))),
    );
    let mut cookie = jar(&request(&manager, "", |s| s.insert("n", 1).unwrap())
        .await
        .unwrap());
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let resent = request(&manager, &cookie, |_| {}).await.unwrap();
        cookie = jar(&resent);
        assert_eq!(read(&manager, &cookie).await, json!({"n": 1}));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        read(&manager, &cookie).await,
        json!({}),
        "outlived its absolute end"
    );
}

#[tokio::test]
async fn a_session_too_large_for_a_cookie_is_a_typed_error_never_a_dropped_cookie() {
    let manager = manager(CookieFormat::Encrypted, config(&[KEY]));
    let error = request(&manager, "", |s| s.insert("big", "x".repeat(5000)).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            SessionError::TooLarge {
                limit: crate::MAX_COOKIE_BYTES,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.status_code(), 413);
}

#[tokio::test]
async fn what_needs_a_store_says_so() {
    let manager = manager(CookieFormat::Encrypted, config(&[KEY]).user_key("user"));
    assert!(matches!(
        manager.sessions_of("ann").await,
        Err(SessionError::NeedsStore(_))
    ));
    let request_ = manager.begin([], RequestFacts::plain_http());
    let session = request_.session().await.unwrap();
    session.insert("user", "ann").unwrap();
    assert!(
        session.save().await.is_ok(),
        "nothing to write before the response"
    );
    assert!(matches!(
        session.log_out_everywhere().await,
        Err(SessionError::NeedsStore(_))
    ));
}

#[test]
fn encryption_needs_long_secrets() {
    let short = SessionConfig::builder()
        .secret("keyboard cat")
        .allow_short_secrets(true)
        .build()
        .unwrap();
    assert!(matches!(
        SessionManager::in_cookie(CookieFormat::Encrypted, short.clone()),
        Err(ConfigError::SecretTooShort { .. })
    ));
    assert!(SessionManager::in_cookie(CookieFormat::CookieSession, short).is_ok());
}

#[tokio::test]
async fn cookie_session_format_is_byte_for_byte_what_the_npm_package_writes() {
    let manager = manager(
        CookieFormat::CookieSession,
        config(&[ONE, TWO]).cookie_name("session"),
    );
    let first = request(&manager, "", |s| s.insert("count", 0).unwrap())
        .await
        .unwrap();
    let values: Vec<&str> = first.iter().map(|c| c.split(';').next().unwrap()).collect();
    assert_eq!(
        values,
        [
            "session=eyJjb3VudCI6MH0=",
            "session.sig=UMSdOGvKmdFDAOk67cLJOuYJPlo"
        ]
    );
    assert!(first
        .iter()
        .all(|c| c.contains("Expires=") && c.contains("HttpOnly")));
}

#[tokio::test]
async fn a_cookie_session_cookie_signed_with_an_older_key_gets_only_a_new_signature() {
    let manager = manager(
        CookieFormat::CookieSession,
        config(&[ONE, TWO]).cookie_name("session"),
    );
    let node = "session=eyJjb3VudCI6Mn0=; session.sig=8HSIAMhrRltmsi5fYarzhx7iRUQ";
    assert_eq!(read(&manager, node).await, json!({"count": 2}));
    let resigned = request(&manager, node, |s| drop(s.get::<u64>("count")))
        .await
        .unwrap();
    assert_eq!(resigned.len(), 1);
    assert!(
        resigned
            .first()
            .unwrap()
            .starts_with("session.sig=uBibDfzzRlCvy_42M53oNIpZXi8;"),
        "{resigned:?}"
    );
    let bad = "session=eyJjb3VudCI6Mn0=; session.sig=AAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(read(&manager, bad).await, json!({}));
    let cleared = request(&manager, bad, |_| {}).await.unwrap();
    assert!(
        cleared
            .first()
            .is_some_and(|c| c.starts_with("session.sig=;") && c.contains("1970")),
        "{cleared:?}"
    );
    let unset = request(&manager, node, |s| s.unset()).await.unwrap();
    assert_eq!(unset.len(), 2, "req.session = null clears both cookies");
}
