//! Domain types in and out of storage.
//!
//! An [`Entity`] is a domain type stored as a JSON document in the `resources` table,
//! under its kind's storage name. The impls live here, not in the domain, so the domain
//! stays free of storage concerns.

use serde::Serialize;
use serde::de::DeserializeOwned;

use reservoir_domain::account::Scope;
use reservoir_domain::cognito::{Identity, IdentityPool};
use reservoir_domain::dhcp::DhcpOptions;
use reservoir_domain::ids::ResourceKind;
use reservoir_domain::ipam::{Ipam, IpamPool, IpamScope};
use reservoir_domain::vpc::Vpc;

use crate::{ReadTx, Record, StoreError, StoreResult, TagRow, Tx};

/// A domain type that is stored as an entity.
pub trait Entity: Serialize + DeserializeOwned {
    const KIND: ResourceKind;
    fn id(&self) -> &str;
    /// The owning entity, for entities listed or deleted with their parent.
    fn parent(&self) -> Option<&str> {
        None
    }
}

impl Entity for Vpc {
    const KIND: ResourceKind = ResourceKind::Vpc;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for IdentityPool {
    const KIND: ResourceKind = ResourceKind::IdentityPool;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for Identity {
    const KIND: ResourceKind = ResourceKind::Identity;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.pool_id)
    }
}

impl Entity for Ipam {
    const KIND: ResourceKind = ResourceKind::Ipam;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for IpamScope {
    const KIND: ResourceKind = ResourceKind::IpamScope;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.ipam_id)
    }
}

impl Entity for IpamPool {
    const KIND: ResourceKind = ResourceKind::IpamPool;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.scope_id)
    }
}

impl Entity for DhcpOptions {
    const KIND: ResourceKind = ResourceKind::DhcpOptions;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::subnet::Subnet {
    const KIND: ResourceKind = ResourceKind::Subnet;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.vpc_id)
    }
}

impl Entity for reservoir_domain::endpoint::VpcEndpoint {
    const KIND: ResourceKind = ResourceKind::VpcEndpoint;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.vpc_id)
    }
}

fn encode<T: Entity>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(format!("encoding {}: {e}", T::KIND.storage_name())))
}

/// Reads a stored record back into its domain type.
pub fn decode<T: Entity>(r: &Record) -> StoreResult<T> {
    serde_json::from_str(&r.body).map_err(|e| StoreError::Corrupt(format!("{} {}: {e}", T::KIND.storage_name(), r.id)))
}

/// Typed reads.
pub trait ReadTxExt {
    fn load<T: Entity>(&mut self, scope: &Scope, id: &str) -> StoreResult<Option<T>>;
    fn load_any_scope<T: Entity>(&mut self, id: &str) -> StoreResult<Option<(Scope, T)>>;
    /// A page of `T` after the `seq` cursor: (seq, entity) pairs.
    fn page<T: Entity>(&mut self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Vec<(i64, T)>>;
    /// A page of `T` after the `seq` cursor, each entity with its tags, in one query.
    #[allow(clippy::type_complexity)]
    fn page_tagged<T: Entity>(
        &mut self,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, T, Vec<TagRow>)>>;
    fn page_children<T: Entity>(
        &mut self,
        scope: &Scope,
        parent: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, T)>>;
    fn count_of<T: Entity>(&mut self, scope: &Scope) -> StoreResult<u64>;
}

impl<X: ReadTx + ?Sized> ReadTxExt for X {
    fn load<T: Entity>(&mut self, scope: &Scope, id: &str) -> StoreResult<Option<T>> {
        self.get(scope, T::KIND.storage_name(), id)?.map(|r| decode(&r)).transpose()
    }

    fn load_any_scope<T: Entity>(&mut self, id: &str) -> StoreResult<Option<(Scope, T)>> {
        match self.get_any_scope(T::KIND.storage_name(), id)? {
            Some((scope, r)) => Ok(Some((scope, decode(&r)?))),
            None => Ok(None),
        }
    }

