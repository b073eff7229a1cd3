//! [`Version`]: what a store remembers about the record a request loaded, so that a save can
//! tell whether the record is still that one.

use std::fmt;

/// The longest version a store may use, in bytes (a SHA-256 digest).
const MAX_LEN: usize = 32;

/// An opaque token naming one state of one stored record: a counter, a digest of the stored
/// bytes, whatever suits the store. Two loads of an unchanged record give equal versions;
/// any write that changes the stored bytes (by this process or by another, an Express app
/// included) gives a new one. A store whose version is a digest keeps it for a write of
/// identical bytes, which is harmless: the record is then exactly what the version names.
///
/// It is `Copy` and never allocates, so carrying it through a request costs nothing.
///
/// ```
/// use session_core::Version;
///
/// assert_eq!(Version::from_u64(7), Version::from_u64(7));
/// assert_ne!(Version::from_u64(7), Version::from_u64(8));
/// let digest = [0xab; 20]; // e.g. the SHA-1 of the stored bytes
/// assert_eq!(Version::from_bytes(&digest).as_bytes(), &digest);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl Version {
    /// A version from a counter.
    pub fn from_u64(n: u64) -> Self {
        Self::from_bytes(&n.to_be_bytes())
    }

    /// A version from up to 32 bytes (a digest); longer input keeps its last 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let kept = &bytes[bytes.len().saturating_sub(MAX_LEN)..];
        let mut version = Self {
            len: kept.len() as u8,
            bytes: [0; MAX_LEN],
        };
        version.bytes[..kept.len()].copy_from_slice(kept);
        version
    }

    /// The bytes the version was made from.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The bytes in lower-case hex (what a Lua script's `redis.sha1hex` compares against),
    /// in one allocation.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(2 * self.as_bytes().len());
        for byte in self.as_bytes() {
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        hex
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_short_input_and_the_tail_of_long_input() {
        assert_eq!(Version::from_bytes(b"").as_bytes(), b"");
        assert_eq!(Version::from_u64(1).as_bytes(), &[0, 0, 0, 0, 0, 0, 0, 1]);
        let long: Vec<u8> = (0..40).collect();
        assert_eq!(Version::from_bytes(&long).as_bytes(), &long[8..]);
        assert_eq!(Version::from_bytes(&[0x0f, 0xa0]).to_hex(), "0fa0");
    }

    #[test]
    fn equal_bytes_are_equal_versions_whatever_the_padding() {
        assert_eq!(Version::from_bytes(&[1, 2]), Version::from_bytes(&[1, 2]));
        assert_ne!(
            Version::from_bytes(&[1, 2]),
            Version::from_bytes(&[1, 2, 0])
        );
    }
}
