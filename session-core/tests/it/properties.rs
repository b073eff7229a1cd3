//! Properties of the `Cookie` header parser and signature check, the record decoder and the
//! `Set-Cookie` writer, on generated cases and on the spec's vectors. The checks live in one
//! file per entry point (the fuzz targets compile the same files), the generators in
//! `strategies`. The case counts keep the whole binary to a few seconds.

mod cookie_header;
mod cookie_mode;
mod record_json;
mod regressions;
mod set_cookie;
mod strategies;

use std::time::Duration;

use proptest::{prelude::*, test_runner::Config};
use session_core::{CookieFormat, Priority, SameSite, Secure};

use cookie_header::{check_any_headers, check_planted, CookieCase, Planted, Signer};
use record_json::check_record_json;
use set_cookie::{check_set_cookie, Action, ConfigPlan, SetCookieCase};

fn format(encrypted: bool) -> CookieFormat {
    if encrypted {
        CookieFormat::Encrypted
    } else {
        CookieFormat::CookieSession
    }
}

/// `cases` cases, nothing written to disk: a failure prints its minimal case, which becomes
/// a named test in `regressions`.
fn cases(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(cases(1024))]

    #[test]
    fn any_cookie_header_names_only_an_id_a_configured_secret_signed(
        secrets in strategies::secrets(),
        name in strategies::cookie_name(),
        headers in strategies::raw_headers(),
    ) {
        check_any_headers(&secrets, &name, &headers);
    }

    #[test]
    fn a_signed_cookie_is_found_among_other_cookies_unless_one_of_its_name_comes_first(
        case in strategies::cookie_case(),
    ) {
        check_planted(&case);
    }

    #[test]
    fn any_cookie_header_reads_as_a_session_in_cookie_mode(
        encrypted in any::<bool>(),
        headers in strategies::raw_headers(),
    ) {
        cookie_mode::check_any_cookie(format(encrypted), &headers);
    }

    #[test]
    fn any_data_written_into_cookies_reads_back_the_same(
        encrypted in any::<bool>(),
        data in proptest::collection::vec((strategies::cookie_name(), strategies::json_value()), 0..6),
    ) {
        let data = data.into_iter().collect();
        cookie_mode::check_round_trip(format(encrypted), &data);
    }

    #[test]
    fn a_stored_session_that_reads_writes_back_and_reads_the_same(
        json in strategies::record_json(),
    ) {
        check_record_json(&json);
    }

    #[test]
    fn any_text_reads_as_a_record_or_as_an_error(json in ".{0,64}") {
        check_record_json(&json);
    }

    #[test]
    fn deep_nesting_reads_or_fails_without_a_crash(json in strategies::deep_record_json()) {
        check_record_json(&json);
    }
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn every_set_cookie_is_a_valid_header_with_the_configured_attributes(
        case in strategies::set_cookie_case(),
    ) {
        check_set_cookie(&case);
    }
}

/// The §3.6 vectors of the spec: secret, id.
const VECTORS: [(&str, &str); 5] = [
    ("keyboard cat", "fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg"),
    (
        "s3cr3t-0123456789abcdef0123456789ab",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ),
    ("keyboard cat", "hello"),
    ("keyboard cat", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"),
    ("keyboard cat", "id1"),
];

#[test]
fn the_spec_vectors_are_found_wherever_they_sit() {
    let headers = vec![
        b"a=1; connect.sidx=2; b".to_vec(),
        b"connect.si=3;c=\"4\"".to_vec(),
    ];
    for (secret, id) in VECTORS {
        for (header, after_pairs) in [(0, 0), (0, 2), (0, 9), (1, 1), (2, 0)] {
            // The vector's secret, the other configured one, and one that is not configured.
            for signer in [
                Signer::Configured(1),
                Signer::Other(b"old secret".to_vec()),
                Signer::Other(b"tobiiscool".to_vec()),
            ] {
                check_planted(&CookieCase {
                    secrets: vec![b"old secret".to_vec(), secret.as_bytes().to_vec()],
                    name: "connect.sid".to_owned(),
                    headers: headers.clone(),
                    planted: Planted {
                        id: id.to_owned(),
                        signer,
                        header,
                        after_pairs,
                        padded: after_pairs == 2,
                        quoted: header == 1,
                        lowercase_hex: header == 2,
                    },
                });
            }
        }
    }
}

#[test]
fn the_spec_session_json_reads_and_writes_back_byte_for_byte() {
    for json in [
        r#"{"cookie":{"originalMaxAge":3600000,"expires":"2023-11-14T23:13:20.000Z","httpOnly":true,"path":"/","sameSite":"lax"},"user":"alice"}"#,
        r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"}}"#,
        r#"{"cookie":{"originalMaxAge":86400000,"partitioned":true,"priority":"high","expires":"2023-11-15T22:13:20.000Z","secure":true,"httpOnly":true,"domain":"example.com","path":"/","sameSite":"none"}}"#,
    ] {
        let record = check_record_json(json).expect("Node's JSON reads");
        assert_eq!(record.to_json().expect("writes"), json);
    }
    let absurd = r#"{"cookie":{"originalMaxAge":1e15,"expires":1e300},"__createdAt":1e300,"a":[1e300,-0.0,5e-324]}"#;
    check_record_json(absurd).expect("absurd numbers read");
}

#[test]
fn the_spec_example_with_every_attribute_and_absurd_lifetimes() {
    let config = ConfigPlan {
        domain: Some("example.com".to_owned()),
        secure: Secure::Always,
        partitioned: true,
        priority: Some(Priority::High),
        same_site: Some(SameSite::None),
        max_age: Some(Duration::from_millis(86_400_000)),
        tls: true,
        ..ConfigPlan::default()
    };
    let requests = vec![
        vec![Action::Insert("user".to_owned(), "alice".into())],
        vec![
            Action::SetMaxAge(Some(Duration::MAX)),
            Action::Insert("n".to_owned(), 1e300.into()),
        ],
        vec![Action::Read("user".to_owned())],
        vec![
            Action::SetMaxAge(Some(Duration::from_millis(u64::MAX))),
            Action::Regenerate,
        ],
        vec![Action::Destroy],
    ];
    let checked = check_set_cookie(&SetCookieCase { config, requests });
    assert_eq!(checked, 4, "the read-only request sends no cookie");
}
