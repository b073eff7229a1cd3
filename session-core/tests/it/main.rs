//! session-core through its public API only: the properties of the entry points that read
//! untrusted input or write headers (the `Cookie` header and its signature, the stored session
//! JSON, the `Set-Cookie` writer), on generated cases. `fuzz/` runs the same checks under
//! libFuzzer (`cargo xtask fuzz`).

mod properties;
