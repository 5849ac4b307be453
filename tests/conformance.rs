//! The in-memory store passes the conformance suite any host's store can run.
#![cfg(feature = "conformance")]

mod common;

use common::*;
use dunning::*;

#[tokio::test]
async fn memory_store_conforms() {
    dunning::conformance::run(MemoryStore::default).await;
}

#[tokio::test]
async fn memory_store_loads_shards_that_partition_the_whole() {
    let (clients, items, history) = filled_store();
    let store = MemoryStore::new(clients, items);
    for h in history {
        store.append_history(h).await.unwrap();
    }
    dunning::conformance::shards_partition_the_load(&store).await;
}
