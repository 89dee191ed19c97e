//! aws-sdk-ec2 runs the customer-owned IP story: local gateway → route table (coip mode)
//! → pool → two CIDRs → allocate until exhausted → usage lists every address once, with
//! filters and pages → release → the address is reusable → deletes refused while in use,
//! allowed after; an Elastic IP allocated, associated with an instance, disassociated and
//! released.

mod common;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use aws_sdk_ec2::types::{Filter, LocalGatewayRouteTableMode};
use common::{code_and_status, ec2, server};

const CIDRS: [(&str, u32); 2] = [("10.77.0.0/29", 8), ("10.77.1.0/30", 4)];

fn addresses_of(cidr: &str, n: u32) -> Vec<String> {
    let base: Ipv4Addr = cidr.split('/').next().unwrap().parse().unwrap();
    (0..n).map(|i| Ipv4Addr::from(u32::from(base) + i).to_string()).collect()
}

async fn usage(
    client: &aws_sdk_ec2::Client,
    pool: &str,
    filter: Option<Filter>,
    page: Option<i32>,
) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let r = client
            .get_coip_pool_usage()
            .pool_id(pool)
            .set_filters(filter.clone().map(|f| vec![f]))
            .set_max_results(page)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        for u in r.coip_address_usages() {
            rows.push((u.co_ip().unwrap().to_string(), u.aws_account_id().unwrap_or_default().to_string()));
        }
        token = r.next_token().map(str::to_string);
        if token.is_none() {
            return rows;
        }
    }
}

#[tokio::test]
async fn customer_owned_ip_story() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", "us-east-1");
    let lgws = client.describe_local_gateways().send().await.unwrap();
    let lgw = lgws.local_gateways()[0].local_gateway_id().unwrap().to_string();
    let rtb = client
        .create_local_gateway_route_table()
        .local_gateway_id(&lgw)
        .mode(LocalGatewayRouteTableMode::Coip)
        .send()
        .await
        .unwrap()
        .local_gateway_route_table
        .unwrap()
        .local_gateway_route_table_id
        .unwrap();
    let pool = client
        .create_coip_pool()
        .local_gateway_route_table_id(&rtb)
        .send()
        .await
        .unwrap()
        .coip_pool
        .unwrap()
        .pool_id
        .unwrap();
    for (cidr, _) in CIDRS {
        client.create_coip_cidr().cidr(cidr).coip_pool_id(&pool).send().await.unwrap();
    }
    let every: BTreeSet<String> = CIDRS.iter().flat_map(|(c, n)| addresses_of(c, *n)).collect();

    let mut allocated = Vec::new();
    loop {
        match client.allocate_address().customer_owned_ipv4_pool(&pool).send().await {
            Ok(a) => allocated.push((a.allocation_id.unwrap(), a.customer_owned_ip.unwrap())),
            Err(e) => {
                assert_eq!(code_and_status(&e).1, 400);
                break;
            }
        }
        assert!(allocated.len() <= every.len(), "more addresses than the pool has");
    }
    let ips: BTreeSet<String> = allocated.iter().map(|(_, ip)| ip.clone()).collect();
    assert_eq!(ips, every);

    let rows = usage(&client, &pool, None, Some(5)).await;
    assert_eq!(rows.len(), every.len());
    assert_eq!(rows.iter().map(|(ip, _)| ip.clone()).collect::<BTreeSet<_>>(), every);
    assert!(rows.iter().all(|(_, account)| account == "000000000000"));
    let second = Filter::builder().name("coip-address-usage.co-ip").values("10.77.1.*").build();
    assert_eq!(usage(&client, &pool, Some(second), None).await.len(), 4);

    let (freed_id, freed_ip) = allocated.pop().unwrap();
    client.release_address().allocation_id(&freed_id).send().await.unwrap();
    let again = client.allocate_address().customer_owned_ipv4_pool(&pool).address(&freed_ip).send().await.unwrap();
    assert_eq!(again.customer_owned_ip(), Some(freed_ip.as_str()));
    allocated.push((again.allocation_id.unwrap(), freed_ip));

    let refused = client.delete_coip_pool().coip_pool_id(&pool).send().await.unwrap_err();
    assert_eq!(code_and_status(&refused), ("DependencyViolation".to_string(), 400));
    for (id, _) in &allocated {
        client.release_address().allocation_id(id).send().await.unwrap();
    }
    for (cidr, _) in CIDRS {
        client.delete_coip_cidr().cidr(cidr).coip_pool_id(&pool).send().await.unwrap();
    }
    client.delete_coip_pool().coip_pool_id(&pool).send().await.unwrap();
    client.delete_local_gateway_route_table().local_gateway_route_table_id(&rtb).send().await.unwrap();

    // An Elastic IP of Amazon's with an instance.
    let instance = client
        .run_instances()
        .image_id("ami-0123456789abcdef0")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    let eip = client.allocate_address().domain(aws_sdk_ec2::types::DomainType::Vpc).send().await.unwrap();
    let (alloc, public) = (eip.allocation_id.unwrap(), eip.public_ip.unwrap());
    let assoc = client
        .associate_address()
        .allocation_id(&alloc)
        .instance_id(&instance)
        .send()
        .await
        .unwrap()
        .association_id
        .unwrap();
    let seen = client.describe_instances().instance_ids(&instance).send().await.unwrap();
    assert_eq!(seen.reservations()[0].instances()[0].public_ip_address(), Some(public.as_str()));
    client.disassociate_address().association_id(&assoc).send().await.unwrap();
    client.release_address().allocation_id(&alloc).send().await.unwrap();
    assert!(client.describe_addresses().send().await.unwrap().addresses().is_empty());
}
