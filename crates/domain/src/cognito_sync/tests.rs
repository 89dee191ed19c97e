use super::*;
use proptest::prelude::*;

const POOL: &str = "us-east-1:00000000-0000-0000-0000-000000000000";
const ID: &str = "us-east-1:11111111-1111-1111-1111-111111111111";

fn replace(key: &str, value: &str, count: i64) -> Patch {
    Patch { op: Op::Replace(value.into()), key: key.into(), sync_count: count, device_last_modified: None }
}

fn remove(key: &str, count: i64) -> Patch {
    Patch { op: Op::Remove, key: key.into(), sync_count: count, device_last_modified: None }
}

/// One identity's datasets in memory, changed only through [`apply`], with the
/// identity's counters kept from its answers as the server keeps them.
#[derive(Default, Debug)]
struct Model {
    datasets: BTreeMap<String, (Dataset, BTreeMap<String, Record>)>,
    storage: i64,
    clock: i64,
}

impl Model {
    fn update(&mut self, name: &str, patches: &[Patch]) -> Result<Applied, SyncError> {
        self.clock += 1;
        let (ds, records) = match self.datasets.get(name) {
            Some((d, r)) => (Some(d.clone()), r.clone()),
            None => (None, BTreeMap::new()),
        };
        let current: BTreeMap<String, Record> =
            patches.iter().filter_map(|p| records.get(&p.key).map(|r| (p.key.clone(), r.clone()))).collect();
        let n = self.datasets.len() as u64;
        let applied = apply(POOL, ID, name, ds.as_ref(), n, &current, patches, "dev", Timestamp(self.clock))?;
        let entry = self.datasets.entry(name.to_string()).or_insert_with(|| (applied.dataset.clone(), BTreeMap::new()));
        entry.0 = applied.dataset.clone();
        for r in &applied.written {
            entry.1.insert(r.key.clone(), r.clone());
        }
        self.storage += applied.storage_delta;
        Ok(applied)
    }

    fn delete(&mut self, name: &str) {
        if let Some((d, _)) = self.datasets.remove(name) {
            self.storage -= d.data_storage as i64;
        }
    }

    fn recount(&self) -> (u64, BTreeMap<String, (u64, u64)>) {
        let mut total = 0;
        let mut per = BTreeMap::new();
        for (name, (_, records)) in &self.datasets {
            let bytes: u64 = records.values().map(Record::bytes).sum();
            let live = records.values().filter(|r| r.is_live()).count() as u64;
            total += bytes;
            per.insert(name.clone(), (bytes, live));
        }
        (total, per)
    }

    fn count_of(&self, name: &str, key: &str) -> u64 {
        self.datasets.get(name).and_then(|(_, r)| r.get(key)).map_or(0, |r| r.sync_count)
    }
}

#[test]
fn a_session_writes_and_counts_move_forward() {
    let mut m = Model::default();
    let a = m.update("settings", &[replace("color", "blue", 0), replace("size", "xl", 0)]).unwrap();
    assert!(a.created);
    assert_eq!(a.dataset.sync_count, 1);
    assert_eq!(a.dataset.data_storage, ("color".len() + "blue".len() + "size".len() + "xl".len()) as u64);
    assert_eq!(a.dataset.num_records, 2);
    assert!(a.written.iter().all(|r| r.sync_count == 1));
    let b = m.update("settings", &[replace("color", "red", 1)]).unwrap();
    assert!(!b.created);
    assert_eq!(b.dataset.sync_count, 2);
    assert_eq!(b.storage_delta, -1);
    assert_eq!(b.written[0].sync_count, 2);
}

