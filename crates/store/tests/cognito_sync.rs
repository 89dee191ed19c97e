//! Cognito Sync data in every backend: datasets, records in sync-count order, the
//! schema's limits, sessions counted once, and the operations of `domain::cognito_sync`
//! over rows answering as the in-memory reference does, across restarts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::cognito::{self, IdentityPool, PoolConfig};
use reservoir_domain::cognito_sync::{
    self as sync, Dataset, IdentityUsage, MemorySync, Op, Patch, Record, SyncError, SyncRows,
};
use reservoir_domain::ids::SeededRandom;
use reservoir_domain::time::Timestamp;
use reservoir_store::cognito_sync::TxSync;
use reservoir_store::postgres::{PostgresStore, ScratchDatabase};
use reservoir_store::sqlite::SqliteStore;
use reservoir_store::{ReadTxExt, Store, StoreError, TxExt, read, write};

#[derive(Debug, PartialEq, thiserror::Error)]
enum E {
    #[error("{0}")]
    Sync(#[from] SyncError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

fn scope() -> Scope {
    Scope::new(AccountId::parse("111111111111").unwrap(), "us-east-1")
}

const ID: &str = "us-east-1:11111111-1111-1111-1111-111111111111";

fn record(key: &str, value: Option<&str>, count: u64) -> Record {
    Record {
        key: key.into(),
        value: value.map(Into::into),
        sync_count: count,
        last_modified: Timestamp(count as i64),
        last_modified_by: "dev".into(),
        device_last_modified: Some(Timestamp(5)),
    }
}

fn dataset(name: &str, storage: u64, records: u64) -> Dataset {
    Dataset {
        pool_id: "us-east-1:00000000-0000-0000-0000-000000000000".into(),
        identity_id: ID.into(),
        name: name.into(),
        created: Timestamp(1),
        last_modified: Timestamp(2),
        last_modified_by: "dev".into(),
        sync_count: 3,
        data_storage: storage,
        num_records: records,
    }
}

fn backends(dir: &Path) -> Vec<(&'static str, Arc<dyn Store>, Option<ScratchDatabase>)> {
    let mut all: Vec<(&'static str, Arc<dyn Store>, Option<ScratchDatabase>)> = vec![
        ("sqlite-memory", Arc::new(SqliteStore::open_memory().unwrap()), None),
        ("sqlite-file", Arc::new(SqliteStore::open_file(&dir.join("sync.db")).unwrap()), None),
    ];
    if let Some(db) = ScratchDatabase::from_env() {
        let store = PostgresStore::open(db.url(), 4).unwrap();
        all.push(("postgres", Arc::new(store), Some(db)));
    }
    all
}

#[test]
fn rows_round_trip_in_sync_count_order() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store, _db) in backends(dir.path()) {
        let s = scope();
        write::<_, StoreError>(&*store, |tx| {
            tx.put_sync_dataset(&s, &dataset("b", 10, 2))?;
            tx.put_sync_dataset(&s, &dataset("a", 0, 0))?;
            tx.put_sync_records(
                &s,
                ID,
                "b",
                &[
                    record("z", Some("1"), 1),
                    record("y", Some("22"), 2),
                    record("x", None, 2),
                    record("w", Some("333"), 3),
                ],
            )?;
            // Replacing by key.
            tx.put_sync_records(&s, ID, "b", &[record("z", Some("4444"), 3)])?;
            Ok(())
        })
        .unwrap();
        read::<_, StoreError>(&*store, |tx| {
            assert_eq!(tx.sync_dataset(&s, ID, "b")?, Some(dataset("b", 10, 2)), "{name}");
            assert_eq!(tx.sync_dataset(&s, ID, "c")?, None);
            let names: Vec<String> = tx.sync_datasets(&s, ID, None, 10)?.into_iter().map(|d| d.name).collect();
            assert_eq!(names, ["a", "b"]);
            assert_eq!(tx.sync_datasets(&s, ID, Some("a"), 10)?.len(), 1);
            let all = tx.sync_records_after(&s, ID, "b", 0, None, 10)?;
            let order: Vec<(u64, &str)> = all.iter().map(|r| (r.sync_count, r.key.as_str())).collect();
            assert_eq!(order, [(2, "x"), (2, "y"), (3, "w"), (3, "z")], "{name}");
            assert_eq!(all[0].value, None, "a removed record is kept");
            assert_eq!(all[3], record("z", Some("4444"), 3));
            let newer = tx.sync_records_after(&s, ID, "b", 2, None, 10)?;
            assert_eq!(newer.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["w", "z"]);
            // Paging by (sync count, key).
            let page = tx.sync_records_after(&s, ID, "b", 0, Some((2, "y")), 1)?;
            assert_eq!(page[0].key, "w");
            let page = tx.sync_records_after(&s, ID, "b", 2, Some((1, "a")), 10)?;
            assert_eq!(page.len(), 2, "the cursor never goes below min_count");
            let some = tx.sync_records_of(&s, ID, "b", &["y", "nope", "x"])?;
            assert_eq!(some.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["x", "y"]);
            // Another account sees nothing.
            let other = Scope::new(AccountId::parse("222222222222").unwrap(), "us-east-1");
            assert_eq!(tx.sync_dataset(&other, ID, "b")?, None);
            assert!(tx.sync_records_after(&other, ID, "b", 0, None, 10)?.is_empty());
            Ok(())
        })
        .unwrap();
        write::<_, StoreError>(&*store, |tx| {
            assert!(tx.delete_sync_dataset(&s, ID, "b")?);
            assert!(!tx.delete_sync_dataset(&s, ID, "b")?);
            assert!(tx.sync_records_after(&s, ID, "b", 0, None, 10)?.is_empty());
            Ok(())
        })
        .unwrap();
    }
}

