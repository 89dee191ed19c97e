//! One conformance story, run against every backend: SQLite in memory and SQLite in a
//! file (plus reopening the file), and PostgreSQL when `RESERVOIR_TEST_PG_URL` names a
//! server (each test makes its own database there and drops it).

use std::sync::Arc;

use reservoir_domain::account::{AccountId, Scope};
use reservoir_store::postgres::{PostgresStore, ScratchDatabase};
use reservoir_store::sqlite::SqliteStore;
use reservoir_store::{IdempotencyRow, Reference, Store, StoreError, TagRow, read, write};

fn scope(account: &str, region: &str) -> Scope {
    Scope::new(AccountId::parse(account).unwrap(), region)
}

/// A backend's name, the store, and what must outlive it (its directory or database).
type Backend = (&'static str, Arc<dyn Store>, Option<Box<dyn std::any::Any>>);

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let file = SqliteStore::open_file(&dir.path().join("nested/dir/reservoir.db")).unwrap();
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

fn tag(id: &str, key: &str, value: &str) -> TagRow {
    TagRow { resource_id: id.into(), resource_type: "vpc".into(), key: key.into(), value: value.into() }
}

#[test]
fn entities_crud_and_isolation() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        let b = scope("222222222222", "us-east-1");
        let a_west = scope("111111111111", "us-west-2");
        write(&*store, |tx| -> Result<(), StoreError> {
            tx.insert(&a, "vpc", "vpc-1", None, r#"{"v":1}"#)?;
            tx.insert(&b, "vpc", "vpc-2", None, r#"{"v":2}"#)?;
            Ok(())
        })
        .unwrap();
        read(&*store, |tx| -> Result<(), StoreError> {
            assert_eq!(tx.get(&a, "vpc", "vpc-1")?.unwrap().body, r#"{"v":1}"#, "{name}");
            assert!(tx.get(&b, "vpc", "vpc-1")?.is_none(), "{name}: other account");
            assert!(tx.get(&a_west, "vpc", "vpc-1")?.is_none(), "{name}: other region");
            assert!(tx.get(&a, "subnet", "vpc-1")?.is_none(), "{name}: other kind");
            let (s, r) = tx.get_any_scope("vpc", "vpc-2")?.unwrap();
            assert_eq!((s, r.id.as_str()), (b.clone(), "vpc-2"), "{name}");
            assert_eq!(tx.count(&a, "vpc")?, 1);
            Ok(())
        })
        .unwrap();
        // Duplicate ids conflict; updates and deletes report whether the row existed.
        let dup = write(&*store, |tx| tx.insert(&a, "vpc", "vpc-1", None, "{}"));
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{name}: {dup:?}");
        write(&*store, |tx| -> Result<(), StoreError> {
            assert!(tx.update(&a, "vpc", "vpc-1", r#"{"v":3}"#)?);
            assert!(!tx.update(&a, "vpc", "vpc-9", "{}")?);
            tx.put_tag(&a, &tag("vpc-1", "Name", "one"))?;
            assert!(tx.delete(&a, "vpc", "vpc-1")?);
            assert!(!tx.delete(&a, "vpc", "vpc-1")?);
            Ok(())
        })
        .unwrap();
        read(&*store, |tx| -> Result<(), StoreError> {
            assert!(tx.get(&a, "vpc", "vpc-1")?.is_none());
            assert!(tx.tags_of(&a, &["vpc-1"])?.is_empty(), "{name}: tags go with their resource");
            Ok(())
        })
        .unwrap();
    }
}

#[test]
fn failed_closures_roll_back() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        let r: Result<(), StoreError> = write(&*store, |tx| {
            tx.insert(&a, "vpc", "vpc-1", None, "{}")?;
            tx.put_tag(&a, &tag("vpc-1", "k", "v"))?;
            Err(StoreError::Other("the operation failed".into()))
        });
        assert!(r.is_err());
        read(&*store, |tx| -> Result<(), StoreError> {
            assert!(tx.get(&a, "vpc", "vpc-1")?.is_none(), "{name}");
            assert!(tx.tags_of(&a, &["vpc-1"])?.is_empty(), "{name}");
            Ok(())
        })
        .unwrap();
    }
}

/// Writes between the pages of one listing (in the same thread): a deterministic story.
#[test]
fn keyset_pages_survive_writes_between_pages() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        write(&*store, |tx| -> Result<(), StoreError> {
            for i in 0..10 {
                tx.insert(&a, "vpc", &format!("vpc-{i}"), None, "{}")?;
            }
            Ok(())
        })
        .unwrap();
        let first = read(&*store, |tx| tx.list(&a, "vpc", 0, 4)).unwrap();
        assert_eq!(
            first.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["vpc-0", "vpc-1", "vpc-2", "vpc-3"],
            "{name}"
        );
        let cursor = first.last().unwrap().seq;
        // Between pages: delete an item already seen, one not yet seen, and add one.
        write(&*store, |tx| -> Result<(), StoreError> {
            tx.delete(&a, "vpc", "vpc-1")?;
            tx.delete(&a, "vpc", "vpc-5")?;
            tx.insert(&a, "vpc", "vpc-new", None, "{}")?;
            Ok(())
        })
        .unwrap();
        let rest = read(&*store, |tx| tx.list(&a, "vpc", cursor, 100)).unwrap();
        assert_eq!(
            rest.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["vpc-4", "vpc-6", "vpc-7", "vpc-8", "vpc-9", "vpc-new"],
            "{name}"
        );
        // Sequence numbers are never reused, even after the newest row is deleted.
        let newest = rest.last().unwrap().seq;
        write(&*store, |tx| -> Result<(), StoreError> {
            tx.delete(&a, "vpc", "vpc-new")?;
            tx.insert(&a, "vpc", "vpc-newer", None, "{}")
        })
        .unwrap();
        let after = read(&*store, |tx| tx.list(&a, "vpc", newest, 10)).unwrap();
        assert_eq!(after.len(), 1, "{name}");
        assert!(after[0].seq > newest);
    }
}

