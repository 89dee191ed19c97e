//! AWS Resource Access Manager: resource shares, their associations, invitations, and
//! who has access to what.
//!
//! A *resource share* belongs to its owner's (account, region) and holds *associations*:
//! principals (12-digit account ids) and resources (ARNs of a [`SHAREABLE`] type, owned by
//! the share's owner, in the share's region). A principal *has access* to a resource when
//! the share is `ACTIVE`, the resource association is `ASSOCIATED` and the principal
//! association is `ASSOCIATED`; [`ResourceShare::grants`] lists exactly those pairs, and
//! the server keeps the store's `shared_resources` rows equal to them.
//!
//! AWS behaviour modelled (RAM user guide, "Accepting and rejecting resource share
//! invitations"; terraform-provider-aws `aws_ram_principal_association`):
//! * Outside an organization (the default), adding an account makes its association
//!   `ASSOCIATING` and sends it an invitation (`PENDING`, in the receiver's account and
//!   the share's region). Accepting makes the association `ASSOCIATED` (access begins);
//!   rejecting makes it `DISASSOCIATED`. Such principals are `external`.
//! * With the organization setting, every account is in one organization: associations
//!   are `ASSOCIATED` at once, no invitation is sent, principals are not `external`.
//! * Disassociating keeps the association, `DISASSOCIATED` (AWS lists them for a while);
//!   associating the same entity again reuses it. Deleting a share keeps it, `DELETED`,
//!   with every association `DISASSOCIATED` (terraform-provider-aws#25157: deleted shares
//!   stay visible).
//!
//! Messages follow AWS's where they are known ("Principal ID … is malformed. Verify the
//! ID and try again.", "Organization o-… could not be found.", "ResourceShare … could not
//! be found.").

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::arn::Arn;
use crate::ids::ResourceKind;
use crate::time::Timestamp;

/// How long an invitation waits for an answer (RAM user guide: seven days).
pub const INVITATION_TTL_MILLIS: i64 = 7 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RamError {
    #[error("The specified resource ARN {0} is not valid. Verify the ARN and try again.")]
    MalformedArn(String),
    #[error("You cannot share the selected resource type: Reservoir shares {types}.", types = shareable_names())]
    UnshareableType(String),
    #[error("ResourceShare {0} could not be found.")]
    ShareNotFound(String),
    #[error("Resource {0} could not be found.")]
    ResourceNotFound(String),
    #[error("Organization {0} could not be found.")]
    OrganizationNotFound(String),
    #[error("OrganizationalUnit {0} in unknown organization could not be found.")]
    OrganizationalUnitNotFound(String),
    #[error("Principal ID {0} is malformed. Verify the ID and try again.")]
    MalformedPrincipal(String),
    #[error("Principal {0} is not supported: Reservoir shares with AWS account ids (12 digits) only.")]
    UnsupportedPrincipal(String),
    #[error("Principal ID {0} is the owner of the resource share: a resource share is not shared with its owner.")]
    OwnerAsPrincipal(String),
    #[error(
        "The resource share {0} does not allow external principals: the resource you are attempting to share can \
         only be shared within your AWS Organization."
    )]
    ExternalNotAllowed(String),
    #[error("{entity} is not associated with the resource share {share}.")]
    NotAssociated { share: String, entity: String },
    #[error("The resource share {0} is DELETED.")]
    ShareDeleted(String),
    #[error("ResourceShareInvitation {0} could not be found.")]
    InvitationNotFound(String),
    #[error("The specified resource share invitation {0} is not valid. Verify the ARN and try again.")]
    MalformedInvitationArn(String),
    #[error("The resource share invitation {0} has already been accepted.")]
    InvitationAccepted(String),
    #[error("The resource share invitation {0} has already been rejected.")]
    InvitationRejected(String),
    #[error("The resource share invitation {0} has expired.")]
    InvitationExpired(String),
    #[error("Only the owner of the resource share {0} can do this.")]
    NotOwner(String),
    #[error("The resource type {0} is not valid: Reservoir shares {types}.", types = shareable_names())]
    InvalidResourceType(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("The parameter {0} is required.")]
    MissingParameter(&'static str),
}

// ----- shareable resource types ------------------------------------------------------

