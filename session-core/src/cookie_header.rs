//! Reading the session cookie out of `Cookie` headers, the way Node's `cookie.parse` does:
//! pairs split on `;`, names trimmed, the first occurrence of a name wins, surrounding quotes
//! removed, and the value percent-decoded only when it holds a `%` and decodes cleanly.

/// Cookie values longer than this are ignored without being decoded or verified; a signed
/// default id is 78 bytes, and browsers cap a cookie at about 4 KiB.
pub(crate) const MAX_VALUE_LEN: usize = 4096;

/// Finds the raw value of the first cookie called `name` across the given `Cookie` header values.
pub(crate) fn find<'h>(
    headers: impl IntoIterator<Item = &'h [u8]>,
    name: &str,
) -> Option<&'h [u8]> {
    headers
        .into_iter()
        .find_map(|header| find_in_header(header, name.as_bytes()))
}

fn find_in_header<'h>(header: &'h [u8], name: &[u8]) -> Option<&'h [u8]> {
    // Pairs end at `;`, found with `memchr` (a session cookie's value is most of the header).
    let mut rest = header;
    loop {
        let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
        let pair = &rest[..end];
        if let Some(eq) = memchr::memchr(b'=', pair) {
            if trim(&pair[..eq]) == name {
                return Some(unquote(trim(&pair[eq + 1..])));
            }
        }
        rest = rest.get(end + 1..)?;
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    }
}

/// Decodes a raw cookie value like `decodeURIComponent` inside `cookie.parse`: a value with a
/// `%` is decoded when it decodes to valid UTF-8 and kept raw otherwise. Returns `None` when
/// the result is not UTF-8 or is too long to be one of ours.
pub(crate) fn decode_value(raw: &[u8]) -> Option<String> {
    with_decoded(raw, str::to_owned)
}

/// Room for most signed values on the stack: `s:`, an id of up to 256 characters (the longest
/// custom id), `.` and the MAC.
const STACK_VALUE_LEN: usize = 320;

/// [`decode_value`] handed to `read` rather than returned: decoded on the stack when it fits
/// there (a signed id always does), so that reading it allocates nothing.
pub(crate) fn with_decoded<R>(raw: &[u8], read: impl FnOnce(&str) -> R) -> Option<R> {
    if raw.len() <= STACK_VALUE_LEN {
        let mut buffer = [0; STACK_VALUE_LEN];
        decode_value_in(raw, &mut buffer).map(read)
    } else if raw.len() <= MAX_VALUE_LEN {
        let mut buffer = vec![0; raw.len()];
        decode_value_in(raw, &mut buffer).map(read)
    } else {
        None
    }
}

/// [`decode_value`] into `buffer`; `None` as well when `buffer` is shorter than `raw`.
fn decode_value_in<'b>(raw: &'b [u8], buffer: &'b mut [u8]) -> Option<&'b str> {
    if raw.len() > MAX_VALUE_LEN || raw.len() > buffer.len() {
        return None;
    }
    if raw.contains(&b'%') {
        if let Some(len) = strict_percent_decode(raw, buffer) {
            if let Ok(text) = std::str::from_utf8(&buffer[..len]) {
                return Some(text);
            }
        }
    }
    std::str::from_utf8(raw).ok()
}

/// Percent-decodes into `out` (at least as long as `raw`), failing on a `%` not followed by
/// two hex digits (as `decodeURIComponent` does); the decoded length. The runs between
/// escapes are copied at once (a signed id has one escape, after `s`).
fn strict_percent_decode(raw: &[u8], out: &mut [u8]) -> Option<usize> {
    let (mut rest, mut len) = (raw, 0);
    while let Some(at) = memchr::memchr(b'%', rest) {
        out[len..len + at].copy_from_slice(&rest[..at]);
        len += at;
        let &[hi, lo] = rest.get(at + 1..at + 3)? else {
            return None;
        };
        out[len] = hex(hi)? << 4 | hex(lo)?;
        len += 1;
        rest = &rest[at + 3..];
    }
    out[len..len + rest.len()].copy_from_slice(rest);
    Some(len + rest.len())
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Encodes a cookie value like `encodeURIComponent`, as `cookie.serialize` does.
#[cfg(test)]
pub(crate) fn encode_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    encode_value_into(&mut out, value);
    out
}

