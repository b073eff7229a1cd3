use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;
use crate::Record;

/// A record whose `cookie` object is empty, followed by `members` as written.
fn record_json(members: &str) -> String {
    format!("{{\"cookie\":{{}}{members}}}")
}

/// What the general reader makes of `json`.
fn general(json: &str) -> Option<Record> {
    Record::from_any_json(json).ok()
}

/// The members as serde writes the map, each after a comma.
fn serde_members(data: &Map<String, Value>) -> String {
    let object = serde_json::to_string(data).expect("a map serializes");
    match object.strip_prefix('{').and_then(|o| o.strip_suffix('}')) {
        Some("") => String::new(),
        Some(inner) => format!(",{inner}"),
        None => unreachable!("serde writes an object"),
    }
}

#[test]
fn reads_plain_members() {
    let json = record_json(r#","count":12,"user":"alice","admin":false,"note":null"#);
    let direct = super::super::read(&json).expect("the canonical shape");
    assert_eq!(Some(direct.clone()), general(&json));
    let expected = json!({"count": 12, "user": "alice", "admin": false, "note": null});
    assert_eq!(Value::Object(direct.data), expected);
    assert!(read(r#""count":0}"#).is_some());
}

#[test]
fn leaves_every_other_member_to_serde() {
    for other in [
        r#""n":-1}"#,
        r#""n":1.5}"#,
        r#""n":1e3}"#,
        r#""n":01}"#,
        r#""n":1234567890123456}"#,
        r#""n":[1]}"#,
        r#""n":{}}"#,
        r#""n":"\u0061"}"#,
        r#""n":"é"}"#,
        r#""n\"":1}"#,
        r#""n":1,"n":2}"#,
        r#""id":1}"#,
        r#""__createdAt":1}"#,
        r#""cookie":{}}"#,
        r#""n": 1}"#,
        r#""n":1 }"#,
        r#""n":1}x"#,
        r#""n":1,}"#,
        r#""n":tru}"#,
        r#""n":truex}"#,
        r#""n":"#,
    ] {
        assert_eq!(read(other), None, "{other}");
    }
}

#[test]
fn writes_plain_members_and_leaves_the_rest_to_serde() {
    let plain = json!({"count": 3, "user": "bob", "ok": true, "none": null});
    let Value::Object(plain) = plain else {
        unreachable!()
    };
    let mut json = Vec::new();
    assert!(write(&mut json, &plain));
    assert_eq!(
        String::from_utf8(json).unwrap(),
        format!("{}}}", serde_members(&plain))
    );
    for other in [
        json!({"n": -1}),
        json!({"n": 1.5}),
        json!({"n": [1]}),
        json!({"n": "é"}),
        json!({"n\"": 1}),
        json!({"cookie": 1}),
        json!({"n": 1_000_000_000_000_000_u64}),
    ] {
        let Value::Object(other) = other else {
            unreachable!()
        };
        let mut json = Vec::new();
        assert!(!write(&mut json, &other), "{other:?}");
        assert!(json.is_empty());
    }
}

/// Any JSON value a session might hold, plain or not.
fn any_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        (0_u64..1000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,8}".prop_map(Value::from),
        "\\PC{0,4}".prop_map(Value::from),
    ];
    scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{1,3}", inner), 0..3)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,6}",
        "[ -~]{0,6}",
        "\\PC{1,3}",
        Just("id".to_owned()),
        Just("__createdAt".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn reads_as_the_general_reader_reads(
        members in proptest::collection::vec((any_key(), any_value()), 1..5),
    ) {
        // Written member by member, so that a key may repeat as it may in stored JSON.
        let written: Vec<String> = members
            .iter()
            .map(|(key, value)| format!(",{}:{value}", Value::from(key.as_str())))
            .collect();
        let json = record_json(&written.concat());
        if let Some(direct) = super::super::read(&json) {
            prop_assert_eq!(Some(direct), general(&json), "{}", json);
        }
    }

    #[test]
    fn reads_every_plain_record_directly(
        members in proptest::collection::btree_map(
            "[a-z]{1,6}",
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                (0_u64..1_000_000_000_000).prop_map(Value::from),
                "[ -~]{0,8}".prop_map(Value::from),
            ],
            1..5,
        ),
    ) {
        let data: Map<String, Value> = members
            .into_iter()
            .filter(|(key, _)| !is_reserved(key))
            .collect();
        let json = record_json(&serde_members(&data));
        let direct = super::super::read(&json);
        prop_assert!(direct.is_some(), "{}", json);
        prop_assert_eq!(direct.map(|record| record.data), Some(data));
    }

    #[test]
    fn writes_as_serde_writes(
        members in proptest::collection::vec((any_key(), any_value()), 0..5),
    ) {
        let data: Map<String, Value> = members.into_iter().collect();
        let mut json = Vec::new();
        if write(&mut json, &data) {
            prop_assert_eq!(
                String::from_utf8(json).expect("UTF-8"),
                format!("{}}}", serde_members(&data))
            );
        } else {
            prop_assert!(json.is_empty());
        }
    }
}
