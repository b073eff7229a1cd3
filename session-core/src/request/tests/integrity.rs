//! Sessions end when they should and lose nothing: conditional saves, merges, the conflict
//! policy, per-session serialisation, the absolute timeout and revoking a user's sessions.
//! Races are played out in a fixed order with a [`PausingStore`], never with sleeps.

use std::{sync::Arc, time::Duration};

use serde_json::json;

use super::{config, cookie_pair, first_visit, Single};
use crate::{
    testing::{Gate, PausingStore, RecordingStore},
    ConflictPolicy, MemoryStore, RequestFacts, RequestSession, SessionConfigBuilder, SessionError,
    SessionId, SessionManager, SetCookies, Store,
};

fn pausing(config: SessionConfigBuilder) -> (SessionManager, PausingStore<MemoryStore>) {
    let store = PausingStore::new(MemoryStore::new());
    (
        SessionManager::new(store.clone(), config.build().unwrap()),
        store,
    )
}

fn begin(manager: &SessionManager, cookie: &str) -> RequestSession {
    manager.begin([cookie.as_bytes()], RequestFacts::plain_http())
}

/// The session a cookie names, as the next request sees it: its data, or `None` when the
/// cookie now gets a new session.
async fn data_behind(manager: &SessionManager, cookie: &str) -> Option<serde_json::Value> {
    let session = begin(manager, cookie).session().await.unwrap();
    (!session.is_new()).then(|| {
        let keys = session.keys();
        json!(keys
            .iter()
            .map(|k| (k.clone(), session.get_value(k).unwrap()))
            .collect::<serde_json::Map<_, _>>())
    })
}

/// Request B loads the session and changes `key`; its save is held until `meanwhile` has run
/// to completion as request A; then B finishes. Returns B's `finish` result.
async fn b_saves_after<F, Fut>(
    manager: &SessionManager,
    store: &PausingStore<MemoryStore>,
    cookie: &str,
    key: &str,
    meanwhile: F,
) -> Result<Option<String>, SessionError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let b = begin(manager, cookie);
    let session = b.session().await.unwrap();
    session.insert(key, "from B").unwrap();
    let gate = store.pause_next_for("save", &session.id());
    let finishing = tokio::spawn(async move { b.finish().await });
    gate.reached().await;
    meanwhile().await;
    gate.open();
    finishing.await.unwrap().map(Single::single)
}

#[tokio::test]
async fn a_logout_during_a_request_is_never_undone() {
    let (manager, store) = pausing(config());
    let cookie = first_visit(&manager).await;
    let b = b_saves_after(&manager, &store, &cookie, "late", || async {
        let a = begin(&manager, &cookie);
        a.session().await.unwrap().destroy().await.unwrap();
        let cleared = a
            .finish()
            .await
            .unwrap()
            .single()
            .expect("logout clears the cookie");
        assert!(cleared.contains("1970"), "{cleared}");
    })
    .await;
    assert_eq!(b.unwrap(), None, "no cookie for a session that ended");
    assert_eq!(data_behind(&manager, &cookie).await, None, "resurrected");
}

#[tokio::test]
async fn a_login_during_a_request_is_never_undone() {
    let (manager, store) = pausing(config());
    let cookie = first_visit(&manager).await;
    let mut logged_in = String::new();
    let b = b_saves_after(&manager, &store, &cookie, "late", || async {
        let a = begin(&manager, &cookie);
        let session = a.session().await.unwrap();
        session.regenerate().await.unwrap();
        session.insert("user", "ann").unwrap();
        logged_in = cookie_pair(&a.finish().await.unwrap().single().expect("new id"));
    })
    .await;
    assert_eq!(b.unwrap(), None, "B must not overwrite the new cookie");
    assert_eq!(
        data_behind(&manager, &cookie).await,
        None,
        "old id resurrected"
    );
    assert_eq!(
        data_behind(&manager, &logged_in).await,
        Some(json!({"user": "ann"}))
    );
}

#[tokio::test]
async fn a_revoke_during_a_request_is_never_undone() {
    let (manager, store) = pausing(config().user_key("user"));
    let request = manager.begin([], RequestFacts::plain_http());
    request
        .session()
        .await
        .unwrap()
        .insert("user", "ann")
        .unwrap();
    let cookie = cookie_pair(&request.finish().await.unwrap().single().unwrap());
    let b = b_saves_after(&manager, &store, &cookie, "late", || async {
        assert_eq!(manager.revoke_sessions_of("ann").await.unwrap(), 1);
    })
    .await;
    assert_eq!(b.unwrap(), None);
    assert_eq!(
        data_behind(&manager, &cookie).await,
        None,
        "revoked session resurrected"
    );
}

