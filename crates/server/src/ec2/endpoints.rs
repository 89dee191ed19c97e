//! VPC endpoints, endpoint services and prefix lists: `CreateVpcEndpoint`,
//! `DescribeVpcEndpoints`, `ModifyVpcEndpoint`, `DeleteVpcEndpoints`,
//! `DescribeVpcEndpointServices`, `DescribePrefixLists`.
//!
//! The services and prefix lists are the domain's catalogue (`reservoir_domain::endpoint`)
//! for the request's region. An endpoint is a child of its VPC. A gateway endpoint's
//! routes (its service's prefix list → the endpoint) live in the route tables, put and
//! removed through the routing family in the same transaction. An interface endpoint
//! has one requester-managed network interface per subnet (a real interface, holding a
//! private address of the subnet, so the subnet cannot be deleted under it); each of its
//! security groups gets a reference (source the endpoint), so the group cannot be
//! deleted while the endpoint uses it; its private DNS name is unique per VPC (an alias,
//! checked and put in the same transaction).

use reservoir_domain::account::Scope;
use reservoir_domain::endpoint::{
    self as ep, DnsRecordIpType, EndpointGroup, EndpointInterface, EndpointService, EndpointType, IpAddressType,
    VpcEndpoint,
};
use reservoir_domain::filter::FilterSet;
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::interface::{self, GroupRef, NetworkInterface, NewInterface};
use reservoir_domain::network::{NetError, NetKind, NetLimit, check_id};
use reservoir_domain::region::RegionInfo;
use reservoir_domain::route::RouteTable;
use reservoir_domain::subnet::Subnet;
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_domain::vpc::{self, Attribute, Vpc, VpcError};
use reservoir_store::{ReadTx, ReadTxExt, Reference, Tx, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::datetime::DateTime;
use reservoir_wire::ec2::codes;
use reservoir_wire::ec2_api as api;

use super::shared::{
    Call, Encoded, Page, filter_set, idempotent, listing, page_size, put_tags, tag_specifications, wire_tags,
};
use crate::error::{ApiError, ApiResult};

/// The alias namespace that keeps a private DNS name once per VPC.
const PRIVATE_DNS_NAMESPACE: &str = "vpce-private-dns";
/// What an endpoint is, in the references it holds on security groups.
const REFERENCE_KIND: &str = "vpc-endpoint";
/// The largest page the endpoint and service listings answer ("If the value is greater
/// than 1,000, we return only 1,000 items").
const MAX_PAGE: usize = 1000;

/// The VPC endpoints of a VPC (gateway and interface), one indexed count: `DeleteVpc`
/// refuses with `DependencyViolation` while it is not zero.
pub fn vpc_endpoint_count(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<u64> {
    Ok(tx.count_children(scope, ResourceKind::VpcEndpoint.storage_name(), vpc_id)?)
}

/// The request's region in the catalogue.
fn region_info(call: &Call) -> ApiResult<RegionInfo> {
    call.cx
        .state
        .catalogue
        .region(&call.cx.scope.region)
        .cloned()
        .ok_or_else(|| ApiError::Internal(format!("region {} is not in the catalogue", call.cx.scope.region)))
}

fn unknown_service(name: &str) -> NetError {
    NetError::InvalidServiceName(format!("The Vpc Endpoint Service '{name}' does not exist"))
}

fn limited_page(max_results: Option<i32>) -> usize {
    page_size(max_results).min(MAX_PAGE)
}

// ----- DescribeVpcEndpointServices ----------------------------------------------------

fn service_to_wire(s: EndpointService) -> api::ServiceDetail {
    let (zones, zone_ids): (Vec<String>, Vec<String>) = s.zones.into_iter().unzip();
    api::ServiceDetail {
        service_name: Some(s.name),
        service_id: Some(s.id),
        service_type: Some(vec![api::ServiceTypeDetail {
            service_type: Some(match s.kind {
                EndpointType::Gateway => api::ServiceType::Gateway,
                EndpointType::Interface => api::ServiceType::Interface,
            }),
        }]),
        service_region: Some(s.region),
        availability_zone_ids: Some(zone_ids),
        availability_zones: Some(zones),
        owner: Some(ep::AMAZON_OWNER.to_string()),
        base_endpoint_dns_names: Some(vec![s.base_dns_name]),
        private_dns_names: s
            .private_dns_name
            .as_ref()
            .map(|n| vec![api::PrivateDnsDetails { private_dns_name: Some(n.clone()) }]),
        private_dns_name_verification_state: s.private_dns_name.as_ref().map(|_| api::DnsNameState::Verified),
        private_dns_name: s.private_dns_name,
        vpc_endpoint_policy_supported: Some(s.policy_supported),
        acceptance_required: Some(false),
        manages_vpc_endpoints: Some(false),
        payer_responsibility: None,
        tags: None,
        supported_ip_address_types: Some(
            s.ip_address_types
                .iter()
                .map(|t| match *t {
                    "ipv6" => api::ServiceConnectivityType::Ipv6,
                    _ => api::ServiceConnectivityType::Ipv4,
                })
                .collect(),
        ),
    }
}

/// EC2 `DescribeVpcEndpointServices`: the region's catalogue (`ServiceName.N`, each of
/// which must exist, and filters `owner`, `service-name`, `service-region`,
/// `service-type`, `supported-ip-address-types`, `tag:`/`tag-key`/`tag-value`), paginated
/// (`MaxResults` 5–1000, larger values answer 1,000; `NextToken`). `ServiceNames` are the
/// names of the page's `ServiceDetails`, each once.
/// Errors: `InvalidServiceName`, `InvalidParameterValue`, `InvalidNextToken`,
/// `FilterLimitExceeded`, `DryRunOperation`.
pub async fn describe_vpc_endpoint_services(
    call: &Call,
    input: api::DescribeVpcEndpointServicesRequest,
) -> ApiResult<api::DescribeVpcEndpointServicesResult> {
    use api::DescribeVpcEndpointServicesRequestMember as M;
    call.supported(&input, &[M::DryRun, M::ServiceNames, M::Filters, M::MaxResults, M::NextToken])?;
    let filters = filter_set(input.filters, &ep::SERVICE_FILTERS)?;
    let region = region_info(call)?;
    let names = input.service_names.unwrap_or_default();
    for n in &names {
        if ep::services_named(&region, n).is_empty() {
            return Err(unknown_service(n).into());
        }
    }
    let limit = limited_page(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let matches: Vec<(i64, EndpointService, Vec<Tag>)> = ep::services(&region)
        .into_iter()
        .enumerate()
        .map(|(i, s)| (i as i64 + 1, s))
        .filter(|(seq, s)| *seq > after && (names.is_empty() || names.contains(&s.name)))
        .filter(|(_, s)| filters.matches::<Tag>(s, &[]))
        .take(limit + 1)
        .map(|(seq, s)| (seq, s, Vec::new()))
        .collect();
    let page = Page::of(matches, limit);
    let mut service_names: Vec<String> = Vec::new();
    for (_, s, _) in &page.items {
        if !service_names.contains(&s.name) {
            service_names.push(s.name.clone());
        }
    }
    Ok(api::DescribeVpcEndpointServicesResult {
        service_names: Some(service_names),
        service_details: Some(page.items.into_iter().map(|(_, s, _)| service_to_wire(s)).collect()),
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
    })
}

// ----- DescribePrefixLists ------------------------------------------------------------

/// EC2 `DescribePrefixLists`: the region's AWS-managed prefix lists (`PrefixListId.N`,
/// each of which must exist; filters `prefix-list-id`, `prefix-list-name`), paginated
/// (`MaxResults` 5–1000, `NextToken`).
/// Errors: `InvalidPrefixListID.Malformed`, `InvalidPrefixListId.NotFound`,
/// `InvalidParameterValue`, `InvalidNextToken`, `FilterLimitExceeded`, `DryRunOperation`.
pub async fn describe_prefix_lists(
    call: &Call,
    input: api::DescribePrefixListsRequest,
) -> ApiResult<api::DescribePrefixListsResult> {
    use api::DescribePrefixListsRequestMember as M;
    call.supported(&input, &[M::DryRun, M::Filters, M::MaxResults, M::NextToken, M::PrefixListIds])?;
    let filters = filter_set(input.filters, &ep::PREFIX_LIST_FILTERS)?;
    let region = call.cx.scope.region.clone();
    let ids = input.prefix_list_ids.unwrap_or_default();
    for id in &ids {
        check_id(NetKind::PrefixList, id)?;
    }
    let missing: Vec<String> = ids.iter().filter(|id| ep::prefix_list(&region, id).is_none()).cloned().collect();
    if !missing.is_empty() {
        return Err(NetError::NotFound(NetKind::PrefixList, missing).into());
    }
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let matches: Vec<(i64, ep::PrefixList, Vec<Tag>)> = ep::prefix_lists(&region)
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i as i64 + 1, p))
        .filter(|(seq, p)| *seq > after && (ids.is_empty() || ids.contains(&p.id)))
        .filter(|(_, p)| filters.matches_untagged(p))
        .take(limit + 1)
        .map(|(seq, p)| (seq, p, Vec::new()))
        .collect();
    let page = Page::of(matches, limit);
    Ok(api::DescribePrefixListsResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        prefix_lists: Some(
            page.items
                .into_iter()
                .map(|(_, p, _)| api::PrefixList {
                    cidrs: Some(p.cidrs),
                    prefix_list_id: Some(p.id),
                    prefix_list_name: Some(p.name),
                })
                .collect(),
        ),
    })
}