#[test]
fn a_stale_count_is_a_conflict_and_changes_nothing() {
    let mut m = Model::default();
    m.update("d", &[replace("k", "v", 0)]).unwrap();
    m.update("d", &[replace("k", "w", 1)]).unwrap();
    let before = m.datasets.clone();
    let err = m.update("d", &[replace("other", "x", 0), replace("k", "stale", 1)]).unwrap_err();
    assert_eq!(err, SyncError::Conflict { key: "k".into(), current: 2, given: 1 });
    assert_eq!(err.to_string(), "Current SyncCount for: k is: 2 not: 1");
    assert_eq!(m.datasets, before);
    // A new key with a count the server never gave is a conflict too.
    assert!(matches!(m.update("d", &[replace("new", "x", 3)]), Err(SyncError::Conflict { .. })));
}

#[test]
fn removal_leaves_a_tombstone_that_later_syncs_report() {
    let mut m = Model::default();
    m.update("d", &[replace("k", "value", 0)]).unwrap();
    let r = m.update("d", &[remove("k", 1)]).unwrap();
    assert_eq!(r.storage_delta, -6);
    assert_eq!(r.dataset.num_records, 0);
    assert_eq!(
        r.written,
        vec![Record {
            key: "k".into(),
            value: None,
            sync_count: 2,
            last_modified: Timestamp(2),
            last_modified_by: "dev".into(),
            device_last_modified: None,
        }]
    );
    // Creating the key again after its removal: 0 or the tombstone's count.
    m.update("d", &[replace("k", "again", 0)]).unwrap();
    // Removing a key that is not there changes nothing, not even the sync count.
    let n = m.update("d", &[remove("never", 0)]).unwrap();
    assert!(n.written.is_empty());
    assert_eq!(n.dataset.sync_count, 3);
}

#[test]
fn limits() {
    let mut m = Model::default();
    let big = "x".repeat(600 * 1024);
    m.update("d", &[replace("a", &big, 0)]).unwrap();
    let before = m.datasets.clone();
    assert_eq!(m.update("d", &[replace("b", &big, 0)]), Err(SyncError::DatasetTooLarge("d".into())));
    assert_eq!(m.datasets, before);
    // Exactly 1 MB fits.
    let rest = (MAX_DATASET_BYTES - 600 * 1024 - 1 - 1) as usize;
    m.update("d", &[replace("b", &"y".repeat(rest), 0)]).unwrap();
    assert_eq!(m.datasets["d"].0.data_storage, MAX_DATASET_BYTES);

    let mut m = Model::default();
    let many: Vec<Patch> = (0..1025).map(|i| replace(&format!("k{i}"), "v", 0)).collect();
    assert!(matches!(m.update("d", &many), Err(SyncError::InvalidPatch(_))));
    m.update("d", &many[..1024]).unwrap();
    assert_eq!(m.update("d", &[replace("one-more", "v", 0)]), Err(SyncError::TooManyRecords("d".into())));

    let mut m = Model::default();
    for i in 0..20 {
        m.update(&format!("d{i}"), &[]).unwrap();
    }
    assert_eq!(m.update("d20", &[]), Err(SyncError::TooManyDatasets(ID.into())));
    m.update("d3", &[replace("k", "v", 0)]).unwrap();

    let mut m = Model::default();
    assert!(matches!(m.update("d", &[replace("k", "v", 0), remove("k", 0)]), Err(SyncError::InvalidPatch(_))));
    assert!(matches!(m.update("d", &[replace("k", "v", -1)]), Err(SyncError::InvalidPatch(_))));
    assert!(m.datasets.is_empty());
}

#[test]
fn deleted_after_requested_count() {
    let d = Dataset {
        pool_id: POOL.into(),
        identity_id: ID.into(),
        name: "d".into(),
        created: Timestamp(0),
        last_modified: Timestamp(0),
        last_modified_by: "x".into(),
        sync_count: 3,
        data_storage: 0,
        num_records: 0,
    };
    assert!(!deleted_after(Some(&d), None));
    assert!(!deleted_after(Some(&d), Some(3)));
    assert!(deleted_after(Some(&d), Some(4)));
    assert!(deleted_after(None, Some(1)));
    assert!(!deleted_after(None, Some(0)));
}