/// Pages through a listing many times while another thread inserts and deletes rows
/// (fresh ids, so a row is never seen twice legitimately). In every scan: each row that
/// existed from before the scan to after it is seen exactly once, no row is seen twice,
/// and sequence numbers strictly increase.
#[test]
fn keyset_scans_survive_a_concurrent_writer() {
    use std::collections::{BTreeSet, HashMap};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    const STABLE: usize = 60; // rows the writer never touches
    const WINDOW: u64 = 40; // the writer keeps about this many of its own rows alive
    const PAGE: usize = 7;
    // Scan until this many scans had writes land in the middle of them...
    const OVERLAPPED_SCANS: usize = 100;
    // ...within this time (a few seconds on a slow machine).
    const DEADLINE: Duration = Duration::from_secs(60);

    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        write(&*store, |tx| -> Result<(), StoreError> {
            for i in 0..STABLE {
                tx.insert(&a, "vpc", &format!("vpc-stable-{i:03}"), None, "{}")?;
            }
            Ok(())
        })
        .unwrap();

        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicU64::new(0));
        let writer = {
            let (store, a, stop, writes) = (store.clone(), a.clone(), stop.clone(), writes.clone());
            std::thread::spawn(move || {
                // Inserts row k and deletes row k - WINDOW: in one transaction for even k,
                // in two for odd k.
                let mut k = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let old = k.checked_sub(WINDOW).map(|old| format!("vpc-churn-{old}"));
                    write(&*store, |tx| -> Result<(), StoreError> {
                        tx.insert(&a, "vpc", &format!("vpc-churn-{k}"), None, "{}")?;
                        if let Some(old) = old.as_deref().filter(|_| k.is_multiple_of(2)) {
                            assert!(tx.delete(&a, "vpc", old)?);
                        }
                        Ok(())
                    })
                    .unwrap();
                    if let Some(old) = old.as_deref().filter(|_| !k.is_multiple_of(2)) {
                        assert!(write(&*store, |tx| tx.delete(&a, "vpc", old)).unwrap());
                    }
                    k += 1;
                    writes.store(k, Ordering::Relaxed);
                    // Leave the readers a chance too (a store may serialize everything).
                    std::thread::sleep(Duration::from_micros(100));
                }
            })
        };

        let all = || -> BTreeSet<String> {
            read(&*store, |tx| tx.list(&a, "vpc", 0, 100_000)).unwrap().into_iter().map(|r| r.id).collect()
        };
        let started = Instant::now();
        let (mut scans, mut overlapped) = (0, 0);
        while overlapped < OVERLAPPED_SCANS && started.elapsed() < DEADLINE && !writer.is_finished() {
            let before = all();
            let writes_before = writes.load(Ordering::Relaxed);
            let mut seen: HashMap<String, i64> = HashMap::new();
            let mut cursor = 0;
            loop {
                let page = read(&*store, |tx| tx.list(&a, "vpc", cursor, PAGE)).unwrap();
                assert!(page.len() <= PAGE, "{name}");
                for r in &page {
                    assert!(r.seq > cursor, "{name} scan {scans}: seq {} after {cursor}", r.seq);
                    cursor = r.seq;
                    if let Some(first) = seen.insert(r.id.clone(), r.seq) {
                        panic!("{name} scan {scans}: {} seen twice (seq {first} and {})", r.id, r.seq);
                    }
                }
                if page.len() < PAGE {
                    break;
                }
                // Give the writer a chance between pages.
                std::thread::sleep(Duration::from_micros(200));
            }
            let writes_after = writes.load(Ordering::Relaxed);
            let after = all();
            let lasting: Vec<&String> = before.intersection(&after).collect();
            assert!(lasting.len() >= STABLE, "{name}");
            let missed: Vec<&&String> = lasting.iter().filter(|id| !seen.contains_key(id.as_str())).collect();
            assert!(missed.is_empty(), "{name} scan {scans}: rows present throughout were not seen: {missed:?}");
            scans += 1;
            if writes_after > writes_before {
                overlapped += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        assert!(
            overlapped >= OVERLAPPED_SCANS,
            "{name}: only {overlapped} of {scans} scans had concurrent writes in {DEADLINE:?}"
        );
    }
}

