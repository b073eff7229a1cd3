//! One shard of the near cache: the slots of its keys, what each holds or awaits, and the
//! rules that decide whether a reply may fill a slot.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use super::{Held, ScriptWrites};

/// The slots of some keys, and the bytes they count against the capacity.
#[derive(Default)]
pub(super) struct Shard {
    slots: HashMap<Arc<str>, Slot>,
    /// The keys in the order their slots were made, oldest first, for eviction: an entry
    /// whose key's slot went (or was made again since) is stale and skipped.
    order: VecDeque<Arc<str>>,
    bytes: u64,
}

/// One key's slot.
struct Slot {
    state: State,
    /// Invalidations of the key that this process's own saves still have coming: the next
    /// ones Redis sends are theirs, and change nothing.
    owed: u32,
}

enum State {
    /// Nothing held or awaited (the slot only keeps `owed`).
    Vacant,
    /// A command that may fill the slot is on its way: its ticket, how many invalidations
    /// of the key were handled since, and the value held before, which stays servable while
    /// no invalidation came: until the command's reply, Redis may still hold it (a load that
    /// races a save may read either side of it).
    Reserved {
        ticket: u64,
        invalidations: u32,
        before: Option<Held>,
    },
    /// A value as Redis holds it.
    Held(Held),
}

impl State {
    /// The value a lookup may serve: the one held, or the one held before the command now on
    /// its way while no invalidation came.
    fn servable(&self) -> Option<&Held> {
        match self {
            Self::Held(held)
            | Self::Reserved {
                invalidations: 0,
                before: Some(held),
                ..
            } => Some(held),
            _ => None,
        }
    }

    /// [`servable`](Self::servable), taken out.
    fn into_servable(self) -> Option<Held> {
        self.servable()?;
        match self {
            Self::Held(held)
            | Self::Reserved {
                before: Some(held), ..
            } => Some(held),
            _ => None,
        }
    }
}

impl Shard {
    /// The value held for `key`, or held before the command now on its way, unless an
    /// invalidation came since.
    pub(super) fn held(&self, key: &str) -> Option<&Held> {
        self.slots.get(key)?.state.servable()
    }

    /// Reserves `key`'s slot for the command holding `ticket`, keeping what it holds (or held
    /// before an earlier reservation) servable meanwhile ([`State::Reserved`]). A `read` leaves
    /// a slot that another command reserved alone (whose reply is at least as new) and says
    /// so; a write always takes the slot.
    pub(super) fn reserve(&mut self, key: &str, ticket: u64, read: bool) -> bool {
        let Some(slot) = self.slots.get_mut(key) else {
            let state = State::Reserved {
                ticket,
                invalidations: 0,
                before: None,
            };
            self.insert(key, Slot { state, owed: 0 });
            return true;
        };
        if read && matches!(slot.state, State::Reserved { .. }) {
            return false;
        }
        let old = weight(key, slot);
        let before = std::mem::replace(&mut slot.state, State::Vacant).into_servable();
        slot.state = State::Reserved {
            ticket,
            invalidations: 0,
            before,
        };
        self.bytes = self.bytes - old + weight(key, slot);
        true
    }

    /// Fills `key`'s slot with `held` if it is still reserved for `ticket` and the
    /// invalidations handled since allow it; whether it did.
    ///
    /// A read or a plain write fills only with no invalidation handled since it was sent: one
    /// could be of a change after it. A save on a server that invalidates its own script
    /// writes (`ScriptWrites::Invalidated`) causes one invalidation of its own, after its
    /// reply: with none handled yet, the slot is filled and owes it; with one handled, that
    /// one was the save's own or of a change before the save (whose own one then drops the
    /// value later, which is safe); with more, one could be of a change after it.
    pub(super) fn fill(
        &mut self,
        key: &str,
        ticket: u64,
        held: Held,
        script_writes: ScriptWrites,
    ) -> bool {
        let Some(slot) = self.slots.get_mut(key) else {
            return false;
        };
        let State::Reserved {
            ticket: reserved,
            invalidations,
            ..
        } = slot.state
        else {
            return false;
        };
        if reserved != ticket {
            return false;
        }
        let owes = match (script_writes, invalidations) {
            (ScriptWrites::Spared, 0) => false,
            (ScriptWrites::Invalidated, 0) => true,
            (ScriptWrites::Invalidated, 1) => false,
            _ => return false,
        };
        slot.owed += u32::from(owes);
        let old = weight(key, slot);
        slot.state = State::Held(held);
        self.bytes = self.bytes - old + weight(key, slot);
        true
    }

