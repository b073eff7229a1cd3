//! The `Cookie` header parser and the signature check, through
//! `SessionManager::begin(..).verified_cookie_id()`:
//!
//! - whatever the header bytes, it returns, and it names an id only when the headers hold
//!   that id signed by a configured secret;
//! - a cookie signed with a configured secret, percent-encoded as a browser sends it back, is
//!   found wherever it sits among other cookies, unless a cookie of the same name comes first
//!   (the first occurrence wins, as in Node's `cookie.parse`); one signed with another secret
//!   is not.
//!
//! `fuzz/fuzz_targets/cookie_header.rs` compiles this file too: it uses nothing but
//! session-core's public API and the standard library.

use std::cell::RefCell;

use session_core::{
    Keyring, MemoryStore, RequestFacts, Secret, Secure, SessionConfig, SessionManager,
};

/// Who signed the planted cookie.
#[derive(Debug, Clone)]
pub(crate) enum Signer {
    /// The configured secret at this index (taken modulo the number of secrets).
    Configured(usize),
    /// A secret of its own, which may happen to sign like a configured one.
    Other(Vec<u8>),
}

/// A freshly signed session cookie put into the headers, and how it is written.
#[derive(Debug, Clone)]
pub(crate) struct Planted {
    /// The session id it carries.
    pub(crate) id: String,
    /// The secret it is signed with.
    pub(crate) signer: Signer,
    /// The header value it goes into (modulo one more than there are: a header of its own).
    pub(crate) header: usize,
    /// How many `;`-separated pairs of that header come before it (at most all of them).
    pub(crate) after_pairs: usize,
    /// Spaces and tabs around the name and the value, which the parser trims.
    pub(crate) padded: bool,
    /// The value in double quotes, which the parser removes.
    pub(crate) quoted: bool,
    /// Lower-case hex digits in the percent escapes (`%3a`), which decode the same.
    pub(crate) lowercase_hex: bool,
}

/// Configured secrets and cookie name, other cookies, and a session cookie among them.
#[derive(Debug, Clone)]
pub(crate) struct CookieCase {
    /// The configured secrets, the first signs; none is empty.
    pub(crate) secrets: Vec<Vec<u8>>,
    /// The configured cookie name, an RFC 7230 token.
    pub(crate) name: String,
    /// The request's `Cookie` header values around the planted cookie.
    pub(crate) headers: Vec<Vec<u8>>,
    /// The session cookie.
    pub(crate) planted: Planted,
}

/// A manager over `secrets` (short ones allowed) and the cookie `name`. `Secure::Always`, so
/// that names with a `__Host-` or `__Secure-` prefix are accepted too. The last one is kept
/// for the next case with the same configuration (a fuzz target's always is).
pub(crate) fn manager(secrets: &[Vec<u8>], name: &str) -> SessionManager {
    /// The secrets and name of the last manager, and the manager.
    type Last = Option<(Vec<Vec<u8>>, String, SessionManager)>;
    thread_local! {
        static LAST: RefCell<Last> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((s, n, manager)) = last {
            if s == secrets && n == name {
                return manager.clone();
            }
        }
        let config = SessionConfig::builder()
            .secrets(secrets.iter().map(|s| Secret::new(s.clone())))
            .allow_short_secrets(true)
            .cookie_name(name)
            .secure(Secure::Always)
            .build()
            .unwrap_or_else(|e| panic!("the case's configuration is refused: {e}"));
        let manager = SessionManager::new(MemoryStore::new(), config);
        *last = Some((secrets.to_vec(), name.to_owned(), manager.clone()));
        manager
    })
}

/// `s:<id>.<mac>` signed with `secret` alone.
fn sign_with(secret: &[u8], id: &str) -> String {
    Keyring::new([Secret::new(secret.to_vec())])
        .expect("one secret")
        .sign(id)
}

/// Runs the headers through the manager and checks that an id it names is really signed by
/// one of `secrets` somewhere in them. Returns the id.
pub(crate) fn verified_id(
    manager: &SessionManager,
    secrets: &[Vec<u8>],
    headers: &[Vec<u8>],
) -> Option<String> {
    let request = manager.begin(
        headers.iter().map(Vec::as_slice),
        RequestFacts::plain_http(),
    );
    let id = request.verified_cookie_id()?;
    let id = id.as_str().to_owned();
    let held = secrets.iter().any(|secret| {
        let signed = sign_with(secret, &id);
        headers.iter().any(|header| {
            contains(header, signed.as_bytes()) || contains(&decode_all(header), signed.as_bytes())
        })
    });
    assert!(
        held,
        "id {id:?} verified, but no configured secret's signature of it is in {headers:?}"
    );
    Some(id)
}

