//! The request lifecycle end to end, without any web framework.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::{
    testing::{FlakyStore, RecordingStore},
    IdGenerator, MemoryStore, RequestFacts, SessionConfig, SessionConfigBuilder, SessionError,
    SessionManager, StoreError,
};

const SECRET: &str = "request tests secret of thirty-two bytes";

fn config() -> SessionConfigBuilder {
    SessionConfig::builder()
        .secret(SECRET)
        .max_age(Some(Duration::from_secs(3600)))
}

fn recording(config: SessionConfigBuilder) -> (SessionManager, RecordingStore<MemoryStore>) {
    let store = RecordingStore::new(MemoryStore::new());
    (
        SessionManager::new(store.clone(), config.build().unwrap()),
        store,
    )
}

/// The one `Set-Cookie` value of a store-mode response, if any.
pub(super) trait Single {
    fn single(self) -> Option<String>;
}

impl Single for crate::SetCookies {
    fn single(self) -> Option<String> {
        assert!(
            self.len() <= 1,
            "store mode sends one cookie at most: {self:?}"
        );
        self.into_iter().next()
    }
}

/// The `name=value` part of a `Set-Cookie` header, as a browser sends it back.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn first_visit(manager: &SessionManager) -> String {
    let request = manager.begin([], RequestFacts::plain_http());
    request.session().await.unwrap().insert("count", 0).unwrap();
    cookie_pair(&request.finish().await.unwrap().single().expect("cookie"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_new_sessions_get_distinct_ids_and_their_own_data() {
    let manager = SessionManager::new(MemoryStore::new(), config().build().unwrap());
    let tasks: Vec<_> = (0..10_000u32)
        .map(|n| {
            let manager = manager.clone();
            tokio::spawn(async move {
                let request = manager.begin([], RequestFacts::plain_http());
                let session = request.session().await.unwrap();
                session.insert("n", n).unwrap();
                let id = session.id();
                let cookie = cookie_pair(&request.finish().await.unwrap().single().unwrap());
                let again = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
                let read: Option<u32> = again.session().await.unwrap().get("n").unwrap();
                assert_eq!(
                    read,
                    Some(n),
                    "session {n} read back another session's data"
                );
                id
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        assert!(
            ids.insert(task.await.unwrap()),
            "two new sessions share an id"
        );
    }
    assert_eq!(ids.len(), 10_000);
}

#[tokio::test]
async fn id_is_defined_before_any_save_and_is_the_saved_id() {
    let (manager, store) = recording(config());
    let request = manager.begin([], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    let id = session.id();
    assert_eq!(id.as_str().len(), 32);
    session.insert("a", 1).unwrap();
    let cookie = request.finish().await.unwrap().single().unwrap();
    assert!(cookie.contains(id.as_str()));
    assert_eq!(store.take()[0].session_id(), Some(&id));
}

#[tokio::test]
async fn cycle_id_keeps_the_data_under_a_new_id() {
    let (manager, store) = recording(config());
    let cookie = first_visit(&manager).await;
    store.take();
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    let old = session.id();
    session.cycle_id().await.unwrap();
    assert_ne!(session.id(), old);
    let new_cookie = cookie_pair(
        &request
            .finish()
            .await
            .unwrap()
            .single()
            .expect("new id is sent"),
    );
    assert_eq!(store.take_kinds(), ["load", "delete", "create"]);
    assert_eq!(
        store.saves_with_a_handle(),
        0,
        "a new id is a new record: its write carries no handle of the old one"
    );
    let next = manager.begin([new_cookie.as_bytes()], RequestFacts::plain_http());
    assert_eq!(
        next.session().await.unwrap().get::<u32>("count").unwrap(),
        Some(0)
    );
    let stale = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    assert!(stale.session().await.unwrap().is_new());
}

#[tokio::test]
async fn explicit_save_is_not_repeated_at_the_end_of_the_request() {
    let (manager, store) = recording(config());
    let request = manager.begin([], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    session.insert("user", "ada").unwrap();
    session.save().await.unwrap();
    assert_eq!(
        store.take_kinds(),
        ["create"],
        "save() writes before the response"
    );
    assert!(request.finish().await.unwrap().single().is_some());
    assert_eq!(store.take_kinds(), Vec::<&str>::new());
}

#[tokio::test]
async fn a_change_after_an_explicit_save_is_saved_again() {
    let (manager, store) = recording(config());
    let cookie = first_visit(&manager).await;
    store.take();
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    session.insert("step", 1).unwrap();
    session.save().await.unwrap();
    session.insert("step", 2).unwrap();
    request.finish().await.unwrap().single();
    assert_eq!(store.take_kinds(), ["load", "save", "save"]);
    assert_eq!(
        store.saves_with_a_handle(),
        2,
        "each save hands the store back the handle of what the request loaded"
    );
}

#[tokio::test]
async fn writing_an_equal_value_is_not_a_modification() {
    let (manager, store) = recording(config());
    let cookie = first_visit(&manager).await;
    store.take();
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    session.insert("count", 1).unwrap();
    session.insert("count", 0).unwrap();
    assert_eq!(request.finish().await.unwrap().single(), None);
    assert_eq!(store.take_kinds(), ["load", "touch"]);
}

#[tokio::test]
async fn reload_drops_unsaved_changes() {
    let (manager, _) = recording(config());
    let cookie = first_visit(&manager).await;
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    session.insert("count", 41).unwrap();
    session.reload().await.unwrap();
    assert_eq!(session.get::<u32>("count").unwrap(), Some(0));
}

#[tokio::test]
async fn a_destroyed_session_refuses_writes_and_a_regenerated_one_accepts_them() {
    let (manager, _) = recording(config());
    let cookie = first_visit(&manager).await;
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    session.destroy().await.unwrap();
    assert!(matches!(
        session.insert("a", 1),
        Err(SessionError::Destroyed)
    ));
    assert!(matches!(session.save().await, Err(SessionError::Destroyed)));
    assert_eq!(session.get::<u32>("count").unwrap(), None);
    session.regenerate().await.unwrap();
    session.insert("a", 1).unwrap();
    let set_cookie = request.finish().await.unwrap().single().unwrap();
    assert!(
        !set_cookie.contains("1970"),
        "a regenerated session is kept: {set_cookie}"
    );
}

#[tokio::test]
async fn reserved_keys_and_unconvertible_values_are_typed_errors() {
    let (manager, _) = recording(config());
    let session = manager
        .begin([], RequestFacts::plain_http())
        .session()
        .await
        .unwrap();
    assert!(matches!(
        session.insert("cookie", 1),
        Err(SessionError::ReservedKey(_))
    ));
    assert!(matches!(
        session.insert("id", 1),
        Err(SessionError::ReservedKey(_))
    ));
    session.insert("text", "not a number").unwrap();
    assert!(matches!(
        session.get::<u32>("text"),
        Err(SessionError::Value(_))
    ));
}

#[tokio::test]
async fn a_failing_load_is_an_error_never_a_new_session() {
    let store = FlakyStore::new(MemoryStore::new());
    let manager = SessionManager::new(store.clone(), config().build().unwrap());
    let cookie = first_visit(&manager).await;
    store.set_failing(true);
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let failure = request.session().await.unwrap_err();
    assert!(matches!(
        failure,
        SessionError::Store(StoreError::Unavailable(_))
    ));
    assert_eq!(failure.status_code(), 503);
    assert_eq!(
        request.finish().await.unwrap().single(),
        None,
        "nothing to finish"
    );
    store.set_failing(false);
    let retry = request.session().await.unwrap();
    assert_eq!(retry.get::<u32>("count").unwrap(), Some(0));
}

#[tokio::test]
async fn a_failing_save_is_reported_and_sends_no_cookie() {
    let store = FlakyStore::new(MemoryStore::new());
    let manager = SessionManager::new(store.clone(), config().build().unwrap());
    let request = manager.begin([], RequestFacts::plain_http());
    request.session().await.unwrap().insert("a", 1).unwrap();
    store.set_failing(true);
    assert!(matches!(
        request.finish().await,
        Err(SessionError::Store(_))
    ));
}

#[tokio::test]
async fn an_expired_session_is_never_returned() {
    let (manager, _) = recording(config().max_age(Some(Duration::from_millis(300))));
    let cookie = first_visit(&manager).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    assert!(session.is_new());
    assert_eq!(session.get::<u32>("count").unwrap(), None);
}

#[tokio::test]
async fn a_colliding_custom_generator_retries_with_fresh_ids() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    // Ids: dup, dup, fresh-2, dup, fresh-4, ...: the second session collides once.
    let generator = IdGenerator::custom(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        if n < 2 || n == 3 {
            "dup-dup-dup-dup-dup-dup-dup".to_owned()
        } else {
            format!("fresh-fresh-fresh-fresh-{n}")
        }
    });
    let (manager, store) = recording(config().id_generator(generator));
    first_visit(&manager).await;
    let request = manager.begin([], RequestFacts::plain_http());
    request.session().await.unwrap().insert("x", 1).unwrap();
    let cookie = request.finish().await.unwrap().single().unwrap();
    assert!(cookie.contains("fresh-fresh-fresh-fresh-2"), "{cookie}");
    assert_eq!(store.take_kinds(), ["create", "create", "create"]);
}

#[tokio::test]
async fn a_constant_custom_generator_ends_in_a_typed_error() {
    let generator = IdGenerator::custom(|| "always-the-same-id-every-time".to_owned());
    let (manager, _) = recording(config().id_generator(generator));
    first_visit(&manager).await;
    let request = manager.begin([], RequestFacts::plain_http());
    request.session().await.unwrap().insert("x", 1).unwrap();
    assert!(matches!(
        request.finish().await,
        Err(SessionError::IdCollision(8))
    ));
}

#[tokio::test]
async fn debug_output_never_shows_a_whole_id() {
    let (manager, _) = recording(config());
    let request = manager.begin([], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    let id = session.id();
    for text in [
        format!("{session:?}"),
        format!("{request:?}"),
        format!("{manager:?}"),
    ] {
        assert!(!text.contains(id.as_str()), "{text}");
        assert!(!text.contains(SECRET), "{text}");
    }
}

#[tokio::test]
async fn finish_runs_once() {
    let (manager, store) = recording(config());
    let request = manager.begin([], RequestFacts::plain_http());
    request.session().await.unwrap().insert("a", 1).unwrap();
    assert!(request.finish().await.unwrap().single().is_some());
    assert_eq!(request.finish().await.unwrap().single(), None);
    assert_eq!(store.take_kinds(), ["create"]);
}

#[tokio::test]
async fn a_cookie_signed_with_an_old_secret_is_resigned_with_the_first_when_sent_again() {
    let old = "the previous secret, also thirty-two bytes";
    let old_only = SessionConfig::builder()
        .secret(old)
        .max_age(Some(Duration::from_secs(3600)));
    let before = SessionManager::new(MemoryStore::new(), old_only.build().unwrap());
    let cookie = first_visit(&before).await;
    let store = before.store().clone();
    let rotated = config().secrets([old]).build().unwrap();
    let after = SessionManager::with_shared_store(store, rotated);
    let request = after.begin([cookie.as_bytes()], RequestFacts::plain_http());
    request.session().await.unwrap().insert("count", 1).unwrap();
    let resent = cookie_pair(
        &request
            .finish()
            .await
            .unwrap()
            .single()
            .expect("modified: cookie re-sent"),
    );
    assert_ne!(resent, cookie, "re-signed with the first secret");
    let only_new = config().build().unwrap();
    let value = resent
        .split_once('=')
        .unwrap()
        .1
        .replace("%3A", ":")
        .replace("%2F", "/")
        .replace("%2B", "+");
    assert!(only_new.keyring().verify(&value).is_some());

    // A cookie signed with the first secret goes back unchanged.
    let request = after.begin([resent.as_bytes()], RequestFacts::plain_http());
    request.session().await.unwrap().insert("count", 2).unwrap();
    assert_eq!(
        cookie_pair(&request.finish().await.unwrap().single().unwrap()),
        resent
    );
}

/// A memory store that touches while it loads, as a remote store does to save a round trip.
#[derive(Clone)]
struct TouchingOnLoad(MemoryStore);

#[async_trait::async_trait]
impl crate::Store for TouchingOnLoad {
    async fn load(&self, id: &crate::SessionId) -> Result<Option<crate::Loaded>, StoreError> {
        self.0.load(id).await
    }
    async fn create(
        &self,
        id: &crate::SessionId,
        write: crate::Write<'_>,
    ) -> Result<crate::Created, StoreError> {
        self.0.create(id, write).await
    }
    async fn save(
        &self,
        id: &crate::SessionId,
        write: crate::Write<'_>,
        expected: &crate::Version,
    ) -> Result<crate::Saved, StoreError> {
        self.0.save(id, write, expected).await
    }
    async fn touch(
        &self,
        id: &crate::SessionId,
        at: std::time::SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.0.touch(id, at, owner).await
    }
    async fn delete(&self, id: &crate::SessionId) -> Result<(), StoreError> {
        self.0.delete(id).await
    }
    async fn sessions_of(&self, owner: &str) -> Result<Vec<crate::SessionId>, StoreError> {
        self.0.sessions_of(owner).await
    }
    async fn load_and_touch(
        &self,
        id: &crate::SessionId,
        _lifetimes: crate::Lifetimes,
    ) -> Result<Option<crate::Loaded>, StoreError> {
        Ok(self.0.load(id).await?.map(crate::Loaded::touched))
    }
}

#[tokio::test]
async fn a_touch_done_while_loading_is_not_repeated_at_the_end() {
    let store = RecordingStore::new(TouchingOnLoad(MemoryStore::new()));
    let manager = SessionManager::new(store.clone(), config().build().unwrap());
    let cookie = first_visit(&manager).await;
    store.take();

    // Read-only: one store operation in all.
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    request
        .session()
        .await
        .unwrap()
        .get::<u32>("count")
        .unwrap();
    assert_eq!(request.finish().await.unwrap().single(), None);
    assert_eq!(
        store.take_kinds(),
        ["load", "touch"],
        "touched once, while loading"
    );

    // A new lifetime needs its own touch.
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    request
        .session()
        .await
        .unwrap()
        .set_max_age(Some(Duration::from_secs(60)));
    request.finish().await.unwrap().single();
    assert_eq!(store.take_kinds(), ["load", "touch", "touch"]);

    // A write still saves.
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    request.session().await.unwrap().insert("count", 5).unwrap();
    request.finish().await.unwrap().single();
    assert_eq!(store.take_kinds(), ["load", "touch", "save"]);
}

mod cookie_mode;
mod integrity;
mod telemetry;

#[tokio::test]
async fn ids_hashed_at_rest_never_reach_the_store_and_everything_still_works() {
    let (manager, store) = recording(
        config()
            .user_key("user")
            .hash_ids_at_rest("a hash key of at least thirty-two bytes"),
    );
    let request = manager.begin([], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    session.insert("user", "ann").unwrap();
    let id = session.id();
    let cookie = cookie_pair(&request.finish().await.unwrap().single().unwrap());
    for call in store.take() {
        let stored = call.session_id().expect("an id");
        assert!(stored.as_str().starts_with('~'), "{stored:?}");
        assert!(!stored.as_str().contains(id.as_str()));
    }
    assert!(crate::Store::load(store.inner(), &id)
        .await
        .unwrap()
        .is_none());
    let again = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = again.session().await.unwrap();
    assert_eq!(
        session.get::<String>("user").unwrap().as_deref(),
        Some("ann")
    );
    assert_eq!(session.id(), id, "the cookie keeps the real id");
    again.finish().await.unwrap().single();
    assert_eq!(manager.revoke_sessions_of("ann").await.unwrap(), 1);
    let after = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    assert!(after.session().await.unwrap().is_new());
}

#[test]
fn an_id_hash_key_must_be_long() {
    assert!(matches!(
        config().hash_ids_at_rest("short").build(),
        Err(crate::ConfigError::HashKeyTooShort(5))
    ));
}

#[tokio::test]
async fn status_tells_where_the_session_stands() {
    use crate::Status;
    let (manager, _) = recording(config());
    let request = manager.begin([], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    assert_eq!(session.status(), Status::New);
    session.insert("count", 0).unwrap();
    assert_eq!(session.status(), Status::New, "new, even once written");
    let cookie = cookie_pair(&request.finish().await.unwrap().single().unwrap());
    type Act = fn(&crate::Session);
    let cases: [(Act, Status); 3] = [
        (|_| {}, Status::Unchanged),
        (|s| s.insert("count", 1).unwrap(), Status::Changed),
        (|s| s.unset(), Status::Unset),
    ];
    for (act, expected) in cases {
        let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
        let session = request.session().await.unwrap();
        act(&session);
        assert_eq!(session.status(), expected);
    }
    let request = manager.begin([cookie.as_bytes()], RequestFacts::plain_http());
    let session = request.session().await.unwrap();
    session.cycle_id().await.unwrap();
    assert_eq!(session.status(), Status::Regenerated);
    session.destroy().await.unwrap();
    assert_eq!(session.status(), Status::Destroyed);
}

#[tokio::test]
async fn remove_is_typed_and_entries_keep_the_order() {
    let (manager, _) = recording(config());
    let session = manager
        .begin([], RequestFacts::plain_http())
        .session()
        .await
        .unwrap();
    session.insert("b", 2).unwrap();
    session.insert("a", "text").unwrap();
    assert_eq!(
        session.entries(),
        [
            ("b".to_owned(), serde_json::json!(2)),
            ("a".to_owned(), serde_json::json!("text"))
        ]
    );
    assert!(matches!(
        session.remove::<u32>("a"),
        Err(SessionError::Value(_))
    ));
    assert!(
        !session.contains_key("a"),
        "removed even when it does not convert"
    );
    assert_eq!(session.remove::<u32>("b").unwrap(), Some(2));
    assert_eq!(session.remove::<u32>("b").unwrap(), None);
}
