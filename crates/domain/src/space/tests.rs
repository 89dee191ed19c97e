use proptest::prelude::*;

use super::*;

fn v4(text: &str) -> Block {
    Block::of_net(text.parse().unwrap())
}

fn v6(text: &str) -> Block {
    Block::of_net(text.parse().unwrap())
}

fn holder(id: &str) -> Allocation {
    Allocation {
        id: id.to_string(),
        resource_type: "custom".into(),
        resource_id: None,
        resource_owner: "000000000000".into(),
        resource_region: None,
        description: None,
        created: Timestamp(0),
    }
}

fn by_len(family: Family, prefix: u8, largest_root: u8) -> Search {
    Search { family, prefix, largest_root, allowed: vec![], disallowed: vec![] }
}

#[test]
fn block_arithmetic() {
    let b = v4("10.0.0.0/24");
    assert_eq!(b.size(), 256);
    assert_eq!(b.last(), b.start + 255);
    let (lo, hi) = b.halves().unwrap();
    assert_eq!((lo.text(), hi.text()), ("10.0.0.0/25".to_string(), "10.0.0.128/25".to_string()));
    assert_eq!(hi.buddy(), Some(lo));
    assert_eq!(hi.parent(), Some(b));
    assert!(b.contains(hi) && !hi.contains(b) && b.overlaps(hi));
    assert!(Block::new(Family::Ipv4, b.start + 1, 24).is_none(), "unaligned");
    assert_eq!(v4("0.0.0.0/0").size(), 1 << 32);
    assert_eq!(v6("::/0").size(), u128::MAX);
    assert_eq!(v6("::/0").last(), u128::MAX);
    assert_eq!(v6("fd00::/8").text(), "fd00::/8");
    assert!(!v4("10.0.0.0/8").overlaps(Block { family: Family::Ipv6, ..v4("10.0.0.0/8") }));
}

#[test]
fn lowest_block_first_and_released_blocks_are_reused() {
    let mut s = MemorySlots::default();
    add_root(&mut s, "p", v4("10.0.0.0/16")).unwrap();
    let a = allocate_next(&mut s, "p", &by_len(Family::Ipv4, 24, 16), holder("a")).unwrap();
    let b = allocate_next(&mut s, "p", &by_len(Family::Ipv4, 20, 16), holder("b")).unwrap();
    let c = allocate_next(&mut s, "p", &by_len(Family::Ipv4, 24, 16), holder("c")).unwrap();
    assert_eq!([a.text(), b.text(), c.text()], ["10.0.0.0/24", "10.0.16.0/20", "10.0.1.0/24"]);
    release(&mut s, "p", a, "a").unwrap();
    let d = allocate_next(&mut s, "p", &by_len(Family::Ipv4, 24, 16), holder("d")).unwrap();
    assert_eq!(d, a, "a released block is free again at once");
    // Everything released: the root is one free slot again.
    for (blk, id) in [(b, "b"), (c, "c"), (d, "d")] {
        release(&mut s, "p", blk, id).unwrap();
    }
    assert_eq!(s.slots.len(), 1);
    remove_root(&mut s, "p", v4("10.0.0.0/16")).unwrap();
    assert!(s.slots.is_empty());
}

#[test]
fn exact_allocations_and_their_refusals() {
    let mut s = MemorySlots::default();
    add_root(&mut s, "p", v4("10.0.0.0/16")).unwrap();
    allocate_exact(&mut s, "p", v4("10.0.128.0/17"), holder("a")).unwrap();
    let err = allocate_exact(&mut s, "p", v4("10.0.200.0/24"), holder("b")).unwrap_err();
    assert_eq!(err, SpaceError::Unavailable("10.0.200.0/24".into()));
    let err = allocate_exact(&mut s, "p", v4("10.1.0.0/24"), holder("b")).unwrap_err();
    assert_eq!(err, SpaceError::Outside("10.1.0.0/24".into()));
    let err = allocate_exact(&mut s, "p", v4("10.0.0.0/15"), holder("b")).unwrap_err();
    assert_eq!(err, SpaceError::Unavailable("10.0.0.0/15".into()), "a block larger than the root");
    assert_eq!(remove_root(&mut s, "p", v4("10.0.0.0/16")), Err(SpaceError::RootInUse("10.0.0.0/16".into())));
    assert_eq!(
        add_root(&mut s, "p", v4("10.0.0.0/8")),
        Err(SpaceError::RootOverlaps { new: "10.0.0.0/8".into(), existing: "10.0.128.0/17".into() })
    );
    assert_eq!(release(&mut s, "p", v4("10.0.128.0/17"), "other"), Err(SpaceError::NotHeld("10.0.128.0/17".into())));
}