#[test]
fn the_schema_refuses_past_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store, _db) in backends(dir.path()) {
        let s = scope();
        let over = write::<_, StoreError>(&*store, |tx| tx.put_sync_dataset(&s, &dataset("d", 1024 * 1024 + 1, 1)));
        assert!(matches!(over, Err(StoreError::Conflict(_))), "{name}: {over:?}");
        let over = write::<_, StoreError>(&*store, |tx| tx.put_sync_dataset(&s, &dataset("d", 1, 1025)));
        assert!(matches!(over, Err(StoreError::Conflict(_))), "{name}");
        let usage = |n| IdentityUsage {
            pool_id: "p:0".into(),
            identity_id: ID.into(),
            dataset_count: n,
            data_storage: 0,
            last_modified: None,
        };
        write::<_, StoreError>(&*store, |tx| tx.put_sync_identity(&s, &usage(20))).unwrap();
        let over = write::<_, StoreError>(&*store, |tx| tx.put_sync_identity(&s, &usage(21)));
        assert!(matches!(over, Err(StoreError::Conflict(_))), "{name}");
        let at_limit = write::<_, StoreError>(&*store, |tx| tx.put_sync_dataset(&s, &dataset("d", 1024 * 1024, 1024)));
        assert!(at_limit.is_ok(), "{name}");
    }
}

#[test]
fn a_session_is_claimed_once_and_forgotten_after_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store, _db) in backends(dir.path()) {
        let s = scope();
        let claim = |session: &'static str, expires: i64, now: i64| {
            write::<_, StoreError>(&*store, |tx| tx.claim_sync_session(&s, session, expires, now)).unwrap()
        };
        assert!(claim("a", 100, 10), "{name}");
        assert!(!claim("a", 100, 20), "{name}");
        assert!(claim("b", 50, 20));
        // At 101 "a" has expired: its row goes (a token past expiry is refused before
        // it gets here, so it can never be counted twice).
        assert!(claim("c", 500, 101));
        assert!(claim("a", 600, 101));
    }
}

fn pools(store: &dyn Store) -> [String; 2] {
    let s = scope();
    write::<_, StoreError>(store, |tx| {
        let mut ids = Vec::new();
        for seed in [1, 2] {
            let pool = cognito::create_pool(
                "us-east-1",
                &s.account,
                PoolConfig { name: format!("p{seed}"), ..Default::default() },
                BTreeMap::new(),
                0,
                None,
                Timestamp(0),
                &mut SeededRandom::new(seed),
            )
            .unwrap();
            tx.create(&s, &pool)?;
            ids.push(pool.id);
        }
        Ok([ids[0].clone(), ids[1].clone()])
    })
    .unwrap()
}

#[derive(Debug, Clone)]
enum Step {
    Update { identity: u8, dataset: u8, patches: Vec<(u8, Option<u16>, bool)>, session: u8 },
    DeleteDataset { identity: u8, dataset: u8 },
    ForgetIdentity { identity: u8 },
    Restart,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0u8..3, 0u8..3, prop::collection::vec((0u8..5, prop::option::of(0u16..200), any::<bool>()), 0..4), 0u8..6)
            .prop_map(|(identity, dataset, patches, session)| Step::Update { identity, dataset, patches, session }),
        1 => (0u8..3, 0u8..3).prop_map(|(identity, dataset)| Step::DeleteDataset { identity, dataset }),
        1 => (0u8..3).prop_map(|identity| Step::ForgetIdentity { identity }),
        1 => Just(Step::Restart),
    ]
}

/// Datasets, identities' usage rows, and records with their identity and dataset.
type Rows = (Vec<Dataset>, Vec<IdentityUsage>, Vec<(String, String, Record)>);

