//! The address-space engine: CIDR blocks handed out from provisioned space, with real
//! address arithmetic, for every family that places addresses — IPAM pools today;
//! subnets inside VPCs, private addresses inside subnets and customer-owned addresses
//! inside CoIP pools next.
//!
//! # The model
//! A *space* (an IPAM pool, an IPAM scope, a VPC…) has *roots*: the CIDR blocks
//! provisioned into it, which never overlap one another. Each root is tiled by *slots*:
//! aligned blocks that are either free or held by one [`Allocation`]. The tiling is a buddy
//! system:
//! * allocating a block splits the free slot that contains it, leaving the halves it does
//!   not need as free slots (one per prefix length on the way down);
//! * releasing a block frees its slot and merges it with its buddy while the buddy is free
//!   and of the same size, up to the root (never across two roots, so an allocation always
//!   lies inside one provisioned CIDR).
//!
//! So free space is exactly provisioned space minus allocated space, and a fully free
//! aligned block is always inside a single free slot: the search never has to piece
//! free space together.
//!
//! # Cost
//! Every decision reads a bounded number of slots through [`Slots`], whose methods are
//! each one indexed lookup: "the slot at or before an address", "the lowest free slot of
//! a size at or after an address". Choosing a block by size makes at most one lookup per
//! prefix length between the largest root and the asked size, whatever the number of
//! allocations; splitting and merging touch at most one slot per prefix length.
//!
//! # Choice among free blocks
//! The lowest-addressed aligned block that fits (docs/DECISIONS.md, item 6). `allowed`
//! ranges restrict the search to blocks inside one of them; `disallowed` ranges exclude
//! blocks that overlap any of them. Neither changes the space.
//!
//! # Concurrency
//! The engine decides inside the caller's transaction from the rows it reads; the store's
//! schema refuses two slots with one start and any overlapping slot, so a conflicting
//! decision made elsewhere cannot be committed beside this one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// An address family: the width of its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn bits(self) -> u8 {
        match self {
            Family::Ipv4 => 32,
            Family::Ipv6 => 128,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }

    pub fn of_bits(bits: u8) -> Option<Family> {
        match bits {
            32 => Some(Family::Ipv4),
            128 => Some(Family::Ipv6),
            _ => None,
        }
    }
}

/// An aligned CIDR block as numbers: `start` has no bits below the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Block {
    pub family: Family,
    pub start: u128,
    pub prefix: u8,
}

impl Block {
    /// The block of `start/prefix`; `None` unless `start` is aligned and the prefix fits.
    pub fn new(family: Family, start: u128, prefix: u8) -> Option<Block> {
        let b = Block { family, start, prefix };
        (prefix <= family.bits() && start <= family_max(family) && start & b.host_mask() == 0).then_some(b)
    }

    pub fn of_net(net: IpNet) -> Block {
        match net.trunc() {
            IpNet::V4(n) => {
                Block { family: Family::Ipv4, start: u32::from(n.network()) as u128, prefix: n.prefix_len() }
            }
            IpNet::V6(n) => Block { family: Family::Ipv6, start: u128::from(n.network()), prefix: n.prefix_len() },
        }
    }

    pub fn to_net(self) -> IpNet {
        match self.family {
            Family::Ipv4 => IpNet::V4(Ipv4Net::new(Ipv4Addr::from(self.start as u32), self.prefix).expect("valid")),
            Family::Ipv6 => IpNet::V6(Ipv6Net::new(Ipv6Addr::from(self.start), self.prefix).expect("valid")),
        }
    }

    /// Canonical CIDR text (`10.0.0.0/16`, `fd00::/56`).
    pub fn text(self) -> String {
        match self.to_net() {
            IpNet::V4(n) => crate::cidr::ipv4_text(&n),
            IpNet::V6(n) => n.to_string(),
        }
    }

    /// The first address of the block, as an address.
    pub fn addr(self) -> IpAddr {
        self.to_net().network()
    }

