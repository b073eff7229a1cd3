use proptest::prelude::*;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::*;
use crate::record::epoch_ms;

/// What the general reader makes of `json`, to hold the direct one to.
fn general(json: &str) -> Option<Record> {
    Record::from_any_json(json).ok()
}

fn agree(json: &str) {
    if let Some(direct) = read(json) {
        assert_eq!(Some(direct), general(json), "{json}");
    }
}

#[test]
fn reads_what_node_and_we_write() {
    let node = r#"{"cookie":{"originalMaxAge":3600000,"expires":"2023-11-14T23:13:20.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"user":"alice","passport":{"user":7},"flash":{}}"#;
    let direct = read(node).expect("the canonical shape");
    assert_eq!(Some(direct.clone()), general(node));
    assert_eq!(direct.to_json().unwrap(), node);
    let every = r#"{"cookie":{"originalMaxAge":86400000,"partitioned":true,"priority":"high","expires":"2024-02-29T23:59:59.999Z","secure":true,"httpOnly":false,"domain":"example.com","path":"/app","sameSite":"none"},"__createdAt":1700000000123}"#;
    let direct = read(every).expect("the canonical shape");
    assert_eq!(Some(direct.clone()), general(every));
    assert_eq!(direct.to_json().unwrap(), every);
    for bare in [
        r#"{"cookie":{}}"#,
        r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"}}"#,
        r#"{"cookie":{"partitioned":null,"priority":"LOW","secure":null,"sameSite":true}}"#,
    ] {
        assert_eq!(read(bare), general(bare), "{bare}");
        assert!(read(bare).is_some(), "{bare}");
    }
}

#[test]
fn leaves_every_other_shape_to_the_general_reader() {
    for other in [
        r#"{"cookie":{"path":"/","originalMaxAge":1}}"#,
        r#"{"cookie":{"path":"/","path":"/"}}"#,
        r#"{"cookie":{"unknown":1}}"#,
        r#"{"cookie":{"path":"/\u0061"}}"#,
        r#"{"cookie":{"path":"/é"}}"#,
        r#"{"cookie":{"originalMaxAge":1.5}}"#,
        r#"{"cookie":{"originalMaxAge":-5}}"#,
        r#"{"cookie":{"originalMaxAge":1e15}}"#,
        r#"{"cookie":{"originalMaxAge":0123}}"#,
        r#"{"cookie":{"originalMaxAge":1234567890123456}}"#,
        r#"{"cookie":{"expires":1700000000000}}"#,
        r#"{"cookie":{"expires":"2023-11-14T23:00:00Z"}}"#,
        r#"{"cookie":{"expires":"2023-02-29T00:00:00.000Z"}}"#,
        r#"{"cookie":{"expires":"1969-12-31T23:59:59.999Z"}}"#,
        r#"{"cookie":{"expires":"2023-11-14T24:00:00.000Z"}}"#,
        r#"{"cookie":{"httpOnly":"yes"}}"#,
        r#"{"cookie": {}}"#,
        r#"{"cookie":{}} "#,
        r#"{"cookie":{},}"#,
        r#"{"cookie":{},"cookie":{"path":"/x"}}"#,
        r#"{"cookie":{},"a":1,}"#,
        r#"{"cookie":{}"#,
        r#"{"cookie":3}"#,
        r#"{"user":"a","cookie":{}}"#,
    ] {
        assert_eq!(read(other), None, "{other}");
    }
}

#[test]
fn dates_agree_with_the_general_reader_across_the_calendar() {
    for year in [1970, 1999, 2000, 2023, 2024, 2100, 2400, 9999] {
        for month in 1..=12 {
            for day in [1, 28, 29, 30, 31] {
                let json = format!(
                    r#"{{"cookie":{{"expires":"{year:04}-{month:02}-{day:02}T13:45:07.089Z"}}}}"#
                );
                agree(&json);
                let valid = day <= days_in_month(year, month);
                assert_eq!(read(&json).is_some(), valid, "{json}");
            }
        }
    }
}

/// A cookie field as any writer might spell it.
fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        (0_u64..10_000_000_000_000_000).prop_map(|n| n.to_string()),
        Just("-3".to_owned()),
        Just("2.5".to_owned()),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        prop_oneof![
            Just("lax"),
            Just("Strict"),
            Just("NONE"),
            Just("low"),
            Just("Medium"),
            Just("high")
        ]
        .prop_map(|s| format!("\"{s}\"")),
        (0_u64..=253_402_300_799_999).prop_map(|ms| {
            let date = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms));
            format!("\"{date}\"")
        }),
    ]
}