#[test]
fn allocations_never_cross_roots() {
    // Two adjacent /25 roots: a /24 would cover both, and is refused.
    let mut s = MemorySlots::default();
    add_root(&mut s, "p", v4("10.0.0.0/25")).unwrap();
    add_root(&mut s, "p", v4("10.0.0.128/25")).unwrap();
    assert_eq!(find(&mut s, "p", &by_len(Family::Ipv4, 24, 25)).unwrap(), None);
    assert!(allocate_exact(&mut s, "p", v4("10.0.0.0/24"), holder("a")).is_err());
    let a = allocate_next(&mut s, "p", &by_len(Family::Ipv4, 25, 25), holder("a")).unwrap();
    let b = allocate_next(&mut s, "p", &by_len(Family::Ipv4, 25, 25), holder("b")).unwrap();
    assert_eq!([a.text(), b.text()], ["10.0.0.0/25", "10.0.0.128/25"]);
    release(&mut s, "p", a, "a").unwrap();
    release(&mut s, "p", b, "b").unwrap();
    assert_eq!(s.slots.len(), 2, "free roots do not merge with each other");
}

#[test]
fn allowed_and_disallowed_ranges_restrict_the_search() {
    let mut s = MemorySlots::default();
    add_root(&mut s, "p", v4("10.0.0.0/16")).unwrap();
    let mut req = by_len(Family::Ipv4, 24, 16);
    req.allowed = vec![v4("10.0.64.0/18").into()];
    req.disallowed = vec![v4("10.0.64.0/23").into(), v4("10.0.66.0/24").into()];
    assert_eq!(find(&mut s, "p", &req).unwrap().unwrap().text(), "10.0.67.0/24");
    req.allowed = vec![v4("192.168.0.0/16").into()];
    assert_eq!(find(&mut s, "p", &req).unwrap(), None, "allowed ranges never widen the pool");
    req.allowed = vec![];
    req.disallowed = vec![v4("10.0.0.0/16").into()];
    assert_eq!(find(&mut s, "p", &req).unwrap(), None);
    // An allowed range smaller than the asked block holds nothing.
    req.disallowed = vec![];
    req.allowed = vec![v4("10.0.0.0/25").into()];
    assert_eq!(find(&mut s, "p", &req).unwrap(), None);
    assert_eq!(s.slots.len(), 1, "searching changes nothing");
}

#[test]
fn ipv6_pools_hand_out_56s_and_64s() {
    let mut s = MemorySlots::default();
    add_root(&mut s, "ula", v6("fd00:1::/48")).unwrap();
    let a = allocate_next(&mut s, "ula", &by_len(Family::Ipv6, 56, 48), holder("a")).unwrap();
    let b = allocate_next(&mut s, "ula", &by_len(Family::Ipv6, 64, 48), holder("b")).unwrap();
    let c = allocate_next(&mut s, "ula", &by_len(Family::Ipv6, 56, 48), holder("c")).unwrap();
    assert_eq!([a.text(), b.text(), c.text()], ["fd00:1::/56", "fd00:1:0:100::/64", "fd00:1:0:200::/56"]);
    let mut s = MemorySlots::default();
    add_root(&mut s, "gua", v6("2001:db8::/32")).unwrap();
    for i in 0..300u128 {
        let b = allocate_next(&mut s, "gua", &by_len(Family::Ipv6, 64, 32), holder(&format!("x{i}"))).unwrap();
        assert_eq!(b.start, v6("2001:db8::/32").start + (i << 64));
    }
    // A split of a /32 down to a /64 leaves one free slot per prefix length.
    assert!(s.slots.len() < 300 + 40);
}

