//! Writing a session: `create` for a new id, a conditional `save` otherwise, and a merge into
//! the current record when another writer changed it meanwhile.

use std::{sync::Arc, time::SystemTime};

use serde_json::{Map, Value};

use super::{state::Lifecycle, Session, Waiting};
use crate::{
    deadline,
    lineage::Lineage,
    lock::Turn,
    merge::{self, Sides},
    CookieData, Created, Loaded, Record, Saved, SessionError, SessionId, StoreHandle, Version,
    Write,
};

/// How many fresh ids [`Store::create`](crate::Store::create) is tried with before giving up.
const CREATE_ATTEMPTS: u32 = 8;

/// How many merges a save may go through before giving up. Each one means another writer's
/// save succeeded meanwhile, so the bound is only reached under extreme contention.
const MERGE_ATTEMPTS: u32 = 100;

/// The longest pause before retrying a merged save, in milliseconds: retries after the first
/// wait a random time up to twice the last bound, so that writers racing for one busy session
/// spread out instead of colliding again at once.
const MAX_BACKOFF_MS: u32 = 50;

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persisted {
    /// The store holds the session as this request left it (or it had already expired and
    /// was deleted).
    Written,
    /// The record was gone: the session ended in another request. Nothing was written.
    Ended,
}

/// One attempt's write, planned from the state under its lock.
pub(super) struct Plan {
    pub(super) id: SessionId,
    pub(super) record: Record,
    version: Option<Version>,
    /// The store's handle for the record at `version` ([`StoreHandle`]).
    handle: Option<StoreHandle>,
    pub(super) owner: Option<String>,
    deadline: SystemTime,
}

/// Waits before the retry that follows the `merges`-th conflict met while holding the
/// session's save turn, when this process's other saves of the session wait behind it (so
/// what still races is another process, or a save of this one that looked for the turn just
/// before it was taken): none after the first, then a random time up to 2, 4, 8, ...
/// milliseconds, at most [`MAX_BACKOFF_MS`].
async fn back_off(merges: u32) {
    if merges < 2 {
        return;
    }
    let bound = 1u32
        .checked_shl(merges - 1)
        .unwrap_or(MAX_BACKOFF_MS)
        .min(MAX_BACKOFF_MS);
    // Jitter needs no cryptographic quality; a failing RNG only means no pause.
    let random = getrandom::u32().unwrap_or(0);
    let pause = std::time::Duration::from_millis(u64::from(random % (bound + 1)));
    tokio::time::sleep(pause).await;
}

impl Session {
    /// Writes the record: `create` for a session the store does not hold yet (retrying with a
    /// fresh id on a collision), a `save` conditional on the version this request knows
    /// otherwise (merging into the current record when another writer changed it), `delete`
    /// when it has already expired.
    pub(crate) async fn persist(&self) -> Result<Persisted, SessionError> {
        let store = self.manager().observed();
        // Taken after a first save found the record changed, or up front when other saves of
        // the session already take turns: from then on this process's saves of the session
        // go one at a time, so a conflict under the turn means another process is racing (or
        // a save of this one that looked for the turn just before it was taken). Each turn
        // starts by catching up with what the turns before it wrote (`catch_up`), and writes
        // the saves waiting behind it along with its own (`carry`).
        let mut waiting = None;
        // The rare steps' futures are boxed where they run, so that this one (which the
        // adapter's response future holds, and moves) stays the size of the usual path.
        let mut turn = if self.manager().save_locks.any_taken() {
            Box::pin(self.join_busy_saves(&mut waiting)).await?
        } else {
            None
        };
        let (mut collisions, mut merges, mut merges_in_turn) = (0, 0, 0);
        loop {
            if waiting
                .as_ref()
                .is_some_and(|waiting| waiting.was_written())
            {
                crate::telemetry::saved("merged");
                return Ok(Persisted::Written);
            }
            let behind = self.start_turn(turn.as_mut(), &mut merges)?;
            let own = self.plan();
            if own.deadline <= SystemTime::now() {
                return Box::pin(self.drop_expired(own)).await;
            }
            let Some(expected) = own.version else {
                let json = self.encode(&own)?;
                let write =
                    Write::encoded(&own.record, &json, own.deadline).owned_by(own.owner.as_deref());
                match store.create(&own.id, write).await? {
                    Created::Written(version) => {
                        self.mark_stored(&own.id, own.record.data, version);
                        crate::telemetry::created("store");
                        return Ok(Persisted::Written);
                    }
                    Created::IdTaken => {
                        collisions += 1;
                        if collisions == CREATE_ATTEMPTS {
                            return Err(SessionError::IdCollision(CREATE_ATTEMPTS));
                        }
                        self.replace_taken_id(&own.id)?;
                        continue;
                    }
                }
            };
            let (plan, json, carried) = self.carry(own, behind)?;
            let write = Write::encoded(&plan.record, &json, plan.deadline)
                .owned_by(plan.owner.as_deref())
                .with_handle(plan.handle.as_ref());
            match store.save(&plan.id, write, &expected).await? {
                Saved::Written(version) => {
                    if let Some(turn) = &mut turn {
                        turn.wrote(expected, Loaded::new(plan.record.clone(), version));
                    }
                    if carried.is_empty() {
                        self.mark_stored(&plan.id, plan.record.data, version);
                    } else {
                        carried.wrote(self, &plan, version);
                    }
                    crate::telemetry::saved(if merges == 0 { "written" } else { "merged" });
                    return Ok(Persisted::Written);
                }
                Saved::Gone => {
                    if let Some(turn) = &mut turn {
                        turn.ended();
                    }
                    self.mark_ended(&plan.id);
                    crate::telemetry::saved("ended");
                    return Ok(Persisted::Ended);
                }
                Saved::Changed(current) => {
                    merges += 1;
                    if merges > MERGE_ATTEMPTS {
                        return Err(SessionError::Contended(MERGE_ATTEMPTS));
                    }
                    self.merge_into(&plan.id, current)?;
                    if turn.is_none() {
                        turn = Some(Box::pin(self.save_turn(&plan.id, &mut waiting)).await?);
                    } else {
                        // A conflict in turn is a writer outside this process's turns;
                        // the first is retried at once, the ones after it with a pause.
                        merges_in_turn += 1;
                        Box::pin(back_off(merges_in_turn)).await;
                    }
                }
            }
        }
    }