/// Appends `value` encoded like `encodeURIComponent`: everything but
/// `A-Z a-z 0-9 - _ . ! ~ * ' ( )` becomes `%XX` per UTF-8 byte. Runs of characters that
/// stay as they are are copied at once (a signed id is mostly such a run).
pub(crate) fn encode_value_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(value.len());
    let mut run_start = 0;
    for (index, &byte) in value.as_bytes().iter().enumerate() {
        if KEPT[usize::from(byte)] {
            continue;
        }
        // A run of kept (ASCII) characters starts and ends on character boundaries; the only
        // run that does not is the empty one inside a multi-byte character.
        out.push_str(value.get(run_start..index).unwrap_or_default());
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
        run_start = index + 1;
    }
    out.push_str(value.get(run_start..).unwrap_or_default());
}

/// The bytes `encodeURIComponent` keeps as they are, by value: one lookup per byte.
const KEPT: [bool; 256] = {
    let mut kept = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        kept[byte] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            );
        byte += 1;
    }
    kept
};

#[cfg(test)]
mod tests {
    use super::*;

    fn first<'h>(headers: &[&'h str], name: &str) -> Option<&'h str> {
        find(headers.iter().map(|h| h.as_bytes()), name).map(|v| std::str::from_utf8(v).unwrap())
    }

    #[test]
    fn finds_the_first_occurrence_of_the_name() {
        assert_eq!(
            first(&["a=1; connect.sid=x; connect.sid=y"], "connect.sid"),
            Some("x")
        );
        assert_eq!(
            first(&["a=1", "connect.sid=x", "connect.sid=y"], "connect.sid"),
            Some("x")
        );
        assert_eq!(
            first(&["connect.sidx=1; connect.sid = v "], "connect.sid"),
            Some("v")
        );
        assert_eq!(first(&["a=1; b"], "connect.sid"), None);
        assert_eq!(first(&[""], "connect.sid"), None);
        assert_eq!(
            first(&["connect.sid=\"quoted\""], "connect.sid"),
            Some("quoted")
        );
        assert_eq!(first(&["connect.sid="], "connect.sid"), Some(""));
    }

    #[test]
    fn decodes_like_decode_uri_component() {
        assert_eq!(decode_value(b"s%3Aab.c%2Fd").as_deref(), Some("s:ab.c/d"));
        assert_eq!(decode_value(b"plain").as_deref(), Some("plain"));
        assert_eq!(decode_value(b"bad%zzvalue").as_deref(), Some("bad%zzvalue"));
        assert_eq!(decode_value(b"trunc%4").as_deref(), Some("trunc%4"));
        assert_eq!(decode_value(b"a%%41").as_deref(), Some("a%%41"));
        assert_eq!(decode_value(b"%41%42c%2").as_deref(), Some("%41%42c%2"));
        assert_eq!(decode_value(b"%41%42c%25").as_deref(), Some("ABc%"));
        assert_eq!(decode_value(b"%FF%FE").as_deref(), Some("%FF%FE"));
        assert_eq!(decode_value(b"\xff\xfe"), None);
        assert_eq!(decode_value(&[b'a'; MAX_VALUE_LEN + 1]), None);
    }

    proptest::proptest! {
        #[test]
        fn decodes_what_it_encodes(text in "\\PC{0,40}") {
            let encoded = encode_value(&text);
            proptest::prop_assert_eq!(decode_value(encoded.as_bytes()), Some(text));
        }
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode_value("s:a+b/c=d"), "s%3Aa%2Bb%2Fc%3Dd");
        assert_eq!(encode_value("-_.!~*'()"), "-_.!~*'()");
        assert_eq!(encode_value("é "), "%C3%A9%20");
        assert_eq!(encode_value("aé/b€c"), "a%C3%A9%2Fb%E2%82%ACc");
    }

    #[test]
    fn keeps_exactly_the_characters_encode_uri_component_keeps() {
        let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()";
        for byte in 0..=127_u8 {
            let text = char::from(byte).to_string();
            let expected = if unreserved.contains(&*text) {
                text.clone()
            } else {
                format!("%{byte:02X}")
            };
            assert_eq!(encode_value(&text), expected, "byte {byte}");
        }
    }
}
