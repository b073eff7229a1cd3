//! [`StoreHandle`]: what a store may hand out with a record it loaded, so that the same
//! request's save finds the record again without looking it up.

use std::{any::Any, fmt, sync::Arc};

/// An opaque value a store attaches to a record it loads ([`Loaded::with_handle`]) and gets
/// back on the save of that record by the same request ([`Write::handle`]): an in-process
/// store's entry, say, so that the save needs no second lookup. The session layer never looks
/// inside; it hands the handle back only with a save of the same session id, and drops it
/// when the id changes or the record is deleted. A handle is a shortcut, never a proof: the
/// save still compares versions, and a store must notice an entry that left it since.
///
/// The `issuer` names the store instance that made the handle (a counter, say), so that a
/// handle reaching another instance, through a wrapper that loads from one store and saves
/// to another, is refused rather than written through.
///
/// ```
/// use std::sync::Arc;
/// use session_core::StoreHandle;
///
/// let handle = StoreHandle::new(1, Arc::new(7_u32));
/// assert_eq!(handle.downcast::<u32>(1).as_deref(), Some(&7));
/// assert!(handle.downcast::<u32>(2).is_none(), "another instance's handle");
/// assert!(handle.downcast::<String>(1).is_none(), "another type");
/// ```
///
/// [`Loaded::with_handle`]: crate::Loaded::with_handle
/// [`Write::handle`]: crate::Write::handle
#[derive(Clone)]
pub struct StoreHandle {
    issuer: u64,
    value: Arc<dyn Any + Send + Sync>,
}

impl StoreHandle {
    /// Wraps a value of store instance `issuer` (no allocation beyond the `Arc` it is given).
    pub fn new<T: Any + Send + Sync>(issuer: u64, value: Arc<T>) -> Self {
        Self { issuer, value }
    }

    /// The value, when instance `issuer` made the handle and the value is a `T`.
    pub fn downcast<T: Any + Send + Sync>(&self, issuer: u64) -> Option<Arc<T>> {
        if self.issuer != issuer {
            return None;
        }
        Arc::clone(&self.value).downcast().ok()
    }
}

impl fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreHandle(..)")
    }
}
