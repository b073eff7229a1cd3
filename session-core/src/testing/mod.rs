//! Test helpers shared by the workspace (feature `test-util`): a store that records its calls,
//! a store that fails on demand, a store that holds calls to make races deterministic, and the
//! conformance suite every [`Store`](crate::Store) runs.

pub mod conformance;
mod flaky;
mod pausing;
mod recording;

pub use flaky::FlakyStore;
pub use pausing::{Gate, PausingStore};
pub use recording::{RecordingStore, StoreCall};
