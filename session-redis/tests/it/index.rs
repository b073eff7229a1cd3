//! The user index ("log out everywhere"): one sorted set per user, outside the session
//! prefix, that forgets sessions as they expire and vanishes with the last one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::prelude::{Client, ClientLike, KeysInterface, SortedSetsInterface};
use serde_json::json;
use session_core::Store;

use crate::support::{
    admin, clean, create, in_an_hour, new_id, record, shared_url, store, unique_prefix,
};

async fn scan(client: &Client, pattern: String) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor = "0".to_owned();
    loop {
        let (next, keys): (String, Vec<String>) = client
            .scan_page(cursor, pattern.clone(), Some(1000), None)
            .await
            .expect("scan");
        found.extend(keys);
        if next == "0" {
            return found;
        }
        cursor = next;
    }
}

async fn key_type(client: &Client, key: &str) -> String {
    client
        .custom(
            fred::types::CustomCommand::new_static("TYPE", None::<u16>, false),
            vec![key],
        )
        .await
        .expect("TYPE")
}

/// connect-redis's `all()`, `length()` and `clear()` scan `prefix*` and parse every value as
/// a session: the index key never matches, and it scores each session by its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_is_a_sorted_set_outside_the_session_prefix() {
    let Some(url) = shared_url("the_index_is_a_sorted_set_outside_the_session_prefix") else {
        return;
    };
    let prefix = unique_prefix("index-key");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    let (a1, a2, anonymous) = (new_id(), new_id(), new_id());
    let data = record(json!({"user": "ann"}));
    let deadline = in_an_hour();
    create(&store, &a1, &data, deadline, Some("ann")).await;
    create(&store, &a2, &data, deadline, Some("ann")).await;
    create(&store, &anonymous, &data, deadline, None).await;

    let mut sessions = scan(&client, format!("{prefix}*")).await;
    sessions.sort();
    let mut expected = [store.key(&a1), store.key(&a2), store.key(&anonymous)];
    expected.sort();
    assert_eq!(sessions, expected, "SCAN prefix* finds the sessions only");
    for key in &sessions {
        assert_eq!(key_type(&client, key).await, "string");
    }

    let index = store.user_index_key("ann");
    assert_eq!(index, format!("users:{prefix}ann"));
    assert_eq!(key_type(&client, &index).await, "zset");
    let score: f64 = client.zscore(&index, a1.as_str()).await.expect("ZSCORE");
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    assert_eq!(score as u128, deadline_ms);
    let left: i64 = client.pttl(&index).await.expect("PTTL");
    let expected_left = deadline
        .duration_since(SystemTime::now())
        .expect("later")
        .as_millis();
    assert!(
        (left as u128).abs_diff(expected_left) < 2_000,
        "the index expires with its last session: {left} ms left, not {expected_left}"
    );
    let mut listed = store.sessions_of("ann").await.expect("listing");
    listed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut both = [a1, a2];
    both.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(listed, both);
    clean(&url, &prefix).await;
}

/// A listing forgets a session once its deadline passed, keeps one whose touch (with the
/// owner) moved it, and a user's index key vanishes with the user's last session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_of_forgets_expired_sessions_and_the_index_goes_with_the_last() {
    let test = "sessions_of_forgets_expired_sessions_and_the_index_goes_with_the_last";
    let Some(url) = shared_url(test) else {
        return;
    };
    let prefix = unique_prefix("index-expiry");
    let (store, client) = (store(&url, &prefix), admin(&url).await);
    let (expiring, kept, bobs) = (new_id(), new_id(), new_id());
    let data = record(json!({"n": 1}));
    let soon = SystemTime::now() + Duration::from_millis(1_200);
    create(&store, &expiring, &data, soon, Some("ann")).await;
    create(&store, &kept, &data, soon, Some("ann")).await;
    create(&store, &bobs, &data, soon, Some("bob")).await;
    assert!(store
        .touch(&kept, in_an_hour(), Some("ann"))
        .await
        .expect("touch"));
    assert_eq!(store.sessions_of("bob").await.expect("listing"), [bobs]);

    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(
        store.sessions_of("ann").await.expect("listing"),
        std::slice::from_ref(&kept)
    );
    assert!(store.sessions_of("bob").await.expect("listing").is_empty());
    let bob_index: i64 = client
        .exists(store.user_index_key("bob"))
        .await
        .expect("EXISTS");
    assert_eq!(bob_index, 0, "an index outlived its last session");
    // The next entry under ann drops the expired one from the set itself.
    let late = new_id();
    create(&store, &late, &data, in_an_hour(), Some("ann")).await;
    let members: i64 = client
        .zcard(store.user_index_key("ann"))
        .await
        .expect("ZCARD");
    assert_eq!(members, 2, "kept and late; the expired entry was removed");
    clean(&url, &prefix).await;
}