/// A value of the type `field` takes (or `null`), four times in five; any value otherwise.
fn member(field: &'static str) -> BoxedStrategy<Option<String>> {
    let flag = prop_oneof![Just("true".to_owned()), Just("false".to_owned())].boxed();
    let typed = match field {
        "originalMaxAge" => (0_u64..1 << 50).prop_map(|n| n.to_string()).boxed(),
        "expires" => (0_u64..=253_402_300_799_999)
            .prop_map(|ms| {
                let date = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms));
                format!("\"{date}\"")
            })
            .boxed(),
        "domain" | "path" | "priority" | "sameSite" => "[ -~]{0,8}|lax|Strict|NONE|low|Medium|HIGH"
            .prop_map(|s| serde_json::to_string(&s).unwrap())
            .boxed(),
        _ => flag,
    };
    let value = prop_oneof![
        1 => Just("null".to_owned()),
        3 => typed,
        1 => field_value(),
    ];
    proptest::option::weighted(0.6, value).boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn agrees_with_the_general_reader(
        values in FIELDS.iter().map(|field| member(field)).collect::<Vec<_>>(),
        data in proptest::collection::vec(("[a-z_]{1,6}", 0_i64..100), 0..4),
        reversed in proptest::bool::weighted(0.1),
    ) {
        let mut members: Vec<String> = FIELDS
            .iter()
            .zip(&values)
            .filter_map(|(name, value)| Some(format!("\"{name}\":{}", value.as_ref()?)))
            .collect();
        if reversed {
            members.reverse();
        }
        let mut json = format!("{{\"cookie\":{{{}}}", members.join(","));
        for (key, value) in &data {
            json.push_str(&format!(",\"{key}\":{value}"));
        }
        json.push('}');
        agree(&json);
    }
}

/// The writer to hold [`write`] to: serde's, from the record's shape as Node writes it.
fn serde_json_of(record: &Record) -> String {
    let cookie = &record.cookie;
    let wire = WireRecord {
        cookie: WireCookie {
            original_max_age: cookie.original_max_age,
            partitioned: cookie.partitioned.then_some(true),
            priority: cookie.priority.map(Priority::as_json),
            expires: cookie.expires.map(IsoDate),
            secure: cookie.secure,
            http_only: cookie.http_only,
            domain: cookie.domain.as_deref(),
            path: &cookie.path,
            same_site: cookie.same_site.map(SameSite::as_json),
        },
        created_at: record.created_at.map(epoch_ms),
        data: &record.data,
    };
    serde_json::to_string(&wire).unwrap()
}

struct IsoDate(SystemTime);

impl Serialize for IsoDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let date = deadline::writable(self.0);
        serializer.collect_str(&humantime::format_rfc3339_millis(date))
    }
}

#[derive(Serialize)]
struct WireRecord<'a> {
    cookie: WireCookie<'a>,
    #[serde(rename = "__createdAt", skip_serializing_if = "Option::is_none")]
    created_at: Option<u64>,
    #[serde(flatten)]
    data: &'a Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireCookie<'a> {
    original_max_age: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partitioned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<&'static str>,
    expires: Option<IsoDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure: Option<bool>,
    http_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    same_site: Option<&'static str>,
}

fn written(record: &Record) -> String {
    let mut json = Vec::new();
    write(record, &mut json).unwrap();
    String::from_utf8(json).unwrap()
}

#[test]
fn writes_dates_as_javascript_does_across_the_calendar() {
    let latest = deadline::latest_date();
    let mut record = Record::new(Map::new());
    for ms in [
        0,
        951_782_400_000,
        1_709_251_199_999,
        4_107_542_400_000,
        u64::MAX >> 12,
    ] {
        let date = UNIX_EPOCH + Duration::from_millis(ms);
        record.cookie.expires = Some(date);
        assert_eq!(written(&record), serde_json_of(&record), "{ms}");
    }
    record.cookie.expires = Some(latest + Duration::from_secs(1));
    assert!(written(&record).contains(r#""expires":"9999-12-31T23:59:59.000Z""#));
    // Before 1970 (no clock or store gives it): the epoch, where serde's writer panics.
    record.cookie.expires = Some(UNIX_EPOCH - Duration::from_secs(1));
    assert!(written(&record).contains(r#""expires":"1970-01-01T00:00:00.000Z""#));
}

/// Any string, escapes and all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,8}", "\\PC{0,4}", "[\\x00-\\x1f\"\\\\\\x7f]{0,4}"]
}

fn any_record() -> impl Strategy<Value = Record> {
    let cookie = (
        proptest::option::of(any::<u64>()),
        proptest::option::of(0_u64..=300_000_000_000_000),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
        proptest::option::of(text()),
        text(),
        proptest::option::of(prop_oneof![
            Just(SameSite::Strict),
            Just(SameSite::Lax),
            Just(SameSite::None)
        ]),
        proptest::option::of(prop_oneof![
            Just(Priority::Low),
            Just(Priority::Medium),
            Just(Priority::High)
        ]),
        any::<bool>(),
    );
    let data = proptest::collection::vec((text(), any::<i32>(), text()), 0..4);
    let created_at = proptest::option::of(0_u64..=300_000_000_000_000);
    (cookie, data, created_at).prop_map(|(cookie, data, created_at)| {
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        let (
            original_max_age,
            expires,
            secure,
            http_only,
            domain,
            path,
            same_site,
            priority,
            partitioned,
        ) = cookie;
        let mut record = Record::new(Map::new());
        record.cookie = CookieData {
            original_max_age,
            expires: expires.map(at),
            secure,
            http_only,
            domain,
            path,
            same_site,
            priority,
            partitioned,
        };
        record.created_at = created_at.map(at);
        for (key, number, text) in data {
            record.data.insert(
                key,
                json!({ "n": number, "t": text, "list": [number, text] }),
            );
        }
        record
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn writes_as_serde_writes(record in any_record()) {
        prop_assert_eq!(written(&record), serde_json_of(&record));
    }
}
