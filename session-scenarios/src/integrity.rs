//! Scenarios of sessions that end when they should and lose nothing, each run on every adapter
//! and on every [`Backend`]: no request in flight undoes a logout, a login (regenerate) or a
//! revoke; concurrent changes to different keys merge; the same key follows the conflict
//! policy; serialised requests count exactly; the absolute timeout ends an active session.
//!
//! Races are played in a fixed order with a [`PausingStore`]: request B is held at its save
//! while request A completes, then B goes on.

use std::{sync::Arc, time::Duration};

use session_core::{
    testing::{Gate, PausingStore},
    ConflictPolicy, SessionConfigBuilder, SessionId, SessionManager, Store,
};

use crate::{
    backend::{Backend, BackendStore},
    scenarios::config,
    Browser, Response, Start, TestServer,
};

const NAME: &str = "connect.sid";

/// A running app over a pausing store on `backend`.
struct App {
    server: TestServer,
    store: PausingStore<Arc<dyn Store>>,
    _backend: BackendStore,
}

impl App {
    /// `None` when the backend is not available here (the scenario is skipped).
    fn start(
        start: Start,
        backend: Backend,
        scenario: &str,
        config: SessionConfigBuilder,
    ) -> Option<Self> {
        let backend_store = backend.store(scenario)?;
        let store = PausingStore::new(backend_store.store.clone());
        let manager = SessionManager::new(store.clone(), config.build().expect("valid config"));
        Some(Self {
            server: start(manager),
            store,
            _backend: backend_store,
        })
    }

    fn browser(&self) -> Browser {
        Browser::new(self.server.addr, NAME)
    }

    /// A browser whose session holds `count=0`.
    async fn browser_with_session(&self) -> Browser {
        let mut browser = self.browser();
        assert_ok(&browser.get("/").await, "count=0");
        browser
    }

    /// A browser logged in as `user`.
    async fn logged_in(&self, user: &str) -> Browser {
        let mut browser = self.browser();
        assert_ok(
            &browser.get(&format!("/login?user={user}")).await,
            &format!("user={user}"),
        );
        browser
    }

    /// Starts `path` for `browser`'s session as request B and holds it at its save; returns
    /// the gate and B's response to come.
    async fn hold_at_save(
        &self,
        browser: &Browser,
        path: &str,
    ) -> (Gate, tokio::task::JoinHandle<Response>) {
        let gate = self.store.pause_next_for("save", &session_id(browser));
        let (mut b, path) = (browser.clone(), path.to_owned());
        let response = tokio::spawn(async move { b.get(&path).await });
        gate.reached().await;
        (gate, response)
    }
}

fn assert_ok(response: &Response, body: &str) {
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, body),
        "{response:?}"
    );
}

fn assert_no_cookie(response: &Response) {
    assert_eq!(
        response.cookie(NAME),
        None,
        "expected no Set-Cookie: {response:?}"
    );
}

/// The id in the browser's signed cookie (`s%3A<id>.<mac>`).
fn session_id(browser: &Browser) -> SessionId {
    let value = browser.cookie.as_deref().expect("a session cookie");
    let signed = value.strip_prefix("s%3A").expect("signed cookie value");
    SessionId::from(signed.rsplit_once('.').expect("id.mac").0)
}

/// A request in flight while the session logs out never brings it back: held at its save,
/// it finds the record gone, writes nothing and sends no cookie. Then many requests in
/// flight around a logout, in whatever order they land: the old cookie is anonymous after.
pub async fn logout_is_never_undone_by_requests_in_flight(start: Start, backend: Backend) {
    let Some(app) = App::start(start, backend, "logout_in_flight", config()) else {
        return;
    };
    let mut browser = app.logged_in("ann").await;
    let stolen = browser.clone();
    let (gate, in_flight) = app.hold_at_save(&browser, "/").await;
    assert_ok(&browser.get("/logout").await, "bye");
    gate.open();
    let late = in_flight.await.expect("request B");
    assert_ok(&late, "count=0");
    assert_no_cookie(&late);
    assert_ok(&stolen.clone().get("/whoami").await, "user=none");
    assert!(app
        .store
        .load(&session_id(&stolen))
        .await
        .expect("load")
        .is_none());

    let mut browser = app.logged_in("bea").await;
    let stolen = browser.clone();
    let burst: Vec<_> = (0..24)
        .map(|n| {
            let mut b = stolen.clone();
            tokio::spawn(async move { b.get(&format!("/bump?key=k{n}")).await })
        })
        .collect();
    assert_ok(&browser.get("/logout").await, "bye");
    for request in burst {
        let response = request.await.expect("request in flight");
        assert!(response.status == 200, "{response:?}");
    }
    assert_ok(&stolen.clone().get("/whoami").await, "user=none");
    assert!(app
        .store
        .load(&session_id(&stolen))
        .await
        .expect("load")
        .is_none());
}

/// A request in flight on the old id while the session logs in (regenerate) neither brings
/// the old id back nor overwrites the new cookie.
pub async fn login_is_never_undone_by_requests_in_flight(start: Start, backend: Backend) {
    let Some(app) = App::start(start, backend, "login_in_flight", config()) else {
        return;
    };
    let mut browser = app.browser_with_session().await;
    let before_login = browser.clone();
    let (gate, in_flight) = app.hold_at_save(&browser, "/").await;
    assert_ok(&browser.get("/login?user=ann").await, "user=ann");
    gate.open();
    let late = in_flight.await.expect("request B");
    assert_eq!(late.status, 200, "{late:?}");
    assert_no_cookie(&late);
    assert_ok(&browser.get("/whoami").await, "user=ann");
    assert_ok(&before_login.clone().get("/peek").await, "count=none");
    assert!(app
        .store
        .load(&session_id(&before_login))
        .await
        .expect("load")
        .is_none());
}

