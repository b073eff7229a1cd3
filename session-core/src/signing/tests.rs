//! Every signature vector of the spec (section 3.6), positive and negative.

use super::*;
use crate::cookie_header::{decode_value, encode_value};

fn ring(secrets: &[&str]) -> Keyring {
    Keyring::new(secrets.iter().map(|s| Secret::from(*s))).unwrap()
}

/// (secret, id, signed `id.mac`, header value)
const VECTORS: &[(&str, &str, &str, &str)] = &[
    (
        "keyboard cat",
        "fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg",
        "fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.G/nVJ+3vzC2U/PWi/qY8GjACRPgsS2Y6kF2krvt9v30",
        "s%3AfQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.G%2FnVJ%2B3vzC2U%2FPWi%2FqY8GjACRPgsS2Y6kF2krvt9v30",
    ),
    (
        "s3cr3t-0123456789abcdef0123456789ab",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.BW/rzDLQ8XI3x/qFn3kI/fmVDJuvzb2C5xjkE70fECw",
        "s%3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.BW%2FrzDLQ8XI3x%2FqFn3kI%2FfmVDJuvzb2C5xjkE70fECw",
    ),
    (
        "keyboard cat",
        "hello",
        "hello.xz6khi6+oL1pnNhBgjk3Nr1CX2sxTjJiO9pKXaHZ33E",
        "s%3Ahello.xz6khi6%2BoL1pnNhBgjk3Nr1CX2sxTjJiO9pKXaHZ33E",
    ),
    (
        "keyboard cat",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX.N0Id4opwqhaAYcoIYSsRkO1j3rAafXluGboH3Nk7dVc",
        "s%3AAAECAwQFBgcICQoLDA0ODxAREhMUFRYX.N0Id4opwqhaAYcoIYSsRkO1j3rAafXluGboH3Nk7dVc",
    ),
    (
        "keyboard cat",
        "id1",
        "id1.FQDZiJYi73ENKnVjFh0klegA9tMW1fbdVuvBanW/7J8",
        "s%3Aid1.FQDZiJYi73ENKnVjFh0klegA9tMW1fbdVuvBanW%2F7J8",
    ),
];

#[test]
fn signs_every_vector_like_cookie_signature() {
    for (secret, id, signed, header) in VECTORS {
        let value = ring(&[secret]).sign(id);
        assert_eq!(value, format!("s:{signed}"), "secret {secret:?}, id {id:?}");
        assert_eq!(
            encode_value(&value),
            *header,
            "secret {secret:?}, id {id:?}"
        );
    }
}

#[test]
fn upstream_readme_vector() {
    assert_eq!(
        ring(&["tobiiscool"]).sign("hello"),
        "s:hello.DGDUkGlIkCzPz+C0B064FNgHdEjox7ch8tOBGslZ5QI"
    );
}

#[test]
fn verifies_every_vector_from_the_header_form() {
    for (secret, id, _, header) in VECTORS {
        let decoded = decode_value(header.as_bytes()).unwrap();
        assert_eq!(ring(&[secret]).verify(&decoded), Some(*id));
    }
}

#[test]
fn mac_always_has_43_characters() {
    for (secret, id, signed, _) in VECTORS {
        let mac = signed.rsplit_once('.').unwrap().1;
        assert_eq!(mac.len(), MAC_LEN, "{secret} {id}");
    }
}

#[test]
fn rejects_padded_mac() {
    let value = "s:fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.G/nVJ+3vzC2U/PWi/qY8GjACRPgsS2Y6kF2krvt9v30=";
    assert_eq!(ring(&["keyboard cat"]).verify(value), None);
}

#[test]
fn rejects_base64url_mac() {
    let value = "s:fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.G_nVJ-3vzC2U_PWi_qY8GjACRPgsS2Y6kF2krvt9v30";
    assert_eq!(ring(&["keyboard cat"]).verify(value), None);
}

#[test]
fn rejects_missing_prefix() {
    let value = "fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.G/nVJ+3vzC2U/PWi/qY8GjACRPgsS2Y6kF2krvt9v30";
    assert_eq!(ring(&["keyboard cat"]).verify(value), None);
}

#[test]
fn rejects_a_secret_not_in_the_list() {
    let value = ring(&["not in the list"]).sign("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg");
    assert_eq!(ring(&["keyboard cat", "old secret"]).verify(&value), None);
}

#[test]
fn rejects_bad_mac_and_unsigned_ids() {
    let keys = ring(&["keyboard cat"]);
    assert_eq!(keys.verify("s:fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.AAAA"), None);
    assert_eq!(keys.verify("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg"), None);
    assert_eq!(keys.verify("s:"), None);
    assert_eq!(keys.verify(""), None);
    let mut flipped = keys.sign("id1");
    flipped.pop();
    flipped.push('9');
    assert_eq!(keys.verify(&flipped), None);
}

#[test]
fn rejects_a_second_spelling_of_the_right_mac() {
    let keys = ring(&["keyboard cat"]);
    let value = keys.sign("id1");
    assert!(value.ends_with("7J8"), "{value}");
    // '8' is 60 (0b111100); '9' (0b111101) sets one of the two unused low bits, so a lenient
    // decoder would read the same 32 bytes.
    let mut respelled = value.clone();
    respelled.pop();
    respelled.push('9');
    assert_eq!(keys.verify(&value), Some("id1"));
    assert_eq!(keys.verify(&respelled), None);
}

#[test]
fn ids_may_contain_dots() {
    let keys = ring(&["keyboard cat"]);
    let value = keys.sign("a.b.c");
    assert_eq!(keys.verify(&value), Some("a.b.c"));
}

#[test]
fn any_secret_verifies_and_the_first_signs() {
    let old = ring(&["old secret"]);
    let rotated = ring(&["keyboard cat", "old secret"]);
    let id = "fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg";
    assert_eq!(rotated.verify(&old.sign(id)), Some(id));
    assert_eq!(rotated.sign(id), ring(&["keyboard cat"]).sign(id));
}

#[test]
fn debug_shows_no_secret_bytes() {
    let keys = ring(&["keyboard cat"]);
    assert!(!format!("{keys:?}").contains("keyboard"));
    assert!(!format!("{:?}", Secret::from("keyboard cat")).contains("keyboard"));
}

#[test]
fn a_verified_cookie_is_remembered_with_its_secret_and_only_its_own_bytes_pass() {
    let old = ring(&["old secret"]);
    let rotated = ring(&["new secret", "old secret"]);
    let value = old.sign("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg");
    assert_eq!(rotated.verified.get(&value), None);
    assert_eq!(
        rotated.verify_with_index(&value),
        Some(("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg", 1))
    );
    assert_eq!(rotated.verified.get(&value), Some(1), "remembered");
    assert_eq!(
        rotated.verify_with_index(&value),
        Some(("fQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg", 1)),
        "from memory, with the secret it verified with"
    );
    // Neither another id under the remembered MAC nor another MAC for the remembered id.
    let (id, mac) = value.rsplit_once('.').unwrap();
    let other_id = format!("s:gQx3zKx4YlwQe9k1N7pPjXyZ0aBcDeFg.{mac}");
    let other_mac = format!("{id}.{}", "A".repeat(43));
    for forged in [other_id, other_mac] {
        assert_eq!(rotated.verify_with_index(&forged), None, "{forged}");
        assert_eq!(rotated.verified.get(&forged), None);
    }
    // A keyring without the old secret shares nothing with the one that had it.
    assert_eq!(ring(&["new secret"]).verify(&value), None);
}
