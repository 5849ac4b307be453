//! Helpers the adapters' tests share: temporary directories and fresh PostgreSQL databases.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dunning-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL server's URL (`DUNNING_PG_URL`), or `None`, said once, when there is none
/// and none is required (`DUNNING_REQUIRE_PG`, as in CI, makes it a failure).
pub fn pg_server() -> Option<String> {
    static SAID: std::sync::Once = std::sync::Once::new();
    match std::env::var("DUNNING_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("DUNNING_REQUIRE_PG").is_none(),
                "DUNNING_REQUIRE_PG is set but DUNNING_PG_URL is not: start a server with `. .ci/postgres`"
            );
            SAID.call_once(|| {
                eprintln!(
                    "skipped: the PostgreSQL tests need DUNNING_PG_URL (start a server with `. .ci/postgres`)"
                );
            });
            None
        }
    }
}

/// A fresh, empty database on the server at `url`: its configuration and its URL.
pub async fn fresh_pg_database(url: &str, name: &str) -> (tokio_postgres::Config, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let db = format!(
        "dunning_{name}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let (admin, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    drop(admin);
    let _ = driver.await;
    let mut config: tokio_postgres::Config = url.parse().unwrap();
    config.dbname(&db);
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    (config, format!("{base}/{db}"))
}