    fn host_mask(self) -> u128 {
        let host_bits = u32::from(self.family.bits() - self.prefix);
        if host_bits >= 128 { u128::MAX } else { (1u128 << host_bits) - 1 }
    }

    /// The last address of the block.
    pub fn last(self) -> u128 {
        self.start | self.host_mask()
    }

    /// The number of addresses, saturating at `u128::MAX` for `::/0`.
    pub fn size(self) -> u128 {
        self.host_mask().saturating_add(1)
    }

    pub fn contains(self, other: Block) -> bool {
        self.family == other.family && self.start <= other.start && other.last() <= self.last()
    }

    pub fn overlaps(self, other: Block) -> bool {
        self.family == other.family && self.start <= other.last() && other.start <= self.last()
    }

    /// The two halves; `None` for a single address.
    pub fn halves(self) -> Option<(Block, Block)> {
        if self.prefix >= self.family.bits() {
            return None;
        }
        let p = self.prefix + 1;
        let lower = Block { family: self.family, start: self.start, prefix: p };
        let upper = Block { family: self.family, start: self.start | (lower.host_mask() + 1), prefix: p };
        Some((lower, upper))
    }

    /// The other half of the block this one is half of; `None` for a whole space (`/0`).
    pub fn buddy(self) -> Option<Block> {
        if self.prefix == 0 {
            return None;
        }
        Some(Block { family: self.family, start: self.start ^ (self.host_mask() + 1), prefix: self.prefix })
    }

    /// The block this one is half of.
    pub fn parent(self) -> Option<Block> {
        if self.prefix == 0 {
            return None;
        }
        let p = Block { family: self.family, start: 0, prefix: self.prefix - 1 };
        Some(Block { start: self.start & !p.host_mask(), ..p })
    }

    /// The block of `prefix` that contains `addr`.
    pub fn containing(family: Family, addr: u128, prefix: u8) -> Block {
        let b = Block { family, start: 0, prefix };
        Block { start: addr & !b.host_mask(), ..b }
    }
}

fn family_max(family: Family) -> u128 {
    match family {
        Family::Ipv4 => u32::MAX as u128,
        Family::Ipv6 => u128::MAX,
    }
}

/// An inclusive range of addresses (`AllowedCidrs`/`DisallowedCidrs` entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub first: u128,
    pub last: u128,
}

impl From<Block> for Range {
    fn from(b: Block) -> Range {
        Range { first: b.start, last: b.last() }
    }
}

/// Who holds a block: one allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// `ipam-pool-alloc-…` for IPAM.
    pub id: String,
    /// `custom`, `vpc`, `ipam-pool`, `subnet`, `eip`…
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub resource_owner: String,
    pub resource_region: Option<String>,
    pub description: Option<String>,
    pub created: Timestamp,
}

/// A slot of a space: an aligned block inside one root, free or held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub block: Block,
    /// The prefix length of the root the slot lies in: merging stops there.
    pub root_prefix: u8,
    pub holder: Option<Allocation>,
}

impl Slot {
    pub fn is_free(&self) -> bool {
        self.holder.is_none()
    }
}

