//! Address spaces in every backend: the schema's rules against overlaps, the engine's
//! answers from indexed rows, the same answers after a restart, and concurrent writers.

use std::sync::Arc;

use proptest::prelude::*;
use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::space::{self, Allocation, Block, Family, MemorySlots, Search, Slot, SpaceError};
use reservoir_domain::time::Timestamp;
use reservoir_store::postgres::{PostgresStore, ScratchDatabase};
use reservoir_store::slots::TxSlots;
use reservoir_store::sqlite::SqliteStore;
use reservoir_store::{Store, StoreError, read, write};

#[derive(Debug, PartialEq, thiserror::Error)]
enum E {
    #[error("{0}")]
    Space(#[from] SpaceError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

fn scope(account: &str) -> Scope {
    Scope::new(AccountId::parse(account).unwrap(), "us-east-1")
}

fn net(text: &str) -> Block {
    Block::of_net(text.parse().unwrap())
}

fn holder(id: &str) -> Allocation {
    Allocation {
        id: id.into(),
        resource_type: "custom".into(),
        resource_id: None,
        resource_owner: "111111111111".into(),
        resource_region: Some("us-east-1".into()),
        description: Some("d".into()),
        created: Timestamp(7),
    }
}

fn by_len(prefix: u8, largest_root: u8) -> Search {
    Search { family: Family::Ipv4, prefix, largest_root, allowed: vec![], disallowed: vec![] }
}

/// A backend's name, the store, and what must outlive it (its directory or database).
type Backend = (&'static str, Arc<dyn Store>, Option<Box<dyn std::any::Any>>);

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let file = SqliteStore::open_file(&dir.path().join("spaces.db")).unwrap();
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

/// Runs the engine in one write transaction of `scope`.
fn engine<T>(store: &dyn Store, scope: &Scope, mut f: impl FnMut(&mut TxSlots<'_, E>) -> Result<T, E>) -> Result<T, E> {
    write(store, |tx| f(&mut TxSlots::new(tx, scope)))
}

#[test]
fn the_schema_refuses_overlapping_slots_whatever_the_caller_decided() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111");
        let free = |b: Block| Slot { block: b, root_prefix: b.prefix, holder: None };
        write(&*store, |tx| tx.insert_slot(&a, "p", &free(net("10.0.0.0/16")))).unwrap();
        for clash in ["10.0.0.0/16", "10.0.0.0/24", "10.0.128.0/17", "10.0.255.255/32", "10.0.0.0/8", "0.0.0.0/0"] {
            let r = write(&*store, |tx| tx.insert_slot(&a, "p", &free(net(clash))));
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{name}: {clash} must be refused: {r:?}");
        }
        // Beside it, in another space, another account or the other family: fine.
        write(&*store, |tx| -> Result<(), StoreError> {
            tx.insert_slot(&a, "p", &free(net("10.1.0.0/16")))?;
            tx.insert_slot(&a, "q", &free(net("10.0.0.0/16")))?;
            tx.insert_slot(&scope("222222222222"), "p", &free(net("10.0.0.0/16")))?;
            tx.insert_slot(&a, "p", &free(net("::a00:0/112")))?;
            Ok(())
        })
        .unwrap();
        // Two allocations may not share an id in a scope.
        let held = |b: Block, id: &str| Slot { block: b, root_prefix: 8, holder: Some(holder(id)) };
        write(&*store, |tx| tx.insert_slot(&a, "r", &held(net("10.0.0.0/24"), "x"))).unwrap();
        let r = write(&*store, |tx| tx.insert_slot(&a, "r", &held(net("10.0.1.0/24"), "x")));
        assert!(matches!(r, Err(StoreError::Conflict(_))), "{name}: {r:?}");
    }
}

#[test]
fn allocations_from_indexed_rows() {
    for (name, store, _dir) in backends() {
        let a = scope("111111111111");
        engine(&*store, &a, |s| {
            space::add_root(s, "p", net("10.0.0.0/16"))?;
            space::add_root(s, "p", net("10.2.0.0/24"))?;
            Ok(())
        })
        .unwrap();
        let mut got = Vec::new();
        for i in 0..20 {
            let b = engine(&*store, &a, |s| space::allocate_next(s, "p", &by_len(24, 16), holder(&format!("a{i}"))))
                .unwrap();
            got.push(b.text());
        }
        assert_eq!(got[0], "10.0.0.0/24", "{name}");
        assert_eq!(got[19], "10.0.19.0/24", "{name}");
        let r = engine(&*store, &a, |s| space::allocate_exact(s, "p", net("10.0.5.0/25"), holder("z")));
        assert_eq!(r, Err(E::Space(SpaceError::Unavailable("10.0.5.0/25".into()))), "{name}");
        engine(&*store, &a, |s| space::release(s, "p", net("10.0.3.0/24"), "a3")).unwrap();
        read(&*store, |tx| -> Result<(), StoreError> {
            // Held slots in address order, paged by address.
            let first = tx.held_slots(&a, "p", Family::Ipv4, None, u128::MAX, 5)?;
            let texts: Vec<String> = first.iter().map(|s| s.block.text()).collect();
            assert_eq!(texts, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.4.0/24", "10.0.5.0/24"], "{name}");
            let next = tx.held_slots(&a, "p", Family::Ipv4, Some(first[4].block.start), u128::MAX, 100)?;
            assert_eq!(next.len(), 14, "{name}");
            let (sp, slot) = tx.slot_of_allocation(&a, "a7")?.unwrap();
            assert_eq!((sp.as_str(), slot.block.text()), ("p", "10.0.7.0/24".to_string()));
            assert_eq!(slot.holder.unwrap(), holder("a7"), "{name}: the allocation reads back whole");
            assert!(tx.slot_of_allocation(&scope("222222222222"), "a7")?.is_none(), "{name}");
            assert!(tx.any_held_slot(&a, "p", net("10.0.0.0/16"))?);
            assert!(!tx.any_held_slot(&a, "p", net("10.2.0.0/24"))?);
            Ok(())
        })
        .unwrap();
        // The lowest free block is the released one.
        let b = engine(&*store, &a, |s| space::allocate_next(s, "p", &by_len(24, 16), holder("again"))).unwrap();
        assert_eq!(b.text(), "10.0.3.0/24", "{name}");
        let gone = write(&*store, |tx| tx.delete_space(&a, "p")).unwrap();
        assert!(gone > 20, "{name}");
        let left = read(&*store, |tx| tx.held_slots(&a, "p", Family::Ipv4, None, u128::MAX, 10)).unwrap();
        assert!(left.is_empty(), "{name}");
    }
}

/// Eight threads, on two stores open on one file as two processes would be, ask a /24
/// for 32 /28s: exactly its 16 are handed out, none twice.
#[test]
fn concurrent_writers_get_exactly_the_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let stores: Vec<Arc<dyn Store>> =
        vec![Arc::new(SqliteStore::open_file(&path).unwrap()), Arc::new(SqliteStore::open_file(&path).unwrap())];
    writers_share_one_space(stores);
}

/// The same with two PostgreSQL stores on one database, as two Reservoir nodes are: the
/// transactions really run at once, and serialization failures are retried.
#[test]
fn concurrent_nodes_on_postgres_get_exactly_the_capacity() {
    let Some(db) = ScratchDatabase::from_env() else { return };
    let stores: Vec<Arc<dyn Store>> =
        vec![Arc::new(PostgresStore::open(db.url(), 4).unwrap()), Arc::new(PostgresStore::open(db.url(), 4).unwrap())];
    writers_share_one_space(stores);
}

fn writers_share_one_space(stores: Vec<Arc<dyn Store>>) {
    let a = scope("111111111111");
    engine(&*stores[0], &a, |s| space::add_root(s, "p", net("10.9.0.0/24"))).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = stores[t % 2].clone();
            let a = a.clone();
            std::thread::spawn(move || {
                (0..4)
                    .filter_map(|i| {
                        engine(&*store, &a, |s| {
                            space::allocate_next(s, "p", &by_len(28, 24), holder(&format!("t{t}-{i}")))
                        })
                        .ok()
                    })
                    .collect::<Vec<Block>>()
            })
        })
        .collect();
    let mut all: Vec<Block> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    all.sort();
    assert_eq!(all.len(), 16);
    assert!(all.windows(2).all(|w| !w[0].overlaps(w[1])));
    let held = read(&*stores[1], |tx| tx.held_slots(&a, "p", Family::Ipv4, None, u128::MAX, 100)).unwrap();
    assert_eq!(held.iter().map(|s| s.block).collect::<Vec<_>>(), all);
}

