//! The store conformance suite of session-core, against the real Redis.

use session_core::testing::conformance;

use crate::support::{clean, shared_url, store, unique_prefix};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_on_real_redis() {
    let Some(url) = shared_url("conformance_suite_passes_on_real_redis") else {
        return;
    };
    let prefix = unique_prefix("conformance");
    conformance::run_all(|| {
        let (url, prefix) = (url.clone(), prefix.clone());
        async move { store(&url, &prefix) }
    })
    .await;
    clean(&url, &prefix).await;
}