/// What the engine reads and writes, each method one indexed lookup or one row: the
/// store's transaction implements it for the server, [`MemorySlots`] for tests.
pub trait Slots {
    type Error: From<SpaceError>;
    /// The slot with the greatest start ≤ `addr` in the space, whatever its state.
    fn at_or_before(&mut self, space: &str, family: Family, addr: u128) -> Result<Option<Slot>, Self::Error>;
    /// The free slot of exactly `prefix` with the lowest start ≥ `from`.
    fn first_free(&mut self, space: &str, family: Family, prefix: u8, from: u128) -> Result<Option<Slot>, Self::Error>;
    /// Adds a slot. The store refuses one that overlaps a slot of the space.
    fn insert(&mut self, space: &str, slot: &Slot) -> Result<(), Self::Error>;
    /// Removes the slot starting at `start`.
    fn remove(&mut self, space: &str, family: Family, start: u128) -> Result<(), Self::Error>;
    /// Whether any held slot lies inside `within`.
    fn any_held(&mut self, space: &str, within: Block) -> Result<bool, Self::Error>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpaceError {
    /// A new root overlaps a root of the space.
    #[error("the CIDR {new} overlaps {existing}")]
    RootOverlaps { new: String, existing: String },
    /// The block is not inside any root of the space.
    #[error("the CIDR {0} is not inside the provisioned space")]
    Outside(String),
    /// The block overlaps an allocation.
    #[error("the CIDR {0} is not available")]
    Unavailable(String),
    /// No free block of the size fits the request.
    #[error("no free block of /{0} is left")]
    Exhausted(u8),
    /// A root still holds allocations.
    #[error("the CIDR {0} has one or more allocations")]
    RootInUse(String),
    /// No root is exactly this block.
    #[error("the CIDR {0} is not provisioned")]
    NotARoot(String),
    /// The block is not held by that allocation.
    #[error("the CIDR {0} is not allocated")]
    NotHeld(String),
    /// The stored slots contradict the tiling (a bug or a damaged store).
    #[error("the address space is inconsistent: {0}")]
    Inconsistent(String),
}

/// What a search by size asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub family: Family,
    pub prefix: u8,
    /// The smallest prefix length among the space's roots (the largest root): no free
    /// slot is bigger.
    pub largest_root: u8,
    /// If not empty, the block must lie inside one of these.
    pub allowed: Vec<Range>,
    /// The block must overlap none of these.
    pub disallowed: Vec<Range>,
}

/// Provisions `root` into the space: refused if it overlaps a root already there.
pub fn add_root<S: Slots>(s: &mut S, space: &str, root: Block) -> Result<(), S::Error> {
    if let Some(existing) = overlapping(s, space, root)? {
        return Err(SpaceError::RootOverlaps { new: root.text(), existing: existing.text() }.into());
    }
    s.insert(space, &Slot { block: root, root_prefix: root.prefix, holder: None })
}

/// Removes `root` from the space; refused while it holds allocations.
pub fn remove_root<S: Slots>(s: &mut S, space: &str, root: Block) -> Result<(), S::Error> {
    match s.at_or_before(space, root.family, root.start)? {
        Some(slot) if slot.block.start == root.start && slot.root_prefix == root.prefix => {
            if slot.block == root && slot.is_free() {
                return s.remove(space, root.family, root.start);
            }
            Err(SpaceError::RootInUse(root.text()).into())
        }
        _ => Err(SpaceError::NotARoot(root.text()).into()),
    }
}

/// The first slot of the space that overlaps `block`, if any.
fn overlapping<S: Slots>(s: &mut S, space: &str, block: Block) -> Result<Option<Block>, S::Error> {
    // Slots are disjoint: only the last one starting at or before the block's end can
    // reach into it.
    Ok(s.at_or_before(space, block.family, block.last())?.map(|slot| slot.block).filter(|b| b.overlaps(block)))
}

/// Takes exactly `block` for `holder`: it must be free and inside one root.
pub fn allocate_exact<S: Slots>(s: &mut S, space: &str, block: Block, holder: Allocation) -> Result<(), S::Error> {
    let slot = match s.at_or_before(space, block.family, block.start)? {
        Some(slot) if slot.block.contains(block) => slot,
        Some(slot) if slot.block.overlaps(block) => return Err(SpaceError::Unavailable(block.text()).into()),
        _ => {
            // Not inside a slot: either it straddles slots (so overlaps something, or
            // crosses a root's edge) or it is outside every root.
            return Err(match overlapping(s, space, block)? {
                Some(_) => SpaceError::Unavailable(block.text()),
                None => SpaceError::Outside(block.text()),
            }
            .into());
        }
    };
    if !slot.is_free() {
        return Err(SpaceError::Unavailable(block.text()).into());
    }
    if block.prefix < slot.root_prefix {
        return Err(SpaceError::Outside(block.text()).into());
    }
    split_to(s, space, slot, block, holder)
}