    fn page<T: Entity>(&mut self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Vec<(i64, T)>> {
        self.list(scope, T::KIND.storage_name(), after, limit)?.iter().map(|r| Ok((r.seq, decode(r)?))).collect()
    }

    fn page_tagged<T: Entity>(
        &mut self,
        scope: &Scope,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, T, Vec<TagRow>)>> {
        self.list_tagged(scope, T::KIND.storage_name(), after, limit)?
            .into_iter()
            .map(|(r, tags)| Ok((r.seq, decode(&r)?, tags)))
            .collect()
    }

    fn page_children<T: Entity>(
        &mut self,
        scope: &Scope,
        parent: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, T)>> {
        self.list_children(scope, T::KIND.storage_name(), parent, after, limit)?
            .iter()
            .map(|r| Ok((r.seq, decode(r)?)))
            .collect()
    }

    fn count_of<T: Entity>(&mut self, scope: &Scope) -> StoreResult<u64> {
        self.count(scope, T::KIND.storage_name())
    }
}

/// Typed writes.
pub trait TxExt {
    fn create<T: Entity>(&mut self, scope: &Scope, v: &T) -> StoreResult<()>;
    /// Replaces a stored entity; `Other` if it is not there (a caller bug).
    fn save<T: Entity>(&mut self, scope: &Scope, v: &T) -> StoreResult<()>;
    fn remove<T: Entity>(&mut self, scope: &Scope, id: &str) -> StoreResult<bool>;
}

impl<X: Tx + ?Sized> TxExt for X {
    fn create<T: Entity>(&mut self, scope: &Scope, v: &T) -> StoreResult<()> {
        self.insert(scope, T::KIND.storage_name(), v.id(), v.parent(), &encode(v)?)
    }

    fn save<T: Entity>(&mut self, scope: &Scope, v: &T) -> StoreResult<()> {
        if self.update(scope, T::KIND.storage_name(), v.id(), &encode(v)?)? {
            Ok(())
        } else {
            Err(StoreError::Other(format!("{} {} vanished during its update", T::KIND.storage_name(), v.id())))
        }
    }

    fn remove<T: Entity>(&mut self, scope: &Scope, id: &str) -> StoreResult<bool> {
        self.delete(scope, T::KIND.storage_name(), id)
    }
}

impl Entity for reservoir_domain::interface::NetworkInterface {
    const KIND: ResourceKind = ResourceKind::NetworkInterface;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.subnet_id)
    }
}

impl Entity for reservoir_domain::address::Address {
    const KIND: ResourceKind = ResourceKind::ElasticIp;
    fn id(&self) -> &str {
        &self.allocation_id
    }
}

// Routing (route tables, internet gateways, network ACLs, DHCP option sets).

impl Entity for reservoir_domain::route::RouteTable {
    const KIND: ResourceKind = ResourceKind::RouteTable;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.vpc_id)
    }
}

impl Entity for reservoir_domain::route::InternetGateway {
    const KIND: ResourceKind = ResourceKind::InternetGateway;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::route::NetworkAcl {
    const KIND: ResourceKind = ResourceKind::NetworkAcl;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.vpc_id)
    }
}

/// The same stored documents as [`DhcpOptions`], with their configurations.
impl Entity for reservoir_domain::dhcp::DhcpOptionSet {
    const KIND: ResourceKind = ResourceKind::DhcpOptions;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::security_group::SecurityGroup {
    const KIND: ResourceKind = ResourceKind::SecurityGroup;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.vpc_id)
    }
}

impl Entity for reservoir_domain::security_group::SecurityGroupRule {
    const KIND: ResourceKind = ResourceKind::SecurityGroupRule;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent(&self) -> Option<&str> {
        Some(&self.group_id)
    }
}

impl Entity for reservoir_domain::key_pair::KeyPair {
    const KIND: ResourceKind = ResourceKind::KeyPair;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::capacity::CapacityReservation {
    const KIND: ResourceKind = ResourceKind::CapacityReservation;
    fn id(&self) -> &str {
        &self.id
    }
}

// RAM (resource shares in the owner's scope; invitations and memberships in the receiver's).

impl Entity for reservoir_domain::ram::ResourceShare {
    const KIND: ResourceKind = ResourceKind::RamResourceShare;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::ram::Invitation {
    const KIND: ResourceKind = ResourceKind::RamInvitation;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::ram::Membership {
    const KIND: ResourceKind = ResourceKind::RamMembership;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::instance::Instance {
    const KIND: ResourceKind = ResourceKind::Instance;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::coip::LocalGatewayRouteTable {
    const KIND: ResourceKind = ResourceKind::LocalGatewayRouteTable;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for reservoir_domain::coip::CoipPool {
    const KIND: ResourceKind = ResourceKind::CoipPool;
    fn id(&self) -> &str {
        &self.id
    }
}