#[test]
fn the_whole_space_as_a_root() {
    let mut s = MemorySlots::default();
    add_root(&mut s, "scope", v4("0.0.0.0/0")).unwrap();
    add_root(&mut s, "scope6", v6("::/0")).unwrap();
    allocate_exact(&mut s, "scope", v4("255.255.255.255/32"), holder("a")).unwrap();
    allocate_exact(&mut s, "scope6", v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), holder("b")).unwrap();
    allocate_exact(&mut s, "scope", v4("10.0.0.0/8"), holder("c")).unwrap();
    assert!(allocate_exact(&mut s, "scope", v4("10.1.0.0/16"), holder("d")).is_err());
    let mut req = by_len(Family::Ipv4, 8, 0);
    req.disallowed = vec![v4("0.0.0.0/1").into(), v4("128.0.0.0/2").into(), v4("192.0.0.0/3").into()];
    assert_eq!(find(&mut s, "scope", &req).unwrap().unwrap().text(), "224.0.0.0/8");
    release(&mut s, "scope", v4("10.0.0.0/8"), "c").unwrap();
    release(&mut s, "scope", v4("255.255.255.255/32"), "a").unwrap();
    assert_eq!(s.slots.iter().filter(|((sp, _, _), _)| sp == "scope").count(), 1);
}

// --- the property test --------------------------------------------------------------

/// Everything happens inside 10.0.0.0/16 so that the oracle can try every block.
const UNIVERSE: u128 = 0x0a00_0000;
const PARENT: &str = "parent";
const CHILD: &str = "child";

#[derive(Debug, Clone)]
enum Op {
    Provision { offset: u16, prefix: u8 },
    Deprovision(usize),
    AllocExact { space: bool, offset: u16, prefix: u8 },
    AllocLen { space: bool, prefix: u8, allowed: Option<(u16, u8)>, disallowed: Option<(u16, u8)> },
    Release(usize),
    ChildByLen { prefix: u8 },
    ChildDeprovision(usize),
}

fn block_at(offset: u16, prefix: u8) -> Block {
    Block::containing(Family::Ipv4, UNIVERSE + u128::from(offset), prefix)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<u16>(), 17u8..=22).prop_map(|(offset, prefix)| Op::Provision { offset, prefix }),
        (0usize..8).prop_map(Op::Deprovision),
        (any::<bool>(), any::<u16>(), 19u8..=28).prop_map(|(space, offset, prefix)| Op::AllocExact {
            space,
            offset,
            prefix
        }),
        (
            any::<bool>(),
            18u8..=28,
            proptest::option::of((any::<u16>(), 17u8..=26)),
            proptest::option::of((any::<u16>(), 18u8..=28))
        )
            .prop_map(|(space, prefix, allowed, disallowed)| Op::AllocLen {
                space,
                prefix,
                allowed,
                disallowed
            }),
        (0usize..64).prop_map(Op::Release),
        (20u8..=24).prop_map(|prefix| Op::ChildByLen { prefix }),
        (0usize..4).prop_map(Op::ChildDeprovision),
    ]
}

/// The oracle: roots and held blocks of each space, as plain lists.
#[derive(Default)]
struct Model {
    roots: std::collections::BTreeMap<&'static str, Vec<Block>>,
    held: std::collections::BTreeMap<&'static str, Vec<(Block, String)>>,
}