#[tokio::test]
async fn an_explicit_save_after_a_logout_elsewhere_says_the_session_ended() {
    let (manager, _) = pausing(config());
    let cookie = first_visit(&manager).await;
    let b = begin(&manager, &cookie);
    let session = b.session().await.unwrap();
    let a = begin(&manager, &cookie);
    a.session().await.unwrap().destroy().await.unwrap();
    a.finish().await.unwrap().single();
    session.insert("late", 1).unwrap();
    let error = session.save().await.unwrap_err();
    assert!(matches!(error, SessionError::Ended), "{error:?}");
    assert_eq!(error.status_code(), 409);
    assert!(matches!(
        session.insert("more", 1),
        Err(SessionError::Ended)
    ));
    assert_eq!(b.finish().await.unwrap().single(), None);
    assert_eq!(data_behind(&manager, &cookie).await, None);
}

#[tokio::test]
async fn changes_to_different_keys_both_persist() {
    let (manager, store) = pausing(config());
    let cookie = first_visit(&manager).await;
    let b = b_saves_after(&manager, &store, &cookie, "b", || async {
        let a = begin(&manager, &cookie);
        let session = a.session().await.unwrap();
        session.insert("a", "from A").unwrap();
        session.remove_value("count").unwrap();
        a.finish().await.unwrap().single();
    })
    .await;
    assert!(
        b.unwrap().is_some(),
        "B's change is saved and its cookie sent"
    );
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"a": "from A", "b": "from B"}))
    );
}

/// Request H, which loaded the session and changed `h`, after which request A changed `a` and
/// finished: H's save will find the record changed. Returns H and the session's id.
async fn h_then_a(manager: &SessionManager, cookie: &str) -> (RequestSession, SessionId) {
    let h = begin(manager, cookie);
    let h_session = h.session().await.unwrap();
    h_session.insert("h", 1).unwrap();
    let a = begin(manager, cookie);
    a.session().await.unwrap().insert("a", 1).unwrap();
    a.finish().await.unwrap();
    (h, h_session.id())
}

/// Finishes request `h`, whose save will meet another write: lets its first save through
/// to the conflict and pauses its second, so that `h` holds the session's save turn. Returns
/// the gate of that second save and `h`'s finish.
async fn hold_the_turn<S: Store>(
    store: &PausingStore<S>,
    id: &SessionId,
    h: RequestSession,
) -> (
    Gate,
    tokio::task::JoinHandle<Result<SetCookies, SessionError>>,
) {
    let first = store.pause_next_for("save", id);
    let finishing = tokio::spawn(async move { h.finish().await });
    first.reached().await;
    let second = store.pause_next_for("save", id);
    first.open();
    second.reached().await; // H met the other write, merged, and holds the turn
    (second, finishing)
}

/// Saves racing for one session take turns once one of them found the record changed: a
/// save that starts while another holds the turn (merging, about to write again) waits for it
/// instead of reaching the store and changing the record under it once more. Without that, a
/// steady stream of requests to one session kept the turn's holder merging, pausing and
/// retrying while everyone queued behind it (`cargo xtask bench http`, returning visitor).
#[tokio::test]
async fn a_save_waits_for_the_turn_of_a_save_that_is_merging() {
    let (manager, store) = pausing(config());
    let cookie = first_visit(&manager).await;
    let (h, id) = h_then_a(&manager, &cookie).await;
    let x = begin(&manager, &cookie);
    x.session().await.unwrap().insert("x", 1).unwrap();

    let (second, h_finishing) = hold_the_turn(&store, &id, h).await;
    assert_eq!(manager.save_turn_users(&id), 1);
    let third = store.pause_next_for("save", &id);
    let x_finishing = tokio::spawn(async move { x.finish().await });
    tokio::select! {
        () = third.reached() => panic!("X's save reached the store while H held the turn"),
        () = async {
            while manager.save_turn_users(&id) < 2 {
                tokio::task::yield_now().await;
            }
        } => {}
    }
    second.open();
    third.open();
    assert!(h_finishing.await.unwrap().unwrap().single().is_some());
    assert!(x_finishing.await.unwrap().unwrap().single().is_some());
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 0, "a": 1, "h": 1, "x": 1}))
    );
    assert_eq!(
        manager.save_turn_users(&id),
        0,
        "no turn outlives its saves"
    );
}

