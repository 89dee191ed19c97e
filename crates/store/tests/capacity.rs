//! Capacity reservations' counts and shared resources in every backend: the schema keeps
//! `used` equal to the usage rows and refuses an over-commit whatever a writer decided,
//! open placement finds own reservations before shared ones, and concurrent writers
//! never take more slots than a reservation has.

use std::sync::Arc;

use reservoir_domain::account::{AccountId, Scope};
use reservoir_store::postgres::{PostgresStore, ScratchDatabase};
use reservoir_store::sqlite::SqliteStore;
use reservoir_store::{CapacityRow, SharedRow, Store, StoreError, read, write};

fn scope(account: &str) -> Scope {
    Scope::new(AccountId::parse(account).unwrap(), "us-east-1")
}

/// A backend's name, the store, and what must outlive it (its directory or database).
type Backend = (&'static str, Arc<dyn Store>, Option<Box<dyn std::any::Any>>);

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let file = SqliteStore::open_file(&dir.path().join("capacity.db")).unwrap();
    let mut all: Vec<Backend> = vec![
        ("sqlite-memory", Arc::new(SqliteStore::open_memory().unwrap()), None),
        ("sqlite-file", Arc::new(file), Some(Box::new(dir))),
    ];
    if let Some(db) = ScratchDatabase::from_env() {
        let store = PostgresStore::open(db.url(), 4).unwrap();
        all.push(("postgres", Arc::new(store), Some(Box::new(db))));
    }
    all
}

fn row(id: &str, total: u32, open: bool) -> CapacityRow {
    CapacityRow {
        id: id.into(),
        match_key: "m5.large|Linux/UNIX|us-east-1a|default".into(),
        open,
        usable: true,
        end_at: None,
        total,
        used: 0,
    }
}

fn used(store: &dyn Store, owner: &Scope, id: &str) -> u32 {
    read(store, |tx| Ok::<_, StoreError>(tx.capacity(owner, id)?.unwrap().used)).unwrap()
}

#[test]
fn used_follows_usage_rows_and_never_passes_total() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111");
        write(&*store, |tx| tx.put_capacity(&a, &row("cr-1", 2, true))).unwrap();
        write(&*store, |tx| tx.occupy_capacity(&a, "cr-1", "i-1", "111111111111")).unwrap();
        write(&*store, |tx| tx.occupy_capacity(&a, "cr-1", "i-2", "222222222222")).unwrap();
        assert_eq!(used(&*store, &a, "cr-1"), 2, "{name}");
        // Full: the schema refuses a third, and the same instance twice.
        let third = write(&*store, |tx| tx.occupy_capacity(&a, "cr-1", "i-3", "111111111111"));
        assert!(matches!(third, Err(StoreError::Conflict(_))), "{name}: {third:?}");
        // Shrinking below the use is refused too; the row is unchanged.
        let shrink = write(&*store, |tx| tx.put_capacity(&a, &row("cr-1", 1, true)));
        assert!(matches!(shrink, Err(StoreError::Conflict(_))), "{name}: {shrink:?}");
        let users = read(&*store, |tx| tx.capacity_users(&a, "cr-1")).unwrap();
        assert_eq!(users, vec![("111111111111".to_string(), 1), ("222222222222".to_string(), 1)], "{name}");
        assert!(write(&*store, |tx| tx.release_capacity(&a, "cr-1", "i-1")).unwrap());
        assert!(!write(&*store, |tx| tx.release_capacity(&a, "cr-1", "i-1")).unwrap());
        assert_eq!(used(&*store, &a, "cr-1"), 1, "{name}");
        let rows = read(&*store, |tx| tx.capacity_instances(&a, "cr-1", 10)).unwrap();
        assert_eq!(rows, vec![("i-2".to_string(), "222222222222".to_string())], "{name}");
        // Occupying a reservation that does not exist is refused.
        let none = write(&*store, |tx| tx.occupy_capacity(&a, "cr-9", "i-9", "111111111111"));
        assert!(matches!(none, Err(StoreError::Conflict(_))), "{name}");
        assert!(write(&*store, |tx| tx.delete_capacity(&a, "cr-1")).unwrap());
        assert!(read(&*store, |tx| tx.capacity(&a, "cr-1")).unwrap().is_none(), "{name}");
    }
}

#[test]
fn open_placement_prefers_own_then_shared_and_skips_full_closed_and_ended() {
    for (name, store, _dir) in backends() {
        let (a, b) = (scope("111111111111"), scope("222222222222"));
        let key = "m5.large|Linux/UNIX|us-east-1a|default";
        write(&*store, |tx| {
            tx.put_capacity(&a, &row("cr-a1", 1, true))?;
            tx.put_capacity(&a, &row("cr-a2", 1, false))?;
            tx.put_capacity(&a, &CapacityRow { end_at: Some(1_000), ..row("cr-a3", 5, true) })?;
            tx.put_capacity(&b, &row("cr-b1", 1, true))
        })
        .unwrap();
        let find = |who: &Scope, now: i64| read(&*store, |tx| tx.open_capacity(who, key, now)).unwrap();
        assert_eq!(find(&a, 0), Some(("111111111111".into(), "cr-a1".into())), "{name}");
        // B sees only its own until A shares.
        assert_eq!(find(&b, 0), Some(("222222222222".into(), "cr-b1".into())), "{name}");
        write(&*store, |tx| tx.occupy_capacity(&b, "cr-b1", "i-b", "222222222222")).unwrap();
        assert_eq!(find(&b, 0), None, "{name}");
        let grant = |res: &str| SharedRow {
            resource: res.into(),
            kind: "capacity-reservation".into(),
            owner: "111111111111".into(),
            share: "arn:share-1".into(),
        };
        write(&*store, |tx| {
            tx.put_shared(&b, &grant("cr-a3"))?;
            tx.put_shared(&b, &grant("cr-a3"))
        })
        .unwrap();
        assert_eq!(find(&b, 0), Some(("111111111111".into(), "cr-a3".into())), "{name}");
        // Ended (end_at passed): not found.
        assert_eq!(find(&b, 1_000), None, "{name}");
        assert_eq!(
            read(&*store, |tx| tx.shared_with(&b, "cr-a3")).unwrap().map(|r| r.owner),
            Some("111111111111".into())
        );
        assert_eq!(read(&*store, |tx| tx.shared_of_kind(&b, "capacity-reservation", None, 10)).unwrap().len(), 1);
        assert!(
            read(&*store, |tx| tx.shared_of_kind(&b, "capacity-reservation", Some("cr-a3"), 10)).unwrap().is_empty()
        );
        assert!(write(&*store, |tx| tx.delete_shared(&b, "cr-a3", "arn:share-1")).unwrap());
        assert_eq!(find(&b, 0), None, "{name}");
        // A cancelled reservation takes no launch.
        write(&*store, |tx| tx.put_capacity(&a, &CapacityRow { usable: false, ..row("cr-a1", 1, true) })).unwrap();
        assert_eq!(find(&a, 1_000), None, "{name}");
        assert_eq!(find(&a, 0), Some(("111111111111".into(), "cr-a3".into())), "{name}");
    }
}