#[test]
fn children() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        write(&*store, |tx| -> Result<(), StoreError> {
            tx.insert(&a, "pool", "p1", None, "{}")?;
            tx.insert(&a, "identity", "i1", Some("p1"), "{}")?;
            tx.insert(&a, "identity", "i2", Some("p1"), "{}")?;
            tx.insert(&a, "identity", "i3", Some("p2"), "{}")?;
            Ok(())
        })
        .unwrap();
        let kids = read(&*store, |tx| tx.list_children(&a, "identity", "p1", 0, 10)).unwrap();
        assert_eq!(kids.len(), 2, "{name}");
        assert_eq!(read(&*store, |tx| tx.count_children(&a, "identity", "p1")).unwrap(), 2);
        assert_eq!(write(&*store, |tx| tx.delete_children(&a, "identity", "p1")).unwrap(), 2);
        assert_eq!(read(&*store, |tx| tx.count(&a, "identity")).unwrap(), 1, "{name}");
    }
}

#[test]
fn references_answer_who_uses_a_resource() {
    for (name, store, _dir) in backends() {
        let (a, b) = (scope("111111111111", "us-east-1"), scope("222222222222", "us-east-1"));
        let r =
            |target: &str, source: &str| Reference { target: target.into(), source: source.into(), kind: "k".into() };
        write(&*store, |tx| -> Result<(), StoreError> {
            tx.put_reference(&a, &r("sg-1", "eni-2"))?;
            tx.put_reference(&a, &r("sg-1", "eni-1"))?;
            tx.put_reference(&a, &r("sg-1", "eni-1"))?; // again: no change
            tx.put_reference(&a, &r("sg-2", "eni-1"))?;
            tx.put_reference(&b, &r("sg-9", "eni-1"))?;
            Ok(())
        })
        .unwrap();
        let first = read(&*store, |tx| tx.first_reference(&a, "sg-1")).unwrap().unwrap();
        assert_eq!((first.source.as_str(), first.kind.as_str()), ("eni-1", "k"), "{name}: the least source");
        assert!(read(&*store, |tx| tx.first_reference(&a, "sg-9")).unwrap().is_none(), "{name}: scoped");
        assert!(write(&*store, |tx| tx.delete_reference(&a, "sg-1", "eni-1")).unwrap());
        assert!(!write(&*store, |tx| tx.delete_reference(&a, "sg-1", "eni-1")).unwrap());
        assert_eq!(read(&*store, |tx| tx.first_reference(&a, "sg-1")).unwrap().unwrap().source, "eni-2");
        assert_eq!(write(&*store, |tx| tx.delete_references_from(&a, "eni-2")).unwrap(), 1, "{name}");
        assert!(read(&*store, |tx| tx.first_reference(&a, "sg-1")).unwrap().is_none());
        assert_eq!(read(&*store, |tx| tx.first_reference(&a, "sg-2")).unwrap().unwrap().source, "eni-1");
        assert_eq!(read(&*store, |tx| tx.first_reference(&b, "sg-9")).unwrap().unwrap().source, "eni-1");
        write(&*store, |tx| tx.reset()).unwrap();
        assert!(read(&*store, |tx| tx.first_reference(&b, "sg-9")).unwrap().is_none(), "{name}: reset clears");
    }
}