/// Every row of the store, read through the trait.
fn rows(store: &dyn Store) -> Rows {
    let s = scope();
    read::<_, StoreError>(store, |tx| {
        let (mut datasets, mut identities, mut records) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..3 {
            let id = format!("us-east-1:{i}");
            identities.extend(tx.sync_identity(&s, &id)?);
            for d in tx.sync_datasets(&s, &id, None, 100)? {
                for r in tx.sync_records_after(&s, &id, &d.name, 0, None, 1000)? {
                    records.push((id.clone(), d.name.clone(), r));
                }
                datasets.push(d);
            }
        }
        Ok((datasets, identities, records))
    })
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The operations over a store transaction answer and store what they do over
    /// `MemorySync`, step after step and across restarts; the pools' counters equal a
    /// recount of the records; a refused call (a conflict, a limit) changes nothing.
    #[test]
    fn rows_in_the_store_follow_the_reference(steps in prop::collection::vec(step(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync.db");
        let mut store: Arc<dyn Store> = Arc::new(SqliteStore::open_file(&path).unwrap());
        let pool_ids = pools(&*store);
        let mut m = MemorySync::default();
        for p in &pool_ids {
            m.add_to_pool(p, 0, 0, Timestamp(0)).unwrap();
        }
        let s = scope();
        for (t, step) in steps.into_iter().enumerate() {
            let now = Timestamp(t as i64 + 1);
            match step {
                Step::Update { identity, dataset, patches, session } => {
                    let id = format!("us-east-1:{identity}");
                    let name = format!("d{dataset}");
                    let pool = pool_ids[usize::from(identity == 2)].clone();
                    let mut keys = BTreeSet::new();
                    let patches: Vec<Patch> = patches
                        .into_iter()
                        .filter(|(k, _, _)| keys.insert(*k))
                        .map(|(k, value, fresh)| {
                            let key = format!("k{k}");
                            let have = m.records.get(&(id.clone(), name.clone(), key.clone())).map_or(0, |r| r.sync_count);
                            let count = if fresh { have as i64 } else { have as i64 + 1 };
                            let op = value.map_or(Op::Remove, |n| Op::Replace("v".repeat(usize::from(n))));
                            Patch { op, key, sync_count: count, device_last_modified: None }
                        })
                        .collect();
                    let token = format!("{id}/{name}/s{session}");
                    let expected = sync::update_records(
                        &mut m, &pool, &id, &name, &patches, Some((&token, Timestamp(1_000_000))), "dev", now,
                    );
                    let got = write::<_, E>(&*store, |tx| {
                        sync::update_records(
                            &mut TxSync::<E>::new(tx, &s), &pool, &id, &name, &patches,
                            Some((&token, Timestamp(1_000_000))), "dev", now,
                        )
                    });
                    prop_assert_eq!(got.map_err(|e| e.to_string()), expected.map_err(|e| e.to_string()));
                }
                Step::DeleteDataset { identity, dataset } => {
                    let (id, name) = (format!("us-east-1:{identity}"), format!("d{dataset}"));
                    let expected = sync::delete_dataset(&mut m, &id, &name, now).unwrap();
                    let got = write::<_, E>(&*store, |tx| sync::delete_dataset(&mut TxSync::<E>::new(tx, &s), &id, &name, now));
                    prop_assert_eq!(got.unwrap(), expected);
                }
                Step::ForgetIdentity { identity } => {
                    let id = format!("us-east-1:{identity}");
                    sync::forget_identity(&mut m, &id, now).unwrap();
                    write::<_, E>(&*store, |tx| sync::forget_identity(&mut TxSync::<E>::new(tx, &s), &id, now)).unwrap();
                }
                Step::Restart => {
                    drop(store);
                    store = Arc::new(SqliteStore::open_file(&path).unwrap());
                }
            }
            let (datasets, identities, records) = rows(&*store);
            prop_assert_eq!(datasets, m.datasets.values().cloned().collect::<Vec<_>>());
            prop_assert_eq!(identities, m.identities.values().cloned().collect::<Vec<_>>());
            let mut records = records;
            records.sort_by(|a, b| (&a.0, &a.1, &a.2.key).cmp(&(&b.0, &b.1, &b.2.key)));
            let expected: Vec<(String, String, Record)> =
                m.records.iter().map(|((i, d, _), r)| (i.clone(), d.clone(), r.clone())).collect();
            prop_assert_eq!(records, expected);
            let (_, _, per_pool) = m.recount();
            for p in &pool_ids {
                let stored = read::<_, StoreError>(&*store, |tx| tx.load::<IdentityPool>(&s, p)).unwrap().unwrap();
                let reference = m.pools[p];
                prop_assert_eq!(stored.data_storage, per_pool.get(p).copied().unwrap_or(0));
                prop_assert_eq!((stored.data_storage as i64, stored.sync_sessions), (reference.0, reference.1));
            }
        }
    }
}
