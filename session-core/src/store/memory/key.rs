//! [`Key`]: a session id as the memory store's key, held without an allocation of its own.

use std::{
    borrow::Borrow,
    hash::{Hash, Hasher},
};

use crate::SessionId;

/// The longest id kept inline: with the length byte and the tag, [`Key`] is 40 bytes, room
/// for a default id (32 characters) and for most custom ones.
const INLINE: usize = 38;

/// A session id as moka's key.
///
/// moka puts every key into an `Arc` of its own. A [`SessionId`] there would keep a second
/// allocation (its `Arc<str>`) alive for as long as the session is stored; an id of up to
/// [`INLINE`] bytes is instead copied into moka's `Arc`. Lookups need no `Key`: it borrows as
/// the id's bytes, which it hashes and compares as.
#[derive(Clone)]
pub(super) enum Key {
    /// An id of at most [`INLINE`] bytes.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// A longer id, sharing the session's own.
    Shared(SessionId),
}

impl Key {
    /// The key of `id`: a copy of it, or for a long id a second reference to it.
    pub(super) fn of(id: &SessionId) -> Self {
        let text = id.as_str().as_bytes();
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text);
                Self::Inline { len, bytes }
            }
            _ => Self::Shared(id.clone()),
        }
    }

    /// The id's bytes.
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Shared(id) => id.as_str().as_bytes(),
        }
    }

    /// Heap bytes the key holds beyond itself: a shared id's `Arc<str>` (two counters and the
    /// text), nothing for an inline one.
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Self::Inline { .. } => 0,
            Self::Shared(id) => 2 * size_of::<usize>() + id.as_str().len(),
        }
    }
}

/// As the id's bytes, so that `Borrow<[u8]>` holds its promise.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

/// As the id's bytes, so that `Borrow<[u8]>` holds its promise.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn is_no_larger_than_the_longest_inline_id_needs() {
        assert_eq!(size_of::<Key>(), 40);
    }

    #[test]
    fn short_ids_are_inline_long_ones_shared() {
        let default = SessionId::from_random_bytes(&[7; 24]);
        assert!(matches!(Key::of(&default), Key::Inline { len: 32, .. }));
        assert_eq!(Key::of(&default).heap_bytes(), 0);
        assert!(matches!(
            Key::of(&SessionId::from("")),
            Key::Inline { len: 0, .. }
        ));
        assert!(matches!(
            Key::of(&SessionId::from("x".repeat(38))),
            Key::Inline { len: 38, .. }
        ));
        let long = SessionId::from("x".repeat(39));
        assert!(matches!(Key::of(&long), Key::Shared(_)));
        assert_eq!(Key::of(&long).heap_bytes(), 16 + 39);
    }

    #[test]
    fn equals_and_hashes_as_the_ids_bytes() {
        let hasher = foldhash::fast::RandomState::default();
        let ids: Vec<SessionId> = [
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYY",
            "fixed-id",
            "fixed-id\0",
            "",
        ]
        .into_iter()
        .map(SessionId::from)
        .chain([
            SessionId::from("y".repeat(300)),
            SessionId::from("y".repeat(301)),
        ])
        .collect();
        for a in &ids {
            let key = Key::of(a);
            let bytes = a.as_str().as_bytes();
            assert_eq!(key.as_bytes(), bytes);
            assert_eq!(hasher.hash_one(&key), hasher.hash_one(bytes));
            for b in &ids {
                assert_eq!(key == Key::of(b), a == b, "{a:?} vs {b:?}");
            }
        }
    }
}