/// A save that waited for its turn starts from the record the save before it wrote (the
/// turn's lineage), so it reaches the store once instead of first meeting that write as a
/// conflict: one round trip per save in turn on a remote store.
#[tokio::test]
async fn a_save_that_waited_for_its_turn_starts_from_the_write_before_it() {
    let recording = RecordingStore::new(MemoryStore::new());
    let store = PausingStore::new(recording.clone());
    let manager = SessionManager::new(store.clone(), config().build().unwrap());
    let cookie = first_visit(&manager).await;
    let (h, id) = h_then_a(&manager, &cookie).await;
    let x = begin(&manager, &cookie);
    x.session().await.unwrap().insert("x", 1).unwrap();

    let (second, h_finishing) = hold_the_turn(&store, &id, h).await;
    let x_finishing = tokio::spawn(async move { x.finish().await });
    while manager.save_turn_users(&id) < 2 {
        tokio::task::yield_now().await;
    }
    recording.take();
    second.open();
    assert!(h_finishing.await.unwrap().unwrap().single().is_some());
    assert!(x_finishing.await.unwrap().unwrap().single().is_some());
    assert_eq!(
        recording.take_kinds(),
        ["save", "save"],
        "H's save and X's, with no conflict in between"
    );
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 0, "a": 1, "h": 1, "x": 1}))
    );
}

/// The saves queued behind a session's save turn are written together by the first of them
/// to get it (a group commit): one store write for all of them, and every change lands.
#[tokio::test]
async fn saves_waiting_for_the_turn_are_written_together() {
    let recording = RecordingStore::new(MemoryStore::new());
    let store = PausingStore::new(recording.clone());
    let manager = SessionManager::new(store.clone(), config().build().unwrap());
    let cookie = first_visit(&manager).await;
    let (h, id) = h_then_a(&manager, &cookie).await;
    let mut queued = Vec::new();
    for key in ["x", "y", "z"] {
        let request = begin(&manager, &cookie);
        request.session().await.unwrap().insert(key, 1).unwrap();
        queued.push(request);
    }

    let (second, h_finishing) = hold_the_turn(&store, &id, h).await;
    let mut finishing = Vec::new();
    for (n, request) in queued.into_iter().enumerate() {
        finishing.push(tokio::spawn(async move { request.finish().await }));
        while manager.save_turn_users(&id) < n + 2 {
            tokio::task::yield_now().await;
        }
    }
    recording.take();
    second.open();
    assert!(h_finishing.await.unwrap().unwrap().single().is_some());
    for request in finishing {
        assert!(request.await.unwrap().unwrap().single().is_some());
    }
    assert_eq!(
        recording.take_kinds(),
        ["save", "save"],
        "H's save, then one save for X, Y and Z"
    );
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 0, "a": 1, "h": 1, "x": 1, "y": 1, "z": 1}))
    );
    assert_eq!(manager.save_turn_users(&id), 0);
}

/// A change made to a session while its save writes in turn for others too (here another task
/// of the same request, during an explicit `save()`) stays in the session, and the next save
/// writes it: taking the carried write as the session's data must not drop it.
#[tokio::test]
async fn a_change_made_while_a_carrying_save_writes_is_kept() {
    let (manager, store) = pausing(config());
    let cookie = first_visit(&manager).await;
    let (h, id) = h_then_a(&manager, &cookie).await;
    let x = begin(&manager, &cookie);
    let x_session = x.session().await.unwrap();
    x_session.insert("x", 1).unwrap();
    let y = begin(&manager, &cookie);
    y.session().await.unwrap().insert("y", 1).unwrap();

    let (second, h_finishing) = hold_the_turn(&store, &id, h).await;
    let saving = tokio::spawn({
        let x_session = x_session.clone();
        async move { x_session.save().await }
    });
    while manager.save_turn_users(&id) < 2 {
        tokio::task::yield_now().await;
    }
    let y_finishing = tokio::spawn(async move { y.finish().await });
    while manager.save_turn_users(&id) < 3 {
        tokio::task::yield_now().await;
    }
    let carrying = store.pause_next_for("save", &id);
    second.open();
    assert!(h_finishing.await.unwrap().unwrap().single().is_some());
    carrying.reached().await; // X writes its change and Y's
    x_session.insert("late", 1).unwrap();
    carrying.open();
    saving.await.unwrap().unwrap();
    assert!(y_finishing.await.unwrap().unwrap().single().is_some());
    assert_eq!(x_session.get::<u32>("late").unwrap(), Some(1), "kept");
    assert_eq!(
        x_session.get::<u32>("y").unwrap(),
        Some(1),
        "the carried write"
    );
    x.finish().await.unwrap();
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 0, "a": 1, "h": 1, "x": 1, "y": 1, "late": 1}))
    );
}