/// A resource type RAM shares: one row per type, so a new type is one more row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareableType {
    /// RAM's name (`ec2:CapacityReservation`), in `resourceType` and `Resource.type`.
    pub name: &'static str,
    /// The ARN's service.
    pub service: &'static str,
    /// The ARN's resource part before the id (`capacity-reservation/`).
    pub arn_prefix: &'static str,
    /// The entity kind of the id; its storage name is `SharedRow::kind`.
    pub kind: ResourceKind,
    /// Whether the ARN names the region (IPAM pool ARNs have none: the share's region
    /// is used).
    pub regional_arn: bool,
}

pub const SHAREABLE: &[ShareableType] = &[
    ShareableType {
        name: "ec2:CapacityReservation",
        service: "ec2",
        arn_prefix: "capacity-reservation/",
        kind: ResourceKind::CapacityReservation,
        regional_arn: true,
    },
    ShareableType {
        name: "ec2:IpamPool",
        service: "ec2",
        arn_prefix: "ipam-pool/",
        kind: ResourceKind::IpamPool,
        regional_arn: false,
    },
    ShareableType {
        name: "ec2:CoipPool",
        service: "ec2",
        arn_prefix: "coip-pool/",
        kind: ResourceKind::CoipPool,
        regional_arn: true,
    },
];

fn shareable_names() -> String {
    SHAREABLE.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

/// The type named `name` (`resourceType` filters).
pub fn resource_type(name: &str) -> Result<&'static ShareableType, RamError> {
    SHAREABLE.iter().find(|t| t.name == name).ok_or_else(|| RamError::InvalidResourceType(name.to_string()))
}

/// A resource ARN checked for sharing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub arn: String,
    pub kind: &'static ShareableType,
    pub id: String,
    pub owner: AccountId,
}

/// Reads a resource ARN given to a share of `owner` in `region`: well formed
/// (`MalformedArn`), of a shareable type (`UnshareableType`), and the owner's, in the
/// share's region (`ResourceNotFound`: another account's resource, or another region's,
/// cannot be found from here). Whether it exists is the caller's lookup.
pub fn resource_ref(arn: &str, owner: &AccountId, region: &str) -> Result<ResourceRef, RamError> {
    let parsed = Arn::parse(arn).ok_or_else(|| RamError::MalformedArn(arn.to_string()))?;
    if parsed.account.is_empty() {
        return Err(RamError::MalformedArn(arn.to_string()));
    }
    let kind = SHAREABLE
        .iter()
        .find(|t| t.service == parsed.service && parsed.resource.starts_with(t.arn_prefix))
        .ok_or_else(|| RamError::UnshareableType(arn.to_string()))?;
    let id = &parsed.resource[kind.arn_prefix.len()..];
    if !kind.kind.is_well_formed(id) {
        return Err(RamError::MalformedArn(arn.to_string()));
    }
    let region_ok = if kind.regional_arn { parsed.region == region } else { parsed.region.is_empty() };
    if parsed.account != owner.as_str() || !region_ok || parsed.partition != "aws" {
        return Err(RamError::ResourceNotFound(arn.to_string()));
    }
    Ok(ResourceRef { arn: arn.to_string(), kind, id: id.to_string(), owner: owner.clone() })
}

/// Reads a principal: a 12-digit account id, not the owner's. Organizations and OUs do
/// not exist in Reservoir (AWS's answer outside an organization); IAM and service
/// principals are not supported.
pub fn principal(p: &str, owner: &AccountId) -> Result<AccountId, RamError> {
    if let Some(account) = AccountId::parse(p) {
        if &account == owner {
            return Err(RamError::OwnerAsPrincipal(p.to_string()));
        }
        return Ok(account);
    }
    if let Some(arn) = Arn::parse(p)
        && arn.service == "organizations"
    {
        if let Some(org) = arn.resource.strip_prefix("organization/") {
            return Err(RamError::OrganizationNotFound(org.to_string()));
        }
        if let Some(path) = arn.resource.strip_prefix("ou/") {
            let ou = path.rsplit('/').next().unwrap_or(path);
            return Err(RamError::OrganizationalUnitNotFound(ou.to_string()));
        }
    }
    if (p.starts_with("arn:") && p.contains(":iam::") && !p.ends_with(":root")) || p.ends_with(".amazonaws.com") {
        return Err(RamError::UnsupportedPrincipal(p.to_string()));
    }
    Err(RamError::MalformedPrincipal(p.to_string()))
}

