//! The generators of the property tests: cookie headers with a session cookie among other
//! cookies, session JSON as Node writes it and as nobody should, and configurations with a
//! browser's requests.

use std::time::Duration;

use proptest::{collection::vec, option, prelude::*};
use serde_json::{Map, Number, Value};
use session_core::{ConflictPolicy, Priority, SameSite, Secure, Unset};

use super::{
    cookie_header::{CookieCase, Planted, Signer},
    set_cookie::{Action, ConfigPlan, SetCookieCase},
};

/// 100 years, the longest lifetime a configuration accepts.
const CENTURY_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

/// Secrets of any bytes, short ones included.
pub(crate) fn secrets() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(any::<u8>(), 1..40), 1..4)
}

/// A cookie name: the default, one with a prefix browsers police, or any RFC 7230 token.
pub(crate) fn cookie_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("connect.sid".to_owned()),
        1 => Just("__Host-sid".to_owned()),
        4 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
    ]
}

/// Text for a cookie value or an id: mostly printable, sometimes anything.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::string::string_regex(&format!("[ -~]{{0,{max}}}")).expect("regex"),
        1 => vec(any::<char>(), 0..max).prop_map(String::from_iter),
    ]
}

/// One `Cookie` header value: pairs (some named like the session cookie, some not pairs at
/// all, some not UTF-8) joined by `;`.
fn header(name: String) -> impl Strategy<Value = Vec<u8>> {
    let decoy = name.clone();
    let pair = prop_oneof![
        4 => ("[A-Za-z0-9._-]{1,8}", text(16)).prop_map(|(n, v)| format!("{n}={v}").into_bytes()),
        1 => text(16).prop_map(move |v| format!("{decoy}={v}").into_bytes()),
        1 => Just(format!(" {name} =s%3Aforged.AAAA")).prop_map(String::into_bytes),
        1 => vec(any::<u8>(), 0..16)
            .prop_map(|bytes| bytes.into_iter().filter(|&b| b != b';').collect()),
    ];
    (vec(pair, 0..5), any::<bool>()).prop_map(|(pairs, spaced)| {
        let separator: &[u8] = if spaced { b"; " } else { b";" };
        pairs.join(separator)
    })
}

/// A cookie name with headers around a planted session cookie.
pub(crate) fn cookie_case() -> impl Strategy<Value = CookieCase> {
    (secrets(), cookie_name()).prop_flat_map(|(secrets, name)| {
        let signer = prop_oneof![
            3 => (0..4usize).prop_map(Signer::Configured),
            1 => vec(any::<u8>(), 1..40).prop_map(Signer::Other),
        ];
        let id = prop_oneof![
            Just("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg".to_owned()),
            text(40),
        ];
        let planted = (
            id,
            signer,
            0..6usize,
            0..6usize,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(id, signer, header, after_pairs, padded, quoted, lowercase_hex)| Planted {
                    id,
                    signer,
                    header,
                    after_pairs,
                    padded,
                    quoted,
                    lowercase_hex,
                },
            );
        (vec(header(name.clone()), 0..4), planted).prop_map(move |(headers, planted)| CookieCase {
            secrets: secrets.clone(),
            name: name.clone(),
            headers,
            planted,
        })
    })
}

/// Any header bytes.
pub(crate) fn raw_headers() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(any::<u8>(), 0..96), 0..4)
}

/// Numbers that are hard to write back: huge, tiny, negative, fractional.
fn number() -> impl Strategy<Value = Value> {
    let float = prop_oneof![
        Just(1e300),
        Just(-1e300),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(-0.0),
        Just(1e15),
        Just(0.5),
        any::<f64>(),
    ];
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float.prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
}

/// An ISO 8601 date as Node writes it, or one that is almost: any year, out-of-range fields,
/// any number of fraction digits, an offset.
fn date_text() -> impl Strategy<Value = String> {
    (
        (0..=9999u32, 0..14u32, 0..33u32),
        (0..25u32, 0..61u32, 0..62u32),
        "(\\.[0-9]{1,10})?",
        prop_oneof![Just("Z"), Just(""), Just("+01:30"), Just("-00:00")],
    )
        .prop_map(|((y, mo, d), (h, mi, s), fraction, zone)| {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}")
        })
}