#[tokio::test]
async fn the_same_key_is_the_last_writers_by_default() {
    let (manager, store) = pausing(config());
    let cookie = first_visit(&manager).await;
    let b = b_saves_after(&manager, &store, &cookie, "n", || async {
        let a = begin(&manager, &cookie);
        a.session().await.unwrap().insert("n", "from A").unwrap();
        a.finish().await.unwrap().single();
    })
    .await;
    b.unwrap();
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 0, "n": "from B"}))
    );
}

#[tokio::test]
async fn the_same_key_is_a_conflict_under_reject_and_the_first_write_stays() {
    let (manager, store) = pausing(config().conflicts(ConflictPolicy::Reject));
    let cookie = first_visit(&manager).await;
    let b = b_saves_after(&manager, &store, &cookie, "n", || async {
        let a = begin(&manager, &cookie);
        a.session().await.unwrap().insert("n", "from A").unwrap();
        a.finish().await.unwrap().single();
    })
    .await;
    let error = b.unwrap_err();
    assert!(
        matches!(&error, SessionError::Conflict(key) if key == "n"),
        "{error:?}"
    );
    assert_eq!(error.status_code(), 409);
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 0, "n": "from A"}))
    );
}

#[tokio::test]
async fn a_merge_keeps_the_other_requests_lifetime_unless_this_one_changed_it() {
    let (manager, store) = pausing(config());
    let cookie = first_visit(&manager).await;
    let month = Duration::from_secs(30 * 24 * 3600);
    let b = b_saves_after(&manager, &store, &cookie, "b", || async {
        let a = begin(&manager, &cookie);
        let session = a.session().await.unwrap();
        session.set_max_age(Some(month));
        session.insert("remember", true).unwrap();
        a.finish().await.unwrap().single();
    })
    .await;
    let resent = b.unwrap().expect("cookie");
    let session = begin(&manager, &cookie).session().await.unwrap();
    assert_eq!(session.max_age(), Some(month), "A's remember-me was undone");
    assert!(resent.contains("Expires="), "{resent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serialised_requests_never_lose_an_increment() {
    let manager = SessionManager::new(
        MemoryStore::new(),
        config().serialize_requests(true).build().unwrap(),
    );
    let cookie = first_visit(&manager).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (manager, cookie) = (manager.clone(), cookie.clone());
            tokio::spawn(async move {
                for _ in 0..10 {
                    let request = begin(&manager, &cookie);
                    let session = request.session().await.unwrap();
                    let count: u64 = session.get("count").unwrap().unwrap();
                    tokio::task::yield_now().await; // let the others in, if they could
                    session.insert("count", count + 1).unwrap();
                    request.finish().await.unwrap().single();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 200}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_reject_every_acknowledged_increment_persists() {
    let manager = SessionManager::new(
        MemoryStore::new(),
        config().conflicts(ConflictPolicy::Reject).build().unwrap(),
    );
    let cookie = first_visit(&manager).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (manager, cookie) = (manager.clone(), cookie.clone());
            tokio::spawn(async move {
                let mut acknowledged = 0;
                for _ in 0..10 {
                    let request = begin(&manager, &cookie);
                    let session = request.session().await.unwrap();
                    let count: u64 = session.get("count").unwrap().unwrap();
                    tokio::task::yield_now().await;
                    session.insert("count", count + 1).unwrap();
                    match request.finish().await {
                        Ok(_) => acknowledged += 1,
                        Err(SessionError::Conflict(_)) => {}
                        Err(other) => panic!("{other:?}"),
                    }
                }
                acknowledged
            })
        })
        .collect();
    let mut acknowledged = 0;
    for task in tasks {
        acknowledged += task.await.unwrap();
    }
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({ "count": acknowledged })),
        "an acknowledged increment was lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_of_different_keys_lose_nothing() {
    let manager = SessionManager::new(MemoryStore::new(), config().build().unwrap());
    let cookie = first_visit(&manager).await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (manager, cookie) = (manager.clone(), cookie.clone());
            tokio::spawn(async move {
                let key = format!("k{n}");
                for _ in 0..10 {
                    let request = begin(&manager, &cookie);
                    let session = request.session().await.unwrap();
                    let value: u64 = session.get(&key).unwrap().unwrap_or(0);
                    tokio::task::yield_now().await;
                    session.insert(&key, value + 1).unwrap();
                    request.finish().await.unwrap().single();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let data = data_behind(&manager, &cookie).await.unwrap();
    for n in 0..20 {
        assert_eq!(data[format!("k{n}")], 10, "k{n} lost updates: {data}");
    }
}

/// A serialised request whose load failed (a store outage) keeps its turn; asking for the
/// session again in the same request uses that turn instead of waiting for itself.
#[tokio::test]
async fn a_serialised_request_can_load_again_after_a_failed_load() {
    let store = crate::testing::FlakyStore::new(MemoryStore::new());
    let manager = SessionManager::new(
        store.clone(),
        config()
            .serialize_requests_waiting_at_most(Duration::from_millis(50))
            .build()
            .unwrap(),
    );
    let cookie = first_visit(&manager).await;
    let request = begin(&manager, &cookie);
    store.set_failing(true);
    assert!(request.session().await.is_err(), "the store is down");
    store.set_failing(false);
    let session = request
        .session()
        .await
        .expect("the same request loads again");
    assert_eq!(session.get::<u32>("count").unwrap(), Some(0));
    request.finish().await.unwrap();
}

#[tokio::test]
async fn a_serialised_request_waits_at_most_the_configured_time() {
    let manager = SessionManager::new(
        MemoryStore::new(),
        config()
            .serialize_requests_waiting_at_most(Duration::from_millis(50))
            .build()
            .unwrap(),
    );
    let cookie = first_visit(&manager).await;
    let first = begin(&manager, &cookie);
    first.session().await.unwrap();
    let second = begin(&manager, &cookie);
    let error = second.session().await.unwrap_err();
    assert!(matches!(error, SessionError::Busy(_)), "{error:?}");
    assert_eq!(error.status_code(), 503);
    first.finish().await.unwrap().single();
    assert!(
        second.session().await.is_ok(),
        "the turn passes on at finish"
    );
}

#[tokio::test]
async fn the_absolute_timeout_ends_an_active_session() {
    let absolute = Duration::from_millis(600);
    let (manager, _) = pausing(config().rolling(true).absolute_timeout(Some(absolute)));
    let cookie = first_visit(&manager).await;
    let session = begin(&manager, &cookie).session().await.unwrap();
    let ends_at = session.ends_at().expect("an end");
    assert!(
        session.expires().unwrap() <= ends_at,
        "the cookie outlives the session"
    );
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let request = begin(&manager, &cookie);
        let resent = request.session().await.unwrap();
        assert!(!resent.is_new(), "ended too early");
        request.finish().await.unwrap().single();
    }
    tokio::time::sleep(absolute).await;
    assert_eq!(
        data_behind(&manager, &cookie).await,
        None,
        "outlived its absolute end"
    );
}

#[tokio::test]
async fn a_record_without_a_creation_time_is_stamped_once() {
    let store = RecordingStore::new(MemoryStore::new());
    let plain = SessionManager::new(store.clone(), config().build().unwrap());
    let cookie = first_visit(&plain).await;
    let loaded = store
        .load(&begin(&plain, &cookie).session().await.unwrap().id())
        .await;
    assert_eq!(
        loaded.unwrap().unwrap().record.created_at,
        None,
        "off by default"
    );
    let limited = SessionManager::with_shared_store(
        Arc::new(store.clone()),
        config()
            .absolute_timeout(Some(Duration::from_secs(3600)))
            .build()
            .unwrap(),
    );
    store.take();
    let request = begin(&limited, &cookie);
    request
        .session()
        .await
        .unwrap()
        .get::<u64>("count")
        .unwrap();
    request.finish().await.unwrap().single();
    assert_eq!(store.take_kinds(), ["load", "save"], "the stamp is saved");
    let request = begin(&limited, &cookie);
    request
        .session()
        .await
        .unwrap()
        .get::<u64>("count")
        .unwrap();
    request.finish().await.unwrap().single();
    assert_eq!(store.take_kinds(), ["load", "touch"], "and only once");
}

async fn login(manager: &SessionManager, user: &str) -> String {
    let request = manager.begin([], RequestFacts::plain_http());
    request
        .session()
        .await
        .unwrap()
        .insert("user", user)
        .unwrap();
    cookie_pair(&request.finish().await.unwrap().single().unwrap())
}

#[tokio::test]
async fn log_out_everywhere_ends_every_session_of_the_user_and_no_other() {
    let (manager, _) = pausing(config().user_key("user"));
    let ann: Vec<String> = [(); 3].iter().map(|_| String::new()).collect();
    let mut ann_cookies = Vec::new();
    for _ in &ann {
        ann_cookies.push(login(&manager, "ann").await);
    }
    let bob = login(&manager, "bob").await;
    assert_eq!(manager.sessions_of("ann").await.unwrap().len(), 3);

    let request = begin(&manager, &ann_cookies[0]);
    let session = request.session().await.unwrap();
    assert_eq!(session.log_out_everywhere().await.unwrap(), 3);
    let cleared = request
        .finish()
        .await
        .unwrap()
        .single()
        .expect("cookie cleared");
    assert!(cleared.contains("1970"), "{cleared}");
    for cookie in &ann_cookies {
        assert_eq!(data_behind(&manager, cookie).await, None);
    }
    assert_eq!(
        data_behind(&manager, &bob).await,
        Some(json!({"user": "bob"}))
    );
    assert!(manager.sessions_of("ann").await.unwrap().is_empty());
}

#[tokio::test]
async fn log_out_other_sessions_keeps_this_one() {
    let (manager, _) = pausing(config().user_key("user"));
    let (here, elsewhere) = (login(&manager, "ann").await, login(&manager, "ann").await);
    let request = begin(&manager, &here);
    let session = request.session().await.unwrap();
    assert_eq!(session.log_out_other_sessions().await.unwrap(), 1);
    request.finish().await.unwrap().single();
    assert_eq!(
        data_behind(&manager, &here).await,
        Some(json!({"user": "ann"}))
    );
    assert_eq!(data_behind(&manager, &elsewhere).await, None);
}

#[tokio::test]
async fn a_user_whose_name_changed_is_not_revoked_under_the_old_name() {
    let (manager, _) = pausing(config().user_key("user"));
    let cookie = login(&manager, "ann").await;
    let request = begin(&manager, &cookie);
    request
        .session()
        .await
        .unwrap()
        .insert("user", "bea")
        .unwrap();
    request.finish().await.unwrap().single();
    assert_eq!(manager.revoke_sessions_of("ann").await.unwrap(), 0);
    assert_eq!(manager.sessions_of("bea").await.unwrap().len(), 1);
}

#[tokio::test]
async fn listing_users_needs_a_user_key() {
    let (manager, _) = pausing(config());
    assert!(matches!(
        manager.sessions_of("ann").await,
        Err(SessionError::NoUserKey)
    ));
    let cookie = first_visit(&manager).await;
    let session = begin(&manager, &cookie).session().await.unwrap();
    assert!(matches!(
        session.log_out_everywhere().await,
        Err(SessionError::NoUserKey)
    ));
}

#[tokio::test]
async fn a_session_over_the_size_limit_is_refused_whole() {
    let (manager, _) = pausing(config().max_session_bytes(Some(1024)));
    let cookie = first_visit(&manager).await;
    let request = begin(&manager, &cookie);
    let session = request.session().await.unwrap();
    session.insert("big", "x".repeat(2048)).unwrap();
    let error = request.finish().await.unwrap_err();
    assert!(
        matches!(error, SessionError::TooLarge { limit: 1024, .. }),
        "{error:?}"
    );
    assert_eq!(error.status_code(), 413);
    assert_eq!(
        data_behind(&manager, &cookie).await,
        Some(json!({"count": 0}))
    );
    let new = manager.begin([], RequestFacts::plain_http());
    new.session()
        .await
        .unwrap()
        .insert("big", "x".repeat(2048))
        .unwrap();
    assert!(matches!(
        new.finish().await,
        Err(SessionError::TooLarge { .. })
    ));
}