// ----- the wire form of an endpoint ---------------------------------------------------

fn endpoint_to_wire(e: VpcEndpoint, tags: Vec<Tag>, region: &RegionInfo) -> api::VpcEndpoint {
    let service = ep::service(region, &e.service_name, e.endpoint_type);
    let interface = e.endpoint_type == EndpointType::Interface;
    let dns_entries = service.as_ref().map(|s| ep::dns_entries(&e, s)).unwrap_or_default();
    api::VpcEndpoint {
        vpc_endpoint_id: Some(e.id.clone()),
        vpc_endpoint_type: Some(match e.endpoint_type {
            EndpointType::Gateway => api::VpcEndpointType::Gateway,
            EndpointType::Interface => api::VpcEndpointType::Interface,
        }),
        vpc_id: Some(e.vpc_id.clone()),
        service_name: Some(e.service_name.clone()),
        // AWS answers the state in lower case (`available`), unlike the model's enum.
        state: Some(api::State::Unknown(e.state().to_string())),
        policy_document: Some(e.policy_document().to_string()),
        route_table_ids: Some(e.route_table_ids.clone()),
        subnet_ids: Some(e.subnet_ids().map(str::to_string).collect()),
        groups: Some(
            e.groups
                .iter()
                .map(|g| api::SecurityGroupIdentifier {
                    group_id: Some(g.id.clone()),
                    group_name: Some(g.name.clone()),
                })
                .collect(),
        ),
        ip_address_type: Some(match e.ip_address_type {
            IpAddressType::Ipv4 => api::IpAddressType::Ipv4,
            IpAddressType::Dualstack => api::IpAddressType::Dualstack,
            IpAddressType::Ipv6 => api::IpAddressType::Ipv6,
        }),
        dns_options: interface.then(|| api::DnsOptions {
            dns_record_ip_type: e.dns_record_ip_type.map(|t| match t {
                DnsRecordIpType::Ipv4 => api::DnsRecordIpType::Ipv4,
                DnsRecordIpType::Dualstack => api::DnsRecordIpType::Dualstack,
                DnsRecordIpType::Ipv6 => api::DnsRecordIpType::Ipv6,
                DnsRecordIpType::ServiceDefined => api::DnsRecordIpType::ServiceDefined,
            }),
            private_dns_only_for_inbound_resolver_endpoint: e.private_dns_only_for_inbound_resolver_endpoint,
            private_dns_preference: None,
            private_dns_specified_domains: None,
        }),
        private_dns_enabled: Some(e.private_dns_enabled),
        requester_managed: Some(false),
        network_interface_ids: Some(e.interfaces.iter().map(|i| i.network_interface_id.clone()).collect()),
        dns_entries: Some(
            dns_entries
                .into_iter()
                .map(|d| api::DnsEntry { dns_name: Some(d.name), hosted_zone_id: Some(d.hosted_zone_id) })
                .collect(),
        ),
        creation_timestamp: Some(DateTime::from_unix_millis(e.created.millis())),
        tags: wire_tags(tags),
        owner_id: Some(e.owner.as_str().to_string()),
        last_error: None,
        ipv4_prefixes: None,
        ipv6_prefixes: None,
        failure_reason: None,
        service_network_arn: None,
        resource_configuration_arn: None,
        service_region: Some(e.service_region().to_string()),
    }
}