impl Model {
    fn roots(&self, space: &'static str) -> &[Block] {
        self.roots.get(space).map(Vec::as_slice).unwrap_or(&[])
    }
    fn held(&self, space: &'static str) -> &[(Block, String)] {
        self.held.get(space).map(Vec::as_slice).unwrap_or(&[])
    }
    /// The lowest aligned block that a search must find, tried one by one.
    fn lowest_fit(&self, space: &'static str, req: &Search) -> Option<Block> {
        let step = 1u128 << (32 - req.prefix);
        let mut start = UNIVERSE;
        while start < UNIVERSE + 0x1_0000 {
            let c = Block { family: Family::Ipv4, start, prefix: req.prefix };
            let fits = self.roots(space).iter().any(|r| r.contains(c))
                && !self.held(space).iter().any(|(h, _)| h.overlaps(c))
                && (req.allowed.is_empty() || req.allowed.iter().any(|r| r.first <= c.start && c.last() <= r.last))
                && !req.disallowed.iter().any(|d| d.first <= c.last() && c.start <= d.last);
            if fits {
                return Some(c);
            }
            start += step;
        }
        None
    }
    fn largest_root(&self, space: &'static str) -> u8 {
        self.roots(space).iter().map(|r| r.prefix).min().unwrap_or(32)
    }
}

/// The engine's invariants, checked against the oracle after every step.
fn check(s: &MemorySlots, m: &Model) -> Result<(), TestCaseError> {
    for space in [PARENT, CHILD] {
        let slots: Vec<&Slot> = s.slots.iter().filter(|((sp, _, _), _)| sp == space).map(|(_, v)| v).collect();
        for w in slots.windows(2) {
            prop_assert!(w[0].block.last() < w[1].block.start, "slots overlap: {:?}", w);
        }
        let mut provisioned = 0u128;
        for root in m.roots(space) {
            provisioned += root.size();
            let inside: Vec<&&Slot> = slots.iter().filter(|sl| root.contains(sl.block)).collect();
            let covered: u128 = inside.iter().map(|sl| sl.block.size()).sum();
            prop_assert_eq!(covered, root.size(), "the slots of {} tile it", root.text());
            for sl in &inside {
                prop_assert_eq!(sl.root_prefix, root.prefix);
            }
        }
        prop_assert!(
            slots.iter().all(|sl| m.roots(space).iter().any(|r| r.contains(sl.block))),
            "every slot is inside provisioned space"
        );
        let held: u128 = slots.iter().filter(|sl| !sl.is_free()).map(|sl| sl.block.size()).sum();
        let free: u128 = slots.iter().filter(|sl| sl.is_free()).map(|sl| sl.block.size()).sum();
        prop_assert_eq!(free, provisioned - held, "free space = provisioned - allocated");
        let model_held: u128 = m.held(space).iter().map(|(b, _)| b.size()).sum();
        prop_assert_eq!(held, model_held);
        for sl in slots.iter().filter(|sl| sl.is_free() && sl.block.prefix > sl.root_prefix) {
            let buddy = sl.block.buddy().unwrap();
            prop_assert!(
                !slots.iter().any(|o| o.block == buddy && o.is_free()),
                "free buddies are merged: {}",
                sl.block.text()
            );
        }
    }
    Ok(())
}