/// Any headers: [`verified_id`]'s check, with the manager of `secrets` and `name`.
pub(crate) fn check_any_headers(secrets: &[Vec<u8>], name: &str, headers: &[Vec<u8>]) {
    verified_id(&manager(secrets, name), secrets, headers);
}

/// The planted cookie is found, wherever it is, when it is the first of its name and signed
/// by a configured secret; and the result is that of the first cookie of the name otherwise.
pub(crate) fn check_planted(case: &CookieCase) {
    let manager = manager(&case.secrets, &case.name);
    let without = verified_id(&manager, &case.secrets, &case.headers);
    let planted = &case.planted;
    let signed = match &planted.signer {
        Signer::Configured(index) => {
            sign_with(&case.secrets[index % case.secrets.len()], &planted.id)
        }
        Signer::Other(secret) => sign_with(secret, &planted.id),
    };
    let signed_by_us = case
        .secrets
        .iter()
        .any(|secret| sign_with(secret, &planted.id) == signed);
    let mut value = encode_uri_component(&signed, planted.lowercase_hex);
    assert!(value.len() < 4000, "keep planted ids short: {value}");
    if planted.quoted {
        value = format!("\"{value}\"");
    }
    let pair = if planted.padded {
        format!(" \t{} = {value}\t ", case.name)
    } else {
        format!("{}={value}", case.name)
    };
    let (headers, name_comes_first) = plant(
        &case.headers,
        pair.as_bytes(),
        &case.name,
        planted.header,
        planted.after_pairs,
    );
    let with = verified_id(&manager, &case.secrets, &headers);
    if name_comes_first {
        assert_eq!(
            with, without,
            "a cookie {:?} comes first in {headers:?}: it decides",
            case.name
        );
    } else {
        let expected = signed_by_us.then(|| planted.id.clone());
        assert_eq!(with, expected, "planted {pair:?} in {headers:?}");
    }
}

/// `headers` with `pair` inserted at a pair boundary, and whether a cookie called `name`
/// comes before it.
fn plant(
    headers: &[Vec<u8>],
    pair: &[u8],
    name: &str,
    header: usize,
    after_pairs: usize,
) -> (Vec<Vec<u8>>, bool) {
    let header = header % (headers.len() + 1);
    let mut out = headers.to_vec();
    let mut before: Vec<&[u8]> = headers[..header].iter().map(Vec::as_slice).collect();
    if header == headers.len() {
        out.push(pair.to_vec());
    } else {
        let pairs: Vec<&[u8]> = headers[header].split(|&b| b == b';').collect();
        let at = after_pairs.min(pairs.len());
        let mut joined: Vec<&[u8]> = pairs[..at].to_vec();
        joined.push(pair);
        joined.extend_from_slice(&pairs[at..]);
        out[header] = joined.join(&b';');
        before.extend_from_slice(&pairs[..at]);
    }
    let name_comes_first = before.iter().any(|text| names(text, name));
    (out, name_comes_first)
}

/// Whether one of the `;`-separated pairs of `text` is named `name` (spaces and tabs
/// around the name do not count).
fn names(text: &[u8], name: &str) -> bool {
    text.split(|&b| b == b';').any(|pair| {
        pair.iter().position(|&b| b == b'=').is_some_and(|eq| {
            let key = &pair[..eq];
            let is_space = |b: &u8| *b == b' ' || *b == b'\t';
            let start = key.iter().position(|b| !is_space(b)).unwrap_or(key.len());
            let end = key
                .iter()
                .rposition(|b| !is_space(b))
                .map_or(start, |i| i + 1);
            &key[start..end] == name.as_bytes()
        })
    })
}

/// JavaScript's `encodeURIComponent`, with upper- or lower-case hex digits.
fn encode_uri_component(value: &str, lowercase_hex: bool) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else if lowercase_hex {
            out.push_str(&format!("%{byte:02x}"));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Every `%XX` escape of `bytes` decoded, the rest kept.
fn decode_all(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| Some(hex(pair[0])? << 4 | hex(pair[1])?));
        match escape {
            Some(byte) if bytes[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