    /// At the start of a turn (once per turn): catches up with the lineage (counting a merge
    /// in `merges`) and returns the saves now waiting behind it, for [`carry`](Self::carry).
    /// Nothing otherwise.
    fn start_turn(
        &self,
        turn: Option<&mut Turn<Waiting>>,
        merges: &mut u32,
    ) -> Result<Vec<Arc<Waiting>>, SessionError> {
        let Some(turn) = turn else {
            return Ok(Vec::new());
        };
        let Some(lineage) = turn.lineage_to_catch_up() else {
            return Ok(Vec::new());
        };
        if self.catch_up(lineage)? {
            *merges += 1;
        }
        Ok(turn.waiting())
    }

    /// `plan`'s record as Node's session JSON, refused when it is over the size limit.
    pub(super) fn encode(&self, plan: &Plan) -> Result<String, SessionError> {
        let json = plan.record.to_json()?;
        self.check_size(json.len())?;
        Ok(json)
    }

    /// A turn among this process's saves of the session when some of them already take
    /// turns (one found the record changed under it): joining them beats racing them and
    /// colliding again. `None` otherwise, and for a session not stored yet. While it waits,
    /// the save is `waiting` in the turn's entry, for a holder to write along with its own.
    async fn join_busy_saves(
        &self,
        waiting: &mut Option<Arc<Waiting>>,
    ) -> Result<Option<Turn<Waiting>>, SessionError> {
        let locks = &self.manager().save_locks;
        if !locks.any_taken() {
            return Ok(None);
        }
        let id = {
            let state = self.state();
            if state.version.is_none() {
                return Ok(None);
            }
            state.id.clone()
        };
        locks
            .turn_if_taken(
                &id,
                crate::DEFAULT_SERIALIZE_WAIT,
                Some(self.waiting(waiting)),
            )
            .await
    }

    /// Merges this request's changes into the record the saves in turn before it wrote,
    /// when that record descends from the version this request knows: the save then goes
    /// over the version it would otherwise have learned from a failed save. Says whether it
    /// merged.
    fn catch_up(&self, lineage: &Lineage) -> Result<bool, SessionError> {
        let (id, newer) = {
            let state = self.state();
            let Some(version) = state.version else {
                return Ok(false);
            };
            let Some(newer) = lineage.newer_than(&version) else {
                return Ok(false);
            };
            (state.id.clone(), newer.clone())
        };
        self.merge_into(&id, newer)?;
        Ok(true)
    }

    /// This save as it waits for a turn, made the first time it waits (a save that never
    /// waits allocates nothing for it).
    fn waiting(&self, waiting: &mut Option<Arc<Waiting>>) -> Arc<Waiting> {
        waiting
            .get_or_insert_with(|| Arc::new(Waiting::new(self.clone())))
            .clone()
    }