// ----- ARNs --------------------------------------------------------------------------

/// Where a share or an invitation lives, read from its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RamRef {
    pub account: AccountId,
    pub region: String,
    pub id: String,
}

fn ram_ref(arn: &str, prefix: &str) -> Option<RamRef> {
    let parsed = Arn::parse(arn)?;
    let id = parsed.resource.strip_prefix(prefix)?;
    let ok = parsed.service == "ram"
        && !parsed.region.is_empty()
        && uuid::Uuid::parse_str(id).is_ok_and(|u| u.hyphenated().to_string() == id);
    let account = AccountId::parse(&parsed.account)?;
    ok.then(|| RamRef { account, region: parsed.region, id: id.to_string() })
}

/// `arn:aws:ram:<region>:<account>:resource-share/<uuid>`; `MalformedArn` otherwise.
pub fn share_ref(arn: &str) -> Result<RamRef, RamError> {
    ram_ref(arn, "resource-share/").ok_or_else(|| RamError::MalformedArn(arn.to_string()))
}

/// `arn:aws:ram:<region>:<account>:resource-share-invitation/<uuid>`.
pub fn invitation_ref(arn: &str) -> Result<RamRef, RamError> {
    ram_ref(arn, "resource-share-invitation/").ok_or_else(|| RamError::MalformedInvitationArn(arn.to_string()))
}

pub fn share_arn(region: &str, owner: &AccountId, uuid: &str) -> String {
    Arn::new("ram", region, owner, format!("resource-share/{uuid}")).to_string()
}

pub fn invitation_arn(region: &str, sender: &AccountId, uuid: &str) -> String {
    Arn::new("ram", region, sender, format!("resource-share-invitation/{uuid}")).to_string()
}

