use std::sync::Arc;

use super::{Lookup, Registry};

fn found(lookup: Lookup) -> bool {
    matches!(lookup, Lookup::Found(_))
}

#[test]
fn a_registration_is_found_until_it_is_dropped() {
    let registry = Arc::new(Registry::default());
    assert!(matches!(registry.lookup(), Lookup::Missing));
    let registration = registry.register();
    let Lookup::Found(slot) = registry.lookup() else {
        panic!("registered slot not found");
    };
    assert!(Arc::ptr_eq(&slot, &registration.slot));
    drop(registration);
    assert!(matches!(registry.lookup(), Lookup::Missing));
    assert_eq!(registry.len(), 0);
}

#[test]
fn two_registrations_in_one_task_are_ambiguous_until_both_end() {
    let registry = Arc::new(Registry::default());
    let first = registry.register();
    let second = registry.register();
    assert!(matches!(registry.lookup(), Lookup::Ambiguous));
    drop(first);
    assert!(
        matches!(registry.lookup(), Lookup::Ambiguous),
        "the survivor cannot tell which slot it was given"
    );
    drop(second);
    assert!(matches!(registry.lookup(), Lookup::Missing));
    assert!(found({
        let _third = registry.register();
        registry.lookup()
    }));
    assert_eq!(registry.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_task_sees_its_own_slot() {
    let registry = Arc::new(Registry::default());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let registry = registry.clone();
            tokio::spawn(async move {
                let registration = registry.register();
                tokio::task::yield_now().await;
                let Lookup::Found(slot) = registry.lookup() else {
                    return false;
                };
                Arc::ptr_eq(&slot, &registration.slot)
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.expect("task"), "a task saw another task's slot");
    }
    assert_eq!(registry.len(), 0);
}

#[test]
fn registries_are_independent() {
    let (one, two) = (Arc::new(Registry::default()), Arc::new(Registry::default()));
    let _registration = one.register();
    assert!(found(one.lookup()));
    assert!(matches!(two.lookup(), Lookup::Missing));
}
