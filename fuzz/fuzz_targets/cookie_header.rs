//! Fuzzes the `Cookie` header parser and the signature check,
//! `SessionManager::begin(..).verified_cookie_id()`, with the checks of
//! `session-core/tests/it/properties/cookie_header.rs`.
//!
//! The input is one selector byte, then `Cookie` header values separated by `\n`. The headers
//! are checked as they are (an id verifies only when a configured secret's signature of it
//! is in them), then with a freshly signed session cookie planted among their cookies, as
//! the selector says, which must be found unless a cookie of its name comes first. The
//! configured secrets are the spec's (§3.6), so that its vectors in the seeds verify.

#![no_main]

#[allow(dead_code, reason = "check_any_headers is for the property tests")]
#[path = "../../session-core/tests/it/properties/cookie_header.rs"]
mod cookie_header;

use cookie_header::{check_planted, CookieCase, Planted, Signer};

const SECRETS: [&[u8]; 2] = [b"keyboard cat", b"s3cr3t-0123456789abcdef0123456789ab"];

/// Ids to plant: a default one, the spec's short one, and ids that need encoding.
const IDS: [&str; 6] = [
    "fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg",
    "hello",
    "a.b.c",
    "ünï cødé;=\"%,",
    "",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let selector = usize::from(selector);
    let signer = match selector & 3 {
        3 => Signer::Other(b"tobiiscool".to_vec()),
        index => Signer::Configured(index),
    };
    let position = selector >> 5;
    check_planted(&CookieCase {
        secrets: SECRETS.iter().map(|secret| secret.to_vec()).collect(),
        name: "connect.sid".to_owned(),
        headers: rest.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect(),
        planted: Planted {
            id: IDS[(position + rest.len()) % IDS.len()].to_owned(),
            signer,
            header: position,
            after_pairs: rest.len() % 5,
            padded: selector & 4 != 0,
            quoted: selector & 8 != 0,
            lowercase_hex: selector & 16 != 0,
        },
    });
});
