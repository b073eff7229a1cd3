//! Merging a request's own changes into a record that another writer changed meanwhile: the
//! policy behind [`ConflictPolicy`], as one pure function tested row by row.

use serde_json::{Map, Value};

use crate::ConflictPolicy;

/// The data a request loaded (`base`), what it has now (`ours`) and what the store holds now
/// (`theirs`, written by another request or process since `base` was read).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sides<'a> {
    pub(crate) base: &'a Map<String, Value>,
    pub(crate) ours: &'a Map<String, Value>,
    pub(crate) theirs: &'a Map<String, Value>,
}

/// `theirs` with this request's own changes applied: every key it inserted, changed or removed
/// since `base`. Keys only the other writer changed keep its values. A key both changed is
/// decided by `policy`: ours wins, or `Err(key)`.
pub(crate) fn merge(
    sides: Sides<'_>,
    policy: ConflictPolicy,
) -> Result<Map<String, Value>, String> {
    let Sides { base, ours, theirs } = sides;
    let they_changed = |key: &str| theirs.get(key) != base.get(key);
    let mut merged = theirs.clone();
    for (key, value) in ours {
        if base.get(key) == Some(value) {
            continue;
        }
        if they_changed(key) && policy == ConflictPolicy::Reject {
            return Err(key.clone());
        }
        merged.insert(key.clone(), value.clone());
    }
    for key in base.keys().filter(|key| !ours.contains_key(*key)) {
        if they_changed(key) && policy == ConflictPolicy::Reject {
            return Err(key.clone());
        }
        merged.shift_remove(key);
    }
    Ok(merged)
}

/// [`merge`] under [`ConflictPolicy::LastWriterWins`], which never refuses: this request's
/// changes win over the other writer's.
pub(crate) fn ours_win(sides: Sides<'_>) -> Map<String, Value> {
    // Only `Reject` returns `Err`; `theirs` would be the answer if it ever did.
    merge(sides, ConflictPolicy::LastWriterWins).unwrap_or_else(|_| sides.theirs.clone())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    fn run(
        base: Value,
        ours: Value,
        theirs: Value,
        policy: ConflictPolicy,
    ) -> Result<Value, String> {
        let (base, ours, theirs) = (map(base), map(ours), map(theirs));
        merge(
            Sides {
                base: &base,
                ours: &ours,
                theirs: &theirs,
            },
            policy,
        )
        .map(Value::Object)
    }

    const LWW: ConflictPolicy = ConflictPolicy::LastWriterWins;
    const REJECT: ConflictPolicy = ConflictPolicy::Reject;

    #[test]
    fn changes_to_different_keys_both_persist() {
        for policy in [LWW, REJECT] {
            let merged = run(
                json!({"a": 1, "b": 1, "gone": 1, "kept": 1}),
                json!({"a": 2, "b": 1, "kept": 1, "new": 1}),
                json!({"a": 1, "b": 5, "gone": 1, "kept": 1, "theirs": 1}),
                policy,
            );
            assert_eq!(
                merged,
                Ok(json!({"a": 2, "b": 5, "kept": 1, "theirs": 1, "new": 1})),
                "{policy:?}"
            );
        }
    }

    #[test]
    fn keys_only_they_changed_or_removed_keep_their_state() {
        let merged = run(
            json!({"user": "ann", "n": 1}),
            json!({"user": "ann", "n": 2}),
            json!({"n": 1}),
            REJECT,
        );
        assert_eq!(merged, Ok(json!({"n": 2})), "their logout of `user` stays");
    }

    #[test]
    fn the_same_key_is_ours_under_last_writer_wins() {
        let merged = run(json!({"n": 1}), json!({"n": 2}), json!({"n": 7}), LWW);
        assert_eq!(merged, Ok(json!({"n": 2})));
        let removed = run(json!({"n": 1}), json!({}), json!({"n": 7}), LWW);
        assert_eq!(removed, Ok(json!({})));
    }

    #[test]
    fn the_same_key_is_refused_under_reject_even_with_equal_values() {
        // Two increments of 1 to 2: equal values, but one increment would be lost.
        assert_eq!(
            run(json!({"n": 1}), json!({"n": 2}), json!({"n": 2}), REJECT),
            Err("n".to_owned())
        );
        assert_eq!(
            run(json!({"n": 1}), json!({}), json!({"n": 7}), REJECT),
            Err("n".to_owned())
        );
        assert_eq!(
            run(json!({}), json!({"n": 0}), json!({"n": 0}), REJECT),
            Err("n".to_owned()),
            "both added it"
        );
    }

    #[test]
    fn nothing_of_ours_changed_gives_theirs() {
        let theirs = json!({"z": 1, "a": 2});
        assert_eq!(
            run(json!({"a": 1}), json!({"a": 1}), theirs.clone(), REJECT),
            Ok(theirs)
        );
    }
}