/// Replaces the free `slot` by `block` (held) and the free halves around it.
fn split_to<S: Slots>(s: &mut S, space: &str, slot: Slot, block: Block, holder: Allocation) -> Result<(), S::Error> {
    s.remove(space, block.family, slot.block.start)?;
    let mut current = slot.block;
    while current.prefix < block.prefix {
        let (lower, upper) = current.halves().expect("larger than the block");
        let (keep, free) = if lower.contains(block) { (lower, upper) } else { (upper, lower) };
        s.insert(space, &Slot { block: free, root_prefix: slot.root_prefix, holder: None })?;
        current = keep;
    }
    s.insert(space, &Slot { block, root_prefix: slot.root_prefix, holder: Some(holder) })
}

/// The block a search by size would take now, without taking it.
pub fn find<S: Slots>(s: &mut S, space: &str, req: &Search) -> Result<Option<Block>, S::Error> {
    let bits = req.family.bits();
    if req.prefix > bits {
        return Ok(None);
    }
    let allowed = merged(&req.allowed);
    let disallowed = merged(&req.disallowed);
    let mut cursor: u128 = allowed.first().map(|r| r.first).unwrap_or(0);
    // Each turn moves the cursor past a free slot, an allowed range or a disallowed one.
    loop {
        let Some(slot) = first_fitting(s, space, req, cursor)? else { return Ok(None) };
        let from = cursor.max(slot.block.start);
        let Some(start) = align_up(from, req.family, req.prefix) else { return Ok(None) };
        let candidate = Block { family: req.family, start, prefix: req.prefix };
        if start > slot.block.last() || candidate.last() > slot.block.last() {
            match slot.block.last().checked_add(1) {
                Some(next) => {
                    cursor = next;
                    continue;
                }
                None => return Ok(None),
            }
        }
        if !allowed.is_empty() {
            match allowed.iter().find(|r| r.last >= candidate.start) {
                None => return Ok(None),
                Some(r) if r.first > candidate.start => {
                    cursor = r.first;
                    continue;
                }
                Some(r) if r.last < candidate.last() => {
                    match r.last.checked_add(1) {
                        Some(next) => cursor = next,
                        None => return Ok(None),
                    }
                    continue;
                }
                Some(_) => {}
            }
        }
        if let Some(d) = disallowed.iter().find(|d| d.first <= candidate.last() && candidate.start <= d.last) {
            match d.last.checked_add(1) {
                Some(next) => {
                    cursor = next;
                    continue;
                }
                None => return Ok(None),
            }
        }
        return Ok(Some(candidate));
    }
}

/// Takes the block [`find`] chooses, for `holder`.
pub fn allocate_next<S: Slots>(s: &mut S, space: &str, req: &Search, holder: Allocation) -> Result<Block, S::Error> {
    match find(s, space, req)? {
        Some(block) => {
            allocate_exact(s, space, block, holder)?;
            Ok(block)
        }
        None => Err(SpaceError::Exhausted(req.prefix).into()),
    }
}

/// The free slot big enough for the request that reaches lowest at or after `cursor`.
fn first_fitting<S: Slots>(s: &mut S, space: &str, req: &Search, cursor: u128) -> Result<Option<Slot>, S::Error> {
    // The slot containing the cursor, if it is free and big enough, comes first.
    if let Some(slot) = s.at_or_before(space, req.family, cursor)?
        && slot.block.last() >= cursor
        && slot.is_free()
        && slot.block.prefix <= req.prefix
    {
        return Ok(Some(slot));
    }
    let mut best: Option<Slot> = None;
    for p in req.largest_root.min(req.prefix)..=req.prefix {
        if let Some(slot) = s.first_free(space, req.family, p, cursor)?
            && best.as_ref().is_none_or(|b| slot.block.start < b.block.start)
        {
            best = Some(slot);
        }
    }
    Ok(best)
}

