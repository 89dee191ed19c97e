//! One arm per served EC2 operation. The match is exhaustive over the generated
//! `Request` enum, so a newly served operation does not compile until it has a handler.

use reservoir_wire::ec2::{XmlEncodeDyn, response_body};
use reservoir_wire::ec2_api::Request;

use super::shared::Call;
use super::{
    capacity, endpoints, interfaces, ipam, ipam_monitor, regions, routing, security_groups, subnets, tags, vpcs,
};
use crate::error::ApiResult;

pub async fn dispatch(call: Call, request: Request) -> ApiResult<String> {
    let id = call.cx.request_id.clone();
    let op = call.operation;
    let ok = |out: &dyn XmlEncodeDyn| response_body(op, &id, Some(out));
    let done = || response_body(op, &id, None);
    Ok(match request {
        Request::DescribeRegions(input) => ok(&regions::describe_regions(&call, input).await?),
        Request::DescribeAvailabilityZones(input) => ok(&regions::describe_availability_zones(&call, input).await?),
        Request::CreateTags(input) => {
            tags::create_tags(&call, input).await?;
            done()
        }
        Request::DeleteTags(input) => {
            tags::delete_tags(&call, input).await?;
            done()
        }
        Request::DescribeTags(input) => ok(&tags::describe_tags(&call, input).await?),
        Request::CreateVpc(input) => ok(&vpcs::create_vpc(&call, input).await?),
        Request::DescribeVpcs(input) => ok(&vpcs::describe_vpcs(&call, input).await?),
        Request::DeleteVpc(input) => {
            vpcs::delete_vpc(&call, input).await?;
            done()
        }
        Request::AssociateVpcCidrBlock(input) => ok(&vpcs::associate_vpc_cidr_block(&call, input).await?),
        Request::DisassociateVpcCidrBlock(input) => ok(&vpcs::disassociate_vpc_cidr_block(&call, input).await?),
        Request::CreateIpam(input) => ok(&ipam::create_ipam(&call, input).await?),
        Request::DescribeIpams(input) => ok(&ipam::describe_ipams(&call, input).await?),
        Request::ModifyIpam(input) => ok(&ipam::modify_ipam(&call, input).await?),
        Request::DeleteIpam(input) => ok(&ipam::delete_ipam(&call, input).await?),
        Request::CreateIpamScope(input) => ok(&ipam::create_ipam_scope(&call, input).await?),
        Request::DescribeIpamScopes(input) => ok(&ipam::describe_ipam_scopes(&call, input).await?),
        Request::ModifyIpamScope(input) => ok(&ipam::modify_ipam_scope(&call, input).await?),
        Request::DeleteIpamScope(input) => ok(&ipam::delete_ipam_scope(&call, input).await?),
        Request::CreateIpamPool(input) => ok(&ipam::create_ipam_pool(&call, input).await?),
        Request::DescribeIpamPools(input) => ok(&ipam::describe_ipam_pools(&call, input).await?),
        Request::ModifyIpamPool(input) => ok(&ipam::modify_ipam_pool(&call, input).await?),
        Request::DeleteIpamPool(input) => ok(&ipam::delete_ipam_pool(&call, input).await?),
        Request::ProvisionIpamPoolCidr(input) => ok(&ipam::provision_ipam_pool_cidr(&call, input).await?),
        Request::DeprovisionIpamPoolCidr(input) => ok(&ipam::deprovision_ipam_pool_cidr(&call, input).await?),
        Request::GetIpamPoolCidrs(input) => ok(&ipam::get_ipam_pool_cidrs(&call, input).await?),
        Request::AllocateIpamPoolCidr(input) => ok(&ipam::allocate_ipam_pool_cidr(&call, input).await?),
        Request::ReleaseIpamPoolAllocation(input) => ok(&ipam::release_ipam_pool_allocation(&call, input).await?),
        Request::GetIpamPoolAllocations(input) => ok(&ipam::get_ipam_pool_allocations(&call, input).await?),
        Request::GetIpamResourceCidrs(input) => ok(&ipam_monitor::get_ipam_resource_cidrs(&call, input).await?),
        Request::ModifyIpamResourceCidr(input) => ok(&ipam_monitor::modify_ipam_resource_cidr(&call, input).await?),
        // subnets.rs (CreateSubnet … CreateDefaultVpc, CreateDefaultSubnet)
        Request::CreateSubnet(input) => ok(&subnets::create_subnet(&call, input).await?),
        Request::DescribeSubnets(input) => ok(&subnets::describe_subnets(&call, input).await?),
        Request::DeleteSubnet(input) => {
            subnets::delete_subnet(&call, input).await?;
            done()
        }
        Request::ModifySubnetAttribute(input) => {
            subnets::modify_subnet_attribute(&call, input).await?;
            done()
        }
        Request::AssociateSubnetCidrBlock(input) => ok(&subnets::associate_subnet_cidr_block(&call, input).await?),
        Request::DisassociateSubnetCidrBlock(input) => {
            ok(&subnets::disassociate_subnet_cidr_block(&call, input).await?)
        }
        Request::CreateDefaultVpc(input) => ok(&subnets::create_default_vpc(&call, input).await?),
        Request::CreateDefaultSubnet(input) => ok(&subnets::create_default_subnet(&call, input).await?),
        // security_groups.rs
        Request::CreateSecurityGroup(input) => ok(&security_groups::create_security_group(&call, input).await?),
        Request::DescribeSecurityGroups(input) => ok(&security_groups::describe_security_groups(&call, input).await?),
        Request::DeleteSecurityGroup(input) => ok(&security_groups::delete_security_group(&call, input).await?),
        Request::AuthorizeSecurityGroupIngress(input) => {
            ok(&security_groups::authorize_security_group_ingress(&call, input).await?)
        }
        Request::AuthorizeSecurityGroupEgress(input) => {
            ok(&security_groups::authorize_security_group_egress(&call, input).await?)
        }
        Request::RevokeSecurityGroupIngress(input) => {
            ok(&security_groups::revoke_security_group_ingress(&call, input).await?)
        }
        Request::RevokeSecurityGroupEgress(input) => {
            ok(&security_groups::revoke_security_group_egress(&call, input).await?)
        }
        Request::DescribeSecurityGroupRules(input) => {
            ok(&security_groups::describe_security_group_rules(&call, input).await?)
        }
        Request::ModifySecurityGroupRules(input) => {
            ok(&security_groups::modify_security_group_rules(&call, input).await?)
        }
        Request::UpdateSecurityGroupRuleDescriptionsIngress(input) => {
            ok(&security_groups::update_security_group_rule_descriptions_ingress(&call, input).await?)
        }
        Request::UpdateSecurityGroupRuleDescriptionsEgress(input) => {
            ok(&security_groups::update_security_group_rule_descriptions_egress(&call, input).await?)
        }
        // interfaces.rs
        Request::CreateNetworkInterface(input) => ok(&interfaces::create_network_interface(&call, input).await?),
        Request::DescribeNetworkInterfaces(input) => ok(&interfaces::describe_network_interfaces(&call, input).await?),
        Request::DeleteNetworkInterface(input) => {
            interfaces::delete_network_interface(&call, input).await?;
            done()
        }
        Request::AttachNetworkInterface(input) => ok(&interfaces::attach_network_interface(&call, input).await?),
        Request::DetachNetworkInterface(input) => {
            interfaces::detach_network_interface(&call, input).await?;
            done()
        }
        Request::AssignPrivateIpAddresses(input) => ok(&interfaces::assign_private_ip_addresses(&call, input).await?),
        Request::UnassignPrivateIpAddresses(input) => {
            interfaces::unassign_private_ip_addresses(&call, input).await?;
            done()
        }
        Request::ModifyNetworkInterfaceAttribute(input) => {
            interfaces::modify_network_interface_attribute(&call, input).await?;
            done()
        }
        // routing.rs (route tables, routes, internet gateways, network ACLs, DHCP options)
        Request::CreateRouteTable(input) => ok(&routing::create_route_table(&call, input).await?),
        Request::DescribeRouteTables(input) => ok(&routing::describe_route_tables(&call, input).await?),
        Request::DeleteRouteTable(input) => {
            routing::delete_route_table(&call, input).await?;
            done()
        }
        Request::AssociateRouteTable(input) => ok(&routing::associate_route_table(&call, input).await?),
        Request::DisassociateRouteTable(input) => {
            routing::disassociate_route_table(&call, input).await?;
            done()
        }
        Request::ReplaceRouteTableAssociation(input) => {
            ok(&routing::replace_route_table_association(&call, input).await?)
        }
        Request::CreateRoute(input) => ok(&routing::create_route(&call, input).await?),
        Request::ReplaceRoute(input) => {
            routing::replace_route(&call, input).await?;
            done()
        }
        Request::DeleteRoute(input) => {
            routing::delete_route(&call, input).await?;
            done()
        }
        Request::CreateInternetGateway(input) => ok(&routing::create_internet_gateway(&call, input).await?),
        Request::AttachInternetGateway(input) => {
            routing::attach_internet_gateway(&call, input).await?;
            done()
        }
        Request::DetachInternetGateway(input) => {
            routing::detach_internet_gateway(&call, input).await?;
            done()
        }
        Request::DeleteInternetGateway(input) => {
            routing::delete_internet_gateway(&call, input).await?;
            done()
        }
        Request::DescribeInternetGateways(input) => ok(&routing::describe_internet_gateways(&call, input).await?),
        Request::DescribeNetworkAcls(input) => ok(&routing::describe_network_acls(&call, input).await?),
        Request::CreateDhcpOptions(input) => ok(&routing::create_dhcp_options(&call, input).await?),
        Request::AssociateDhcpOptions(input) => {
            routing::associate_dhcp_options(&call, input).await?;
            done()
        }
        Request::DeleteDhcpOptions(input) => {
            routing::delete_dhcp_options(&call, input).await?;
            done()
        }
        Request::DescribeDhcpOptions(input) => ok(&routing::describe_dhcp_options(&call, input).await?),
        // vpcs.rs (VPC attributes and tenancy)
        Request::DescribeVpcAttribute(input) => ok(&vpcs::describe_vpc_attribute(&call, input).await?),
        Request::ModifyVpcAttribute(input) => {
            vpcs::modify_vpc_attribute(&call, input).await?;
            done()
        }
        // capacity.rs (capacity reservations and their usage)
        Request::CreateCapacityReservation(input) => ok(&capacity::create_capacity_reservation(&call, input).await?),
        Request::DescribeCapacityReservations(input) => {
            ok(&capacity::describe_capacity_reservations(&call, input).await?)
        }
        Request::ModifyCapacityReservation(input) => ok(&capacity::modify_capacity_reservation(&call, input).await?),
        Request::CancelCapacityReservation(input) => ok(&capacity::cancel_capacity_reservation(&call, input).await?),
        Request::CreateCapacityReservationBySplitting(input) => {
            ok(&capacity::create_capacity_reservation_by_splitting(&call, input).await?)
        }
        Request::MoveCapacityReservationInstances(input) => {
            ok(&capacity::move_capacity_reservation_instances(&call, input).await?)
        }
        Request::ModifyInstanceCapacityReservationAttributes(input) => {
            ok(&capacity::modify_instance_capacity_reservation_attributes(&call, input).await?)
        }
        Request::GetCapacityReservationUsage(input) => {
            ok(&capacity::get_capacity_reservation_usage(&call, input).await?)
        }
        // instances.rs
        Request::RunInstances(input) => ok(&super::instances::run_instances(&call, input).await?),
        Request::DescribeInstances(input) => ok(&super::instances::describe_instances(&call, input).await?),
        Request::DescribeInstanceStatus(input) => ok(&super::instances::describe_instance_status(&call, input).await?),
        Request::StopInstances(input) => ok(&super::instances::stop_instances(&call, input).await?),
        Request::StartInstances(input) => ok(&super::instances::start_instances(&call, input).await?),
        Request::TerminateInstances(input) => ok(&super::instances::terminate_instances(&call, input).await?),
        Request::DescribeInstanceAttribute(input) => {
            ok(&super::instances::describe_instance_attribute(&call, input).await?)
        }
        Request::ModifyInstanceAttribute(input) => {
            super::instances::modify_instance_attribute(&call, input).await?;
            done()
        }
        // coip.rs (Outposts' local gateways, their route tables, customer-owned IP pools)
        Request::DescribeLocalGateways(input) => ok(&super::coip::describe_local_gateways(&call, input).await?),
        Request::CreateLocalGatewayRouteTable(input) => {
            ok(&super::coip::create_local_gateway_route_table(&call, input).await?)
        }
        Request::DescribeLocalGatewayRouteTables(input) => {
            ok(&super::coip::describe_local_gateway_route_tables(&call, input).await?)
        }
        Request::DeleteLocalGatewayRouteTable(input) => {
            ok(&super::coip::delete_local_gateway_route_table(&call, input).await?)
        }
        Request::CreateCoipPool(input) => ok(&super::coip::create_coip_pool(&call, input).await?),
        Request::DescribeCoipPools(input) => ok(&super::coip::describe_coip_pools(&call, input).await?),
        Request::DeleteCoipPool(input) => ok(&super::coip::delete_coip_pool(&call, input).await?),
        Request::CreateCoipCidr(input) => ok(&super::coip::create_coip_cidr(&call, input).await?),
        Request::DeleteCoipCidr(input) => ok(&super::coip::delete_coip_cidr(&call, input).await?),
        Request::GetCoipPoolUsage(input) => ok(&super::coip::get_coip_pool_usage(&call, input).await?),
        // addresses.rs (Elastic IPs, Amazon's and customer-owned)
        Request::AllocateAddress(input) => ok(&super::addresses::allocate_address(&call, input).await?),
        Request::ReleaseAddress(input) => {
            super::addresses::release_address(&call, input).await?;
            done()
        }
        Request::DescribeAddresses(input) => ok(&super::addresses::describe_addresses(&call, input).await?),
        Request::DescribeAddressesAttribute(input) => {
            ok(&super::addresses::describe_addresses_attribute(&call, input).await?)
        }
        Request::AssociateAddress(input) => ok(&super::addresses::associate_address(&call, input).await?),
        Request::DisassociateAddress(input) => {
            super::addresses::disassociate_address(&call, input).await?;
            done()
        }
        Request::ModifyAddressAttribute(input) => ok(&super::addresses::modify_address_attribute(&call, input).await?),
        Request::ModifyVpcTenancy(input) => ok(&vpcs::modify_vpc_tenancy(&call, input).await?),
        // key_pairs.rs
        Request::CreateKeyPair(input) => ok(&super::key_pairs::create_key_pair(&call, input).await?),
        Request::ImportKeyPair(input) => ok(&super::key_pairs::import_key_pair(&call, input).await?),
        Request::DescribeKeyPairs(input) => ok(&super::key_pairs::describe_key_pairs(&call, input).await?),
        Request::DeleteKeyPair(input) => ok(&super::key_pairs::delete_key_pair(&call, input).await?),
        // images.rs
        Request::DescribeImages(input) => ok(&super::images::describe_images(&call, input).await?),
        // endpoints.rs (VPC endpoints, endpoint services, prefix lists)
        Request::CreateVpcEndpoint(input) => ok(&endpoints::create_vpc_endpoint(&call, input).await?),
        Request::DescribeVpcEndpoints(input) => ok(&endpoints::describe_vpc_endpoints(&call, input).await?),
        Request::ModifyVpcEndpoint(input) => ok(&endpoints::modify_vpc_endpoint(&call, input).await?),
        Request::DeleteVpcEndpoints(input) => ok(&endpoints::delete_vpc_endpoints(&call, input).await?),
        Request::DescribeVpcEndpointServices(input) => {
            ok(&endpoints::describe_vpc_endpoint_services(&call, input).await?)
        }
        Request::DescribePrefixLists(input) => ok(&endpoints::describe_prefix_lists(&call, input).await?),
    })
}
