//! [`State`]: one request's view of its session, with what express-session tracks through
//! `originalId`, `originalHash` and `savedHash`, and what a conditional save needs: the
//! version of the stored record and the data that version holds.

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::{deadline, SessionError, SessionId, StoreHandle, Version};

/// The session's state for this request.
pub(crate) struct State {
    pub(crate) id: SessionId,
    /// The id the session had when it was loaded or generated.
    pub(crate) original_id: SessionId,
    /// The id of the verified cookie the request carried, if any.
    pub(crate) cookie_id: Option<SessionId>,
    pub(crate) data: Map<String, Value>,
    /// The data as loaded or generated, copied at the first write (copy-on-write), so a
    /// request that only reads never copies.
    pub(crate) baseline: Option<Map<String, Value>>,
    pub(crate) saved: SaveMark,
    pub(crate) original_max_age: Option<u64>,
    /// The `originalMaxAge` of the stored record at `version`: whether this request changed
    /// the lifetime tells a merge whose lifetime to keep.
    pub(crate) stored_max_age: Option<u64>,
    pub(crate) expires: Option<SystemTime>,
    /// When the session was created (for the absolute timeout).
    pub(crate) created_at: Option<SystemTime>,
    /// When the session is over however active (created + absolute timeout).
    pub(crate) ends_at: Option<SystemTime>,
    /// The creation time was added by this request to a record that had none: a change to
    /// save, though the data is the same.
    pub(crate) stamped: bool,
    /// The version of the record under `id`, when the store holds one (loaded, or written
    /// during this request): what a save is conditional on.
    pub(crate) version: Option<Version>,
    /// What the store attached to the record at `version` when it was loaded (or handed back
    /// with a conflict), for the save ([`StoreHandle`]); `None` whenever `version` is.
    pub(crate) handle: Option<StoreHandle>,
    /// The store already moved the expiry when it loaded the record, for this lifetime
    /// (`originalMaxAge`): the end-of-request touch is then done unless the lifetime changed.
    pub(crate) touched_at_load: Option<Option<u64>>,
    pub(crate) lifecycle: Lifecycle,
    /// Cookie mode: the cookie verified with a secret other than the first.
    pub(crate) old_key: bool,
}

/// What the store is known to hold for this session (express-session's `savedHash`).
pub(crate) enum SaveMark {
    /// Nothing known.
    None,
    /// The data as loaded (set on load when `resave` is off).
    Baseline,
    /// The data as written by the last save, or as read by the last merge.
    Snapshot(Map<String, Value>),
}

/// Where the session is in its life, for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Live,
    /// [`Session::destroy`](crate::Session::destroy) ran: the record is gone and the cookie
    /// is cleared.
    Destroyed,
    /// [`Session::unset`](crate::Session::unset) ran: the session is dropped at the end of
    /// the request.
    Unset,
    /// A save found the record gone (another request logged out, regenerated or revoked it,
    /// or it expired): nothing more is written and no cookie is sent.
    Ended,
}

impl State {
    /// The state of a live session `id` with `data` and its lifetime: nothing saved, loaded
    /// or touched yet, and its cookie's expiry not computed ([`State::touch`] does); each
    /// constructor of `Session` sets what differs.
    pub(crate) fn new(
        id: SessionId,
        cookie_id: Option<SessionId>,
        data: Map<String, Value>,
        max_age: Option<u64>,
        (created_at, ends_at): (Option<SystemTime>, Option<SystemTime>),
    ) -> Self {
        Self {
            original_id: id.clone(),
            id,
            cookie_id,
            data,
            baseline: None,
            saved: SaveMark::None,
            original_max_age: max_age,
            stored_max_age: max_age,
            expires: None,
            created_at,
            ends_at,
            stamped: false,
            version: None,
            handle: None,
            touched_at_load: None,
            lifecycle: Lifecycle::Live,
            old_key: false,
        }
    }

    fn data_changed(&self) -> bool {
        self.baseline
            .as_ref()
            .is_some_and(|baseline| *baseline != self.data)
    }

    /// express-session's `isModified`, plus a creation time added by this request.
    pub(crate) fn is_modified(&self) -> bool {
        self.id != self.original_id || self.data_changed() || self.stamped
    }

    /// express-session's `isSaved`.
    pub(crate) fn is_saved(&self) -> bool {
        self.id == self.original_id
            && !self.stamped
            && match &self.saved {
                SaveMark::None => false,
                SaveMark::Baseline => !self.data_changed(),
                SaveMark::Snapshot(snapshot) => *snapshot == self.data,
            }
    }

    pub(crate) fn has_save_mark(&self) -> bool {
        !matches!(self.saved, SaveMark::None)
    }

    pub(crate) fn is_persisted(&self) -> bool {
        self.version.is_some()
    }

    /// The data the store holds at `version`: the last snapshot, else the data as loaded.
    pub(crate) fn stored_data(&self) -> &Map<String, Value> {
        match &self.saved {
            SaveMark::Snapshot(snapshot) => snapshot,
            SaveMark::None | SaveMark::Baseline => self.baseline.as_ref().unwrap_or(&self.data),
        }
    }

    /// Whether the touch the rules ask for at the end was already done by the load: same
    /// id, same lifetime.
    pub(crate) fn touch_done_at_load(&self) -> bool {
        self.id == self.original_id && self.touched_at_load == Some(self.original_max_age)
    }

    /// `Ok` while the session can still be written to.
    pub(crate) fn writable(&self) -> Result<(), SessionError> {
        match self.lifecycle {
            Lifecycle::Live => Ok(()),
            Lifecycle::Ended => Err(SessionError::Ended),
            Lifecycle::Destroyed | Lifecycle::Unset => Err(SessionError::Destroyed),
        }
    }

    pub(crate) fn data_mut(&mut self) -> Result<&mut Map<String, Value>, SessionError> {
        self.writable()?;
        if self.baseline.is_none() {
            self.baseline = Some(self.data.clone());
        }
        Ok(&mut self.data)
    }

    /// express-session's `touch()`: the cookie expires `originalMaxAge` from now (never after
    /// the absolute end).
    pub(crate) fn touch(&mut self) {
        self.expires =
            deadline::cookie_expires(self.original_max_age, self.ends_at, SystemTime::now());
    }

    /// The store now holds `data` at `version` under the current id.
    pub(crate) fn mark_stored(&mut self, data: Map<String, Value>, version: Version) {
        self.saved = SaveMark::Snapshot(data);
        self.version = Some(version);
        self.stored_max_age = self.original_max_age;
        self.stamped = false;
    }

    /// Starts a new, empty session under a new id, keeping `original_id` and `cookie_id` so
    /// the rules see the id change.
    pub(crate) fn restart(
        &mut self,
        id: SessionId,
        default_max_age: Option<u64>,
        created_at: Option<SystemTime>,
        ends_at: Option<SystemTime>,
    ) {
        self.id = id;
        self.data = Map::new();
        self.baseline = None;
        self.saved = SaveMark::None;
        self.version = None;
        self.handle = None;
        self.lifecycle = Lifecycle::Live;
        self.original_max_age = default_max_age;
        self.stored_max_age = default_max_age;
        self.created_at = created_at;
        self.ends_at = ends_at;
        self.stamped = false;
        self.touch();
    }
}
