//! [`Owners`]: the memory store's listing of each user's sessions, for
//! [`Store::sessions_of`](crate::Store::sessions_of).

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
    time::SystemTime,
};

use crate::SessionId;

/// Each user's session ids with the deadline they were last written or touched with. An
/// entry whose deadline passed is dropped when its user is listed, and every entry past its
/// deadline is swept once the listing has grown to twice what the last sweep left (so dead
/// entries never outnumber live ones by much, at an amortised constant cost per write).
#[derive(Debug, Default)]
pub(super) struct Owners {
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    users: HashMap<Box<str>, HashMap<SessionId, SystemTime>>,
    entries: usize,
    left_by_last_sweep: usize,
}

/// How many entries a listing holds before the first sweep.
const FIRST_SWEEP: usize = 1024;

impl Owners {
    /// Lists `id` under `owner` until `deadline`.
    pub(super) fn note(&self, owner: &str, id: &SessionId, deadline: SystemTime) {
        let mut table = self.table();
        let sessions = table.users.entry(owner.into()).or_default();
        if sessions.insert(id.clone(), deadline).is_none() {
            table.entries += 1;
        }
        if table.entries > 2 * table.left_by_last_sweep + FIRST_SWEEP {
            table.sweep(SystemTime::now());
        }
    }

    /// The ids listed under `owner` whose deadline has not passed.
    pub(super) fn sessions_of(&self, owner: &str) -> Vec<SessionId> {
        let now = SystemTime::now();
        let mut table = self.table();
        let Some(sessions) = table.users.get_mut(owner) else {
            return Vec::new();
        };
        let before = sessions.len();
        sessions.retain(|_, deadline| *deadline > now);
        let live: Vec<SessionId> = sessions.keys().cloned().collect();
        let dropped = before - live.len();
        if live.is_empty() {
            table.users.remove(owner);
        }
        table.entries -= dropped;
        live
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // Every update leaves the table consistent before anything can panic.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Table {
    fn sweep(&mut self, now: SystemTime) {
        self.users.retain(|_, sessions| {
            sessions.retain(|_, deadline| *deadline > now);
            !sessions.is_empty()
        });
        self.entries = self.users.values().map(HashMap::len).sum();
        self.left_by_last_sweep = self.entries;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn lists_live_entries_and_sweeps_dead_ones() {
        let owners = Owners::default();
        let later = SystemTime::now() + Duration::from_secs(3600);
        let past = SystemTime::now() - Duration::from_secs(1);
        owners.note("ann", &SessionId::from("a1"), later);
        owners.note("ann", &SessionId::from("a2"), past);
        owners.note("bob", &SessionId::from("b1"), later);
        assert_eq!(owners.sessions_of("ann"), [SessionId::from("a1")]);
        assert!(owners.sessions_of("nobody").is_empty());
        for n in 0..3 * FIRST_SWEEP {
            owners.note("crowd", &SessionId::from(format!("c{n}")), past);
        }
        let table = owners.table();
        assert!(
            table.entries <= 2 * table.left_by_last_sweep + FIRST_SWEEP,
            "dead entries were never swept: {}",
            table.entries
        );
        assert_eq!(
            table.entries,
            table.users.values().map(HashMap::len).sum::<usize>()
        );
    }
}