/// A revoke of the user's sessions while one of them has a request in flight: that request
/// finds its session gone; every session of the user ends, another user's stays.
pub async fn log_out_everywhere_ends_every_session_of_the_user(start: Start, backend: Backend) {
    let Some(app) = App::start(start, backend, "log_out_everywhere", config()) else {
        return;
    };
    let mut here = app.logged_in("ann").await;
    let (elsewhere, phone) = (app.logged_in("ann").await, app.logged_in("ann").await);
    let mut bob = app.logged_in("bob").await;
    let (gate, in_flight) = app.hold_at_save(&phone, "/bump?key=late").await;
    let response = here.get("/logout-everywhere").await;
    assert_ok(&response, "revoked=3");
    assert!(here.cookie.is_none(), "this browser's cookie is cleared");
    gate.open();
    let late = in_flight.await.expect("request B");
    assert_ok(&late, "late=1");
    assert_no_cookie(&late);
    for mut browser in [elsewhere, phone] {
        assert_ok(&browser.get("/whoami").await, "user=none");
    }
    assert_ok(&bob.get("/whoami").await, "user=bob");
}

/// Two requests change different keys of one session at once: both changes persist. Then 20
/// clients bump their own key of one session 10 times each, concurrently: none is lost.
pub async fn parallel_changes_to_different_keys_both_persist(start: Start, backend: Backend) {
    let Some(app) = App::start(start, backend, "different_keys", config()) else {
        return;
    };
    let mut browser = app.browser_with_session().await;
    let (gate, in_flight) = app.hold_at_save(&browser, "/bump?key=b").await;
    assert_ok(&browser.get("/bump?key=a").await, "a=1");
    gate.open();
    assert_ok(&in_flight.await.expect("request B"), "b=1");
    assert_ok(&browser.get("/peek?key=a").await, "a=1");
    assert_ok(&browser.get("/peek?key=b").await, "b=1");

    let clients: Vec<_> = (0..20)
        .map(|n| {
            let mut b = browser.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    let response = b.get(&format!("/bump?key=k{n}")).await;
                    assert_eq!(response.status, 200, "{response:?}");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client");
    }
    for n in 0..20 {
        assert_ok(
            &browser.get(&format!("/peek?key=k{n}")).await,
            &format!("k{n}=10"),
        );
    }
}

/// Two requests increment the same key at once. By default the last writer wins, as in
/// express-session (one increment is lost); under `ConflictPolicy::Reject` the second gets a
/// `409` and the first one's write stays: nothing acknowledged is lost.
pub async fn the_same_key_follows_the_conflict_policy(start: Start, backend: Backend) {
    for (policy, late_status, late_body) in [
        (ConflictPolicy::LastWriterWins, 200, "count=1"),
        (ConflictPolicy::Reject, 409, "session error: Conflict"),
    ] {
        let Some(app) = App::start(start, backend, "same_key", config().conflicts(policy)) else {
            return;
        };
        let mut browser = app.browser_with_session().await;
        let (gate, in_flight) = app.hold_at_save(&browser, "/").await;
        assert_ok(&browser.get("/").await, "count=1");
        gate.open();
        let late = in_flight.await.expect("request B");
        assert_eq!(
            (late.status, late.body.as_str()),
            (late_status, late_body),
            "{policy:?}"
        );
        if late_status == 409 {
            assert_no_cookie(&late);
        }
        assert_ok(&browser.get("/peek").await, "count=1");
    }
}

/// With per-session serialisation, 20 clients × 10 increments of one session's counter end at
/// exactly 200.
pub async fn serialised_requests_count_every_increment(start: Start, backend: Backend) {
    let Some(app) = App::start(
        start,
        backend,
        "serialised",
        config().serialize_requests(true),
    ) else {
        return;
    };
    let mut browser = app.browser_with_session().await;
    let clients: Vec<_> = (0..20)
        .map(|_| {
            let mut b = browser.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    let response = b.get("/").await;
                    assert_eq!(response.status, 200, "{response:?}");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client");
    }
    assert_ok(&browser.get("/peek").await, "count=200");
}

/// A rolling session used every few hundred milliseconds still ends at its absolute timeout,
/// and its cookie never claims to outlive it.
pub async fn the_absolute_timeout_ends_an_active_session(start: Start, backend: Backend) {
    let absolute = Duration::from_millis(2_000);
    let config = config().rolling(true).absolute_timeout(Some(absolute));
    let Some(app) = App::start(start, backend, "absolute_timeout", config) else {
        return;
    };
    let started = std::time::SystemTime::now();
    let mut browser = app.browser_with_session().await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let response = browser.get("/peek").await;
        assert_ok(&response, "count=0");
        let cookie = response.cookie(NAME).expect("rolling re-sends the cookie");
        let expires = cookie.expires().expect("Expires");
        assert!(
            expires <= started + absolute + Duration::from_secs(1),
            "the cookie outlives the session: {}",
            cookie.raw
        );
    }
    let elapsed = started.elapsed().unwrap_or_default();
    tokio::time::sleep((absolute + Duration::from_millis(600)).saturating_sub(elapsed)).await;
    assert_ok(&browser.get("/peek").await, "count=none");
}