/// Any JSON scalar, dates and numbers that are hard to write back included.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text(24).prop_map(Value::String),
        date_text().prop_map(Value::String),
    ]
}

/// Any JSON value of a few levels.
pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((text(8), inner), 0..4).prop_map(|entries| Value::Object(Map::from_iter(entries))),
        ]
    })
}

/// A value for a field of the `cookie` object: one of the field's plausible values, or
/// anything.
fn cookie_field(field: &'static str) -> impl Strategy<Value = Value> {
    let plausible: BoxedStrategy<Value> = match field {
        "originalMaxAge" => prop_oneof![number(), Just(Value::Null)].boxed(),
        "expires" => prop_oneof![
            date_text().prop_map(Value::String),
            number(),
            Just(Value::Null)
        ]
        .boxed(),
        "sameSite" => prop_oneof![
            Just(Value::Bool(true)),
            Just(Value::Bool(false)),
            "(strict|lax|none|LAX|Strict|x)".prop_map(Value::String),
        ]
        .boxed(),
        "priority" => "(low|medium|high|HIGH|x)".prop_map(Value::String).boxed(),
        "domain" | "path" => text(16).prop_map(Value::String).boxed(),
        _ => any::<bool>().prop_map(Value::Bool).boxed(),
    };
    prop_oneof![4 => plausible, 1 => json_value()]
}

/// A `cookie` object: any subset of Node's fields, in any order, sometimes with an unknown
/// one.
fn cookie_object() -> impl Strategy<Value = String> {
    const FIELDS: [&str; 10] = [
        "originalMaxAge",
        "partitioned",
        "priority",
        "expires",
        "secure",
        "httpOnly",
        "domain",
        "path",
        "sameSite",
        "unknown",
    ];
    let fields: Vec<_> = FIELDS
        .iter()
        .map(|&field| option::weighted(0.6, cookie_field(field)).prop_map(move |v| (field, v)))
        .collect();
    fields.prop_shuffle().prop_map(|fields| {
        let entries: Vec<String> = fields
            .into_iter()
            .filter_map(|(field, value)| Some(format!("{}:{}", quoted(field), value?)))
            .collect();
        format!("{{{}}}", entries.join(","))
    })
}

/// A stored session as text: a `cookie` object (usually), a creation time (sometimes),
/// keys Node drops, and application keys, in any order and possibly repeated.
pub(crate) fn record_json() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        3 => "[a-z]{1,3}",
        1 => Just("id".to_owned()),
        1 => Just("save".to_owned()),
        1 => text(8),
    ];
    let entry = prop_oneof![
        4 => (key, json_value()).prop_map(|(k, v)| format!("{}:{v}", quoted(&k))),
        1 => cookie_object().prop_map(|c| format!("\"cookie\":{c}")),
        1 => prop_oneof![number(), date_text().prop_map(Value::String), leaf()]
            .prop_map(|v| format!("\"__createdAt\":{v}")),
    ];
    (
        option::weighted(0.9, cookie_object()),
        vec(entry, 0..6),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(cookie, mut entries, at)| {
            if let Some(cookie) = cookie {
                let at = at.index(entries.len() + 1);
                entries.insert(at, format!("\"cookie\":{cookie}"));
            }
            format!("{{{}}}", entries.join(","))
        })
}

/// Arrays or objects nested `depth` deep around a session, past serde_json's limit too.
pub(crate) fn deep_record_json() -> impl Strategy<Value = String> {
    (0..200usize, any::<bool>(), any::<bool>()).prop_map(|(depth, arrays, reserved)| {
        let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
        let key = if reserved { "save" } else { "deep" };
        format!(
            "{{\"cookie\":{{}},\"{key}\":{}1{}}}",
            open.repeat(depth),
            close.repeat(depth)
        )
    })
}

fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// A duration of milliseconds around the limits a configuration accepts.
fn lifetime() -> impl Strategy<Value = Duration> {
    prop_oneof![
        40 => (1..=CENTURY_MS).prop_map(Duration::from_millis),
        1 => (0..=2000u64).prop_map(Duration::from_micros),
        1 => (CENTURY_MS - 1..=CENTURY_MS + 1).prop_map(Duration::from_millis),
        1 => Just(Duration::MAX),
    ]
}

