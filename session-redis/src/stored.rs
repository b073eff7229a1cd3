//! A stored value: the session JSON that connect-redis writes, read as a record and identified
//! by the SHA-1 of its bytes.
//!
//! An Express app writes plain connect-redis JSON into the same keys and knows nothing of
//! versions, so the version cannot be stored anywhere; it is the digest of the exact bytes
//! stored. SHA-1 because the save script compares with Redis's own `redis.sha1hex`; it is a
//! change detector here, not a security boundary (whoever can write the key can write
//! anything into it anyway).

use session_core::{Loaded, Record, StoreError, Version};
use sha1::{Digest, Sha1};

/// A stored value as a loaded record: decoded, with the version of its bytes. A value that is
/// not UTF-8 or not a session is [`StoreError::Corrupt`].
pub(crate) fn loaded(bytes: &[u8]) -> Result<Loaded, StoreError> {
    loaded_with(bytes, version_of(bytes))
}

/// A stored value whose version is known already (the near cache keeps it with the bytes).
pub(crate) fn loaded_with(bytes: &[u8], version: Version) -> Result<Loaded, StoreError> {
    let json = std::str::from_utf8(bytes).map_err(StoreError::corrupt)?;
    Ok(Loaded::new(Record::from_json(json)?, version))
}

/// The version of a stored value: the SHA-1 of its bytes.
pub(crate) fn version_of(bytes: &[u8]) -> Version {
    Version::from_bytes(&Sha1::digest(bytes))
}

/// The SHA-1 of `text` in lower-case hex, as `redis.sha1hex` and `SCRIPT LOAD` write it.
pub(crate) fn sha1_hex(text: &str) -> String {
    version_of(text.as_bytes()).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_sha1_that_redis_computes() {
        // redis-cli EVAL "return redis.sha1hex(ARGV[1])" 0 "" (and "abc")
        assert_eq!(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(version_of(b"abc").as_bytes().len(), 20);
    }

    #[test]
    fn values_load_with_the_version_of_their_bytes_or_are_corrupt() {
        let json =
            r#"{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"n":1}"#;
        let loaded = loaded(json.as_bytes()).expect("a session");
        assert_eq!(loaded.record.data["n"], 1);
        assert_eq!(loaded.version, version_of(json.as_bytes()));
        assert!(!loaded.touched);
        for value in [&b"not json"[..], br#"{"n":1}"#, b"\xff\xfe"] {
            assert!(matches!(super::loaded(value), Err(StoreError::Corrupt(_))));
        }
    }
}
