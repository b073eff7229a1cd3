//! [`Lineage`]: what this process's saves of one session wrote under the save turn, handed
//! from each turn to the next, so that a save that waited for its turn starts from the record
//! as the save before it left it instead of learning it from a failed conditional save (one
//! round trip per save in turn instead of two).
//!
//! It is only a hint. Every save stays conditional on the version it names, so a lineage that
//! is out of date (another process wrote meanwhile) costs a round trip, never a lost write.

use std::collections::VecDeque;

use crate::{Loaded, Version};

/// How many versions a lineage remembers the latest write descends from.
const MAX_ANCESTORS: usize = 64;

/// The last record this process wrote to one session under its save turn, and the versions
/// it is known to descend from: each write in the line was conditional on the one before it,
/// so a request that read any of those versions would have been told to merge into a record
/// at least as new as the latest.
///
/// ```text
/// wrote(v0 → v1), wrote(v1 → v2)  ⇒  latest v2, ancestors [v0, v1]
/// wrote(v7 → v8)                  ⇒  latest v8, ancestors [v7] (v7 is not v2: a new line)
/// ```
#[derive(Debug, Default)]
pub(crate) struct Lineage {
    latest: Option<Loaded>,
    ancestors: VecDeque<Version>,
}

impl Lineage {
    /// Records a save in turn that replaced version `expected` with `written`.
    pub(crate) fn wrote(&mut self, expected: Version, written: Loaded) {
        let continues = self
            .latest
            .as_ref()
            .is_some_and(|latest| latest.version == expected);
        if !continues {
            self.ancestors.clear();
        }
        if self.ancestors.len() == MAX_ANCESTORS {
            self.ancestors.pop_front();
        }
        self.ancestors.push_back(expected);
        self.latest = Some(written);
    }

    /// Forgets everything: the session ended, so nothing descends from it any more.
    pub(crate) fn ended(&mut self) {
        self.latest = None;
        self.ancestors.clear();
    }

    /// The latest write when it descends from `version` (so a request that read `version`
    /// belongs on top of it); `None` when `version` is the latest itself or not in the line.
    pub(crate) fn newer_than(&self, version: &Version) -> Option<&Loaded> {
        let latest = self.latest.as_ref()?;
        let descends = latest.version != *version && self.ancestors.contains(version);
        descends.then_some(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Record;

    fn write(n: u64) -> Loaded {
        Loaded::new(Record::new(Default::default()), Version::from_u64(n))
    }

    fn newer(lineage: &Lineage, than: u64) -> Option<Version> {
        lineage
            .newer_than(&Version::from_u64(than))
            .map(|latest| latest.version)
    }

    #[test]
    fn a_line_of_writes_is_newer_than_every_version_in_it() {
        let mut lineage = Lineage::default();
        assert_eq!(newer(&lineage, 0), None, "nothing written yet");
        lineage.wrote(Version::from_u64(0), write(1));
        lineage.wrote(Version::from_u64(1), write(2));
        assert_eq!(newer(&lineage, 0), Some(Version::from_u64(2)));
        assert_eq!(newer(&lineage, 1), Some(Version::from_u64(2)));
        assert_eq!(newer(&lineage, 2), None, "already the latest");
        assert_eq!(newer(&lineage, 9), None, "not in the line");
    }

    #[test]
    fn a_write_over_another_version_starts_a_new_line() {
        let mut lineage = Lineage::default();
        lineage.wrote(Version::from_u64(0), write(1));
        lineage.wrote(Version::from_u64(7), write(8));
        assert_eq!(newer(&lineage, 0), None, "v8 need not descend from v0");
        assert_eq!(newer(&lineage, 7), Some(Version::from_u64(8)));
        lineage.ended();
        assert_eq!(newer(&lineage, 7), None);
    }

    #[test]
    fn the_line_remembers_a_bounded_number_of_versions() {
        let mut lineage = Lineage::default();
        let last = MAX_ANCESTORS as u64 + 10;
        for n in 0..last {
            lineage.wrote(Version::from_u64(n), write(n + 1));
        }
        assert_eq!(lineage.ancestors.len(), MAX_ANCESTORS);
        assert_eq!(newer(&lineage, 0), None, "forgotten");
        assert_eq!(newer(&lineage, last - 1), Some(Version::from_u64(last)));
    }
}