#[test]
fn tags_aliases_idempotency_meta() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        write(&*store, |tx| -> Result<(), StoreError> {
            tx.put_tag(&a, &tag("vpc-2", "b", "1"))?;
            tx.put_tag(&a, &tag("vpc-1", "z", "1"))?;
            tx.put_tag(&a, &tag("vpc-1", "a", "1"))?;
            tx.put_tag(&a, &tag("vpc-1", "a", "2"))?; // overwrite
            tx.put_alias(&a, "ns", "k", "target-1")?;
            tx.put_idempotency(
                &a,
                "Op",
                "tok",
                &IdempotencyRow { fingerprint: "f".into(), result: "r".into(), created: 5 },
            )?;
            tx.put_meta("key", "v1")?;
            tx.put_meta("key", "v2")?;
            Ok(())
        })
        .unwrap();
        read(&*store, |tx| -> Result<(), StoreError> {
            let all = tx.list_tags(&a, None, 10)?;
            let keys: Vec<(&str, &str, &str)> =
                all.iter().map(|t| (t.resource_id.as_str(), t.key.as_str(), t.value.as_str())).collect();
            assert_eq!(keys, [("vpc-1", "a", "2"), ("vpc-1", "z", "1"), ("vpc-2", "b", "1")], "{name}");
            let after = tx.list_tags(&a, Some(("vpc-1", "a")), 10)?;
            assert_eq!(after.len(), 2);
            assert_eq!(tx.tags_of(&a, &["vpc-2", "vpc-1", "vpc-2"])?.len(), 3);
            assert_eq!(tx.get_alias(&a, "ns", "k")?.as_deref(), Some("target-1"));
            assert_eq!(tx.get_idempotency(&a, "Op", "tok")?.unwrap().result, "r");
            assert!(tx.get_idempotency(&a, "Other", "tok")?.is_none());
            assert_eq!(tx.get_meta("key")?.as_deref(), Some("v2"));
            Ok(())
        })
        .unwrap();
        write(&*store, |tx| -> Result<(), StoreError> {
            assert!(tx.delete_tag(&a, "vpc-1", "z")?);
            tx.delete_alias_namespace(&a, "ns")?;
            assert!(tx.mark_scope_initialized(&a, 1)?, "{name}: the first claim records the scope");
            assert!(!tx.mark_scope_initialized(&a, 2)?, "{name}: a second claim finds it recorded");
            assert_eq!(tx.scope_version(&a)?, Some(1), "{name}: a new scope is version 1 until moved on");
            tx.set_scope_version(&a, 2)?;
            assert_eq!(tx.scope_version(&a)?, Some(2));
            assert!(!tx.put_meta_if_absent("key", "v3")?, "{name}: a set key keeps its value");
            assert!(tx.put_meta_if_absent("fresh", "f1")?);
            assert!(!tx.put_meta_if_absent("fresh", "f2")?);
            Ok(())
        })
        .unwrap();
        assert_eq!(store.read_meta("fresh").unwrap().as_deref(), Some("f1"), "{name}: one setting, read alone");
        assert_eq!(store.read_meta("absent").unwrap(), None, "{name}");
        read(&*store, |tx| -> Result<(), StoreError> {
            assert_eq!(tx.tags_of(&a, &["vpc-1"])?.len(), 1);
            assert!(tx.get_alias(&a, "ns", "k")?.is_none());
            assert!(tx.scope_initialized(&a)?);
            assert_eq!(tx.get_meta("key")?.as_deref(), Some("v2"));
            assert_eq!(tx.get_meta("fresh")?.as_deref(), Some("f1"));
            Ok(())
        })
        .unwrap();
        // Reset wipes all state but the server's own settings.
        write(&*store, |tx| tx.reset()).unwrap();
        read(&*store, |tx| -> Result<(), StoreError> {
            assert!(tx.list_tags(&a, None, 10)?.is_empty(), "{name}");
            assert!(!tx.scope_initialized(&a)?);
            assert!(tx.get_idempotency(&a, "Op", "tok")?.is_none());
            assert_eq!(tx.get_meta("key")?.as_deref(), Some("v2"));
            Ok(())
        })
        .unwrap();
    }
}

