//! The record decoder, `Record::from_json`, on any text: it returns; what it accepts holds no
//! reserved key as data, is written back by `Record::to_json`, and reads back as the same
//! record, whose JSON is then written again byte for byte (absurd numbers, dates, deep
//! nesting and unicode included).
//!
//! `fuzz/fuzz_targets/record_json.rs` compiles this file too: it uses nothing but
//! session-core's public API and the standard library.

use session_core::{Record, CREATED_AT_KEY, RESERVED_KEYS};

/// Checks the decoder on `json`; returns the record when `json` is accepted.
pub(crate) fn check_record_json(json: &str) -> Option<Record> {
    let record = Record::from_json(json).ok()?;
    for key in record.data.keys() {
        assert!(
            !RESERVED_KEYS.contains(&key.as_str()) && key != CREATED_AT_KEY,
            "reserved key {key:?} kept as data from {json:?}"
        );
    }
    let written = record
        .to_json()
        .unwrap_or_else(|e| panic!("{json:?} was read but cannot be written back: {e}"));
    let again = Record::from_json(&written)
        .unwrap_or_else(|e| panic!("{written:?}, written from {json:?}, cannot be read: {e}"));
    assert_eq!(
        again, record,
        "{json:?} read differently after a round trip through {written:?}"
    );
    let rewritten = again.to_json().expect("written once already");
    assert_eq!(rewritten, written, "writing {json:?} again changed it");
    Some(record)
}
