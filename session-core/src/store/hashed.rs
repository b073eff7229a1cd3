//! [`HashedIds`]: a store wrapper that keys records by a keyed hash of the session id, so that
//! a dump of the store cannot be replayed as cookies
//! ([`SessionConfigBuilder::hash_ids_at_rest`](crate::SessionConfigBuilder::hash_ids_at_rest)).

use std::{borrow::Cow, sync::Arc, time::SystemTime};

use async_trait::async_trait;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Created, Lifetimes, Loaded, Saved, SessionId, Store, StoreError, Version, Write};

/// What a stored key starts with: a character no session id has (ids are `[A-Za-z0-9_-]`, or
/// signed by us), so a key handed back by [`Store::sessions_of`] is recognised and used as it
/// is instead of being hashed again.
const STORED_MARK: char = '~';

/// Forwards every call to the inner store with `~` + base64url(HMAC-SHA256(key, id)) instead
/// of the id.
pub(crate) struct HashedIds {
    inner: Arc<dyn Store>,
    key: Hmac<Sha256>,
}

impl HashedIds {
    pub(crate) fn new(inner: Arc<dyn Store>, key: &[u8]) -> Self {
        Self {
            inner,
            key: Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length"),
        }
    }

    /// The inner store as the trait object (a call on the `Arc` would box one more future).
    fn inner(&self) -> &dyn Store {
        &*self.inner
    }

    /// The key the inner store knows session `id` by.
    fn stored<'a>(&self, id: &'a SessionId) -> Cow<'a, SessionId> {
        if id.as_str().starts_with(STORED_MARK) {
            return Cow::Borrowed(id);
        }
        let mut mac = self.key.clone();
        mac.update(id.as_str().as_bytes());
        let hash = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        Cow::Owned(SessionId::from(format!("{STORED_MARK}{hash}")))
    }
}

#[async_trait]
impl Store for HashedIds {
    async fn load(&self, id: &SessionId) -> Result<Option<Loaded>, StoreError> {
        self.inner().load(&self.stored(id)).await
    }

    async fn create(&self, id: &SessionId, write: Write<'_>) -> Result<Created, StoreError> {
        self.inner().create(&self.stored(id), write).await
    }

    async fn save(
        &self,
        id: &SessionId,
        write: Write<'_>,
        expected: &Version,
    ) -> Result<Saved, StoreError> {
        self.inner().save(&self.stored(id), write, expected).await
    }

    async fn touch(
        &self,
        id: &SessionId,
        expires_at: SystemTime,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.inner()
            .touch(&self.stored(id), expires_at, owner)
            .await
    }

    async fn delete(&self, id: &SessionId) -> Result<(), StoreError> {
        self.inner().delete(&self.stored(id)).await
    }

    /// The stored keys (`~…`), which the other calls take as they are.
    async fn sessions_of(&self, owner: &str) -> Result<Vec<SessionId>, StoreError> {
        self.inner().sessions_of(owner).await
    }

    async fn load_and_touch(
        &self,
        id: &SessionId,
        lifetimes: Lifetimes,
    ) -> Result<Option<Loaded>, StoreError> {
        self.inner()
            .load_and_touch(&self.stored(id), lifetimes)
            .await
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

impl Drop for HashedIds {
    fn drop(&mut self) {
        // As the keyring does: the keyed state is as good as the key.
        self.key = Hmac::<Sha256>::new_from_slice(&[]).expect("HMAC accepts keys of any length");
        std::hint::black_box(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{testing::conformance, MemoryStore, Record};

    #[tokio::test]
    async fn passes_the_store_conformance_suite() {
        conformance::run_all(|| async {
            HashedIds::new(
                Arc::new(MemoryStore::new()),
                b"a hash key of thirty-two bytes!!",
            )
        })
        .await;
    }

    #[tokio::test]
    async fn the_inner_store_never_sees_an_id() {
        let inner = Arc::new(MemoryStore::new());
        let hashed = HashedIds::new(inner.clone(), b"a hash key of thirty-two bytes!!");
        let id = SessionId::random().unwrap();
        let record = Record::new(Default::default());
        let later = SystemTime::now() + Duration::from_secs(60);
        hashed
            .create(&id, Write::new(&record, later).owned_by(Some("ann")))
            .await
            .unwrap();
        assert!(
            inner.load(&id).await.unwrap().is_none(),
            "stored under the raw id"
        );
        assert!(hashed.load(&id).await.unwrap().is_some());
        let listed = hashed.sessions_of("ann").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!listed[0].as_str().contains(id.as_str()));
        hashed.delete(&listed[0]).await.unwrap();
        assert!(
            hashed.load(&id).await.unwrap().is_none(),
            "a listed key deletes"
        );
        let other_key = HashedIds::new(inner, b"another key, also thirty-two by!");
        assert_ne!(other_key.stored(&id), hashed.stored(&id));
    }
}
