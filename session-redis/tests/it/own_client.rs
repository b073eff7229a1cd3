//! A store on the app's own fred client or pool, instead of one it makes from a URL.

use std::time::Duration;

use session_core::testing::conformance;
use session_redis::{
    fred::prelude::{Builder, ClientLike, Config},
    RedisStore,
};

use crate::support::{clean, shared_url, unique_prefix};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_on_the_apps_client_or_pool_passes_the_conformance_suite() {
    let Some(url) = shared_url("a_store_on_the_apps_client_or_pool_passes_the_conformance_suite")
    else {
        return;
    };
    let config = Config::from_url(&url).expect("url");
    let client = Builder::from_config(config.clone())
        .build()
        .expect("client");
    client.init().await.expect("the app connects its client");
    let pool = Builder::from_config(config).build_pool(3).expect("pool");
    pool.init().await.expect("the app connects its pool");

    let prefix = unique_prefix("own-client");
    conformance::run_all(|| {
        let (client, prefix) = (client.clone(), prefix.clone());
        async move {
            RedisStore::from_client(client)
                .prefix(prefix)
                .connect_wait(Duration::from_secs(2))
                .build()
                .expect("store")
        }
    })
    .await;
    let pool_prefix = unique_prefix("own-pool");
    conformance::run_all(|| {
        let (pool, prefix) = (pool.clone(), pool_prefix.clone());
        async move {
            RedisStore::from_pool(pool)
                .prefix(prefix)
                .build()
                .expect("store")
        }
    })
    .await;
    let store = RedisStore::from_client(client.clone())
        .build()
        .expect("store");
    assert!(
        format!("{store:?}").contains("the app's fred client"),
        "{store:?}"
    );
    clean(&url, &prefix).await;
    clean(&url, &pool_prefix).await;
    let _ = client.quit().await;
    let _ = pool.quit().await;
}