#[test]
fn concurrent_writers_serialize() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                let a = a.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        write(&*store, |tx| -> Result<(), StoreError> {
                            // Read-modify-write of a shared counter: lost updates would show.
                            let n: i64 = tx.get_meta("counter")?.map(|v| v.parse().unwrap()).unwrap_or(0);
                            tx.put_meta("counter", &(n + 1).to_string())?;
                            tx.insert(&a, "vpc", &format!("vpc-{t}-{i}"), None, "{}")
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        read(&*store, |tx| -> Result<(), StoreError> {
            assert_eq!(tx.count(&a, "vpc")?, 200, "{name}");
            assert_eq!(tx.get_meta("counter")?.as_deref(), Some("200"), "{name}");
            Ok(())
        })
        .unwrap();
    }
}

#[test]
fn a_file_store_keeps_what_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reservoir.db");
    let a = scope("111111111111", "us-east-1");
    {
        let store = SqliteStore::open_file(&path).unwrap();
        write(&store, |tx| tx.insert(&a, "vpc", "vpc-1", None, "{}")).unwrap();
        store.close().unwrap();
        assert!(matches!(write(&store, |tx| tx.put_meta("x", "y")), Err(StoreError::Unavailable(_))));
    }
    {
        // Without close: dropped as after a crash.
        let store = SqliteStore::open_file(&path).unwrap();
        write(&store, |tx| tx.insert(&a, "vpc", "vpc-2", None, "{}")).unwrap();
    }
    let store = SqliteStore::open_file(&path).unwrap();
    assert_eq!(read(&store, |tx| tx.count(&a, "vpc")).unwrap(), 2);
}

