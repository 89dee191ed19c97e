//! EC2 (query protocol).
//!
//! [`decode`] turns the form into the operation's generated input (and answers the
//! requests that cannot be decoded); [`dispatch`] is the one `match` from operation to
//! handler; [`shared`] holds what every family uses. One file per operation family:
//! [`regions`], [`tags`], [`vpcs`], [`ipam`] (IPAMs, scopes, pools, allocations) and
//! [`ipam_monitor`] (resource CIDRs), [`subnets`] (subnets, default VPCs and subnets, and
//! the private addresses of subnets), [`security_groups`], [`interfaces`] (network
//! interfaces), [`routing`] (route tables, routes, internet gateways, network ACLs, DHCP
//! options), [`endpoints`] (VPC endpoints, endpoint services, prefix lists), [`images`]
//! (the machine image catalogue), [`key_pairs`], [`instances`] (instances and their
//! primary interfaces), [`capacity`] (capacity reservations) and [`coip`] (Outposts'
//! local gateways, their route tables and customer-owned IP pools). A handler takes the
//! generated input type and returns the generated output type.

pub mod addresses;
pub mod capacity;
pub mod coip;
pub mod decode;
mod dispatch;
pub mod endpoints;
pub mod images;
pub mod instances;
pub mod interfaces;
pub mod ipam;
pub mod ipam_monitor;
pub mod key_pairs;
pub mod regions;
pub mod routing;
pub mod security_groups;
pub mod shared;
pub mod subnets;
pub mod tags;
pub mod vpcs;

pub use decode::handle;
