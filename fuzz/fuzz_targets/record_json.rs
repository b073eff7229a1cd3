//! Fuzzes the record decoder: any UTF-8 input is handed to `Record::from_json`, which must
//! return; what it accepts must write back with `Record::to_json` and read back as the same
//! record (`session-core/tests/it/properties/record_json.rs`).

#![no_main]

#[path = "../../session-core/tests/it/properties/record_json.rs"]
mod record_json;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(json) = std::str::from_utf8(data) {
        record_json::check_record_json(json);
    }
});