/// A read never waits for a write transaction in progress, and sees only committed
/// state: readers have their own connections and snapshots, in every mode.
#[test]
fn reads_do_not_wait_for_an_open_write() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        write(&*store, |tx| tx.insert(&a, "vpc", "vpc-committed", None, "{}")).unwrap();
        let (inside_tx, wait_inside) = std::sync::mpsc::channel::<()>();
        let (release, wait_release) = std::sync::mpsc::channel::<()>();
        let writer = {
            let store = store.clone();
            let a = a.clone();
            std::thread::spawn(move || {
                write(&*store, |tx| -> Result<(), StoreError> {
                    tx.insert(&a, "vpc", "vpc-uncommitted", None, "{}")?;
                    inside_tx.send(()).unwrap();
                    // Hold the write transaction open until the reader is done.
                    wait_release.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
                    Ok(())
                })
                .unwrap();
            })
        };
        wait_inside.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
        let started = std::time::Instant::now();
        let seen = read(&*store, |tx| tx.list(&a, "vpc", 0, 10)).unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{name}: the read waited for the writer ({:?})",
            started.elapsed()
        );
        assert_eq!(seen.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["vpc-committed"], "{name}");
        release.send(()).unwrap();
        writer.join().unwrap();
        assert_eq!(read(&*store, |tx| tx.count(&a, "vpc")).unwrap(), 2, "{name}");
    }
}

/// Two processes opening one new database file at once both start, and migrate it once.
#[test]
fn concurrent_opens_of_a_new_file_migrate_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                SqliteStore::open_file(&path).map(|_| ())
            })
        })
        .collect();
    for o in opens {
        o.join().unwrap().expect("every concurrent open succeeds");
    }
    let store = SqliteStore::open_file(&path).unwrap();
    write(&store, |tx| tx.insert(&scope("111111111111", "us-east-1"), "vpc", "vpc-1", None, "{}")).unwrap();
}

/// The ephemeral database leaves nothing behind.
#[test]
fn ephemeral_stores_leave_nothing_behind() {
    let store = SqliteStore::open_memory().unwrap();
    write(&store, |tx| tx.insert(&scope("111111111111", "us-east-1"), "vpc", "vpc-1", None, "{}")).unwrap();
    let dir = store.ephemeral_dir().unwrap().to_path_buf();
    assert!(dir.join("ephemeral.db").exists());
    drop(store);
    assert!(!dir.exists(), "{} is removed when the store is dropped", dir.display());
}

