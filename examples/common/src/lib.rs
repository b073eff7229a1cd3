//! What the reference apps of `examples/` share, so that each framework's `main.rs` only
//! shows that framework's dialect: [`Settings`] read from the environment, and the route
//! logic of the contract in `examples/README.md` ([`routes`]).

mod settings;

pub mod routes;

pub use settings::{Settings, SettingsError, StoreChoice, DEFAULT_REDIS_URL};
