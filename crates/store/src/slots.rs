//! The address-space engine's [`Slots`] over a store transaction: what lets
//! `domain::space` decide allocations from indexed rows inside the caller's transaction.

use std::marker::PhantomData;

use reservoir_domain::account::Scope;
use reservoir_domain::space::{Block, Family, Slot, Slots, SpaceError};

use crate::{StoreError, Tx};

/// The spaces of one (account, region) in a write transaction. `E` is the caller's
/// error type, which both the engine's and the store's errors become.
pub struct TxSlots<'a, E> {
    tx: &'a mut dyn Tx,
    scope: &'a Scope,
    _error: PhantomData<fn() -> E>,
}

impl<'a, E> TxSlots<'a, E> {
    pub fn new(tx: &'a mut dyn Tx, scope: &'a Scope) -> Self {
        TxSlots { tx, scope, _error: PhantomData }
    }
}

impl<E: From<SpaceError> + From<StoreError>> Slots for TxSlots<'_, E> {
    type Error = E;

    fn at_or_before(&mut self, space: &str, family: Family, addr: u128) -> Result<Option<Slot>, E> {
        Ok(self.tx.slot_at_or_before(self.scope, space, family, addr)?)
    }

    fn first_free(&mut self, space: &str, family: Family, prefix: u8, from: u128) -> Result<Option<Slot>, E> {
        Ok(self.tx.first_free_slot(self.scope, space, family, prefix, from)?)
    }

    fn insert(&mut self, space: &str, slot: &Slot) -> Result<(), E> {
        Ok(self.tx.insert_slot(self.scope, space, slot)?)
    }

    fn remove(&mut self, space: &str, family: Family, start: u128) -> Result<(), E> {
        if self.tx.delete_slot(self.scope, space, family, start)? {
            Ok(())
        } else {
            Err(SpaceError::Inconsistent(format!("no slot at {start} in {space}")).into())
        }
    }

    fn any_held(&mut self, space: &str, within: Block) -> Result<bool, E> {
        Ok(self.tx.any_held_slot(self.scope, space, within)?)
    }
}