/// The resource CIDR index answers by address: the rows inside a block, the rows that
/// are exactly a block, and pages in address order; rows may overlap.
#[test]
fn resource_cidrs_by_address() {
    use reservoir_domain::ipam::ResourceCidr;
    for (name, store, _dir) in backends() {
        let a = scope("111111111111");
        let row = |cidr: &str, id: &str| ResourceCidr {
            block: net(cidr),
            resource_id: id.into(),
            resource_type: "vpc".into(),
            vpc_id: id.into(),
            pool_id: None,
        };
        write(&*store, |tx| -> Result<(), StoreError> {
            for (c, id) in [
                ("10.0.0.0/16", "vpc-a"),
                ("10.0.0.0/20", "vpc-b"),
                ("10.0.16.0/20", "vpc-c"),
                ("10.1.0.0/16", "vpc-d"),
                ("fd00::/56", "vpc-a"),
            ] {
                tx.put_resource_cidr(&a, &row(c, id))?;
            }
            tx.put_resource_cidr(&scope("222222222222"), &row("10.0.0.0/16", "vpc-z"))?;
            Ok(())
        })
        .unwrap();
        read(&*store, |tx| -> Result<(), StoreError> {
            let ids = |rows: Vec<ResourceCidr>| rows.into_iter().map(|r| r.resource_id).collect::<Vec<_>>();
            assert_eq!(
                ids(tx.resource_cidrs_starting_in(&a, net("10.0.0.0/16"), 10)?),
                ["vpc-a", "vpc-b", "vpc-c"],
                "{name}"
            );
            assert_eq!(ids(tx.resource_cidrs_exactly(&a, net("10.0.0.0/16"), 10)?), ["vpc-a"], "{name}");
            assert!(tx.resource_cidrs_exactly(&a, net("10.0.0.0/15"), 10)?.is_empty());
            let first = tx.resource_cidrs(&a, None, 2)?;
            assert_eq!(ids(first.clone()), ["vpc-a", "vpc-b"], "{name}: address order");
            let rest = tx.resource_cidrs(&a, first.last(), 10)?;
            assert_eq!(ids(rest), ["vpc-c", "vpc-d", "vpc-a"], "{name}: IPv4 first, then IPv6");
            Ok(())
        })
        .unwrap();
        assert!(write(&*store, |tx| tx.delete_resource_cidr(&a, "vpc-b", net("10.0.0.0/20"))).unwrap());
        assert!(!write(&*store, |tx| tx.delete_resource_cidr(&a, "vpc-b", net("10.0.0.0/20"))).unwrap());
    }
}

