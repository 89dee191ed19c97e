//! aws-sdk-ec2 against Reservoir. aws-sdk-rust is stricter than botocore about the
//! response: it checks the root element name and accepts only `<item>` list entries,
//! and it range-checks nothing on the client side, so every bound here is the server's.

mod common;

use std::collections::HashSet;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification, Tenancy};
use common::{code_and_status, ec2, server, server_with};

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

#[tokio::test]
async fn regions_and_availability_zones() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "eu-west-1");

    // The regions enabled for a new account; the others only with AllRegions.
    let regions = client.describe_regions().send().await.unwrap();
    let names: Vec<&str> = regions.regions().iter().filter_map(|r| r.region_name()).collect();
    assert!(names.contains(&"us-east-1") && names.contains(&"eu-west-1") && names.len() >= 17, "{names:?}");
    assert!(!names.contains(&"af-south-1"), "{names:?}");
    let all = client.describe_regions().all_regions(true).send().await.unwrap();
    let cape_town = all.regions().iter().find(|r| r.region_name() == Some("af-south-1")).unwrap();
    assert_eq!(cape_town.opt_in_status(), Some("not-opted-in"));
    assert!(all.regions().len() > regions.regions().len());
    let use1 = regions.regions().iter().find(|r| r.region_name() == Some("us-east-1")).unwrap();
    assert_eq!(use1.endpoint(), Some("ec2.us-east-1.amazonaws.com"));
    assert_eq!(use1.opt_in_status(), Some("opt-in-not-required"));

    let eu = client.describe_regions().filters(filter("region-name", &["eu-*"])).send().await.unwrap();
    assert!(eu.regions().iter().all(|r| r.region_name().unwrap().starts_with("eu-")));

    let zones = client.describe_availability_zones().send().await.unwrap();
    let zone_names: Vec<&str> = zones.availability_zones().iter().filter_map(|z| z.zone_name()).collect();
    assert_eq!(zone_names, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
    let a = &zones.availability_zones()[0];
    assert_eq!(a.zone_id(), Some("euw1-az1"));
    assert_eq!(a.region_name(), Some("eu-west-1"));
    assert_eq!(a.state().map(|s| s.as_str()), Some("available"));

    let by_id = client.describe_availability_zones().zone_ids("euw1-az2").send().await.unwrap();
    assert_eq!(by_id.availability_zones()[0].zone_name(), Some("eu-west-1b"));

    let err = client.describe_availability_zones().zone_names("eu-west-1z").send().await.unwrap_err();
    assert_eq!(code_and_status(&err), ("InvalidParameterValue".into(), 400));
    let err = client.describe_regions().dry_run(true).send().await.unwrap_err();
    assert_eq!(code_and_status(&err), ("DryRunOperation".into(), 412));

    // A region that is not enabled refuses calls signed for it.
    let cape_town = ec2(&server, "AKIDEXAMPLE", "af-south-1");
    let err = cape_town.describe_vpcs().send().await.unwrap_err();
    assert_eq!(code_and_status(&err), ("OptInRequired".into(), 403));

    // Local Zones are listed only with AllAvailabilityZones until opted into.
    let oregon = ec2(&server, "AKIDEXAMPLE", "us-west-2");
    let zones = oregon.describe_availability_zones().send().await.unwrap();
    assert_eq!(zones.availability_zones().len(), 4);
    let all = oregon.describe_availability_zones().all_availability_zones(true).send().await.unwrap();
    let lax = all.availability_zones().iter().find(|z| z.zone_name() == Some("us-west-2-lax-1a")).unwrap();
    assert_eq!(lax.opt_in_status().map(|s| s.as_str()), Some("not-opted-in"));
    assert_eq!(lax.zone_type(), Some("local-zone"));
    assert_eq!(lax.parent_zone_id(), Some("usw2-az4"));
    assert_eq!(lax.network_border_group(), Some("us-west-2-lax-1"));
}