#[test]
fn concurrent_writers_never_overcommit() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111");
        write(&*store, |tx| tx.put_capacity(&a, &row("cr-1", 5, true))).unwrap();
        let handles: Vec<_> = (0..16)
            .map(|n| {
                let (store, a) = (store.clone(), a.clone());
                std::thread::spawn(move || {
                    write(&*store, |tx| {
                        // Decide from the row, as the server does; the schema backs it.
                        let c = tx.capacity(&a, "cr-1")?.unwrap();
                        if c.used >= c.total {
                            return Ok(false);
                        }
                        tx.occupy_capacity(&a, "cr-1", &format!("i-{n}"), "111111111111")?;
                        Ok::<_, StoreError>(true)
                    })
                    .unwrap()
                })
            })
            .collect();
        let placed = handles.into_iter().map(|h| h.join().unwrap()).filter(|p| *p).count();
        assert_eq!(placed, 5, "{name}");
        assert_eq!(used(&*store, &a, "cr-1"), 5, "{name}");
        let rows = read(&*store, |tx| tx.capacity_instances(&a, "cr-1", 100)).unwrap();
        assert_eq!(rows.len(), 5, "{name}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Whatever instances of whatever accounts occupy and release a reservation, its
    /// counts equal a recount of its usage rows, and never pass its size.
    #[test]
    fn counts_equal_a_recount(steps in proptest::collection::vec((0u8..12, 0u8..3, proptest::bool::ANY), 1..60)) {
        let store = SqliteStore::open_memory().unwrap();
        let a = scope("111111111111");
        write(&store, |tx| tx.put_capacity(&a, &row("cr-1", 6, true))).unwrap();
        for (instance, account, occupy) in steps {
            let (instance, account) = (format!("i-{instance}"), format!("{}", 111111111111u64 * (u64::from(account) + 1)));
            let _ = write(&store, |tx| {
                if occupy { tx.occupy_capacity(&a, "cr-1", &instance, &account) } else { tx.release_capacity(&a, "cr-1", &instance).map(|_| ()) }
            });
            let (c, users, rows) = read(&store, |tx| {
                Ok::<_, StoreError>((tx.capacity(&a, "cr-1")?.unwrap(), tx.capacity_users(&a, "cr-1")?, tx.capacity_instances(&a, "cr-1", 100)?))
            }).unwrap();
            let mut recount: std::collections::BTreeMap<String, u32> = Default::default();
            for (_, acct) in &rows {
                *recount.entry(acct.clone()).or_default() += 1;
            }
            proptest::prop_assert_eq!(c.used as usize, rows.len());
            proptest::prop_assert!(c.used <= c.total);
            proptest::prop_assert_eq!(users, recount.into_iter().collect::<Vec<_>>());
        }
    }
}

#[test]
fn expiring_resources_are_taken_oldest_first_once() {
    for (name, store, _dir) in backends() {
        let (a, b) = (scope("111111111111"), scope("222222222222"));
        write(&*store, |tx| {
            tx.put_expiry(&a, "instance", "i-2", 20)?;
            tx.put_expiry(&a, "instance", "i-1", 10)?;
            tx.put_expiry(&a, "instance", "i-1", 10)?;
            tx.put_expiry(&a, "instance", "i-3", 30)?;
            tx.put_expiry(&a, "other", "x-1", 5)?;
            tx.put_expiry(&b, "instance", "i-9", 5)
        })
        .unwrap();
        assert_eq!(
            write(&*store, |tx| tx.take_expired(&a, "instance", 5, 10)).unwrap(),
            Vec::<String>::new(),
            "{name}"
        );
        assert_eq!(write(&*store, |tx| tx.take_expired(&a, "instance", 25, 1)).unwrap(), vec!["i-1"], "{name}");
        assert_eq!(write(&*store, |tx| tx.take_expired(&a, "instance", 25, 10)).unwrap(), vec!["i-2"], "{name}");
        assert_eq!(write(&*store, |tx| tx.take_expired(&a, "instance", 99, 10)).unwrap(), vec!["i-3"], "{name}");
        assert_eq!(write(&*store, |tx| tx.take_expired(&b, "instance", 99, 10)).unwrap(), vec!["i-9"], "{name}");
        assert_eq!(write(&*store, |tx| tx.take_expired(&a, "other", 99, 10)).unwrap(), vec!["x-1"], "{name}");
    }
}