// ----- what endpoints read of other families ------------------------------------------

fn load_vpc(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Vpc> {
    Ok(tx.load::<Vpc>(scope, id)?.ok_or_else(|| VpcError::NotFound(vec![id.to_string()]))?)
}

fn load_endpoint(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<VpcEndpoint> {
    Ok(tx
        .load::<VpcEndpoint>(scope, id)?
        .ok_or_else(|| NetError::NotFound(NetKind::VpcEndpoint, vec![id.to_string()]))?)
}

/// A route table of the endpoint's VPC (`InvalidRouteTableID.NotFound` otherwise).
fn check_route_table(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str, id: &str) -> ApiResult<()> {
    match tx.load::<RouteTable>(scope, id)? {
        Some(rt) if rt.vpc_id == vpc_id => Ok(()),
        _ => Err(NetError::NotFound(NetKind::RouteTable, vec![id.to_string()]).into()),
    }
}

/// A subnet of the endpoint's VPC.
fn vpc_subnet(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str, id: &str) -> ApiResult<Subnet> {
    let s = super::subnets::load_subnet(tx, scope, id)?;
    if s.vpc_id != vpc_id {
        return Err(NetError::InvalidParameter(format!(
            "The subnet ID '{id}' does not belong to the VPC '{vpc_id}' of the endpoint."
        ))
        .into());
    }
    Ok(s)
}

/// The security groups of an interface endpoint, with their names: checked to exist in
/// the VPC.
fn endpoint_groups(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str, ids: &[String]) -> ApiResult<Vec<EndpointGroup>> {
    super::security_groups::check_groups(tx, scope, vpc_id, ids)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let name = super::security_groups::load_group(tx, scope, id)?.name;
        out.push(EndpointGroup { id: id.clone(), name });
    }
    Ok(out)
}

/// Every endpoint of a VPC (bounded by the endpoints a VPC can have).
fn vpc_endpoints(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<Vec<VpcEndpoint>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = tx.page_children::<VpcEndpoint>(scope, vpc_id, after, 500)?;
        let done = page.len() < 500;
        for (seq, e) in page {
            after = seq;
            out.push(e);
        }
        if done {
            return Ok(out);
        }
    }
}

fn private_dns_key(vpc_id: &str, name: &str) -> String {
    format!("{vpc_id} {name}")
}

/// Claims the service's private DNS name in the VPC for the endpoint (one per VPC).
fn claim_private_dns(tx: &mut dyn Tx, scope: &Scope, e: &VpcEndpoint, service: &EndpointService) -> ApiResult<()> {
    let Some(name) = &service.private_dns_name else { return Ok(()) };
    let key = private_dns_key(&e.vpc_id, name);
    if tx.get_alias(scope, PRIVATE_DNS_NAMESPACE, &key)?.is_some_and(|owner| owner != e.id) {
        return Err(NetError::InvalidParameter(format!(
            "private-dns-enabled cannot be set because there is already a conflicting DNS domain for {name} in the VPC {}",
            e.vpc_id
        ))
        .into());
    }
    tx.put_alias(scope, PRIVATE_DNS_NAMESPACE, &key, &e.id)?;
    Ok(())
}

fn release_private_dns(
    tx: &mut dyn Tx,
    scope: &Scope,
    e: &VpcEndpoint,
    service: Option<&EndpointService>,
) -> ApiResult<()> {
    if let Some(name) = service.and_then(|s| s.private_dns_name.as_ref()) {
        let key = private_dns_key(&e.vpc_id, name);
        if tx.get_alias(scope, PRIVATE_DNS_NAMESPACE, &key)?.as_deref() == Some(e.id.as_str()) {
            tx.delete_alias(scope, PRIVATE_DNS_NAMESPACE, &key)?;
        }
    }
    Ok(())
}

fn reference(group_id: &str, endpoint_id: &str) -> Reference {
    Reference { target: group_id.to_string(), source: endpoint_id.to_string(), kind: REFERENCE_KIND.to_string() }
}

/// The prefix list a gateway endpoint's routes point at.
fn gateway_prefix_list(region: &str, service_name: &str) -> ApiResult<String> {
    ep::prefix_list_of_service(region, service_name)
        .map(|p| p.id)
        .ok_or_else(|| ApiError::Internal(format!("gateway service {service_name} has no prefix list")))
}

// ----- interface settings, checked against the final state ----------------------------

/// The DNS and addressing settings of an interface endpoint, as asked.
#[derive(Debug, Clone, Default)]
struct DnsAsk {
    ip_address_type: Option<IpAddressType>,
    dns_record_ip_type: Option<DnsRecordIpType>,
    inbound_only: Option<bool>,
    private_dns: Option<bool>,
}

fn dns_ask(
    ip: Option<api::IpAddressType>,
    dns: Option<api::DnsOptionsSpecification>,
    private_dns: Option<bool>,
    operation: &str,
) -> ApiResult<DnsAsk> {
    let mut ask = DnsAsk { private_dns, ..DnsAsk::default() };
    if let Some(ip) = ip {
        ask.ip_address_type = Some(IpAddressType::parse(ip.as_str())?);
    }
    if let Some(d) = dns {
        if d.private_dns_preference.is_some() {
            return Err(ApiError::ec2_unsupported_parameter(operation, "DnsOptions.PrivateDnsPreference"));
        }
        if d.private_dns_specified_domains.is_some() {
            return Err(ApiError::ec2_unsupported_parameter(operation, "DnsOptions.PrivateDnsSpecifiedDomains"));
        }
        if let Some(t) = d.dns_record_ip_type {
            ask.dns_record_ip_type = Some(DnsRecordIpType::parse(t.as_str())?);
        }
        ask.inbound_only = d.private_dns_only_for_inbound_resolver_endpoint;
    }
    Ok(ask)
}

