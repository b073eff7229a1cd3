//! The axum reference app on a private Redis, over real HTTP: an outage is a 503 without
//! `Set-Cookie` (never a silent new session), and a response that said "saved" means the
//! record is in Redis.

use std::time::Duration;

use session_core::{SessionConfig, SessionManager};
use session_redis::RedisStore;
use session_scenarios::{Browser, TestServer};

use crate::support::{wait_until_recovered, PrivateRedis};

const SECRET: &str = "http test secret of at least thirty-two bytes";
const TIMEOUT: Duration = Duration::from_millis(400);

/// The axum reference app over `store`, on a free port.
pub(crate) fn serve(store: RedisStore) -> TestServer {
    let config = SessionConfig::builder()
        .secret(SECRET)
        .max_age(Some(Duration::from_secs(1800)))
        .build()
        .expect("config");
    let manager = SessionManager::new(store, config);
    TestServer::on_tokio(move |listener| async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        axum::serve(listener, example_axum::app(manager))
            .await
            .expect("axum server");
    })
}

fn fault_store(redis: &PrivateRedis) -> RedisStore {
    RedisStore::builder(redis.url())
        .timeout(TIMEOUT)
        .connect_wait(Duration::from_millis(100))
        .max_reconnect_delay(Duration::from_millis(200))
        .build()
        .expect("store")
}

/// The unsigned id in a `s%3A<id>.<mac>` cookie value.
pub(crate) fn id_of(cookie: &str) -> String {
    let signed = cookie.strip_prefix("s%3A").expect("signed cookie");
    signed
        .rsplit_once('.')
        .map(|(id, _)| id.to_owned())
        .expect("id.mac")
}

async fn stored(redis: &PrivateRedis, cookie: &str) -> Option<serde_json::Value> {
    let reply = redis.command(&["GET", &format!("sess:{}", id_of(cookie))]);
    let json = reply.split_once("\r\n")?.1.trim_end();
    serde_json::from_str(json).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_that_said_saved_means_the_record_is_in_redis() {
    let Some(redis) =
        PrivateRedis::start("a_response_that_said_saved_means_the_record_is_in_redis")
    else {
        return;
    };
    let store = fault_store(&redis);
    wait_until_recovered(&store, Duration::from_secs(5)).await;
    let server = serve(store);
    let mut browser = Browser::new(server.addr, "connect.sid");

    let response = browser.get("/login?user=alice").await;
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "user=alice")
    );
    let cookie = browser.cookie.clone().expect("login sets the cookie");
    let record = stored(&redis, &cookie).await.expect("login is in Redis");
    assert_eq!(record["user"], "alice");
    assert_eq!(record["cookie"]["originalMaxAge"], 1_800_000);

    for n in 0..3 {
        let response = browser.get("/").await;
        assert_eq!(response.body, format!("count={n}"));
        let record = stored(&redis, &cookie).await.expect("in Redis");
        assert_eq!(record["count"], n, "the answered count is the stored count");
    }

    assert_eq!(browser.get("/logout").await.body, "bye");
    assert_eq!(
        stored(&redis, &cookie).await,
        None,
        "logout deleted the key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_a_503_without_set_cookie_never_a_new_session() {
    let Some(mut redis) =
        PrivateRedis::start("redis_down_is_a_503_without_set_cookie_never_a_new_session")
    else {
        return;
    };
    let store = fault_store(&redis);
    wait_until_recovered(&store, Duration::from_secs(5)).await;
    let server = serve(store.clone());
    let mut alice = Browser::new(server.addr, "connect.sid");
    assert_eq!(alice.get("/login?user=alice").await.status, 200);
    let alice_cookie = alice.cookie.clone().expect("cookie");

    // Slow: the session is neither lost nor replaced; it comes back once Redis answers.
    assert!(redis
        .command(&["CLIENT", "PAUSE", "1200", "ALL"])
        .starts_with("+OK"));
    let response = alice.get("/whoami").await;
    assert_eq!(response.status, 503);
    assert!(response.set_cookies().is_empty(), "no Set-Cookie on a 503");
    assert!(!response.body.contains("alice"));
    wait_until_recovered(&store, Duration::from_secs(5)).await;
    assert_eq!(alice.get("/whoami").await.body, "user=alice");
    assert_eq!(alice.cookie.as_deref(), Some(alice_cookie.as_str()));

    // Down: a known visitor and a new one both get 503, no cookie, no session.
    redis.kill();
    for _ in 0..3 {
        let response = alice.get("/whoami").await;
        assert_eq!(response.status, 503);
        assert!(response.set_cookies().is_empty());
        let mut newcomer = Browser::new(server.addr, "connect.sid");
        let response = newcomer.get("/").await;
        assert_eq!(response.status, 503);
        assert!(response.set_cookies().is_empty());
        assert_eq!(newcomer.cookie, None);
    }
    // Routes that never ask for the session keep working.
    assert_eq!(alice.get("/health").await.status, 200);

    // Back (empty: no persistence): service resumes by itself.
    redis.restart();
    wait_until_recovered(&store, Duration::from_secs(5)).await;
    let mut newcomer = Browser::new(server.addr, "connect.sid");
    let response = newcomer.get("/").await;
    assert_eq!((response.status, response.body.as_str()), (200, "count=0"));
    let cookie = newcomer.cookie.clone().expect("cookie");
    assert!(stored(&redis, &cookie).await.is_some());
}