// ----- shares --------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareStatus {
    Active,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssociationKind {
    Principal,
    Resource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssociationStatus {
    Associating,
    Associated,
    Disassociated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    pub kind: AssociationKind,
    /// An account id, or a resource ARN.
    pub entity: String,
    /// Resources: their [`ShareableType::name`].
    pub resource_type: Option<String>,
    /// Resources: their id.
    pub resource_id: Option<String>,
    pub status: AssociationStatus,
    pub external: bool,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Principals outside the organization: the ARN of their latest invitation.
    #[serde(default)]
    pub invitation: Option<String>,
}

impl Association {
    pub fn is_live(&self) -> bool {
        self.status != AssociationStatus::Disassociated
    }
}

/// The store id of a share (`rs-<uuid>`): ids of one scope are unique across kinds.
pub fn share_id(uuid: &str) -> String {
    format!("rs-{uuid}")
}

pub fn invitation_id(uuid: &str) -> String {
    format!("rsi-{uuid}")
}

pub fn membership_id(share_uuid: &str) -> String {
    format!("rsm-{share_uuid}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceShare {
    /// `rs-<uuid>`.
    pub id: String,
    pub uuid: String,
    pub arn: String,
    pub name: String,
    pub owner: AccountId,
    pub region: String,
    pub allow_external: bool,
    pub status: ShareStatus,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub tags: Vec<(String, String)>,
    /// In the order they were first made; never removed.
    pub associations: Vec<Association>,
}

/// What associating a principal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// Already associating or associated: nothing changed.
    Already,
    /// Associated at once (the organization setting).
    Now,
    /// Associating: an invitation is to be sent.
    Invited,
}

impl ResourceShare {
    pub fn new(
        uuid: &str,
        name: &str,
        owner: &AccountId,
        region: &str,
        allow_external: bool,
        tags: Vec<(String, String)>,
        now: Timestamp,
    ) -> ResourceShare {
        ResourceShare {
            id: share_id(uuid),
            uuid: uuid.to_string(),
            arn: share_arn(region, owner, uuid),
            name: name.to_string(),
            owner: owner.clone(),
            region: region.to_string(),
            allow_external,
            status: ShareStatus::Active,
            created: now,
            updated: now,
            tags,
            associations: Vec::new(),
        }
    }

    fn active(&self) -> Result<(), RamError> {
        match self.status {
            ShareStatus::Active => Ok(()),
            ShareStatus::Deleted => Err(RamError::ShareDeleted(self.arn.clone())),
        }
    }

    fn find_mut(&mut self, kind: AssociationKind, entity: &str) -> Option<&mut Association> {
        self.associations.iter_mut().find(|a| a.kind == kind && a.entity == entity)
    }

    pub fn find(&self, kind: AssociationKind, entity: &str) -> Option<&Association> {
        self.associations.iter().find(|a| a.kind == kind && a.entity == entity)
    }

    /// Adds a resource (already checked to exist); again is no change.
    pub fn add_resource(&mut self, r: &ResourceRef, now: Timestamp) -> Result<(), RamError> {
        self.active()?;
        let fresh = Association {
            kind: AssociationKind::Resource,
            entity: r.arn.clone(),
            resource_type: Some(r.kind.name.to_string()),
            resource_id: Some(r.id.clone()),
            status: AssociationStatus::Associated,
            external: false,
            created: now,
            updated: now,
            invitation: None,
        };
        match self.find_mut(AssociationKind::Resource, &r.arn) {
            Some(a) if a.is_live() => {}
            Some(a) => {
                a.status = AssociationStatus::Associated;
                a.updated = now;
            }
            None => self.associations.push(fresh),
        }
        self.updated = now;
        Ok(())
    }

    /// Adds a principal: associated at once in an `organization`, else associating until
    /// it accepts the invitation. A share that does not allow external principals takes
    /// none outside the organization.
    pub fn add_principal(
        &mut self,
        account: &AccountId,
        organization: bool,
        now: Timestamp,
    ) -> Result<Joined, RamError> {
        self.active()?;
        if !organization && !self.allow_external {
            return Err(RamError::ExternalNotAllowed(self.arn.clone()));
        }
        let status = if organization { AssociationStatus::Associated } else { AssociationStatus::Associating };
        let joined = if organization { Joined::Now } else { Joined::Invited };
        match self.find_mut(AssociationKind::Principal, account.as_str()) {
            Some(a) if a.is_live() => return Ok(Joined::Already),
            Some(a) => {
                a.status = status;
                a.external = !organization;
                a.updated = now;
            }
            None => self.associations.push(Association {
                kind: AssociationKind::Principal,
                entity: account.to_string(),
                resource_type: None,
                resource_id: None,
                status,
                external: !organization,
                created: now,
                updated: now,
                invitation: None,
            }),
        }
        self.updated = now;
        Ok(joined)
    }

    /// Removes a principal or a resource: `DISASSOCIATED`. `NotAssociated` when it is not
    /// associated (or associating).
    pub fn remove(&mut self, kind: AssociationKind, entity: &str, now: Timestamp) -> Result<Association, RamError> {
        self.active()?;
        let arn = self.arn.clone();
        match self.find_mut(kind, entity) {
            Some(a) if a.is_live() => {
                a.status = AssociationStatus::Disassociated;
                a.updated = now;
                let out = a.clone();
                self.updated = now;
                Ok(out)
            }
            _ => Err(RamError::NotAssociated { share: arn, entity: entity.to_string() }),
        }
    }

    /// Records the invitation sent to an associating principal.
    pub fn invited(&mut self, account: &AccountId, invitation_arn: &str) {
        if let Some(a) = self.find_mut(AssociationKind::Principal, account.as_str()) {
            a.invitation = Some(invitation_arn.to_string());
        }
    }

    /// The principal's invitation was accepted: its association is `ASSOCIATED`.
    /// Returns false when it is not associating any more (removed meanwhile).
    pub fn principal_accepted(&mut self, account: &AccountId, now: Timestamp) -> bool {
        match self.find_mut(AssociationKind::Principal, account.as_str()) {
            Some(a) if a.status == AssociationStatus::Associating => {
                a.status = AssociationStatus::Associated;
                a.updated = now;
                true
            }
            _ => false,
        }
    }

    /// The principal's invitation was rejected (or expired): `DISASSOCIATED`.
    pub fn principal_declined(&mut self, account: &AccountId, now: Timestamp) {
        if let Some(a) = self.find_mut(AssociationKind::Principal, account.as_str())
            && a.status == AssociationStatus::Associating
        {
            a.status = AssociationStatus::Disassociated;
            a.updated = now;
        }
    }

    /// Deletes the share: `DELETED`, every association `DISASSOCIATED`.
    pub fn delete(&mut self, now: Timestamp) -> Result<(), RamError> {
        self.active()?;
        self.status = ShareStatus::Deleted;
        self.updated = now;
        for a in self.associations.iter_mut().filter(|a| a.is_live()) {
            a.status = AssociationStatus::Disassociated;
            a.updated = now;
        }
        Ok(())
    }

    /// Live principal associations, associated or associating.
    pub fn principals(&self) -> impl Iterator<Item = &Association> {
        self.associations.iter().filter(|a| a.kind == AssociationKind::Principal && a.is_live())
    }

    /// Associated resources.
    pub fn resources(&self) -> impl Iterator<Item = &Association> {
        self.associations.iter().filter(|a| a.kind == AssociationKind::Resource && a.is_live())
    }

    /// Whether `account` has access through this share.
    pub fn grants_to(&self, account: &AccountId) -> bool {
        self.status == ShareStatus::Active
            && self
                .find(AssociationKind::Principal, account.as_str())
                .is_some_and(|a| a.status == AssociationStatus::Associated)
    }

    /// Every (principal, resource) pair with access through this share.
    pub fn grants(&self) -> Vec<Grant> {
        if self.status != ShareStatus::Active {
            return Vec::new();
        }
        let mut out = Vec::new();
        for p in self.principals().filter(|a| a.status == AssociationStatus::Associated) {
            for r in self.resources() {
                let Some(t) = r.resource_type.as_deref().and_then(|n| resource_type(n).ok()) else { continue };
                out.push(Grant {
                    principal: p.entity.clone(),
                    resource_id: r.resource_id.clone().unwrap_or_default(),
                    kind: t.kind.storage_name(),
                });
            }
        }
        out
    }
}

/// One (principal, resource) access through a share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub principal: String,
    pub resource_id: String,
    /// The resource's entity kind (storage name).
    pub kind: &'static str,
}