/// Applies `ask` to an interface endpoint whose subnets are `subnets`, with AWS's rules:
/// the IP type must be served by the service and fit every subnet; the record type must
/// fit the IP type; private DNS needs a private name and the VPC's DNS support and
/// hostnames; "private DNS only for inbound resolver endpoints" needs a service with a
/// gateway type too and a gateway endpoint for it in the VPC.
#[allow(clippy::too_many_arguments)]
fn settle_interface(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    e: &mut VpcEndpoint,
    vpc: &Vpc,
    service: &EndpointService,
    region: &RegionInfo,
    subnets: &[Subnet],
    ask: &DnsAsk,
    creating: bool,
) -> ApiResult<()> {
    let ip = ask.ip_address_type.unwrap_or(e.ip_address_type);
    if !service.serves(ip) {
        return Err(NetError::InvalidParameter(format!(
            "The VPC endpoint service {} does not support the IP address type {}.",
            service.name,
            ip.as_str()
        ))
        .into());
    }
    for s in subnets {
        let has_v6 = !s.ipv6_associations.is_empty();
        let has_v4 = !s.ipv6_native;
        let fits = match ip {
            IpAddressType::Ipv4 => has_v4,
            IpAddressType::Dualstack => has_v4 && has_v6,
            IpAddressType::Ipv6 => has_v6,
        };
        if !fits {
            return Err(NetError::InvalidParameter(format!(
                "The subnet {} does not support the IP address type {} of the endpoint.",
                s.id,
                ip.as_str()
            ))
            .into());
        }
    }
    let ip_changed = ip != e.ip_address_type;
    e.ip_address_type = ip;
    let record = match ask.dns_record_ip_type {
        Some(r) => r,
        None if ip_changed || e.dns_record_ip_type.is_none() => DnsRecordIpType::default_for(ip),
        None => e.dns_record_ip_type.unwrap_or(DnsRecordIpType::default_for(ip)),
    };
    if !record.fits(ip) {
        return Err(NetError::InvalidParameter(format!(
            "The DNS record IP type {} is not valid for an endpoint of IP address type {}.",
            record.as_str(),
            ip.as_str()
        ))
        .into());
    }
    e.dns_record_ip_type = Some(record);

    let private = match ask.private_dns {
        Some(p) => p,
        None if creating => service.private_dns_name.is_some(),
        None => e.private_dns_enabled,
    };
    if private && service.private_dns_name.is_none() {
        return Err(NetError::InvalidParameter(format!(
            "Private DNS can't be enabled because the service {} does not provide a private DNS name.",
            service.name
        ))
        .into());
    }
    if private && !(vpc.attribute(Attribute::DnsSupport) && vpc.attribute(Attribute::DnsHostnames)) {
        return Err(NetError::InvalidParameter(format!(
            "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for {}",
            vpc.id
        ))
        .into());
    }
    e.private_dns_enabled = private;

    let dual = ep::service(region, &service.name, EndpointType::Gateway).is_some();
    let gateway_exists = |tx: &mut dyn ReadTx| -> ApiResult<bool> {
        Ok(vpc_endpoints(tx, scope, &vpc.id)?
            .iter()
            .any(|o| o.endpoint_type == EndpointType::Gateway && o.service_name == service.name))
    };
    e.private_dns_only_for_inbound_resolver_endpoint = match (ask.inbound_only, dual && private) {
        (Some(true), false) => {
            return Err(NetError::InvalidParameter(if dual {
                "PrivateDnsOnlyForInboundResolverEndpoint can only be set when private DNS is enabled.".to_string()
            } else {
                format!(
                    "PrivateDnsOnlyForInboundResolverEndpoint is only supported for services with both gateway and interface endpoints; {} has no gateway endpoint type.",
                    service.name
                )
            })
            .into());
        }
        (Some(true), true) => {
            if !gateway_exists(tx)? {
                return Err(NetError::InvalidParameter(format!(
                    "To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC {} must have a Gateway endpoint for the service.",
                    vpc.id
                ))
                .into());
            }
            Some(true)
        }
        (Some(false), true) => Some(false),
        (None, true) => match e.private_dns_only_for_inbound_resolver_endpoint {
            Some(v) if !creating => Some(v),
            _ => Some(gateway_exists(tx)?),
        },
        (_, false) => None,
    };
    Ok(())
}

/// Interface subnets: (id, zone) pairs of the subnets, checked for one per zone.
fn check_zones(subnets: &[Subnet], service: &EndpointService) -> ApiResult<()> {
    let pairs: Vec<(String, String)> = subnets.iter().map(|s| (s.id.clone(), s.availability_zone.clone())).collect();
    Ok(ep::check_subnet_zones(&pairs, service)?)
}

/// The description AWS gives an interface endpoint's network interfaces.
fn interface_description(endpoint_id: &str) -> String {
    format!("VPC Endpoint Interface {endpoint_id}")
}

fn group_refs(groups: &[EndpointGroup]) -> Vec<GroupRef> {
    groups.iter().map(|g| GroupRef { id: g.id.clone(), name: g.name.clone() }).collect()
}

/// Makes the endpoint's network interface in a subnet: a requester-managed interface
/// holding the lowest free private address of the subnet, with the endpoint's groups.
fn open_interface(
    tx: &mut dyn Tx,
    scope: &Scope,
    endpoint_id: &str,
    subnet: &Subnet,
    groups: &[EndpointGroup],
    now: Timestamp,
) -> ApiResult<EndpointInterface> {
    let id = ResourceKind::NetworkInterface.new_id(&mut OsRandom);
    let address = super::subnets::take_private_address(tx, scope, &subnet.id, None, &id, now)?;
    let req = NewInterface {
        subnet_id: subnet.id.clone(),
        vpc_id: subnet.vpc_id.clone(),
        availability_zone: subnet.availability_zone.clone(),
        availability_zone_id: subnet.availability_zone_id.clone(),
        region: scope.region.clone(),
        description: interface_description(endpoint_id),
        groups: group_refs(groups),
    };
    let mut iface = interface::build(id, &scope.account, req, address, &[], Vec::new(), now, &mut OsRandom);
    iface.requester_managed = true;
    iface.source_dest_check = true;
    tx.create(scope, &iface)?;
    Ok(EndpointInterface {
        subnet_id: subnet.id.clone(),
        availability_zone: subnet.availability_zone.clone(),
        network_interface_id: iface.id,
    })
}

