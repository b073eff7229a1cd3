use super::*;

fn live() -> (Near, u64) {
    on(NearCache::new(), ScriptWrites::Invalidated)
}

fn on(config: NearCache, script_writes: ScriptWrites) -> (Near, u64) {
    let near = Near::new(config);
    let epoch = near.new_connection();
    near.tracking_on(epoch, script_writes);
    (near, epoch)
}

fn fill(bytes: &'static str, ttl: Duration) -> Fill {
    Fill {
        bytes: Bytes::from_static(bytes.as_bytes()),
        version: Version::from_u64(bytes.len() as u64),
        ttl: Some(ttl),
        source: Source::Read,
    }
}

fn saved(bytes: &'static str) -> Fill {
    Fill {
        source: Source::Script,
        ..fill(bytes, MINUTE)
    }
}

fn held(near: &Near, key: &str) -> Option<Bytes> {
    near.get(key, Instant::now()).map(|held| held.bytes)
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn a_fill_lands_only_while_its_reservation_stands() {
    let (near, _) = live();
    let ticket = near.reserve("k", Source::Read).expect("tracking is on");
    near.fill("k", ticket, Instant::now(), fill("v1", MINUTE));
    assert_eq!(
        &near.get("k", Instant::now()).expect("filled").bytes[..],
        b"v1"
    );

    // An invalidation between the command and its reply: the reply is not kept.
    let ticket = near.reserve("k", Source::Read).expect("tracking is on");
    near.invalidated("k");
    near.fill("k", ticket, Instant::now(), fill("v2", MINUTE));
    assert!(near.get("k", Instant::now()).is_none());

    // A delete by this process between the command and its reply.
    let ticket = near.reserve("k", Source::Read).expect("tracking is on");
    near.forget("k");
    near.fill("k", ticket, Instant::now(), fill("v2", MINUTE));
    assert!(near.get("k", Instant::now()).is_none());

    // An invalidation after the fill drops the value.
    let ticket = near.reserve("k", Source::Read).expect("tracking is on");
    near.fill("k", ticket, Instant::now(), fill("v3", MINUTE));
    assert_eq!(held(&near, "k").as_deref(), Some(&b"v3"[..]));
    near.invalidated("k");
    assert!(held(&near, "k").is_none());

    // A later reservation of the key (a save) wins over an earlier one.
    let first = near.reserve("k", Source::Read).expect("tracking is on");
    let second = near.reserve("k", Source::Script).expect("tracking is on");
    near.fill("k", first, Instant::now(), fill("old", MINUTE));
    assert!(near.get("k", Instant::now()).is_none());
    near.fill("k", second, Instant::now(), saved("new"));
    assert_eq!(
        &near.get("k", Instant::now()).expect("filled").bytes[..],
        b"new"
    );
}

#[test]
fn nothing_is_kept_or_served_without_tracking_in_the_current_epoch() {
    let near = Near::new(NearCache::new());
    assert!(
        near.reserve("k", Source::Read).is_none(),
        "tracking never turned on"
    );
    let epoch = near.new_connection();
    assert!(
        near.reserve("k", Source::Read).is_none(),
        "tracking not yet on"
    );
    near.tracking_on(epoch, ScriptWrites::Spared);
    let ticket = near.reserve("k", Source::Read).expect("tracking is on");
    // A reconnection while the command was on its way.
    let next = near.new_connection();
    near.fill("k", ticket, Instant::now(), fill("v", MINUTE));
    near.tracking_on(next, ScriptWrites::Spared);
    assert!(near.get("k", Instant::now()).is_none());
    // Tracking confirmed for a connection that has since been replaced changes nothing.
    let newest = near.new_connection();
    near.tracking_on(next, ScriptWrites::Spared);
    assert!(near.reserve("k", Source::Read).is_none());
    near.tracking_on(newest, ScriptWrites::Spared);
    assert!(near.reserve("k", Source::Read).is_some());
}

#[test]
fn dropping_everything_keeps_tracking_but_not_the_entries() {
    let (near, _) = live();
    let held = near.reserve("a", Source::Read).expect("on");
    near.fill("a", held, Instant::now(), fill("v", MINUTE));
    let pending = near.reserve("b", Source::Read).expect("on");
    near.drop_all();
    near.fill("b", pending, Instant::now(), fill("v", MINUTE));
    assert!(near.get("a", Instant::now()).is_none());
    assert!(near.get("b", Instant::now()).is_none());
    let again = near.reserve("a", Source::Read).expect("tracking stays on");
    near.fill("a", again, Instant::now(), fill("v", MINUTE));
    assert!(near.get("a", Instant::now()).is_some());
}

#[test]
fn an_entry_is_served_only_before_its_deadline_and_its_max_age() {
    let (near, _) = on(
        NearCache::new().max_age(Duration::from_secs(10)),
        ScriptWrites::Spared,
    );
    let now = Instant::now();
    let ticket = near.reserve("short", Source::Read).expect("on");
    near.fill(
        "short",
        ticket,
        Instant::now(),
        fill("v", Duration::from_secs(2)),
    );
    assert!(near.get("short", now).is_some());
    let held = near.get("short", now).expect("served");
    assert!(held.pttl_ms(now) <= 2_000);
    assert!(near.get("short", now + Duration::from_secs(3)).is_none());

    let ticket = near.reserve("long", Source::Read).expect("on");
    near.fill("long", ticket, Instant::now(), fill("v", MINUTE));
    assert!(near.get("long", now + Duration::from_secs(9)).is_some());
    assert!(near.get("long", now + Duration::from_secs(11)).is_none());
}

#[test]
fn a_reservation_dropped_unfilled_frees_its_slot_only() {
    let (near, _) = live();
    {
        let _unused = Reservation::new(&near, "k", Source::Script).expect("on");
    }
    assert!(near.shard("k").is_empty());
    let stale = Reservation::new(&near, "k", Source::Script).expect("on");
    let current = Reservation::new(&near, "k", Source::Script).expect("on");
    drop(stale);
    current.fill(fill("v", MINUTE));
    assert!(near.get("k", Instant::now()).is_some());
}

#[test]
fn the_cache_stays_within_its_capacity() {
    let (near, _) = on(
        NearCache::new().capacity_bytes(16 * 1_000),
        ScriptWrites::Spared,
    );
    for n in 0..1_000 {
        let key = format!("sess:{n}");
        let ticket = near.reserve(&key, Source::Read).expect("on");
        near.fill(
            &key,
            ticket,
            Instant::now(),
            fill("a value of some length", MINUTE),
        );
        let held = near.get(&key, Instant::now());
        assert!(held.is_some(), "the newest entry is kept");
    }
    let total: u64 = near
        .shards
        .iter()
        .map(|shard| shard.lock().expect("not poisoned").bytes())
        .sum();
    assert!(total <= 16 * 1_000, "{total}");
    assert!(near.len() > 20 && near.len() < 1_000, "{}", near.len());
}

#[test]
fn pttl_replies_become_fill_ttls() {
    assert_eq!(ttl_of_pttl(1_500), Some(Some(Duration::from_millis(1_500))));
    assert_eq!(ttl_of_pttl(-1), Some(None));
    assert_eq!(ttl_of_pttl(-2), None);
    assert_eq!(seconds(-5), Duration::ZERO);
}

#[test]
fn a_saves_value_outlives_the_saves_own_invalidation_only() {
    let (near, _) = live();
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.fill("k", ticket, Instant::now(), saved("mine"));
    near.invalidated("k");
    assert_eq!(held(&near, "k").as_deref(), Some(&b"mine"[..]), "its own");
    near.invalidated("k");
    assert!(held(&near, "k").is_none(), "another process's write");

    // The save's own invalidation handled before the reply was: the value is kept, and the
    // next invalidation drops it.
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.invalidated("k");
    near.fill("k", ticket, Instant::now(), saved("mine"));
    assert!(held(&near, "k").is_some());
    near.invalidated("k");
    assert!(held(&near, "k").is_none());

    // Two invalidations before the reply: one could be of a change after the save.
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.invalidated("k");
    near.invalidated("k");
    near.fill("k", ticket, Instant::now(), saved("mine"));
    assert!(held(&near, "k").is_none());
    assert!(near.shard("k").is_empty(), "the reservation is given back");
}

#[test]
fn an_owed_invalidation_outlives_the_next_reservation() {
    let (near, _) = live();
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.fill("k", ticket, Instant::now(), saved("mine"));
    // The next request loads from the cache and saves before the first save's own
    // invalidation is handled.
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.invalidated("k");
    near.fill("k", ticket, Instant::now(), saved("next"));
    assert_eq!(held(&near, "k").as_deref(), Some(&b"next"[..]));
    near.invalidated("k");
    assert_eq!(
        held(&near, "k").as_deref(),
        Some(&b"next"[..]),
        "the second save's own"
    );
    near.invalidated("k");
    assert!(held(&near, "k").is_none(), "another process's write");
}

#[test]
fn where_saves_cause_no_invalidation_any_invalidation_drops_their_value() {
    let (near, _) = on(NearCache::new(), ScriptWrites::Spared);
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.fill("k", ticket, Instant::now(), saved("mine"));
    assert!(held(&near, "k").is_some());
    near.invalidated("k");
    assert!(held(&near, "k").is_none());
}

#[test]
fn a_save_fills_nothing_while_the_servers_script_writes_are_unknown() {
    let (near, _) = on(NearCache::new(), ScriptWrites::Unknown);
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.fill("k", ticket, Instant::now(), saved("mine"));
    assert!(held(&near, "k").is_none());
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.fill("k", ticket, Instant::now(), fill("read", MINUTE));
    assert!(held(&near, "k").is_some(), "reads still fill");
}

fn invalidation(keys: &[&str]) -> Invalidation {
    Invalidation {
        keys: keys.iter().map(|key| (*key).into()).collect(),
        server: fred::types::config::Server::new("127.0.0.1", 6379),
    }
}

#[test]
fn a_lookup_first_applies_the_invalidations_the_client_received() {
    let (near, _) = on(NearCache::new(), ScriptWrites::Spared);
    let (sender, receiver) = tokio::sync::broadcast::channel(4);
    near.listen(receiver);
    for key in ["a", "b"] {
        let ticket = near.reserve(key, Source::Read).expect("on");
        near.fill(key, ticket, Instant::now(), fill("v", MINUTE));
    }
    sender
        .send(invalidation(&["a", "not-cached"]))
        .expect("listened");
    assert!(held(&near, "a").is_none(), "applied before the lookup");
    assert!(held(&near, "b").is_some());

    // More than the channel holds: everything goes, tracking stays.
    for _ in 0..6 {
        sender.send(invalidation(&["x"])).expect("listened");
    }
    assert!(held(&near, "b").is_none());
    let ticket = near.reserve("b", Source::Read).expect("tracking stays on");
    near.fill("b", ticket, Instant::now(), fill("v", MINUTE));
    assert!(held(&near, "b").is_some());

    // The client quit: nothing is served or filled any more.
    drop(sender);
    assert!(held(&near, "b").is_none());
    assert!(near.reserve("b", Source::Read).is_none());
}

#[test]
fn the_value_before_a_save_is_served_until_the_save_lands_or_an_invalidation_comes() {
    let (near, _) = live();
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.fill("k", ticket, Instant::now(), fill("v1", MINUTE));
    let save = near.reserve("k", Source::Read).expect("on");
    assert_eq!(
        held(&near, "k").as_deref(),
        Some(&b"v1"[..]),
        "while the save is out"
    );
    near.fill("k", save, Instant::now(), saved("v2"));
    assert_eq!(held(&near, "k").as_deref(), Some(&b"v2"[..]));

    let save = Reservation::new(&near, "k", Source::Script).expect("on");
    let bytes = near.shard("k").bytes();
    near.invalidated("k"); // the save of v2's own
    assert_eq!(held(&near, "k").as_deref(), Some(&b"v2"[..]));
    near.invalidated("k"); // another process's write
    assert!(held(&near, "k").is_none());
    assert!(
        near.shard("k").bytes() < bytes,
        "the value is no longer counted"
    );
    drop(save);
    assert!(near.shard("k").is_empty());
    assert_eq!(near.shard("k").bytes(), 0);

    // A save that failed: what it did is unknown, so the value before it goes.
    let ticket = near.reserve("k", Source::Read).expect("on");
    near.fill("k", ticket, Instant::now(), fill("v3", MINUTE));
    drop(Reservation::new(&near, "k", Source::Script).expect("on"));
    assert!(held(&near, "k").is_none());
    assert_eq!(near.shard("k").bytes(), 0);
}

#[test]
fn a_read_leaves_a_slot_that_a_write_reserved_alone() {
    let (near, _) = live();
    let save = near.reserve("k", Source::Script).expect("on");
    assert!(
        near.reserve("k", Source::Read).is_none(),
        "the save's reply is newer"
    );
    near.fill("k", save, Instant::now(), saved("mine"));
    assert_eq!(held(&near, "k").as_deref(), Some(&b"mine"[..]));
    let read = near.reserve("k", Source::Read).expect("nothing on its way");
    assert!(near.reserve("k", Source::Read).is_none());
    let write = near
        .reserve("k", Source::Script)
        .expect("a write always takes the slot");
    near.fill("k", read, Instant::now(), fill("old", MINUTE));
    near.fill("k", write, Instant::now(), saved("new"));
    assert_eq!(held(&near, "k").as_deref(), Some(&b"new"[..]));
}

#[test]
fn the_oldest_entries_go_first_and_the_eviction_order_stays_bounded() {
    // One shard's worth of room for about ten entries.
    let (near, _) = on(
        NearCache::new().capacity_bytes(16 * 10 * 300),
        ScriptWrites::Spared,
    );
    let keys: Vec<String> = (0..2_000).map(|n| format!("sess:{n}")).collect();
    for key in &keys {
        let ticket = near.reserve(key, Source::Read).expect("on");
        near.fill(key, ticket, Instant::now(), fill("a value", MINUTE));
    }
    let kept: Vec<usize> = (0..keys.len())
        .filter(|&n| held(&near, &keys[n]).is_some())
        .collect();
    // About ten per shard are kept, and only from the newest few hundred.
    assert!((16..=16 * 12).contains(&kept.len()), "{}", kept.len());
    assert!(held(&near, &keys[keys.len() - 1]).is_some());
    assert!(kept.iter().all(|&n| n >= keys.len() - 500), "{kept:?}");
    // Refilling and invalidating one key many times leaves the order bounded.
    for _ in 0..1_000 {
        let ticket = near.reserve("again", Source::Read).expect("on");
        near.fill("again", ticket, Instant::now(), fill("a value", MINUTE));
        near.invalidated("again");
    }
    let longest = near
        .shards
        .iter()
        .map(|shard| shard.lock().expect("not poisoned").order_len())
        .max();
    assert!(longest < Some(200), "{longest:?}");
}
