//! aws-sdk-ec2 builds the two-tier network infrastructure code builds — VPC, public and
//! private subnets in two zones, internet gateway, route tables and associations,
//! security groups that reference each other, interfaces with private addresses — and
//! tears it down in the order AWS demands, with every refusal on the way.

mod common;

use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, IpPermission, IpRange, UserIdGroupPair};
use common::{code_and_status, ec2, server};

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

fn from_group(port: i32, group: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        .build()
}

macro_rules! refused {
    ($code:expr, $call:expr) => {{
        let err = $call.send().await.expect_err(concat!("refused: ", stringify!($call)));
        assert_eq!(code_and_status(&err), ($code.to_string(), 400), "{}", stringify!($call));
    }};
}

#[tokio::test]
async fn a_two_tier_network_built_and_torn_down() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "eu-west-1");

    let vpc = client.create_vpc().cidr_block("10.40.0.0/16").send().await.unwrap().vpc.unwrap().vpc_id.unwrap();
    client
        .modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .unwrap();
    let hostnames = client
        .describe_vpc_attribute()
        .vpc_id(&vpc)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(hostnames.enable_dns_hostnames().and_then(|v| v.value()), Some(true));

    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.40.0.0/24", "eu-west-1a"),
        ("10.40.1.0/24", "eu-west-1b"),
        ("10.40.10.0/24", "eu-west-1a"),
        ("10.40.11.0/24", "eu-west-1b"),
    ] {
        let s = client.create_subnet().vpc_id(&vpc).cidr_block(cidr).availability_zone(zone).send().await.unwrap();
        let s = s.subnet.unwrap();
        assert_eq!(s.available_ip_address_count(), Some(251));
        subnets.push(s.subnet_id.unwrap());
    }
    let (public, private) = (&subnets[..2], &subnets[2..]);
    refused!(
        "InvalidSubnet.Conflict",
        client.create_subnet().vpc_id(&vpc).cidr_block("10.40.0.0/25").availability_zone("eu-west-1a")
    );

    let igw = client.create_internet_gateway().send().await.unwrap().internet_gateway.unwrap();
    let igw = igw.internet_gateway_id.unwrap();
    client.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();

    let public_rt = client.create_route_table().vpc_id(&vpc).send().await.unwrap().route_table.unwrap();
    let public_rt = public_rt.route_table_id.unwrap();
    client
        .create_route()
        .route_table_id(&public_rt)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .unwrap();
    let mut associations = Vec::new();
    for s in public {
        let a = client.associate_route_table().route_table_id(&public_rt).subnet_id(s).send().await.unwrap();
        associations.push(a.association_id.unwrap());
    }
    let private_rt = client.create_route_table().vpc_id(&vpc).send().await.unwrap().route_table.unwrap();
    let private_rt = private_rt.route_table_id.unwrap();
    for s in private {
        let a = client.associate_route_table().route_table_id(&private_rt).subnet_id(s).send().await.unwrap();
        associations.push(a.association_id.unwrap());
    }
    let tables = client.describe_route_tables().filters(filter("vpc-id", &[&vpc])).send().await.unwrap();
    assert_eq!(tables.route_tables().len(), 3);

    let mut groups = Vec::new();
    for name in ["alb", "web", "db"] {
        let g = client.create_security_group().vpc_id(&vpc).group_name(name).description(name).send().await.unwrap();
        groups.push(g.group_id.unwrap());
    }
    let (alb, web, db) = (&groups[0], &groups[1], &groups[2]);
    client
        .authorize_security_group_ingress()
        .group_id(alb)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    client.authorize_security_group_ingress().group_id(web).ip_permissions(from_group(80, alb)).send().await.unwrap();
    client.authorize_security_group_ingress().group_id(db).ip_permissions(from_group(5432, web)).send().await.unwrap();
    client.authorize_security_group_egress().group_id(alb).ip_permissions(from_group(80, web)).send().await.unwrap();
    refused!(
        "InvalidPermission.Duplicate",
        client.authorize_security_group_ingress().group_id(web).ip_permissions(from_group(80, alb))
    );

    let mut interfaces = Vec::new();
    for s in private {
        let eni = client.create_network_interface().subnet_id(s).groups(web).send().await.unwrap();
        let eni = eni.network_interface.unwrap();
        assert!(eni.private_ip_address().unwrap().starts_with("10.40.1"));
        interfaces.push(eni.network_interface_id.unwrap());
    }
    let fixed = client
        .create_network_interface()
        .subnet_id(&private[0])
        .groups(db)
        .private_ip_address("10.40.10.50")
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.network_interface().and_then(|e| e.private_ip_address()), Some("10.40.10.50"));
    interfaces.push(fixed.network_interface.unwrap().network_interface_id.unwrap());
    refused!(
        "InvalidIPAddress.InUse",
        client.create_network_interface().subnet_id(&private[0]).private_ip_address("10.40.10.50")
    );
    let count = client.describe_subnets().subnet_ids(&private[0]).send().await.unwrap();
    assert_eq!(count.subnets()[0].available_ip_address_count(), Some(249));

    // Tear-down, with AWS's refusals.
    refused!("DependencyViolation", client.delete_vpc().vpc_id(&vpc));
    refused!("DependencyViolation", client.delete_subnet().subnet_id(&private[0]));
    refused!("DependencyViolation", client.delete_security_group().group_id(web));
    refused!("DependencyViolation", client.delete_internet_gateway().internet_gateway_id(&igw));
    refused!("DependencyViolation", client.delete_route_table().route_table_id(&public_rt));
    for eni in &interfaces {
        client.delete_network_interface().network_interface_id(eni).send().await.unwrap();
    }
    client.revoke_security_group_ingress().group_id(db).ip_permissions(from_group(5432, web)).send().await.unwrap();
    client.revoke_security_group_egress().group_id(alb).ip_permissions(from_group(80, web)).send().await.unwrap();
    for g in [web, alb, db] {
        client.delete_security_group().group_id(g).send().await.unwrap();
    }
    for a in &associations {
        client.disassociate_route_table().association_id(a).send().await.unwrap();
    }
    client.delete_route_table().route_table_id(&public_rt).send().await.unwrap();
    client.delete_route_table().route_table_id(&private_rt).send().await.unwrap();
    refused!("DependencyViolation", client.delete_vpc().vpc_id(&vpc));
    client.detach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();
    refused!("Gateway.NotAttached", client.detach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc));
    client.delete_internet_gateway().internet_gateway_id(&igw).send().await.unwrap();
    for s in &subnets {
        client.delete_subnet().subnet_id(s).send().await.unwrap();
    }
    client.delete_vpc().vpc_id(&vpc).send().await.unwrap();
    let left = client.describe_security_groups().filters(filter("vpc-id", &[&vpc])).send().await.unwrap();
    assert!(left.security_groups().is_empty());
}