/// Removes the endpoint's network interface and frees its addresses (one removed
/// already has nothing left to free).
fn close_interface(tx: &mut dyn Tx, scope: &Scope, i: &EndpointInterface) -> ApiResult<()> {
    let Some(iface) = tx.load::<NetworkInterface>(scope, &i.network_interface_id)? else { return Ok(()) };
    for a in &iface.private_addresses {
        super::subnets::free_private_address(tx, scope, &iface.subnet_id, a.address, &iface.id)?;
    }
    tx.delete_references_from(scope, &iface.id)?;
    tx.remove::<NetworkInterface>(scope, &iface.id)?;
    Ok(())
}

/// Gives the endpoint's network interfaces its security groups.
fn regroup_interfaces(tx: &mut dyn Tx, scope: &Scope, e: &VpcEndpoint) -> ApiResult<()> {
    for i in &e.interfaces {
        if let Some(mut iface) = tx.load::<NetworkInterface>(scope, &i.network_interface_id)? {
            iface.groups = group_refs(&e.groups);
            tx.save(scope, &iface)?;
        }
    }
    Ok(())
}

fn dedup(ids: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn not_for_gateway(what: &str) -> ApiError {
    NetError::InvalidParameter(format!(
        "{what} are only supported for Interface and GatewayLoadBalancer type VPC Endpoints."
    ))
    .into()
}

// ----- CreateVpcEndpoint --------------------------------------------------------------

/// EC2 `CreateVpcEndpoint`: a gateway endpoint (the default type; `RouteTableId.N`, each
/// a table of the VPC, gets a route from the service's prefix list to the endpoint) or an
/// interface endpoint (`SubnetId.N`, one per zone; `SecurityGroupId.N`, else the VPC's
/// default group; `PrivateDnsEnabled`, on by default when the service has a private
/// name; `IpAddressType`, `DnsOptions`), to a service of the region's catalogue offered
/// as that type; `PolicyDocument` (JSON; the full-access default otherwise),
/// `TagSpecifications` (`vpc-endpoint`), `ClientToken`, `DryRun`.
/// Errors: `MissingParameter`, `InvalidVpcID.Malformed`/`.NotFound`, `InvalidServiceName`,
/// `InvalidRouteTableId.Malformed`, `InvalidRouteTableID.NotFound`,
/// `InvalidSubnetID.Malformed`/`.NotFound`, `InvalidGroupId.Malformed`,
/// `InvalidGroup.NotFound`, `DuplicateSubnetsInSameZone`, `InvalidParameter`,
/// `InvalidParameterValue`, `InvalidPolicyDocument`, `RouteAlreadyExists`,
/// `VpcEndpointLimitExceeded`, `TagLimitExceeded`, `IdempotentParameterMismatch`,
/// `DryRunOperation`.
pub async fn create_vpc_endpoint(call: &Call, input: api::CreateVpcEndpointRequest) -> ApiResult<Encoded> {
    use api::CreateVpcEndpointRequestMember as M;
    call.supported(
        &input,
        &[
            M::DryRun,
            M::VpcEndpointType,
            M::VpcId,
            M::ServiceName,
            M::PolicyDocument,
            M::RouteTableIds,
            M::SubnetIds,
            M::SecurityGroupIds,
            M::IpAddressType,
            M::DnsOptions,
            M::ClientToken,
            M::PrivateDnsEnabled,
            M::TagSpecifications,
        ],
    )?;
    let kind = match input.vpc_endpoint_type.as_ref().map(|t| t.as_str()) {
        None | Some("Gateway") => EndpointType::Gateway,
        Some("Interface") => EndpointType::Interface,
        // Gateway Load Balancer services are not in the catalogue: no name can match.
        Some("GatewayLoadBalancer") => {
            return Err(unknown_service(input.service_name.as_deref().unwrap_or_default()).into());
        }
        Some(other @ ("Resource" | "ServiceNetwork")) => {
            return Err(ApiError::ec2_unsupported_parameter("CreateVpcEndpoint", &format!("VpcEndpointType={other}")));
        }
        Some(other) => {
            return Err(ApiError::invalid_parameter_value(format!(
                "Value ({other}) for parameter VpcEndpointType is invalid. Valid values: Interface, Gateway, GatewayLoadBalancer, Resource, ServiceNetwork."
            )));
        }
    };
    let vpc_id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&vpc_id)?;
    let service_name = input
        .service_name
        .ok_or_else(|| NetError::Missing("The request must contain the parameter ServiceName".into()))?;
    if let Some(p) = &input.policy_document {
        ep::check_policy(p)?;
    }
    let route_tables = dedup(input.route_table_ids.unwrap_or_default());
    let subnet_ids = input.subnet_ids.unwrap_or_default();
    let group_ids = dedup(input.security_group_ids.unwrap_or_default());
    for id in &route_tables {
        check_id(NetKind::RouteTable, id)?;
    }
    for id in &subnet_ids {
        check_id(NetKind::Subnet, id)?;
    }
    for id in &group_ids {
        check_id(NetKind::SecurityGroup, id)?;
    }
    let ask = dns_ask(input.ip_address_type, input.dns_options, input.private_dns_enabled, "CreateVpcEndpoint")?;
    match kind {
        EndpointType::Gateway => {
            if !subnet_ids.is_empty() {
                return Err(not_for_gateway("Subnet IDs"));
            }
            if !group_ids.is_empty() {
                return Err(NetError::InvalidParameter(
                    "Security group IDs are only supported for Interface type VPC Endpoints.".into(),
                )
                .into());
            }
            if ask.private_dns == Some(true) || ask.dns_record_ip_type.is_some() || ask.inbound_only.is_some() {
                return Err(NetError::InvalidParameter(
                    "Private DNS and DNS options are only supported for Interface type VPC Endpoints.".into(),
                )
                .into());
            }
            if ask.ip_address_type.is_some_and(|t| t != IpAddressType::Ipv4) {
                return Err(NetError::InvalidParameter(format!(
                    "The VPC endpoint service {service_name} does not support the IP address type {}.",
                    ask.ip_address_type.map(|t| t.as_str()).unwrap_or_default()
                ))
                .into());
            }
        }
        EndpointType::Interface => {
            if !route_tables.is_empty() {
                return Err(NetError::InvalidParameter(
                    "Route table IDs are only supported for Gateway type VPC Endpoint.".into(),
                )
                .into());
            }
        }
    }
    let region = region_info(call)?;
    let service = ep::service(&region, &service_name, kind).ok_or_else(|| unknown_service(&service_name))?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::VpcEndpoint)?;
    let policy = input.policy_document;
    let client_token = input.client_token.clone();
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.vpc_endpoints_per_vpc;
    let now = call.cx.now;
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let vpc = load_vpc(tx, &scope, &vpc_id)?;
        if let Some(q) = quota {
            let same = vpc_endpoints(tx, &scope, &vpc.id)?.iter().filter(|e| e.endpoint_type == kind).count();
            if same >= q as usize {
                return Err(NetError::LimitExceeded(
                    NetLimit::VpcEndpoints,
                    format!("The maximum number of {} VPC endpoints in {} has been reached.", kind.as_str(), vpc.id),
                )
                .into());
            }
        }
        let mut e = VpcEndpoint {
            id: ResourceKind::VpcEndpoint.new_id(&mut OsRandom),
            owner: scope.account.clone(),
            vpc_id: vpc.id.clone(),
            endpoint_type: kind,
            service_name: service.name.clone(),
            policy: policy.clone(),
            route_table_ids: Vec::new(),
            interfaces: Vec::new(),
            groups: Vec::new(),
            ip_address_type: IpAddressType::Ipv4,
            dns_record_ip_type: None,
            private_dns_only_for_inbound_resolver_endpoint: None,
            private_dns_enabled: false,
            dns_suffix: String::new(),
            created: now,
        };
        match kind {
            EndpointType::Gateway => {
                let pl = gateway_prefix_list(&scope.region, &service.name)?;
                for rt in &route_tables {
                    check_route_table(tx, &scope, &vpc.id, rt)?;
                    super::routing::add_endpoint_route(tx, &scope, rt, &pl, &e.id)?;
                }
                e.route_table_ids = route_tables.clone();
            }
            EndpointType::Interface => {
                let mut subnets = Vec::with_capacity(subnet_ids.len());
                for id in &subnet_ids {
                    subnets.push(vpc_subnet(tx, &scope, &vpc.id, id)?);
                }
                check_zones(&subnets, &service)?;
                let groups = if group_ids.is_empty() {
                    vec![super::security_groups::default_group_id(tx, &scope, &vpc.id)?]
                } else {
                    group_ids.clone()
                };
                e.groups = endpoint_groups(tx, &scope, &vpc.id, &groups)?;
                e.dns_suffix = ep::dns_suffix(&mut OsRandom);
                settle_interface(tx, &scope, &mut e, &vpc, &service, &region, &subnets, &ask, true)?;
                for subnet in &subnets {
                    let opened = open_interface(tx, &scope, &e.id, subnet, &e.groups, now)?;
                    e.interfaces.push(opened);
                }
                if e.private_dns_enabled {
                    claim_private_dns(tx, &scope, &e, &service)?;
                }
                for g in &e.groups {
                    tx.put_reference(&scope, &reference(&g.id, &e.id))?;
                }
            }
        }
        tx.create(&scope, &e)?;
        put_tags(tx, &scope, &e.id, ResourceKind::VpcEndpoint, &tags)?;
        Ok(Encoded::of(&api::CreateVpcEndpointResult {
            vpc_endpoint: Some(endpoint_to_wire(e, tags.clone(), &region)),
            client_token: client_token.clone(),
        }))
    })
    .await
}