#[tokio::test]
async fn opted_in_regions_and_zones() {
    let mut config = reservoir::Config::ephemeral();
    config.opt_in = vec!["af-south-1".into(), "us-west-2-lax-1".into()];
    let server = server_with(config).await;
    let cape_town = ec2(&server, "AKIDEXAMPLE", "af-south-1");
    let vpcs = cape_town.describe_vpcs().send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "the default VPC of an opted-in region");
    let regions = cape_town.describe_regions().region_names("af-south-1").send().await.unwrap();
    assert_eq!(regions.regions()[0].opt_in_status(), Some("opted-in"));
    let zones = ec2(&server, "AKIDEXAMPLE", "us-west-2").describe_availability_zones().send().await.unwrap();
    assert_eq!(zones.availability_zones().len(), 6);
}

#[tokio::test]
async fn vpc_lifecycle_with_tags_and_filters() {
    let server = server().await;
    let client = ec2(&server, "123456789012", "us-east-1");

    // Every account has its default VPC.
    let vpcs = client.describe_vpcs().send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1);
    let default = &vpcs.vpcs()[0];
    assert_eq!(default.is_default(), Some(true));
    assert_eq!(default.cidr_block(), Some("172.31.0.0/16"));
    assert_eq!(default.owner_id(), Some("123456789012"));

    let created = client
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .instance_tenancy(Tenancy::Dedicated)
        .tag_specifications(
            TagSpecification::builder().resource_type(ResourceType::Vpc).tags(tag("Name", "sdk")).build(),
        )
        .send()
        .await
        .unwrap();
    let vpc = created.vpc().unwrap();
    let id = vpc.vpc_id().unwrap().to_string();
    assert!(id.starts_with("vpc-") && id.len() == 21, "{id}");
    assert_eq!(vpc.state().map(|s| s.as_str()), Some("pending"));
    assert_eq!(vpc.instance_tenancy(), Some(&Tenancy::Dedicated));
    assert_eq!(vpc.tags()[0].value(), Some("sdk"));
    let assoc = &vpc.cidr_block_association_set()[0];
    assert_eq!(assoc.cidr_block(), Some("10.20.0.0/16"));
    assert!(assoc.association_id().unwrap().starts_with("vpc-cidr-assoc-"));

    let described = client.describe_vpcs().vpc_ids(&id).send().await.unwrap();
    assert_eq!(described.vpcs()[0].state().map(|s| s.as_str()), Some("available"));

    for (f, want) in [
        (filter("tag:Name", &["sdk"]), vec![id.as_str()]),
        (filter("cidr", &["10.20.*"]), vec![id.as_str()]),
        (
            filter("cidr-block-association.cidr-block", &["10.20.0.0/16", "172.31.0.0/16"]),
            vec![default.vpc_id().unwrap(), id.as_str()],
        ),
        (filter("is-default", &["false"]), vec![id.as_str()]),
        (filter("tag-key", &["Nam?"]), vec![id.as_str()]),
        (filter("state", &["pending"]), vec![]),
    ] {
        let got = client.describe_vpcs().filters(f.clone()).send().await.unwrap();
        let got: Vec<&str> = got.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
        assert_eq!(got, want, "{f:?}");
    }
    // AND across filters.
    let none = client
        .describe_vpcs()
        .filters(filter("tag:Name", &["sdk"]))
        .filters(filter("is-default", &["true"]))
        .send()
        .await
        .unwrap();
    assert!(none.vpcs().is_empty());

    client.delete_vpc().vpc_id(&id).send().await.unwrap();
    let err = client.describe_vpcs().vpc_ids(&id).send().await.unwrap_err();
    assert_eq!(code_and_status(&err), ("InvalidVpcID.NotFound".into(), 400));
    let err = client.delete_vpc().vpc_id(&id).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidVpcID.NotFound");
}