// --- the same answers as the in-memory reference, across restarts ---------------------

#[derive(Debug, Clone)]
enum Op {
    Provision(u16, u8),
    Exact(u16, u8),
    Next(u8, Option<(u16, u8)>),
    Release(usize),
    Deprovision(usize),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<u16>(), 18u8..=22).prop_map(|(o, p)| Op::Provision(o, p)),
        (any::<u16>(), 20u8..=28).prop_map(|(o, p)| Op::Exact(o, p)),
        (20u8..=28, proptest::option::of((any::<u16>(), 18u8..=26))).prop_map(|(p, d)| Op::Next(p, d)),
        (0usize..32).prop_map(Op::Release),
        (0usize..4).prop_map(Op::Deprovision),
        Just(Op::Restart),
    ]
}

fn at(offset: u16, prefix: u8) -> Block {
    Block::containing(Family::Ipv4, 0x0a00_0000 + u128::from(offset), prefix)
}

fn held_everywhere(store: &dyn Store, a: &Scope) -> Vec<(String, String)> {
    read(store, |tx| tx.held_slots(a, "p", Family::Ipv4, None, u128::MAX, 100_000))
        .unwrap()
        .into_iter()
        .map(|s| (s.block.text(), s.holder.unwrap().id))
        .collect()
}