// ----- DescribeVpcEndpoints -----------------------------------------------------------

/// EC2 `DescribeVpcEndpoints`: by `VpcEndpointId.N` (each must exist) and/or filters
/// (`ip-address-type`, `service-name`, `service-region`, `vpc-id`, `vpc-endpoint-id`,
/// `vpc-endpoint-state`, `vpc-endpoint-type`, `tag:`/`tag-key`/`tag-value`), paginated
/// (`MaxResults` 5–1000, larger values answer 1,000; `NextToken`).
/// Errors: `InvalidVpcEndpointId.Malformed`, `InvalidVpcEndpointId.NotFound`,
/// `InvalidParameterValue`, `FilterLimitExceeded`, `InvalidNextToken`, `DryRunOperation`.
pub async fn describe_vpc_endpoints(
    call: &Call,
    input: api::DescribeVpcEndpointsRequest,
) -> ApiResult<api::DescribeVpcEndpointsResult> {
    use api::DescribeVpcEndpointsRequestMember as M;
    call.supported(&input, &[M::DryRun, M::VpcEndpointIds, M::Filters, M::MaxResults, M::NextToken])?;
    let filters: FilterSet = filter_set(input.filters, &ep::FILTERS)?;
    let mut ids = input.vpc_endpoint_ids.unwrap_or_default();
    for id in &ids {
        check_id(NetKind::VpcEndpoint, id)?;
    }
    ids.sort();
    ids.dedup();
    let limit = limited_page(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let region = region_info(call)?;
    let scope = call.cx.scope.clone();
    let (items, next) = call
        .read(move |tx| {
            let page = listing::<VpcEndpoint>(tx, &scope, &ids, &filters, after, limit, |missing| {
                NetError::NotFound(NetKind::VpcEndpoint, missing).into()
            })?;
            Ok((page.items, page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeVpcEndpointsResult {
        vpc_endpoints: Some(items.into_iter().map(|(_, e, t)| endpoint_to_wire(e, t, &region)).collect()),
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
    })
}

// ----- ModifyVpcEndpoint --------------------------------------------------------------

/// EC2 `ModifyVpcEndpoint`: `ResetPolicy` or `PolicyDocument`; gateway endpoints
/// `AddRouteTableId.N` / `RemoveRouteTableId.N` (routes added and removed); interface
/// endpoints `AddSubnetId.N` / `RemoveSubnetId.N`, `AddSecurityGroupId.N` /
/// `RemoveSecurityGroupId.N`, `PrivateDnsEnabled`, `IpAddressType`, `DnsOptions`.
/// Removing an id the endpoint does not have changes nothing.
/// Errors: `InvalidVpcEndpointId.Malformed`/`.NotFound`, the id and zone errors of
/// `CreateVpcEndpoint`, `InvalidParameter`, `InvalidParameterCombination`,
/// `InvalidPolicyDocument`, `RouteAlreadyExists`, `DryRunOperation`.
pub async fn modify_vpc_endpoint(
    call: &Call,
    input: api::ModifyVpcEndpointRequest,
) -> ApiResult<api::ModifyVpcEndpointResult> {
    use api::ModifyVpcEndpointRequestMember as M;
    call.supported(
        &input,
        &[
            M::DryRun,
            M::VpcEndpointId,
            M::ResetPolicy,
            M::PolicyDocument,
            M::AddRouteTableIds,
            M::RemoveRouteTableIds,
            M::AddSubnetIds,
            M::RemoveSubnetIds,
            M::AddSecurityGroupIds,
            M::RemoveSecurityGroupIds,
            M::PrivateDnsEnabled,
            M::IpAddressType,
            M::DnsOptions,
        ],
    )?;
    let id = input.vpc_endpoint_id.unwrap_or_default();
    check_id(NetKind::VpcEndpoint, &id)?;
    let reset = input.reset_policy == Some(true);
    if reset && input.policy_document.is_some() {
        return Err(NetError::Combination("ResetPolicy and PolicyDocument cannot be used together.".into()).into());
    }
    if let Some(p) = &input.policy_document {
        ep::check_policy(p)?;
    }
    let add_rt = dedup(input.add_route_table_ids.unwrap_or_default());
    let remove_rt = dedup(input.remove_route_table_ids.unwrap_or_default());
    let add_subnets = input.add_subnet_ids.unwrap_or_default();
    let remove_subnets = dedup(input.remove_subnet_ids.unwrap_or_default());
    let add_groups = dedup(input.add_security_group_ids.unwrap_or_default());
    let remove_groups = dedup(input.remove_security_group_ids.unwrap_or_default());
    for rt in add_rt.iter().chain(&remove_rt) {
        check_id(NetKind::RouteTable, rt)?;
    }
    for s in add_subnets.iter().chain(&remove_subnets) {
        check_id(NetKind::Subnet, s)?;
    }
    for g in add_groups.iter().chain(&remove_groups) {
        check_id(NetKind::SecurityGroup, g)?;
    }
    if let Some(both) = add_rt.iter().find(|r| remove_rt.contains(r)) {
        return Err(NetError::Combination(format!("The route table {both} cannot be both added and removed.")).into());
    }
    if let Some(both) = add_subnets.iter().find(|s| remove_subnets.contains(s)) {
        return Err(NetError::Combination(format!("The subnet {both} cannot be both added and removed.")).into());
    }
    if let Some(both) = add_groups.iter().find(|g| remove_groups.contains(g)) {
        return Err(
            NetError::Combination(format!("The security group {both} cannot be both added and removed.")).into()
        );
    }
    let ask = dns_ask(input.ip_address_type, input.dns_options, input.private_dns_enabled, "ModifyVpcEndpoint")?;
    let policy = input.policy_document;
    let region = region_info(call)?;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut e = load_endpoint(tx, &scope, &id)?;
        let before = e.clone();
        if reset {
            e.policy = None;
        } else if let Some(p) = &policy {
            e.policy = Some(p.clone());
        }
        let service =
            ep::service(&region, &e.service_name, e.endpoint_type).ok_or_else(|| unknown_service(&e.service_name))?;
        match e.endpoint_type {
            EndpointType::Gateway => {
                if !add_subnets.is_empty() || !remove_subnets.is_empty() {
                    return Err(not_for_gateway("Subnet IDs"));
                }
                if !add_groups.is_empty() || !remove_groups.is_empty() {
                    return Err(NetError::InvalidParameter(
                        "Security group IDs are only supported for Interface type VPC Endpoints.".into(),
                    )
                    .into());
                }
                if ask.private_dns.is_some() || ask.dns_record_ip_type.is_some() || ask.inbound_only.is_some() {
                    return Err(NetError::InvalidParameter(
                        "Private DNS and DNS options are only supported for Interface type VPC Endpoints.".into(),
                    )
                    .into());
                }
                if ask.ip_address_type.is_some_and(|t| t != IpAddressType::Ipv4) {
                    return Err(NetError::InvalidParameter(format!(
                        "The VPC endpoint service {} does not support the IP address type {}.",
                        e.service_name,
                        ask.ip_address_type.map(|t| t.as_str()).unwrap_or_default()
                    ))
                    .into());
                }
                let pl = gateway_prefix_list(&scope.region, &e.service_name)?;
                for rt in &remove_rt {
                    check_route_table(tx, &scope, &e.vpc_id, rt)?;
                    if let Some(i) = e.route_table_ids.iter().position(|r| r == rt) {
                        super::routing::remove_endpoint_route(tx, &scope, rt, &e.id)?;
                        e.route_table_ids.remove(i);
                    }
                }
                for rt in &add_rt {
                    check_route_table(tx, &scope, &e.vpc_id, rt)?;
                    if !e.route_table_ids.contains(rt) {
                        super::routing::add_endpoint_route(tx, &scope, rt, &pl, &e.id)?;
                        e.route_table_ids.push(rt.clone());
                    }
                }
            }
            EndpointType::Interface => {
                if !add_rt.is_empty() || !remove_rt.is_empty() {
                    return Err(NetError::InvalidParameter(
                        "Route table IDs are only supported for Gateway type VPC Endpoint.".into(),
                    )
                    .into());
                }
                let vpc = load_vpc(tx, &scope, &e.vpc_id)?;
                // Security groups first (the new interfaces take them): at least one stays.
                let mut group_ids: Vec<String> =
                    e.groups.iter().map(|g| g.id.clone()).filter(|g| !remove_groups.contains(g)).collect();
                group_ids.extend(add_groups.iter().filter(|g| !group_ids.contains(g)).cloned().collect::<Vec<_>>());
                if group_ids.is_empty() {
                    return Err(NetError::InvalidParameter(
                        "An interface endpoint must keep at least one security group.".into(),
                    )
                    .into());
                }
                let new_groups: Vec<String> =
                    group_ids.iter().filter(|g| !e.groups.iter().any(|o| &o.id == *g)).cloned().collect();
                let mut groups: Vec<EndpointGroup> =
                    e.groups.iter().filter(|g| group_ids.contains(&g.id)).cloned().collect();
                groups.extend(endpoint_groups(tx, &scope, &e.vpc_id, &new_groups)?);
                for g in &before.groups {
                    if !groups.iter().any(|n| n.id == g.id) {
                        tx.delete_reference(&scope, &g.id, &e.id)?;
                    }
                }
                for g in &groups {
                    tx.put_reference(&scope, &reference(&g.id, &e.id))?;
                }
                let regrouped = groups != e.groups;
                e.groups = groups;
                // Subnets: the removed ones go with their interfaces; the added ones get one.
                for s in &remove_subnets {
                    super::subnets::load_subnet(tx, &scope, s)?;
                }
                let (gone, kept): (Vec<EndpointInterface>, Vec<EndpointInterface>) =
                    e.interfaces.drain(..).partition(|i| remove_subnets.contains(&i.subnet_id));
                e.interfaces = kept;
                for i in &gone {
                    close_interface(tx, &scope, i)?;
                }
                if regrouped {
                    regroup_interfaces(tx, &scope, &e)?;
                }
                let mut subnets = Vec::with_capacity(e.interfaces.len() + add_subnets.len());
                for i in &e.interfaces {
                    subnets.push(vpc_subnet(tx, &scope, &e.vpc_id, &i.subnet_id)?);
                }
                let mut added = Vec::with_capacity(add_subnets.len());
                for s in &add_subnets {
                    let subnet = vpc_subnet(tx, &scope, &e.vpc_id, s)?;
                    added.push(subnet.clone());
                    subnets.push(subnet);
                }
                check_zones(&subnets, &service)?;
                settle_interface(tx, &scope, &mut e, &vpc, &service, &region, &subnets, &ask, false)?;
                for subnet in &added {
                    let opened = open_interface(tx, &scope, &e.id, subnet, &e.groups, now)?;
                    e.interfaces.push(opened);
                }
                match (before.private_dns_enabled, e.private_dns_enabled) {
                    (false, true) => claim_private_dns(tx, &scope, &e, &service)?,
                    (true, false) => release_private_dns(tx, &scope, &before, Some(&service))?,
                    _ => {}
                }
            }
        }
        tx.save(&scope, &e)?;
        Ok(())
    })
    .await?;
    Ok(api::ModifyVpcEndpointResult { r#return: Some(true) })
}

// ----- DeleteVpcEndpoints -------------------------------------------------------------

/// EC2 `DeleteVpcEndpoints`: deletes each endpoint named (a gateway endpoint's routes
/// with it; an interface endpoint's network interfaces, group references and private
/// DNS name). An unknown id is answered as an `Unsuccessful` item
/// (`InvalidVpcEndpoint.NotFound`) and the others are still deleted, as AWS does.
/// Errors: `MissingParameter`, `InvalidVpcEndpointId.Malformed`, `DryRunOperation`.
pub async fn delete_vpc_endpoints(
    call: &Call,
    input: api::DeleteVpcEndpointsRequest,
) -> ApiResult<api::DeleteVpcEndpointsResult> {
    use api::DeleteVpcEndpointsRequestMember as M;
    call.supported(&input, &[M::DryRun, M::VpcEndpointIds])?;
    let ids = dedup(input.vpc_endpoint_ids.unwrap_or_default());
    if ids.is_empty() {
        return Err(NetError::Missing("The request must contain the parameter VpcEndpointId".into()).into());
    }
    for id in &ids {
        check_id(NetKind::VpcEndpoint, id)?;
    }
    let region = region_info(call)?;
    let scope = call.cx.scope.clone();
    let unsuccessful = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut unsuccessful = Vec::new();
            for id in &ids {
                let Some(e) = tx.load::<VpcEndpoint>(&scope, id)? else {
                    unsuccessful.push(api::UnsuccessfulItem {
                        error: Some(api::UnsuccessfulItemError {
                            code: Some(codes::INVALID_VPC_ENDPOINT_NOT_FOUND.code().to_string()),
                            message: Some(format!("The VpcEndpoint Id '{id}' does not exist")),
                        }),
                        resource_id: Some(id.clone()),
                    });
                    continue;
                };
                remove_endpoint(tx, &scope, &e, &region)?;
            }
            Ok(unsuccessful)
        })
        .await?;
    Ok(api::DeleteVpcEndpointsResult { unsuccessful: Some(unsuccessful) })
}

/// Removes an endpoint with everything that hangs on it.
fn remove_endpoint(tx: &mut dyn Tx, scope: &Scope, e: &VpcEndpoint, region: &RegionInfo) -> ApiResult<()> {
    for rt in &e.route_table_ids {
        // A table deleted since has taken the route with it.
        if tx.load::<RouteTable>(scope, rt)?.is_some() {
            super::routing::remove_endpoint_route(tx, scope, rt, &e.id)?;
        }
    }
    if e.private_dns_enabled {
        let service = ep::service(region, &e.service_name, e.endpoint_type);
        release_private_dns(tx, scope, e, service.as_ref())?;
    }
    for i in &e.interfaces {
        close_interface(tx, scope, i)?;
    }
    tx.delete_references_from(scope, &e.id)?;
    // Its tags go with it.
    tx.remove::<VpcEndpoint>(scope, &e.id)?;
    Ok(())
}
