//! The visit counter's steps, for the servers that cannot call
//! [`example_common::routes::visit`] (it takes our `Session`): the peers and the bare servers.

/// The count after a visit: 0 on the first, one more on every later one (as `routes::visit`).
pub(crate) fn next(previous: Option<u64>) -> u64 {
    previous.map_or(0, |count| count + 1)
}

/// The reply body for `count` (as `routes::visit`).
pub(crate) fn body(count: u64) -> String {
    format!("count={count}")
}

/// What every bare server answers: the first visit's body, computed per request like the
/// others, with no session behind it.
pub(crate) fn bare() -> String {
    body(next(None))
}