fn held_in_memory(m: &mut MemorySlots) -> Vec<(String, String)> {
    m.slots.values().filter_map(|s| s.holder.as_ref().map(|h| (s.block.text(), h.id.clone()))).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random provisions, allocations, releases and deprovisions run against the SQLite
    /// file store and the in-memory reference, with restarts (close, reopen) in between:
    /// every answer is the same, and so is what is held.
    #[test]
    fn a_file_store_answers_as_the_reference_across_restarts(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut store: Arc<dyn Store> = Arc::new(SqliteStore::open_file(&path).unwrap());
        let mut memory = MemorySlots::default();
        let a = scope("111111111111");
        let mut roots: Vec<Block> = Vec::new();
        let mut n = 0;
        for op in ops {
            n += 1;
            let id = format!("a{n}");
            match op {
                Op::Provision(o, p) => {
                    let b = at(o, p);
                    let x = engine(&*store, &a, |s| space::add_root(s, "p", b)).is_ok();
                    let y = space::add_root(&mut memory, "p", b).is_ok();
                    prop_assert_eq!(x, y);
                    if x { roots.push(b); }
                }
                Op::Exact(o, p) => {
                    let b = at(o, p);
                    let x = engine(&*store, &a, |s| space::allocate_exact(s, "p", b, holder(&id))).map_err(|e| e.to_string());
                    let y = space::allocate_exact(&mut memory, "p", b, holder(&id)).map_err(|e| e.to_string());
                    prop_assert_eq!(x, y);
                }
                Op::Next(p, d) => {
                    let largest = roots.iter().map(|r| r.prefix).min().unwrap_or(32);
                    let mut req = by_len(p, largest);
                    req.disallowed = d.map(|(o, q)| at(o, q).into()).into_iter().collect();
                    let x = engine(&*store, &a, |s| space::allocate_next(s, "p", &req, holder(&id))).map_err(|e| e.to_string());
                    let y = space::allocate_next(&mut memory, "p", &req, holder(&id)).map_err(|e| e.to_string());
                    prop_assert_eq!(x, y);
                }
                Op::Release(i) => {
                    let held = held_in_memory(&mut memory);
                    if let Some((cidr, hid)) = held.get(i % held.len().max(1)).cloned() {
                        let b = net(&cidr);
                        engine(&*store, &a, |s| space::release(s, "p", b, &hid)).unwrap();
                        space::release(&mut memory, "p", b, &hid).unwrap();
                    }
                }
                Op::Deprovision(i) => {
                    if let Some(&root) = roots.get(i % roots.len().max(1)) {
                        let x = engine(&*store, &a, |s| space::remove_root(s, "p", root)).map_err(|e| e.to_string());
                        let y = space::remove_root(&mut memory, "p", root).map_err(|e| e.to_string());
                        prop_assert_eq!(&x, &y);
                        if x.is_ok() { roots.retain(|r| *r != root); }
                    }
                }
                Op::Restart => {
                    store.close().unwrap();
                    drop(store);
                    store = Arc::new(SqliteStore::open_file(&path).unwrap());
                }
            }
            prop_assert_eq!(held_everywhere(&*store, &a), held_in_memory(&mut memory));
        }
        // Every slot, free ones included, reads back as the reference has it.
        for (_, slot) in memory.slots.clone() {
            let found = read(&*store, |tx| tx.slot_at_or_before(&a, "p", Family::Ipv4, slot.block.start)).unwrap();
            prop_assert_eq!(found, Some(slot));
        }
    }
}
