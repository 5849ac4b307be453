//! The in-memory store passes the conformance suite any host's `Store` can run.
#![cfg(feature = "conformance")]

#[tokio::test]
async fn memory_store_conforms() {
    dunning::conformance::run(dunning::MemoryStore::default).await;
}