#[derive(Debug, Clone)]
enum Step {
    Update { dataset: u8, patches: Vec<(u8, Option<u16>, bool)> },
    Delete { dataset: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..4, prop::collection::vec((0u8..6, prop::option::of(0u16..300), any::<bool>()), 0..5))
            .prop_map(|(dataset, patches)| Step::Update { dataset, patches }),
        1 => (0u8..4).prop_map(|dataset| Step::Delete { dataset }),
    ]
}

proptest! {
    /// After any sequence of writes, removals, deletes and conflicts, the counters kept
    /// from `apply`'s answers equal a recount of the records, and a refused call changes
    /// nothing.
    #[test]
    fn counters_equal_a_recount(steps in prop::collection::vec(step(), 1..60)) {
        let mut m = Model::default();
        for s in steps {
            match s {
                Step::Update { dataset, patches } => {
                    let name = format!("d{dataset}");
                    let mut keys = BTreeSet::new();
                    let patches: Vec<Patch> = patches
                        .into_iter()
                        .filter(|(k, _, _)| keys.insert(*k))
                        .map(|(k, value, fresh)| {
                            let key = format!("key{k}");
                            // `fresh`: the count the server has; else one behind (a conflict
                            // unless the record is new).
                            let now = m.count_of(&name, &key) as i64;
                            let count = if fresh { now } else { (now - 1).max(0) + i64::from(now == 0) };
                            match value {
                                Some(n) => replace(&key, &"v".repeat(usize::from(n)), count),
                                None => remove(&key, count),
                            }
                        })
                        .collect();
                    let before = m.datasets.clone();
                    let storage = m.storage;
                    match m.update(&name, &patches) {
                        Ok(a) => {
                            prop_assert!(a.written.iter().all(|r| r.sync_count == a.dataset.sync_count));
                        }
                        Err(_) => {
                            prop_assert_eq!(&m.datasets, &before);
                            prop_assert_eq!(m.storage, storage);
                        }
                    }
                }
                Step::Delete { dataset } => m.delete(&format!("d{dataset}")),
            }
            let (total, per) = m.recount();
            prop_assert_eq!(m.storage as u64, total);
            for (name, (ds, _)) in &m.datasets {
                prop_assert_eq!((ds.data_storage, ds.num_records), per[name]);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op2 {
    Update { identity: u8, dataset: u8, patches: Vec<(u8, Option<u16>, bool)>, session: u8 },
    DeleteDataset { identity: u8, dataset: u8 },
    ForgetIdentity { identity: u8 },
}

fn op2() -> impl Strategy<Value = Op2> {
    prop_oneof![
        6 => (0u8..3, 0u8..3, prop::collection::vec((0u8..5, prop::option::of(0u16..200), any::<bool>()), 0..4), 0u8..4)
            .prop_map(|(identity, dataset, patches, session)| Op2::Update { identity, dataset, patches, session }),
        1 => (0u8..3, 0u8..3).prop_map(|(identity, dataset)| Op2::DeleteDataset { identity, dataset }),
        1 => (0u8..3).prop_map(|identity| Op2::ForgetIdentity { identity }),
    ]
}

/// Identities 0 and 1 are in pool A, 2 in pool B.
fn pool_of(identity: u8) -> &'static str {
    if identity < 2 { "us-east-1:aaaaaaaa-0000-0000-0000-000000000000" } else { POOL }
}

proptest! {
    /// The operations over rows keep every counter (dataset, identity, pool) equal to a
    /// recount of the records, refused calls change nothing, and each session is counted
    /// once.
    #[test]
    fn operations_keep_counters_equal_to_a_recount(ops in prop::collection::vec(op2(), 1..50)) {
        let mut m = MemorySync::default();
        let mut sessions_committed = BTreeMap::<&str, BTreeSet<u8>>::new();
        for (t, op) in ops.into_iter().enumerate() {
            let now = Timestamp(t as i64 + 1);
            match op {
                Op2::Update { identity, dataset, patches, session } => {
                    let id = format!("us-east-1:{identity}");
                    let name = format!("d{dataset}");
                    let mut keys = BTreeSet::new();
                    let patches: Vec<Patch> = patches
                        .into_iter()
                        .filter(|(k, _, _)| keys.insert(*k))
                        .map(|(k, value, fresh)| {
                            let key = format!("k{k}");
                            let have = m
                                .records
                                .get(&(id.clone(), name.clone(), key.clone()))
                                .map_or(0, |r| r.sync_count) as i64;
                            let count = if fresh { have } else { have + 1 };
                            match value {
                                Some(n) => replace(&key, &"v".repeat(usize::from(n)), count),
                                None => remove(&key, count),
                            }
                        })
                        .collect();
                    let before = m.clone();
                    let token = format!("s{session}");
                    let got = update_records(
                        &mut m, pool_of(identity), &id, &name, &patches,
                        Some((&token, Timestamp(1_000_000))), "dev", now,
                    );
                    match got {
                        Ok(_) => {
                            let fresh = sessions_committed.entry(pool_of(identity)).or_default().insert(session);
                            let pools_before = before.pools.get(pool_of(identity)).map_or(0, |p| p.1);
                            let pools_after = m.pools.get(pool_of(identity)).map_or(0, |p| p.1);
                            // Sessions are tokens of the whole test, shared by both pools: a
                            // session counts in the first pool that commits with it.
                            prop_assert!(pools_after - pools_before <= u64::from(fresh));
                        }
                        Err(_) => prop_assert_eq!(&m, &before),
                    }
                }
                Op2::DeleteDataset { identity, dataset } => {
                    delete_dataset(&mut m, &format!("us-east-1:{identity}"), &format!("d{dataset}"), now).unwrap();
                }
                Op2::ForgetIdentity { identity } => {
                    forget_identity(&mut m, &format!("us-east-1:{identity}"), now).unwrap();
                }
            }
            let (per_dataset, per_identity, per_pool) = m.recount();
            for (k, d) in &m.datasets {
                prop_assert_eq!((d.data_storage, d.num_records), per_dataset.get(k).copied().unwrap_or_default());
            }
            for (id, u) in &m.identities {
                prop_assert_eq!((u.dataset_count, u.data_storage), per_identity.get(id).copied().unwrap_or_default());
            }
            for (pool, (bytes, _, _)) in &m.pools {
                prop_assert_eq!(*bytes as u64, per_pool.get(pool).copied().unwrap_or_default());
            }
        }
    }
}

#[test]
fn session_tokens_are_bound_to_their_dataset_and_expire() {
    use crate::account::AccountId;
    use crate::ids::SeededRandom;
    let codec = TokenCodec::new([1; 32]);
    let scope = Scope::new(AccountId::default_account(), "us-east-1");
    let t = session_token(&codec, &scope, ID, "d", Timestamp(0), &mut SeededRandom::new(1));
    let s = open_session(&codec, &scope, ID, "d", &t, Timestamp(SESSION_MILLIS)).unwrap();
    assert_eq!(s.expires, Timestamp(SESSION_MILLIS));
    let t2 = session_token(&codec, &scope, ID, "d", Timestamp(0), &mut SeededRandom::new(2));
    assert_ne!(open_session(&codec, &scope, ID, "d", &t2, Timestamp(1)).unwrap().id, s.id);
    assert!(matches!(open_session(&codec, &scope, ID, "e", &t, Timestamp(1)), Err(SyncError::InvalidSession(_))));
    assert!(matches!(open_session(&codec, &scope, POOL, "d", &t, Timestamp(1)), Err(SyncError::InvalidSession(_))));
    let west = Scope::new(AccountId::default_account(), "us-west-2");
    assert!(open_session(&codec, &west, ID, "d", &t, Timestamp(1)).is_err());
    assert!(open_session(&codec, &scope, ID, "d", &t, Timestamp(SESSION_MILLIS + 1)).is_err());
    assert!(open_session(&codec, &scope, ID, "d", "garbage", Timestamp(1)).is_err());
}