fn space_of(child: bool) -> &'static str {
    if child { CHILD } else { PARENT }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut s = MemorySlots::default();
    let mut m = Model::default();
    let mut n = 0;
    let mut next_id = || {
        n += 1;
        format!("alloc-{n}")
    };
    for op in ops {
        match op {
            Op::Provision { offset, prefix } => {
                let b = block_at(offset, prefix);
                let clash = m.roots(PARENT).iter().any(|r| r.overlaps(b));
                let r = add_root(&mut s, PARENT, b);
                prop_assert_eq!(r.is_ok(), !clash);
                if !clash {
                    m.roots.entry(PARENT).or_default().push(b);
                }
            }
            Op::Deprovision(i) => {
                let Some(&root) = m.roots(PARENT).get(i % m.roots(PARENT).len().max(1)) else { continue };
                let busy = m.held(PARENT).iter().any(|(h, _)| root.contains(*h));
                let r = remove_root(&mut s, PARENT, root);
                prop_assert_eq!(r.is_ok(), !busy, "deprovision of {} ({:?})", root.text(), r);
                prop_assert_eq!(s.any_held(PARENT, root).unwrap(), busy);
                if !busy {
                    m.roots.get_mut(PARENT).unwrap().retain(|r| *r != root);
                }
            }
            Op::AllocExact { space, offset, prefix } => {
                let sp = space_of(space);
                let b = block_at(offset, prefix);
                let ok = m.roots(sp).iter().any(|r| r.contains(b)) && !m.held(sp).iter().any(|(h, _)| h.overlaps(b));
                let id = next_id();
                let r = allocate_exact(&mut s, sp, b, holder(&id));
                prop_assert_eq!(r.is_ok(), ok, "exact {} in {}: {:?}", b.text(), sp, r);
                if ok {
                    m.held.entry(sp).or_default().push((b, id));
                }
            }
            Op::AllocLen { space, prefix, allowed, disallowed } => {
                let sp = space_of(space);
                let req = Search {
                    family: Family::Ipv4,
                    prefix,
                    largest_root: m.largest_root(sp),
                    allowed: allowed.map(|(o, p)| block_at(o, p).into()).into_iter().collect(),
                    disallowed: disallowed.map(|(o, p)| block_at(o, p).into()).into_iter().collect(),
                };
                let expected = m.lowest_fit(sp, &req);
                prop_assert_eq!(find(&mut s, sp, &req).unwrap(), expected, "preview of /{} in {}", prefix, sp);
                let id = next_id();
                match allocate_next(&mut s, sp, &req, holder(&id)) {
                    Ok(b) => {
                        prop_assert_eq!(Some(b), expected);
                        m.held.entry(sp).or_default().push((b, id));
                    }
                    Err(e) => {
                        prop_assert_eq!(e, SpaceError::Exhausted(prefix));
                        prop_assert_eq!(expected, None, "refused only when no block fits");
                    }
                }
            }
            Op::Release(i) => {
                // Releases custom allocations of either space (child-pool CIDRs are released
                // by deprovisioning them).
                let all: Vec<(&'static str, Block, String)> = [PARENT, CHILD]
                    .into_iter()
                    .flat_map(|sp| {
                        m.held(sp)
                            .iter()
                            .filter(|(_, id)| id.starts_with("alloc-"))
                            .map(move |(b, id)| (sp, *b, id.clone()))
                    })
                    .collect();
                let Some((sp, b, id)) = all.get(i % all.len().max(1)).cloned() else { continue };
                release(&mut s, sp, b, &id).map_err(|e| TestCaseError::fail(e.to_string()))?;
                m.held.get_mut(sp).unwrap().retain(|(_, h)| *h != id);
            }
            Op::ChildByLen { prefix } => {
                // A nested pool's CIDR comes from its source pool.
                let req = Search {
                    family: Family::Ipv4,
                    prefix,
                    largest_root: m.largest_root(PARENT),
                    allowed: vec![],
                    disallowed: vec![],
                };
                let id = format!("pool-{}", next_id());
                if let Ok(b) = allocate_next(&mut s, PARENT, &req, holder(&id)) {
                    m.held.entry(PARENT).or_default().push((b, id));
                    add_root(&mut s, CHILD, b).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    m.roots.entry(CHILD).or_default().push(b);
                }
            }
            Op::ChildDeprovision(i) => {
                let Some(&root) = m.roots(CHILD).get(i % m.roots(CHILD).len().max(1)) else { continue };
                let busy = m.held(CHILD).iter().any(|(h, _)| root.contains(*h));
                prop_assert_eq!(remove_root(&mut s, CHILD, root).is_ok(), !busy);
                if !busy {
                    m.roots.get_mut(CHILD).unwrap().retain(|r| *r != root);
                    let id = m.held(PARENT).iter().find(|(b, _)| *b == root).unwrap().1.clone();
                    release(&mut s, PARENT, root, &id).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    m.held.get_mut(PARENT).unwrap().retain(|(_, h)| *h != id);
                }
            }
        }
        check(&s, &m)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random provisions, allocations (exact and by size, with allowed and disallowed
    /// ranges), releases, deprovisions and nested-pool CIDRs: after every step the slots
    /// tile provisioned space exactly, nothing overlaps, free buddies are merged, and a
    /// search answers exactly the lowest block a brute-force search finds.
    #[test]
    fn the_engine_matches_a_brute_force_oracle(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}