#[tokio::test]
async fn vpc_errors() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "us-east-1");
    let cases = [
        (client.create_vpc().cidr_block("10.0.0.0/8").send().await.unwrap_err(), "InvalidVpc.Range"),
        (client.create_vpc().cidr_block("10.0.0/16").send().await.unwrap_err(), "InvalidParameterValue"),
        (client.create_vpc().send().await.unwrap_err(), "MissingParameter"),
        (
            client.create_vpc().cidr_block("10.0.0.0/16").instance_tenancy(Tenancy::Host).send().await.unwrap_err(),
            "InvalidParameterValue",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(code_and_status(&err), (code.to_string(), 400));
    }
    let err = client.delete_vpc().vpc_id("vpc-123").send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidVpcID.Malformed");
    // aws-sdk-rust checks no ranges: the server enforces the model's 5–1000.
    let err = client.describe_vpcs().max_results(4).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidParameterValue");
    let err = client.describe_vpcs().filters(filter("colour", &["blue"])).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidParameterValue");
    // An empty value list travels as a bare `Filter.1.Value=`: an empty list, refused.
    let err = client.describe_vpcs().filters(filter("state", &[])).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidParameterValue");

    // DryRun validates, then answers 412 and changes nothing.
    let err = client.create_vpc().cidr_block("10.9.0.0/16").dry_run(true).send().await.unwrap_err();
    assert_eq!(code_and_status(&err), ("DryRunOperation".into(), 412));
    let err = client.create_vpc().cidr_block("10.0.0.0/8").dry_run(true).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidVpc.Range", "validation wins over DryRun");
    assert_eq!(client.describe_vpcs().send().await.unwrap().vpcs().len(), 1);
}

/// What real tools send: a CIDR with host bits (canonical form, as the API reference says)
/// and the filter names Ansible's `ec2_vpc_net` and Terraform's `aws_vpc` use.
#[tokio::test]
async fn canonical_cidrs_and_the_filter_names_tools_send() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "us-east-1");
    let created = client
        .create_vpc()
        .cidr_block("100.68.0.18/18")
        .tag_specifications(
            TagSpecification::builder().resource_type(ResourceType::Vpc).tags(tag("Name", "ansible")).build(),
        )
        .send()
        .await
        .unwrap();
    let vpc = created.vpc().unwrap();
    assert_eq!(vpc.cidr_block(), Some("100.68.0.0/18"));
    let id = vpc.vpc_id().unwrap();
    let found = client
        .describe_vpcs()
        .filters(filter("tag:Name", &["ansible"]))
        .filters(filter("cidr-block", &["100.68.0.0/18"]))
        .send()
        .await
        .unwrap();
    assert_eq!(found.vpcs().iter().filter_map(|v| v.vpc_id()).collect::<Vec<_>>(), [id]);
    let default = client.describe_vpcs().filters(filter("isDefault", &["true"])).send().await.unwrap();
    assert_eq!(default.vpcs().len(), 1);
    assert_eq!(default.vpcs()[0].is_default(), Some(true));
    let by_value = client.describe_vpcs().filters(filter("tag-value", &["ansi*"])).send().await.unwrap();
    assert_eq!(by_value.vpcs().len(), 1);
}

/// No quota unless configured; `Quotas::aws_defaults` is AWS's behaviour.
#[tokio::test]
async fn quotas_are_opt_in() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "us-east-1");
    for i in 0..8 {
        client.create_vpc().cidr_block(format!("10.{i}.0.0/16")).send().await.unwrap();
    }
    let mut config = reservoir::Config::ephemeral();
    config.quotas = reservoir::Quotas::aws_defaults();
    let strict = server_with(config).await;
    let client = ec2(&strict, "AKIDEXAMPLE", "us-east-1");
    for i in 0..4 {
        client.create_vpc().cidr_block(format!("10.{i}.0.0/16")).send().await.unwrap();
    }
    let err = client.create_vpc().cidr_block("10.9.0.0/16").send().await.unwrap_err();
    assert_eq!(code_and_status(&err), ("VpcLimitExceeded".into(), 400));
}

