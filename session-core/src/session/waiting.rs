//! [`Waiting`]: a save waiting for its session's save turn, left in the turn's entry so that
//! the holder can write it along with its own (a group commit): one store write then lands
//! every change that queued behind the turn, instead of one write per change in turn.
//!
//! A waiting save is only read by the holder; it takes the written record as its own (and
//! returns without writing) once the holder's write succeeded, and saves itself otherwise. So
//! no save reports success before its changes are stored. The converse is possible: a request
//! dropped while it waited (the client went away), or one whose wait timed out (`Busy`, after
//! 10 s) just after the holder read it, may have its changes written although it never
//! answered, as a save that lands just before a disconnect would.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

use super::{write::Plan, Session};
use crate::Version;

/// A save waiting for its session's turn (shared with the turn's entry as an `Arc`).
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(super) session: Session,
    written: AtomicBool,
}

impl Waiting {
    pub(super) fn new(session: Session) -> Self {
        Self {
            session,
            written: AtomicBool::new(false),
        }
    }

    /// Whether a holder of the turn wrote this save's changes (so there is nothing left to
    /// write once its own turn comes).
    pub(super) fn was_written(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }

    /// Records that `plan`, which carries this save's changes (read from its session as
    /// `read`), was stored as `version`.
    pub(super) fn wrote(&self, plan: &Plan, version: Version, read: &Map<String, Value>) {
        self.session.adopt(plan, version, read);
        self.written.store(true, Ordering::Release);
    }
}
