//! Carrying: the save that gets a session's save turn writes the data changes of the saves
//! waiting behind it along with its own (a group commit; `waiting.rs` says what a waiting save
//! is promised). Once that write succeeded, each carried save, and the holder, takes the
//! written record as its data, keeping what its session changed while the write was in
//! flight.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{write::Plan, Session, Waiting};
use crate::{
    merge::{self, Sides},
    ConflictPolicy, SessionError, SessionId, Version,
};

/// The saves a turn's write carries, each with its session's data as the holder read it.
#[derive(Default)]
pub(super) struct Carried {
    /// The holder's own data as it planned it: set when it carries anyone.
    own: Option<Map<String, Value>>,
    behind: Vec<(Arc<Waiting>, Map<String, Value>)>,
}

impl Carried {
    pub(super) fn is_empty(&self) -> bool {
        self.behind.is_empty()
    }

    /// The write of `plan` succeeded as `version`: every carried save takes it, then `holder`.
    pub(super) fn wrote(self, holder: &Session, plan: &Plan, version: Version) {
        for (save, read) in &self.behind {
            save.wrote(plan, version, read);
        }
        if let Some(own) = &self.own {
            holder.adopt(plan, version, own);
        }
    }
}

impl Session {
    /// The write of this request's plan `own` with the data changes of the saves waiting
    /// `behind` its turn merged on top, oldest first, each as a conflict would have merged it;
    /// returns the plan, its JSON and the saves it carries. The waiting saves are only read:
    /// each takes the written record as its own once the write succeeded
    /// ([`Carried::wrote`]), and saves itself otherwise. None are carried under
    /// [`ConflictPolicy::Reject`] (each save meets its own conflicts), nor one that changed
    /// more than its data, nor any when together they pass the size limit.
    pub(super) fn carry(
        &self,
        own: Plan,
        behind: Vec<Arc<Waiting>>,
    ) -> Result<(Plan, String, Carried), SessionError> {
        let mut plan = own;
        let mut carried = Carried::default();
        if self.manager().config.integrity.conflicts == ConflictPolicy::LastWriterWins {
            for save in behind {
                if Arc::ptr_eq(&save.session.shared, &self.shared) {
                    continue;
                }
                if let Some((merged, read)) = save.session.changes_onto(&plan.id, &plan.record.data)
                {
                    let own = std::mem::replace(&mut plan.record.data, merged);
                    carried.own.get_or_insert(own);
                    carried.behind.push((save, read));
                }
            }
        }
        if !carried.is_empty() {
            plan.owner = self.manager().owner_of(&plan.record.data);
        }
        let json = plan.record.to_json()?;
        let fits = self.check_size(json.len());
        if fits.is_ok() || carried.is_empty() {
            fits?;
            return Ok((plan, json, carried));
        }
        let own = self.plan();
        let json = self.encode(&own)?;
        Ok((own, json, Carried::default()))
    }

    /// This request's data changes (since it loaded or last merged) applied to `onto`, last
    /// writer wins, for a save in turn that writes them along with its own; with the data they
    /// were read from. `None` for a session now under another id, or one that changed more
    /// than its data (its lifetime or its creation stamp): it saves itself.
    fn changes_onto(
        &self,
        id: &SessionId,
        onto: &Map<String, Value>,
    ) -> Option<(Map<String, Value>, Map<String, Value>)> {
        let state = self.state();
        if state.id != *id || state.original_max_age != state.stored_max_age || state.stamped {
            return None;
        }
        let merged = merge::ours_win(Sides {
            base: state.stored_data(),
            ours: &state.data,
            theirs: onto,
        });
        Some((merged, state.data.clone()))
    }

    /// Takes `plan`'s data (the holder's changes and those of the saves written with it) as
    /// what the session holds and the store has, as `version`. `read` is the data the plan
    /// took from this session: what changed since (another task of the request, while the
    /// write was in flight) stays, on top, for the next save to write. A session that moved to
    /// another id meanwhile (`regenerate`, `cycle_id`) keeps its state as it is: the write
    /// stored what the save was asked for, under the old id, and the next save creates the
    /// new one (as for a holder's own write, `mark_stored`).
    pub(super) fn adopt(&self, plan: &Plan, version: Version, read: &Map<String, Value>) {
        let mut state = self.state();
        if state.id != plan.id {
            return;
        }
        let written = &plan.record.data;
        if state.data == *read {
            state.data.clone_from(written);
        } else {
            state.data = merge::ours_win(Sides {
                base: read,
                ours: &state.data,
                theirs: written,
            });
        }
        state.mark_stored(written.clone(), version);
    }
}
