//! DHCP options sets.
//!
//! Every (account, region) has a default set, which every VPC names until another set is
//! associated with it (Amazon VPC User Guide, "DHCP option sets"). Reservoir does not
//! serve the DHCP options operations yet; the default set exists so that VPCs can name it.

use serde::{Deserialize, Serialize};

use crate::ids::{Random, ResourceKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpOptions {
    pub id: String,
    pub is_default: bool,
}

impl DhcpOptions {
    /// The default set of a new (account, region).
    pub fn default_set(rng: &mut dyn Random) -> DhcpOptions {
        DhcpOptions { id: ResourceKind::DhcpOptions.new_id(rng), is_default: true }
    }
}