/// A page of entities with their tags, in one query: seq order, each entity's tags in key
/// order, entities without tags included, other scopes' tags never mixed in.
#[test]
fn pages_come_with_their_tags() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        let b = scope("222222222222", "us-east-1");
        write(&*store, |tx| -> Result<(), StoreError> {
            for i in 0..6 {
                tx.insert(&a, "vpc", &format!("vpc-{i}"), None, &format!(r#"{{"n":{i}}}"#))?;
            }
            tx.insert(&b, "vpc", "vpc-b", None, "{}")?;
            tx.put_tag(&a, &tag("vpc-1", "z", "last"))?;
            tx.put_tag(&a, &tag("vpc-1", "a", "first"))?;
            tx.put_tag(&a, &tag("vpc-4", "k", "v"))?;
            tx.put_tag(&b, &tag("vpc-1", "other", "scope"))?; // same id, other account
            Ok(())
        })
        .unwrap();
        let page = read(&*store, |tx| tx.list_tagged(&a, "vpc", 0, 4)).unwrap();
        let ids: Vec<&str> = page.iter().map(|(r, _)| r.id.as_str()).collect();
        assert_eq!(ids, ["vpc-0", "vpc-1", "vpc-2", "vpc-3"], "{name}");
        let keys = |i: usize| page[i].1.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect::<Vec<_>>();
        assert_eq!(keys(1), [("a", "first"), ("z", "last")], "{name}");
        assert!(keys(0).is_empty() && keys(2).is_empty(), "{name}");
        assert_eq!(page[1].0.body, r#"{"n":1}"#);
        let rest = read(&*store, |tx| tx.list_tagged(&a, "vpc", page[3].0.seq, 10)).unwrap();
        assert_eq!(rest.iter().map(|(r, _)| r.id.as_str()).collect::<Vec<_>>(), ["vpc-4", "vpc-5"], "{name}");
        assert_eq!(rest[0].1[0].key, "k");
        // The same tags through `tags_of`, in one query: (resource id, key) order.
        let tags = read(&*store, |tx| tx.tags_of(&a, &["vpc-4", "vpc-1", "vpc-4", "vpc-9"])).unwrap();
        let got: Vec<(&str, &str)> = tags.iter().map(|t| (t.resource_id.as_str(), t.key.as_str())).collect();
        assert_eq!(got, [("vpc-1", "a"), ("vpc-1", "z"), ("vpc-4", "k")], "{name}");
    }
}

/// A quick read runs when it lists few enough rows, and gives up, whatever its closure
/// answered, when it would list more; an ordinary read then does it all.
#[test]
fn quick_reads_stay_within_their_budget() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111", "us-east-1");
        write(&*store, |tx| -> Result<(), StoreError> {
            for i in 0..10 {
                tx.insert(&a, "vpc", &format!("vpc-{i}"), None, "{}")?;
            }
            Ok(())
        })
        .unwrap();
        let small = reservoir_store::read_quick(&*store, 16, |tx| tx.list(&a, "vpc", 0, 1000));
        if store.kind().shared() {
            // A networked database is never read on the caller's (async) thread.
            assert!(small.is_none(), "{name}: a quick read gives up");
            continue;
        }
        assert_eq!(small.expect("ran quickly").unwrap().len(), 10, "{name}");
        let tagged = reservoir_store::read_quick(&*store, 10, |tx| tx.list_tagged(&a, "vpc", 0, 1000));
        assert_eq!(tagged.expect("exactly the budget").unwrap().len(), 10, "{name}");
        // Over budget: gives up even though the closure swallows the store's error.
        let big = reservoir_store::read_quick(&*store, 9, |tx| -> Result<usize, StoreError> {
            Ok(tx.list(&a, "vpc", 0, 1000).map(|r| r.len()).unwrap_or(0))
        });
        assert!(big.is_none(), "{name}: a read over its budget gives up");
        // Budgets add up across a transaction's listings: 6 then 5 rows.
        let two = |budget| {
            reservoir_store::read_quick(&*store, budget, |tx| -> Result<usize, StoreError> {
                let first = tx.list(&a, "vpc", 0, 6)?;
                Ok(first.len() + tx.list(&a, "vpc", first[5].seq - 1, 10)?.len())
            })
        };
        assert_eq!(two(12).expect("11 rows fit in 12").unwrap(), 11, "{name}");
        assert!(two(10).is_none(), "{name}: 11 rows do not fit in 10");
        assert_eq!(read(&*store, |tx| tx.list(&a, "vpc", 0, 1000)).unwrap().len(), 10, "{name}");
    }
}