/// What changes between two lists of grants: (granted, revoked).
pub fn grant_changes(before: &[Grant], after: &[Grant]) -> (Vec<Grant>, Vec<Grant>) {
    let granted = after.iter().filter(|g| !before.contains(g)).cloned().collect();
    let revoked = before.iter().filter(|g| !after.contains(g)).cloned().collect();
    (granted, revoked)
}

// ----- invitations ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Rejected,
}

/// An invitation, kept in the receiver's (account, share region).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// `rsi-<uuid>`.
    pub id: String,
    pub arn: String,
    pub share_arn: String,
    pub share_name: String,
    pub sender: AccountId,
    pub receiver: AccountId,
    pub created: Timestamp,
    pub status: InvitationStatus,
}

/// What an invitation shows: `EXPIRED` once seven days passed unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownStatus {
    Pending,
    Accepted,
    Rejected,
    Expired,
}

impl Invitation {
    pub fn new(uuid: &str, share: &ResourceShare, receiver: &AccountId, now: Timestamp) -> Invitation {
        Invitation {
            id: invitation_id(uuid),
            arn: invitation_arn(&share.region, &share.owner, uuid),
            share_arn: share.arn.clone(),
            share_name: share.name.clone(),
            sender: share.owner.clone(),
            receiver: receiver.clone(),
            created: now,
            status: InvitationStatus::Pending,
        }
    }

    pub fn shown(&self, now: Timestamp) -> ShownStatus {
        match self.status {
            InvitationStatus::Pending if now.0 >= self.created.0 + INVITATION_TTL_MILLIS => ShownStatus::Expired,
            InvitationStatus::Pending => ShownStatus::Pending,
            InvitationStatus::Accepted => ShownStatus::Accepted,
            InvitationStatus::Rejected => ShownStatus::Rejected,
        }
    }

    fn answer(&mut self, to: InvitationStatus, now: Timestamp) -> Result<(), RamError> {
        match self.shown(now) {
            ShownStatus::Pending => {
                self.status = to;
                Ok(())
            }
            ShownStatus::Accepted => Err(RamError::InvitationAccepted(self.arn.clone())),
            ShownStatus::Rejected => Err(RamError::InvitationRejected(self.arn.clone())),
            ShownStatus::Expired => Err(RamError::InvitationExpired(self.arn.clone())),
        }
    }

