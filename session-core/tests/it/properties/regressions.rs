//! Inputs the property tests and the fuzzers found, each pinned as a test of the property it
//! broke (each failed before its fix).

use super::record_json::check_record_json;

/// A stored date finer than a millisecond reads as that exact time but is written with
/// milliseconds, so the record read back differs from the one read first.
#[test]
fn a_stored_date_finer_than_a_millisecond_reads_back_the_same() {
    check_record_json(r#"{"cookie":{"expires":"1970-01-01T00:00:00.0001Z"}}"#);
    check_record_json(r#"{"cookie":{},"__createdAt":"2023-01-01T00:00:00.0001Z"}"#);
}

/// A stored date in the last second of 9999 (or a leap second at its end) reads as that time
/// but is written as 9999-12-31T23:59:59.000, so the record read back differs.
#[test]
fn a_stored_date_in_the_last_second_of_9999_reads_back_the_same() {
    check_record_json(r#"{"cookie":{"expires":"9999-12-31T23:59:59.500Z"}}"#);
    check_record_json(r#"{"cookie":{"expires":"9999-12-31T23:59:60Z"}}"#);
    check_record_json(r#"{"cookie":{},"__createdAt":"9999-12-31T23:59:59.500Z"}"#);
}

/// serde_json's default float parsing is not correctly rounded: a double that Node wrote
/// (shortest form) reads one unit in the last place off, and is written back as another
/// number, so a value an Express app stored drifts when the Rust side saves the session.
/// The second input is the fuzzer's: an integer too big for `u64`, read as a double.
#[test]
fn a_stored_double_reads_back_the_same() {
    check_record_json(r#"{"cookie":{},"a":1.3590684505111698e+150}"#);
    check_record_json(r#"{"cookie":{},"n":1844674407370954775808}"#);
}