#[tokio::test]
async fn vpc_pagination_with_the_paginator() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "us-east-1");
    let mut created = HashSet::new();
    for i in 0..12 {
        let v = client.create_vpc().cidr_block(format!("10.{i}.0.0/16")).send().await.unwrap();
        created.insert(v.vpc().unwrap().vpc_id().unwrap().to_string());
    }
    let pages: Vec<_> =
        client.describe_vpcs().into_paginator().page_size(5).send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(pages.len(), 3);
    let mut seen = HashSet::new();
    for page in &pages {
        for v in page.vpcs() {
            assert!(seen.insert(v.vpc_id().unwrap().to_string()), "duplicate {v:?}");
        }
    }
    assert_eq!(seen.len(), 13);
    assert!(created.is_subset(&seen));

    let first = client.describe_vpcs().max_results(5).send().await.unwrap();
    let token = first.next_token().unwrap();
    // A token is bound to its request: other filters, or a forged token, are refused.
    let err = client
        .describe_vpcs()
        .max_results(5)
        .next_token(token)
        .filters(filter("state", &["available"]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidNextToken");
    let err = client.describe_vpcs().next_token("forged.token").send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidNextToken");
    // The same request continues; MaxResults may change between pages.
    let second = client.describe_vpcs().max_results(1000).next_token(token).send().await.unwrap();
    assert_eq!(second.vpcs().len(), 8);
    assert!(second.next_token().is_none());
}

#[tokio::test]
async fn tags_on_vpcs() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "us-east-1");
    let id = client
        .create_vpc()
        .cidr_block("10.1.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();

    client.create_tags().resources(&id).tags(tag("env", "prod")).tags(tag("team", "net")).send().await.unwrap();
    let tags = client.describe_tags().filters(filter("resource-id", &[&id])).send().await.unwrap();
    let got: Vec<(&str, &str, &str)> = tags
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap(), t.resource_type().unwrap().as_str()))
        .collect();
    assert_eq!(got, [("env", "prod", "vpc"), ("team", "net", "vpc")]);

    let by_value = client.describe_tags().filters(filter("value", &["pr*"])).send().await.unwrap();
    assert_eq!(by_value.tags().len(), 1);

    // DeleteTags with a value deletes only when it matches.
    client.delete_tags().resources(&id).tags(tag("env", "dev")).send().await.unwrap();
    client.delete_tags().resources(&id).tags(Tag::builder().key("team").build()).send().await.unwrap();
    let left = client.describe_tags().send().await.unwrap();
    let keys: Vec<&str> = left.tags().iter().filter_map(|t| t.key()).collect();
    assert_eq!(keys, ["env"]);

    let err = client.create_tags().resources("vpc-0123456789abcdef0").tags(tag("a", "b")).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidVpcID.NotFound");
    let err = client.create_tags().resources("nothing-123").tags(tag("a", "b")).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidID");
    let err = client.create_tags().resources(&id).tags(tag("aws:reserved", "b")).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidParameterValue");
    let mut many = client.create_tags().resources(&id);
    for i in 0..50 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    let err = many.send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "TagLimitExceeded");
    let err = client.describe_tags().max_results(4).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidParameterValue");
}

#[tokio::test]
async fn accounts_and_regions_are_isolated() {
    let server = server().await;
    let a = ec2(&server, "111111111111", "us-east-1");
    let b = ec2(&server, "222222222222", "us-east-1");
    let a_west = ec2(&server, "111111111111", "us-west-2");
    let id =
        a.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let err = b.describe_vpcs().vpc_ids(&id).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidVpcID.NotFound");
    let err = a_west.delete_vpc().vpc_id(&id).send().await.unwrap_err();
    assert_eq!(code_and_status(&err).0, "InvalidVpcID.NotFound");
    assert_eq!(b.describe_vpcs().send().await.unwrap().vpcs()[0].owner_id(), Some("222222222222"));
    assert_eq!(a_west.describe_vpcs().send().await.unwrap().vpcs().len(), 1);
}

#[tokio::test]
async fn the_server_stops_when_dropped() {
    let server = server().await;
    let addr = server.addr();
    drop(server);
    // Shutdown is asynchronous; the listener closes within a few scheduler turns.
    let mut refused = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "still accepting connections on {addr}");
}