    pub fn accept(&mut self, now: Timestamp) -> Result<(), RamError> {
        self.answer(InvitationStatus::Accepted, now)
    }

    pub fn reject(&mut self, now: Timestamp) -> Result<(), RamError> {
        self.answer(InvitationStatus::Rejected, now)
    }
}

/// A share another account gave the scope's account access to, kept in the receiver's
/// (account, share region) so `resourceOwner=OTHER-ACCOUNTS` lists are one scan of its
/// own scope: made when access begins, removed when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// `rsm-<share uuid>`.
    pub id: String,
    pub share_arn: String,
    pub owner: AccountId,
    pub share_id: String,
}

impl Membership {
    pub fn of(share: &ResourceShare) -> Membership {
        Membership {
            id: membership_id(&share.uuid),
            share_arn: share.arn.clone(),
            owner: share.owner.clone(),
            share_id: share.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "7ab63972-b505-4e2a-820d-6f5d3e9a1b2c";

    fn owner() -> AccountId {
        AccountId::parse("111111111111").unwrap()
    }

    fn other() -> AccountId {
        AccountId::parse("222222222222").unwrap()
    }

    fn share() -> ResourceShare {
        ResourceShare::new(UUID, "s", &owner(), "us-east-1", true, vec![], Timestamp(1000))
    }

    fn pool() -> ResourceRef {
        resource_ref("arn:aws:ec2::111111111111:ipam-pool/ipam-pool-0123456789abcdef0", &owner(), "us-east-1").unwrap()
    }

    #[test]
    fn resource_arns() {
        let p = pool();
        assert_eq!((p.kind.name, p.id.as_str()), ("ec2:IpamPool", "ipam-pool-0123456789abcdef0"));
        let cr = "arn:aws:ec2:us-east-1:111111111111:capacity-reservation/cr-0123456789abcdef0";
        assert_eq!(resource_ref(cr, &owner(), "us-east-1").unwrap().kind.kind, ResourceKind::CapacityReservation);
        // Another region, another account: not found from here.
        assert!(matches!(resource_ref(cr, &owner(), "eu-west-1"), Err(RamError::ResourceNotFound(_))));
        assert!(matches!(resource_ref(cr, &other(), "us-east-1"), Err(RamError::ResourceNotFound(_))));
        for bad in ["nope", "arn:aws:ec2:us-east-1:111111111111:capacity-reservation/cr-xyz", "arn:aws:ec2"] {
            assert!(matches!(resource_ref(bad, &owner(), "us-east-1"), Err(RamError::MalformedArn(_))), "{bad}");
        }
        let subnet = "arn:aws:ec2:us-east-1:111111111111:subnet/subnet-0123456789abcdef0";
        assert!(matches!(resource_ref(subnet, &owner(), "us-east-1"), Err(RamError::UnshareableType(_))));
        assert_eq!(resource_type("ec2:IpamPool").unwrap().kind, ResourceKind::IpamPool);
        assert!(matches!(resource_type("ec2:Nope"), Err(RamError::InvalidResourceType(_))));
    }

    #[test]
    fn principals() {
        assert_eq!(principal("222222222222", &owner()), Ok(other()));
        assert!(matches!(principal("111111111111", &owner()), Err(RamError::OwnerAsPrincipal(_))));
        assert_eq!(
            principal("arn:aws:organizations::111111111111:organization/o-abc", &owner()),
            Err(RamError::OrganizationNotFound("o-abc".into()))
        );
        assert_eq!(
            principal("arn:aws:organizations::111111111111:ou/o-abc/ou-ab-12345678", &owner()),
            Err(RamError::OrganizationalUnitNotFound("ou-ab-12345678".into()))
        );
        assert!(matches!(
            principal("arn:aws:iam::222222222222:role/r", &owner()),
            Err(RamError::UnsupportedPrincipal(_))
        ));
        assert!(matches!(principal("ec2.amazonaws.com", &owner()), Err(RamError::UnsupportedPrincipal(_))));
        assert!(matches!(principal("o-abc", &owner()), Err(RamError::MalformedPrincipal(_))));
        assert!(matches!(principal("12345", &owner()), Err(RamError::MalformedPrincipal(_))));
    }

    #[test]
    fn share_arns_round_trip() {
        let s = share();
        assert_eq!(s.arn, format!("arn:aws:ram:us-east-1:111111111111:resource-share/{UUID}"));
        let r = share_ref(&s.arn).unwrap();
        assert_eq!((r.account, r.region.as_str(), r.id.as_str()), (owner(), "us-east-1", UUID));
        assert!(share_ref("arn:aws:ram:us-east-1:111111111111:resource-share/nope").is_err());
        assert!(share_ref(&format!("arn:aws:ram:us-east-1:111111111111:resource-share-invitation/{UUID}")).is_err());
        assert!(invitation_ref(&invitation_arn("us-east-1", &owner(), UUID)).is_ok());
    }

    #[test]
    fn invitations_grant_access_once_accepted() {
        let mut s = share();
        s.add_resource(&pool(), Timestamp(2)).unwrap();
        assert_eq!(s.add_principal(&other(), false, Timestamp(2)), Ok(Joined::Invited));
        assert_eq!(s.add_principal(&other(), false, Timestamp(3)), Ok(Joined::Already));
        assert!(s.grants().is_empty(), "nothing before acceptance");
        let mut inv = Invitation::new(UUID, &s, &other(), Timestamp(2));
        inv.accept(Timestamp(3)).unwrap();
        assert!(s.principal_accepted(&other(), Timestamp(3)));
        assert_eq!(
            s.grants(),
            vec![Grant {
                principal: "222222222222".into(),
                resource_id: "ipam-pool-0123456789abcdef0".into(),
                kind: "ipam-pool"
            }]
        );
        assert!(matches!(inv.accept(Timestamp(4)), Err(RamError::InvitationAccepted(_))));
        assert!(matches!(inv.reject(Timestamp(4)), Err(RamError::InvitationAccepted(_))));
        let before = s.grants();
        s.remove(AssociationKind::Resource, &pool().arn, Timestamp(5)).unwrap();
        let (granted, revoked) = grant_changes(&before, &s.grants());
        assert!(granted.is_empty());
        assert_eq!(revoked, before);
        assert!(matches!(
            s.remove(AssociationKind::Resource, &pool().arn, Timestamp(6)),
            Err(RamError::NotAssociated { .. })
        ));
    }

    #[test]
    fn rejection_expiry_organization_and_deletion() {
        let mut s = share();
        s.add_principal(&other(), false, Timestamp(2)).unwrap();
        let mut inv = Invitation::new(UUID, &s, &other(), Timestamp(2));
        assert_eq!(inv.shown(Timestamp(2 + INVITATION_TTL_MILLIS)), ShownStatus::Expired);
        assert!(matches!(inv.accept(Timestamp(2 + INVITATION_TTL_MILLIS)), Err(RamError::InvitationExpired(_))));
        inv.reject(Timestamp(3)).unwrap();
        s.principal_declined(&other(), Timestamp(3));
        assert_eq!(
            s.find(AssociationKind::Principal, "222222222222").unwrap().status,
            AssociationStatus::Disassociated
        );
        assert!(matches!(inv.accept(Timestamp(4)), Err(RamError::InvitationRejected(_))));

        // The organization setting: associated at once, not external.
        let mut o = share();
        o.add_resource(&pool(), Timestamp(2)).unwrap();
        assert_eq!(o.add_principal(&other(), true, Timestamp(2)), Ok(Joined::Now));
        assert!(!o.find(AssociationKind::Principal, "222222222222").unwrap().external);
        assert_eq!(o.grants().len(), 1);
        o.delete(Timestamp(9)).unwrap();
        assert!(o.grants().is_empty());
        assert!(o.associations.iter().all(|a| a.status == AssociationStatus::Disassociated));
        assert!(matches!(o.delete(Timestamp(10)), Err(RamError::ShareDeleted(_))));
        assert!(matches!(o.add_resource(&pool(), Timestamp(10)), Err(RamError::ShareDeleted(_))));

        // A share that does not allow external principals takes none outside an organization.
        let mut closed = ResourceShare::new(UUID, "c", &owner(), "us-east-1", false, vec![], Timestamp(1));
        assert!(matches!(closed.add_principal(&other(), false, Timestamp(2)), Err(RamError::ExternalNotAllowed(_))));
        assert_eq!(closed.add_principal(&other(), true, Timestamp(2)), Ok(Joined::Now));
    }
}