/// A session's own max age, however absurd.
fn max_age() -> impl Strategy<Value = Option<Duration>> {
    prop_oneof![
        Just(None),
        lifetime().prop_map(Some),
        Just(Some(Duration::ZERO)),
        any::<u64>().prop_map(|ms| Some(Duration::from_millis(ms))),
    ]
}

/// A printable attribute value without `;`.
fn attribute_text() -> impl Strategy<Value = String> {
    "[ -:<-~]{1,16}"
}

fn config_plan() -> impl Strategy<Value = ConfigPlan> {
    let cookie = (
        cookie_name(),
        prop_oneof![
            8 => Just("/".to_owned()),
            8 => attribute_text().prop_map(|p| format!("/{p}")),
            1 => text(8),
        ],
        option::weighted(
            0.3,
            prop_oneof![Just("example.com".to_owned()), attribute_text()],
        ),
        any::<bool>(),
        prop_oneof![
            3 => Just(Secure::Always),
            1 => Just(Secure::Never),
            1 => Just(Secure::Auto),
        ],
        prop_oneof![
            2 => Just(None),
            2 => Just(Some(SameSite::Strict)),
            2 => Just(Some(SameSite::Lax)),
            1 => Just(Some(SameSite::None)),
        ],
        prop_oneof![
            Just(None),
            Just(Some(Priority::Low)),
            Just(Some(Priority::Medium)),
            Just(Some(Priority::High)),
        ],
        proptest::bool::weighted(0.2),
    );
    let rules = (
        option::of(lifetime()),
        any::<[bool; 3]>(),
        prop_oneof![Just(Unset::Keep), Just(Unset::Destroy)],
        lifetime(),
        option::weighted(0.3, lifetime()),
        prop_oneof![
            Just(ConflictPolicy::LastWriterWins),
            Just(ConflictPolicy::Reject)
        ],
        any::<[bool; 3]>(),
        proptest::bool::weighted(0.7),
    );
    (cookie, rules).prop_map(
        |(
            (name, path, domain, http_only, secure, same_site, priority, partitioned),
            (
                max_age,
                [rolling, resave, save_uninitialized],
                unset,
                ttl,
                absolute,
                conflicts,
                flags,
                tls,
            ),
        )| {
            let [user_key, hash_ids, serialize_requests] = flags;
            ConfigPlan {
                name,
                path,
                domain,
                http_only,
                secure,
                same_site,
                priority,
                partitioned,
                max_age,
                rolling,
                resave,
                save_uninitialized,
                unset,
                browser_session_ttl: ttl,
                absolute_timeout: absolute,
                conflicts,
                user_key,
                hash_ids,
                serialize_requests,
                tls,
            }
        },
    )
}

fn action() -> impl Strategy<Value = Action> {
    let key = prop_oneof![
        4 => "(count|user|flash)",
        1 => "(cookie|id|__createdAt)",
        1 => text(8),
    ];
    prop_oneof![
        6 => (key.clone(), json_value()).prop_map(|(k, v)| Action::Insert(k, v)),
        1 => key.clone().prop_map(Action::Read),
        1 => key.prop_map(Action::Remove),
        1 => Just(Action::Clear),
        4 => max_age().prop_map(Action::SetMaxAge),
        1 => Just(Action::Touch),
        1 => Just(Action::Save),
        1 => Just(Action::Reload),
        1 => Just(Action::Regenerate),
        1 => Just(Action::CycleId),
        1 => Just(Action::Destroy),
        1 => Just(Action::Unset),
        1 => Just(Action::LogOutEverywhere),
        1 => Just(Action::LogOutOtherSessions),
    ]
}

/// A configuration and a browser's few requests.
pub(crate) fn set_cookie_case() -> impl Strategy<Value = SetCookieCase> {
    (config_plan(), vec(vec(action(), 0..6), 1..5))
        .prop_map(|(config, requests)| SetCookieCase { config, requests })
}