fn align_up(addr: u128, family: Family, prefix: u8) -> Option<u128> {
    let b = Block { family, start: 0, prefix };
    let mask = b.host_mask();
    let aligned = addr.checked_add(mask)? & !mask;
    (aligned <= family_max(family)).then_some(aligned)
}

/// Sorted, overlapping and touching ranges joined.
fn merged(ranges: &[Range]) -> Vec<Range> {
    let mut sorted = ranges.to_vec();
    sorted.sort();
    let mut out: Vec<Range> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match out.last_mut() {
            Some(last) if r.first <= last.last.saturating_add(1) => last.last = last.last.max(r.last),
            _ => out.push(r),
        }
    }
    out
}

/// Frees `block`, held by allocation `id`, and merges it with free buddies.
pub fn release<S: Slots>(s: &mut S, space: &str, block: Block, id: &str) -> Result<Allocation, S::Error> {
    let slot = match s.at_or_before(space, block.family, block.start)? {
        Some(slot) if slot.block == block && slot.holder.as_ref().is_some_and(|h| h.id == id) => slot,
        _ => return Err(SpaceError::NotHeld(block.text()).into()),
    };
    let holder = slot.holder.clone().expect("held");
    s.remove(space, block.family, block.start)?;
    let mut free = block;
    while free.prefix > slot.root_prefix {
        let buddy = free.buddy().expect("inside a root");
        match s.at_or_before(space, block.family, buddy.start)? {
            Some(b) if b.block == buddy && b.is_free() => {
                s.remove(space, block.family, buddy.start)?;
                free = free.parent().expect("inside a root");
            }
            _ => break,
        }
    }
    s.insert(space, &Slot { block: free, root_prefix: slot.root_prefix, holder: None })?;
    Ok(holder)
}

/// The whole state of spaces in memory: the reference the property tests compare the
/// engine against, and a [`Slots`] for unit tests.
#[derive(Debug, Default, Clone)]
pub struct MemorySlots {
    pub slots: std::collections::BTreeMap<(String, Family, u128), Slot>,
}

impl Slots for MemorySlots {
    type Error = SpaceError;

    fn at_or_before(&mut self, space: &str, family: Family, addr: u128) -> Result<Option<Slot>, SpaceError> {
        let lo = (space.to_string(), family, 0u128);
        let hi = (space.to_string(), family, addr);
        Ok(self.slots.range(lo..=hi).next_back().map(|(_, s)| s.clone()))
    }

    fn first_free(&mut self, space: &str, family: Family, prefix: u8, from: u128) -> Result<Option<Slot>, SpaceError> {
        let lo = (space.to_string(), family, from);
        let hi = (space.to_string(), family, u128::MAX);
        Ok(self.slots.range(lo..=hi).map(|(_, s)| s).find(|s| s.is_free() && s.block.prefix == prefix).cloned())
    }

    fn insert(&mut self, space: &str, slot: &Slot) -> Result<(), SpaceError> {
        let b = slot.block;
        if let Some(prev) = self.at_or_before(space, b.family, b.last())?
            && prev.block.overlaps(b)
        {
            return Err(SpaceError::Inconsistent(format!("{} overlaps {}", b.text(), prev.block.text())));
        }
        self.slots.insert((space.to_string(), b.family, b.start), slot.clone());
        Ok(())
    }

    fn remove(&mut self, space: &str, family: Family, start: u128) -> Result<(), SpaceError> {
        match self.slots.remove(&(space.to_string(), family, start)) {
            Some(_) => Ok(()),
            None => Err(SpaceError::Inconsistent(format!("no slot at {start}"))),
        }
    }

    fn any_held(&mut self, space: &str, within: Block) -> Result<bool, SpaceError> {
        let lo = (space.to_string(), within.family, within.start);
        let hi = (space.to_string(), within.family, within.last());
        Ok(self.slots.range(lo..=hi).any(|(_, s)| !s.is_free()))
    }
}

#[cfg(test)]
mod tests;