    /// A turn among this process's saves of session `id`.
    async fn save_turn(
        &self,
        id: &SessionId,
        waiting: &mut Option<Arc<Waiting>>,
    ) -> Result<Turn<Waiting>, SessionError> {
        self.manager()
            .save_locks
            .turn(
                id,
                crate::DEFAULT_SERIALIZE_WAIT,
                Some(self.waiting(waiting)),
            )
            .await
    }

    pub(super) fn plan(&self) -> Plan {
        let manager = self.manager();
        let state = self.state();
        Plan {
            id: state.id.clone(),
            record: self.record(&state),
            version: state.version,
            handle: state.version.and(state.handle.clone()),
            owner: manager.owner_of(&state.data),
            deadline: deadline::store_deadline(
                state.expires,
                manager.config.browser_session_ttl,
                state.ends_at,
                SystemTime::now(),
            ),
        }
    }

    /// Refuses a session larger than the configured limit, before anything is written.
    pub(super) fn check_size(&self, size: usize) -> Result<(), SessionError> {
        let Some(limit) = self.manager().config.max_session_bytes else {
            return Ok(());
        };
        if size > limit {
            return Err(SessionError::TooLarge { size, limit });
        }
        Ok(())
    }

    /// A session already past its expiry is not written; a stored one is deleted.
    async fn drop_expired(&self, plan: Plan) -> Result<Persisted, SessionError> {
        if plan.version.is_some() {
            self.manager().observed().delete(&plan.id).await?;
        }
        let mut state = self.state();
        if state.id == plan.id {
            state.saved = super::state::SaveMark::Snapshot(plan.record.data);
            state.version = None;
            state.handle = None;
        }
        Ok(Persisted::Written)
    }

    fn replace_taken_id(&self, taken: &SessionId) -> Result<(), SessionError> {
        tracing::warn!(id = %taken.redacted(), "session id already taken; trying another");
        let fresh = self.manager().config.id_generator.generate()?;
        let mut state = self.state();
        if state.id == *taken {
            state.id = fresh;
        }
        Ok(())
    }

    fn mark_stored(&self, id: &SessionId, data: Map<String, Value>, version: Version) {
        let mut state = self.state();
        if state.id == *id {
            state.mark_stored(data, version);
        }
    }

    fn mark_ended(&self, id: &SessionId) {
        let mut state = self.state();
        if state.id == *id {
            tracing::debug!(id = %id.redacted(), "session ended by another request; save dropped");
            state.version = None;
            state.handle = None;
            state.lifecycle = Lifecycle::Ended;
        }
    }

    /// Applies this request's own changes to `current` (what another writer left), by the
    /// configured conflict policy; the next save is conditional on `current`'s version. The
    /// lifetime is this request's if it changed it, else the other writer's.
    fn merge_into(&self, id: &SessionId, current: Loaded) -> Result<(), SessionError> {
        let policy = self.manager().config.integrity.conflicts;
        let absolute = self.manager().config.integrity.absolute_timeout;
        let mut state = self.state();
        if state.id != *id {
            return Ok(());
        }
        let theirs = current.record.data;
        let merged = merge::merge(
            Sides {
                base: state.stored_data(),
                ours: &state.data,
                theirs: &theirs,
            },
            policy,
        )
        .map_err(|key| {
            crate::telemetry::saved("conflict");
            SessionError::Conflict(key)
        })?;
        tracing::debug!(id = %id.redacted(), "session changed meanwhile; merged this request's changes");
        if state.original_max_age == state.stored_max_age {
            state.original_max_age = current.record.cookie.original_max_age;
        }
        state.stored_max_age = current.record.cookie.original_max_age;
        if current.record.created_at.is_some() {
            state.created_at = current.record.created_at;
            state.ends_at = deadline::absolute_end(state.created_at, absolute);
            state.stamped = false;
        }
        state.data = merged;
        state.saved = super::state::SaveMark::Snapshot(theirs);
        state.version = Some(current.version);
        state.handle = current.handle;
        state.touch();
        Ok(())
    }

    /// The record as it should be stored now: the data, Node's `cookie` object and the
    /// creation time.
    pub(crate) fn record(&self, state: &super::state::State) -> Record {
        let policy = &self.manager().config.cookie;
        let secure = policy.secure.stored(self.request_secure());
        let mut record = Record::new(state.data.clone());
        record.created_at = state.created_at;
        record.cookie = CookieData {
            original_max_age: state.original_max_age,
            expires: state.expires,
            secure,
            http_only: policy.http_only,
            domain: policy.domain.clone(),
            path: policy.path.clone(),
            same_site: policy.same_site,
            priority: policy.priority,
            partitioned: policy.partitioned,
        };
        record
    }
}
