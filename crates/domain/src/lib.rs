//! # reservoir-domain: what Reservoir's AWS resources are and how they behave
//!
//! One module per service family, plus the machinery every family uses:
//!
//! * [`account`] — accounts, regions and the (account, region) [`account::Scope`] that
//!   keys every piece of state;
//! * [`region`] — the catalogue of regions and Availability Zones;
//! * [`ids`] — AWS-format identifiers, resource kinds, randomness; [`arn`] — ARNs;
//! * [`cidr`] — CIDR text, and the one rule for host bits (canonical form);
//! * [`filter`] — the EC2 filter engine (AND across filters, OR across values, `*`/`?`);
//! * [`pagination`] — opaque, tamper-proof `NextToken`s bound to their request;
//! * [`idempotency`] — `ClientToken` replay;
//! * [`tags`] — EC2 tags and their rules;
//! * [`ipam`] — VPC IPAM: IPAMs, scopes, pools, their CIDRs and allocations;
//! * [`space`] — the address-space engine: CIDR blocks allocated from provisioned space;
//! * [`vpc`] — VPCs; [`dhcp`] — DHCP options sets; [`network`] — what the VPC networking
//!   families (subnets, groups, interfaces, routing, endpoints) share: their error;
//! * [`subnet`], [`security_group`], [`interface`], [`route`] (route tables, internet
//!   gateways, network ACLs), [`endpoint`] (VPC endpoints, endpoint services, prefix
//!   lists) — the VPC networking families;
//! * [`cognito`] — Cognito identity pools and identities; [`cognito_sync`] — records,
//!   datasets and usage; [`credentials`] — an identity's temporary credentials;
//! * [`image`] — the catalogue of machine images (AMIs) and their platforms;
//! * [`instance`] — EC2 instances: states, transitions, attributes;
//! * [`key_pair`] — EC2 key pairs: keys made and imported, AWS's fingerprints;
//! * [`ram`] — RAM resource shares, invitations, and who has access to what.
//!
//! **Invariants.** Everything here is synchronous and pure: no HTTP, SQL, XML or async
//! runtime (this crate's `Cargo.toml` is the check). Functions take the current time
//! and a source of randomness as arguments. Errors are semantic and carry the ids the
//! caller gave; the server decides AWS error codes and HTTP statuses.

pub mod account;
pub mod address;
pub mod arn;
pub mod capacity;
pub mod cidr;
pub mod cognito;
pub mod cognito_sync;
pub mod coip;
pub mod credentials;
pub mod dhcp;
pub mod endpoint;
pub mod filter;
pub mod idempotency;
pub mod ids;
pub mod image;
pub mod instance;
pub mod interface;
pub mod ipam;
pub mod key_pair;
pub mod network;
pub mod pagination;
pub mod ram;
pub mod region;
pub mod route;
pub mod security_group;
pub mod space;
pub mod subnet;
pub mod tags;
pub mod time;
pub mod vpc;