#[tokio::test]
async fn the_default_vpc_comes_with_its_network() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "eu-west-1");
    let vpcs = client.describe_vpcs().filters(filter("is-default", &["true"])).send().await.unwrap();
    let vpc = vpcs.vpcs()[0].vpc_id().unwrap().to_string();
    let subnets = client.describe_subnets().filters(filter("vpc-id", &[&vpc])).send().await.unwrap();
    let mut found: Vec<(String, String)> = subnets
        .subnets()
        .iter()
        .map(|s| (s.availability_zone().unwrap().to_string(), s.cidr_block().unwrap().to_string()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("eu-west-1a".to_string(), "172.31.0.0/20".to_string()),
            ("eu-west-1b".to_string(), "172.31.16.0/20".to_string()),
            ("eu-west-1c".to_string(), "172.31.32.0/20".to_string()),
        ]
    );
    assert!(
        subnets.subnets().iter().all(|s| s.default_for_az() == Some(true) && s.map_public_ip_on_launch() == Some(true))
    );
    let igws = client.describe_internet_gateways().filters(filter("attachment.vpc-id", &[&vpc])).send().await.unwrap();
    assert_eq!(igws.internet_gateways().len(), 1);
    let groups = client.describe_security_groups().filters(filter("vpc-id", &[&vpc])).send().await.unwrap();
    assert_eq!(groups.security_groups()[0].group_name(), Some("default"));
    let acls = client.describe_network_acls().filters(filter("vpc-id", &[&vpc])).send().await.unwrap();
    assert_eq!(acls.network_acls()[0].is_default(), Some(true));
    let err = client.create_default_vpc().send().await.unwrap_err();
    assert_eq!(code_and_status(&err), ("DefaultVpcAlreadyExists".into(), 400));
}
