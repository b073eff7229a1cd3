//! Test helpers shared by the workspace (feature `test-util`): a store that records its calls,
//! a store that fails on demand, and the conformance suite every [`Store`](crate::Store) runs.

pub mod conformance;
mod flaky;
mod recording;

pub use flaky::FlakyStore;
pub use recording::{RecordingStore, StoreCall};