/// A database made by an earlier version (schema 1) opens, migrates and keeps its data.
#[test]
fn a_version_1_database_is_migrated_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(include_str!("../migrations/sqlite/0001_init.sql")).unwrap();
        c.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL);
             INSERT INTO schema_migrations VALUES (1, 0);
             INSERT INTO resources (account, region, kind, id, body) VALUES ('111111111111', 'us-east-1', 'vpc', 'vpc-1', \
             '{\"id\":\"vpc-1\",\"owner\":\"111111111111\",\"cidr_associations\":[{\"association_id\":\"vpc-cidr-assoc-1\",\"cidr\":\"10.1.0.0/16\",\"state\":\"associated\",\"source\":{\"type\":\"manual\"}}],\"dhcp_options_id\":\"dopt-1\",\"tenancy\":\"default\",\"is_default\":false,\"state\":\"available\",\"created\":0}');
             INSERT INTO tags VALUES ('111111111111', 'us-east-1', 'vpc-1', 'vpc', 'Name', 'kept');",
        )
        .unwrap();
    }
    let store = SqliteStore::open_file(&path).unwrap();
    let a = scope("111111111111", "us-east-1");
    let page = read(&store, |tx| tx.list_tagged(&a, "vpc", 0, 10)).unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!((page[0].1[0].key.as_str(), page[0].1[0].value.as_str()), ("Name", "kept"));
    write(&store, |tx| tx.put_tag(&a, &tag("vpc-1", "Name", "changed"))).unwrap();
    assert_eq!(read(&store, |tx| tx.tags_of(&a, &["vpc-1"])).unwrap()[0].value, "changed");
    // Version 3 indexed the CIDRs of the VPCs it found, for IPAM monitoring.
    let cidrs = read(&store, |tx| tx.resource_cidrs(&a, None, 10)).unwrap();
    assert_eq!(cidrs.len(), 1);
    assert_eq!((cidrs[0].block.text(), cidrs[0].vpc_id.as_str()), ("10.1.0.0/16".to_string(), "vpc-1"));
}

/// Both schemas are one: every backend has exactly the tables of `sql::TABLES` (plus
/// `meta` and `schema_migrations`), each with the catalogue's columns in its order. A
/// migration written for one dialect and not the other fails here.
#[test]
fn every_backend_has_the_catalogued_schema() {
    use reservoir_store::sql::TABLES;
    let mut expected: Vec<(String, Vec<String>)> =
        TABLES.iter().map(|t| (t.name.to_string(), t.columns.iter().map(|(c, _)| c.to_string()).collect())).collect();
    expected.push(("meta".into(), vec!["key".into(), "value".into()]));
    expected.push(("schema_migrations".into(), vec!["version".into(), "applied".into()]));
    expected.sort();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.db");
    SqliteStore::open_file(&path).unwrap().close().unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let sqlite: Vec<(String, Vec<String>)> = names
        .into_iter()
        .map(|t| {
            let columns = c
                .prepare(&format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (t, columns)
        })
        .collect();
    let mut sqlite = sqlite;
    sqlite.sort();
    assert_eq!(sqlite, expected, "sqlite");

    let Some(db) = ScratchDatabase::from_env() else { return };
    PostgresStore::open(db.url(), 1).unwrap().close().unwrap();
    let mut client = postgres::Client::connect(db.url(), postgres::NoTls).unwrap();
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position",
            &[],
        )
        .unwrap();
    let mut pg: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        match pg.last_mut() {
            Some((t, columns)) if *t == table => columns.push(column),
            _ => pg.push((table, vec![column])),
        }
    }
    pg.sort();
    assert_eq!(pg, expected, "postgres");
}

/// Two PostgreSQL stores on one database (two nodes), sixteen threads each adding one to a
/// counter 15 times by reading and writing it back: every write conflicts with the
/// others, yet every one commits (a re-run holds the writers' lock alone, so it cannot
/// fail again) and none is lost.
#[test]
fn conflicting_writes_on_postgres_all_commit_and_none_is_lost() {
    let Some(db) = ScratchDatabase::from_env() else { return };
    let stores: Vec<Arc<dyn Store>> =
        vec![Arc::new(PostgresStore::open(db.url(), 8).unwrap()), Arc::new(PostgresStore::open(db.url(), 8).unwrap())];
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let store = stores[t % 2].clone();
            std::thread::spawn(move || {
                for _ in 0..15 {
                    write(&*store, |tx| -> Result<(), StoreError> {
                        let n: u64 = tx.get_meta("counter")?.map_or(0, |v| v.parse().unwrap());
                        // A transaction as long as an allocation's (dozens of statements),
                        // so that newcomers keep overlapping it.
                        for i in 0..40 {
                            tx.get_meta(&format!("other-{i}"))?;
                        }
                        tx.put_meta("counter", &(n + 1).to_string())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(stores[0].read_meta("counter").unwrap().as_deref(), Some("240"));
}
