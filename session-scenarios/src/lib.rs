//! The HTTP scenario suite. Each scenario starts the reference app (`examples/README.md`) of
//! one adapter on `127.0.0.1:0` with a recording store, drives it with a real HTTP/1.1 client
//! over TCP, and asserts on statuses, bodies, `Set-Cookie` attributes and the store calls made.
//!
//! Scenarios are written once here; `tests/it/main.rs` runs every one of them against every
//! adapter with [`scenario_tests!`]. A scenario that passes on three adapters and fails on one
//! is a bug in that adapter. [`cookie_mode`] holds the scenarios of cookie mode (no store), and
//! a table of how each store-mode scenario runs there.

mod backend;
mod client;
mod jar;
mod server;

pub mod cookie_mode;
pub mod integrity;
pub mod scenarios;

#[cfg(test)]
mod tests;

pub use backend::{Backend, BackendStore};
pub use client::{get, Browser, Response, SetCookie};
pub use jar::Jar;
pub use server::{bind_loopback, Start, TestServer};

/// Generates one `#[tokio::test]` per scenario for an adapter's [`Start`] function: the
/// scenarios of [`scenarios`] on the memory store, those of [`integrity`] once per
/// [`Backend`] (in modules `on_memory`, `on_redis` and `on_redis_near_cache`), and those of [`cookie_mode`] once per
/// [`CookieFormat`](cookie_mode::CookieFormat) (in modules `cookie_encrypted` and
/// `cookie_session`).
///
/// Every `pub async fn` of those three modules is a scenario and must be named in this
/// macro's list for its module: a unit test of this crate (`src/tests.rs`) fails on one that
/// is missing, on a listed name with no function, and on a name listed twice.
///
/// ```ignore
/// mod axum { session_scenarios::scenario_tests!(super::start_axum); }
/// ```
#[macro_export]
macro_rules! scenario_tests {
    ($start:path) => {
        const START: $crate::Start = $start;
        mod on_memory {
            $crate::scenario_tests!(@integrity $crate::Backend::Memory);
        }
        mod on_redis {
            $crate::scenario_tests!(@integrity $crate::Backend::Redis);
        }
        mod on_redis_near_cache {
            $crate::scenario_tests!(@integrity $crate::Backend::RedisNearCache);
        }
        mod cookie_encrypted {
            $crate::scenario_tests!(@cookie $crate::cookie_mode::CookieFormat::Encrypted);
        }
        mod cookie_session {
            $crate::scenario_tests!(@cookie $crate::cookie_mode::CookieFormat::CookieSession);
        }
        $crate::scenario_tests!(@each;
            new_visitor_untouched_without_save_uninitialized,
            new_visitor_untouched_with_save_uninitialized,
            new_visitor_writing_data,
            existing_untouched_is_touched_without_cookie,
            existing_untouched_with_resave_is_saved,
            existing_changed_with_max_age_is_saved_and_resent,
            existing_changed_browser_session_is_saved_without_cookie,
            existing_only_max_age_changed_is_touched,
            rolling_resends_the_cookie_every_response,
            login_regenerates_the_id,
            unset_keep_leaves_the_record,
            unset_destroy_deletes_the_record,
            logout_deletes_the_record_and_clears_the_cookie,
            secure_cookie_is_not_sent_over_plain_http,
            every_cookie_attribute_is_written,
            forwarded_https_is_trusted_only_when_configured,
            bad_cookies_get_a_fresh_session,
            duplicated_cookie_name_first_wins,
            a_signed_unknown_id_is_never_adopted,
            rotated_secret_still_verifies_without_resigning,
            remember_me_extends_the_cookie,
            rolling_session_stays_alive_while_used,
            non_rolling_session_expires_when_idle,
            absurd_lifetimes_never_break_a_request,
            an_oversized_session_is_refused_whole,
            concurrent_clients_keep_their_own_sessions,
            failing_store_gives_an_error_never_a_new_session,
            routes_that_never_touch_the_session_cost_nothing,
            handler_errors_answer_like_the_layers_own,
        );
    };
    (@integrity $backend:expr) => {
        $crate::integrity_scenarios!(@tests $backend);
    };
    (@cookie $format:expr) => {
        $crate::scenario_tests!(@each_format $format;
            new_visitor_untouched_sends_nothing,
            new_visitor_writing_data_gets_its_cookies,
            every_cookie_attribute_is_written,
            existing_untouched_sends_nothing,
            existing_changed_is_resent,
            rolling_resends_the_cookie_every_response,
            login_starts_a_new_session,
            logout_clears_the_cookies,
            unset_clears_the_cookies,
            secure_cookie_is_not_sent_over_plain_http,
            bad_cookies_get_a_fresh_session,
            duplicated_cookie_name_first_wins,
            rotated_keys_still_open_the_cookie,
            a_session_keeps_its_own_lifetime,
            absurd_lifetimes_never_break_a_request,
            an_idle_session_expires,
            rolling_session_stays_alive_while_used,
            the_absolute_timeout_ends_an_active_session,
            a_session_too_large_for_its_cookie_is_refused,
            routes_that_never_touch_the_session_cost_nothing,
            what_needs_a_store_is_refused,
            concurrent_clients_keep_their_own_sessions,
            requests_in_flight_follow_the_last_response,
        );
    };
    (@each; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::scenarios::$name(START).await;
            }
        )*
    };
    (@each_on $backend:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::integrity::$name(super::START, $backend).await;
            }
        )*
    };
    (@each_format $format:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::cookie_mode::$name(super::START, $format).await;
            }
        )*
    };
}

/// The scenarios of [`integrity`], listed once for every place that runs them:
/// `integrity_scenarios!(@tests BACKEND)` makes one test each (what [`scenario_tests!`] does
/// per backend), `integrity_scenarios!(@in_sequence)` an `async fn run_integrity(start,
/// backend)` that runs them one after the other (session-redis's Cluster and Sentinel tests,
/// where each topology is started once).
///
/// ```ignore
/// session_scenarios::integrity_scenarios!(@in_sequence);
/// run_integrity(start_axum, Backend::RedisAt(url)).await;
/// ```
#[macro_export]
macro_rules! integrity_scenarios {
    (@tests $backend:expr; $($name:ident),* $(,)?) => {
        $crate::scenario_tests!(@each_on $backend; $($name),*);
    };
    (@in_sequence; $($name:ident),* $(,)?) => {
        /// Runs every integrity scenario of `session-scenarios`, one after the other.
        async fn run_integrity(start: $crate::Start, backend: $crate::Backend) {
            $($crate::integrity::$name(start, backend).await;)*
        }
    };
    ($($mode:tt)*) => {
        $crate::integrity_scenarios!($($mode)*;
            logout_is_never_undone_by_requests_in_flight,
            login_is_never_undone_by_requests_in_flight,
            log_out_everywhere_ends_every_session_of_the_user,
            parallel_changes_to_different_keys_both_persist,
            the_same_key_follows_the_conflict_policy,
            serialised_requests_count_every_increment,
            the_absolute_timeout_ends_an_active_session,
        );
    };
}