    /// Gives back `key`'s reservation for `ticket`, if it still stands.
    pub(super) fn release(&mut self, key: &str, ticket: u64) {
        let Some(slot) = self.slots.get_mut(key) else {
            return;
        };
        if matches!(slot.state, State::Reserved { ticket: t, .. } if t == ticket) {
            // What the command did is unknown (an error) or was overtaken (a conflict): the
            // value before it is not restored.
            let old = weight(key, slot);
            slot.state = State::Vacant;
            self.bytes -= old;
            self.bytes += weight(key, slot);
            if slot.owed == 0 {
                self.remove(key);
            }
        }
    }

    /// Redis says `key` changed: an invalidation a save of ours owes is paid, else a
    /// reservation counts it and a value goes.
    pub(super) fn invalidated(&mut self, key: &str) {
        let Some(slot) = self.slots.get_mut(key) else {
            return;
        };
        if slot.owed > 0 {
            slot.owed -= 1;
            if slot.owed == 0 && matches!(slot.state, State::Vacant) {
                self.remove(key);
            }
            return;
        }
        if let State::Reserved {
            invalidations,
            before,
            ..
        } = &mut slot.state
        {
            *invalidations = invalidations.saturating_add(1);
            if let Some(dropped) = before.take() {
                self.bytes -= dropped.bytes.len() as u64;
            }
        } else {
            self.remove(key);
        }
    }

    /// Drops `key`'s slot, what it owes included.
    pub(super) fn remove(&mut self, key: &str) {
        if let Some(old) = self.slots.remove(key) {
            self.bytes -= weight(key, &old);
        }
    }

    pub(super) fn clear(&mut self) {
        self.slots.clear();
        self.order.clear();
        self.bytes = 0;
    }

    pub(super) fn held_count(&self) -> usize {
        self.slots
            .values()
            .filter(|slot| matches!(slot.state, State::Held(_)))
            .count()
    }

    /// Makes `key`'s slot, which is not there.
    fn insert(&mut self, key: &str, slot: Slot) {
        self.bytes += weight(key, &slot);
        let key: Arc<str> = key.into();
        self.order.push_back(Arc::clone(&key));
        self.slots.insert(key, slot);
        if self.order.len() > 2 * self.slots.len() + 64 {
            let slots = &self.slots;
            self.order.retain(|key| is_current(slots, key));
        }
    }

    /// Drops the oldest slots other than `kept` until the shard is within `capacity` bytes
    /// or holds only `kept`.
    pub(super) fn keep_within(&mut self, capacity: u64, kept: &str) {
        let mut spared = None;
        while self.bytes > capacity {
            let Some(key) = self.order.pop_front() else {
                break;
            };
            if &*key == kept {
                spared = Some(key);
            } else if is_current(&self.slots, &key) {
                self.remove(&key);
            }
        }
        if let Some(key) = spared {
            self.order.push_back(key);
        }
    }

    #[cfg(test)]
    pub(super) fn order_len(&self) -> usize {
        self.order.len()
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Whether `key` is the key the slot it names was made with (not a stale entry of `order`).
fn is_current(slots: &HashMap<Arc<str>, Slot>, key: &Arc<str>) -> bool {
    slots
        .get_key_value(&**key)
        .is_some_and(|(current, _)| Arc::ptr_eq(current, key))
}

/// What a slot counts against the capacity: its key, its value and a fixed overhead (the
/// map's entry, the key's and the value's allocations, the map's spare room).
fn weight(key: &str, slot: &Slot) -> u64 {
    const OVERHEAD: u64 = 256;
    let value = match &slot.state {
        State::Held(held)
        | State::Reserved {
            before: Some(held), ..
        } => held.bytes.len() as u64,
        State::Vacant | State::Reserved { before: None, .. } => 0,
    };
    OVERHEAD + key.len() as u64 + value
}
