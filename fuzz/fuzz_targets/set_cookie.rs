//! Fuzzes the `Set-Cookie` writer end to end: a `SessionManager` over a `MemoryStore`,
//! configured as the input says, runs the input's requests, and every `finish()` and
//! `Set-Cookie` value is checked (`session-core/tests/it/properties/set_cookie.rs`).
//!
//! The input is text, one command a line (`plan.rs` has the format): configuration lines,
//! then `request` lines, each followed by what the handler does.

#![no_main]

#[path = "set_cookie/plan.rs"]
mod plan;
#[path = "../../session-core/tests/it/properties/set_cookie.rs"]
mod set_cookie;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    set_cookie::check_set_cookie(&plan::parse(&String::from_utf8_lossy(data)));
});
