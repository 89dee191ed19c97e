//! aws-sdk-ec2 against Reservoir's VPC IP Address Manager: IPAMs, scopes, pools, their
//! CIDRs and allocations, VPCs taking their CIDR from a pool, the codes of its errors,
//! IPv6 pools, and concurrent allocation from one pool.

mod common;

use std::collections::HashSet;
use std::net::IpAddr;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    AddIpamOperatingRegion, AddressFamily, Filter, IpamComplianceStatus, IpamManagementState, IpamPoolAllocation,
    IpamPoolAllocationResourceType, IpamPoolCidrState, IpamPoolState, IpamResourceType, IpamState,
};
use common::{ec2, server};

const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

/// The AWS error code of a failed call, read from the service error
/// (`SdkError::into_service_error` and `ProvideErrorMetadata::code`).
macro_rules! code {
    ($call:expr) => {{
        let err = $call.send().await.expect_err("the call should fail");
        let shown = format!("{err:?}");
        let service = err.into_service_error();
        service.code().map(str::to_string).unwrap_or_else(|| format!("<no code: {shown}>"))
    }};
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

fn region(name: &str) -> AddIpamOperatingRegion {
    AddIpamOperatingRegion::builder().region_name(name).build()
}

/// A CIDR as its first and last address (`ipnet` is not a dependency of this crate).
fn range(cidr: &str) -> (u128, u128) {
    let (addr, len) = cidr.split_once('/').unwrap_or_else(|| panic!("not a CIDR: {cidr}"));
    let len: u32 = len.parse().unwrap();
    let (start, bits) = match addr.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    assert!(len <= bits && len > 0, "{cidr}");
    let size = 1u128 << (bits - len);
    assert_eq!(start % size, 0, "{cidr} has host bits");
    (start, start + (size - 1))
}

fn contains(outer: &str, inner: &str) -> bool {
    let (o, i) = (range(outer), range(inner));
    o.0 <= i.0 && i.1 <= o.1
}

fn overlaps(a: &str, b: &str) -> bool {
    let (a, b) = (range(a), range(b));
    a.0 <= b.1 && b.0 <= a.1
}

fn is_allocation_id(id: &str) -> bool {
    id.strip_prefix("ipam-pool-alloc-")
        .is_some_and(|h| h.len() == 33 && h.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)))
}

async fn allocations(client: &Client, pool: &str) -> Vec<IpamPoolAllocation> {
    let got = client.get_ipam_pool_allocations().ipam_pool_id(pool).send().await.unwrap();
    assert!(got.next_token().is_none());
    got.ipam_pool_allocations().to_vec()
}

fn cidrs(allocations: &[IpamPoolAllocation]) -> Vec<&str> {
    allocations.iter().map(|a| a.cidr().unwrap()).collect()
}

fn assert_address_order(allocations: &[IpamPoolAllocation]) {
    let starts: Vec<u128> = allocations.iter().map(|a| range(a.cidr().unwrap()).0).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "not in address order: {:?}", cidrs(allocations));
}

/// An IPAM operating in `REGION` only; answers its id and its private default scope.
async fn ipam(client: &Client) -> (String, String) {
    let out = client.create_ipam().operating_regions(region(REGION)).send().await.unwrap();
    let ipam = out.ipam().unwrap();
    (ipam.ipam_id().unwrap().to_string(), ipam.private_default_scope_id().unwrap().to_string())
}

async fn pool(client: &Client, scope: &str, family: AddressFamily, cidr: Option<&str>) -> String {
    let out =
        client.create_ipam_pool().ipam_scope_id(scope).address_family(family).locale(REGION).send().await.unwrap();
    let id = out.ipam_pool().unwrap().ipam_pool_id().unwrap().to_string();
    if let Some(cidr) = cidr {
        let got = client.provision_ipam_pool_cidr().ipam_pool_id(&id).cidr(cidr).send().await.unwrap();
        assert_eq!(got.ipam_pool_cidr().unwrap().state(), Some(&IpamPoolCidrState::Provisioned));
    }
    id
}

async fn allocate(client: &Client, pool: &str, netmask: i32) -> IpamPoolAllocation {
    let out = client.allocate_ipam_pool_cidr().ipam_pool_id(pool).netmask_length(netmask).send().await.unwrap();
    out.ipam_pool_allocation().unwrap().clone()
}

#[tokio::test]
async fn the_ipam_story() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", REGION);

    // An IPAM and its two default scopes, settled at once.
    let out =
        client.create_ipam().operating_regions(region(REGION)).operating_regions(region("us-west-2")).send().await;
    let ipam = out.unwrap().ipam().unwrap().clone();
    let ipam_id = ipam.ipam_id().unwrap().to_string();
    assert!(ipam_id.starts_with("ipam-"), "{ipam_id}");
    assert_eq!(ipam.ipam_region(), Some(REGION));
    assert_eq!(ipam.owner_id(), Some(ACCOUNT));
    assert_eq!(ipam.scope_count(), Some(2));
    assert_eq!(ipam.state(), Some(&IpamState::CreateComplete));
    let mut regions: Vec<&str> = ipam.operating_regions().iter().filter_map(|r| r.region_name()).collect();
    regions.sort();
    assert_eq!(regions, [REGION, "us-west-2"]);
    let public = ipam.public_default_scope_id().expect("a public default scope");
    let private = ipam.private_default_scope_id().expect("a private default scope");
    assert!(public.starts_with("ipam-scope-") && private.starts_with("ipam-scope-") && public != private);
    let defaults = client.describe_ipam_scopes().ipam_scope_ids(public).ipam_scope_ids(private).send().await.unwrap();
    assert_eq!(defaults.ipam_scopes().len(), 2);
    assert!(defaults.ipam_scopes().iter().all(|s| s.is_default() == Some(true)));

    // A custom scope; a top-level IPv4 pool in it with allocation bounds.
    let out = client.create_ipam_scope().ipam_id(&ipam_id).send().await.unwrap();
    let scope = out.ipam_scope().unwrap().ipam_scope_id().unwrap().to_string();
    assert!(scope.starts_with("ipam-scope-") && scope != public && scope != private, "{scope}");
    let out = client
        .create_ipam_pool()
        .ipam_scope_id(&scope)
        .address_family(AddressFamily::Ipv4)
        .locale(REGION)
        .allocation_min_netmask_length(16)
        .allocation_max_netmask_length(28)
        .send()
        .await
        .unwrap();
    let top = out.ipam_pool().unwrap();
    assert_eq!(top.state(), Some(&IpamPoolState::CreateComplete));
    assert_eq!(top.locale(), Some(REGION));
    assert_eq!((top.allocation_min_netmask_length(), top.allocation_max_netmask_length()), (Some(16), Some(28)));
    let parent = top.ipam_pool_id().unwrap().to_string();
    assert!(parent.starts_with("ipam-pool-"), "{parent}");
    let out = client.provision_ipam_pool_cidr().ipam_pool_id(&parent).cidr("10.0.0.0/8").send().await.unwrap();
    let provisioned = out.ipam_pool_cidr().unwrap();
    assert_eq!(provisioned.cidr(), Some("10.0.0.0/8"));
    assert_eq!(provisioned.state(), Some(&IpamPoolCidrState::Provisioned));

    // A nested pool takes a /16 from its source pool: the parent lists it as an allocation.
    let out = client
        .create_ipam_pool()
        .ipam_scope_id(&scope)
        .address_family(AddressFamily::Ipv4)
        .locale(REGION)
        .source_ipam_pool_id(&parent)
        .send()
        .await
        .unwrap();
    let nested = out.ipam_pool().unwrap().ipam_pool_id().unwrap().to_string();
    assert_eq!(out.ipam_pool().unwrap().source_ipam_pool_id(), Some(parent.as_str()));
    let out = client.provision_ipam_pool_cidr().ipam_pool_id(&nested).netmask_length(16).send().await.unwrap();
    assert_eq!(out.ipam_pool_cidr().unwrap().state(), Some(&IpamPoolCidrState::Provisioned));
    let nested_cidrs = client.get_ipam_pool_cidrs().ipam_pool_id(&nested).send().await.unwrap();
    let nested_cidrs: Vec<&str> = nested_cidrs.ipam_pool_cidrs().iter().filter_map(|c| c.cidr()).collect();
    assert_eq!(nested_cidrs, ["10.0.0.0/16"], "lowest block first");
    let of_parent = allocations(&client, &parent).await;
    assert_eq!(of_parent.len(), 1, "{of_parent:?}");
    assert_eq!(of_parent[0].resource_type(), Some(&IpamPoolAllocationResourceType::IpamPool));
    assert_eq!(of_parent[0].resource_id(), Some(nested.as_str()));
    assert_eq!(of_parent[0].cidr(), Some("10.0.0.0/16"));

    // Custom allocations: by netmask length (lowest free block first), then by CIDR.
    let by_length = allocate(&client, &nested, 24).await;
    assert_eq!(by_length.cidr(), Some("10.0.0.0/24"));
    assert_eq!(by_length.resource_type(), Some(&IpamPoolAllocationResourceType::Custom));
    assert!(is_allocation_id(by_length.ipam_pool_allocation_id().unwrap()), "{by_length:?}");
    let out = client.allocate_ipam_pool_cidr().ipam_pool_id(&nested).cidr("10.0.200.0/24").send().await.unwrap();
    let by_cidr = out.ipam_pool_allocation().unwrap().clone();
    assert_eq!(by_cidr.cidr(), Some("10.0.200.0/24"));
    assert!(is_allocation_id(by_cidr.ipam_pool_allocation_id().unwrap()), "{by_cidr:?}");
    assert_ne!(by_cidr.ipam_pool_allocation_id(), by_length.ipam_pool_allocation_id());
    // A preview answers the next block and keeps nothing.
    let out = client
        .allocate_ipam_pool_cidr()
        .ipam_pool_id(&nested)
        .netmask_length(24)
        .preview_next_cidr(true)
        .send()
        .await
        .unwrap();
    let preview = out.ipam_pool_allocation().unwrap();
    assert_eq!(preview.cidr(), Some("10.0.1.0/24"));
    assert_eq!(preview.ipam_pool_allocation_id(), None);
    assert_eq!(cidrs(&allocations(&client, &nested).await), ["10.0.0.0/24", "10.0.200.0/24"]);

    // A VPC takes its CIDR from the nested pool.
    let out = client.create_vpc().ipv4_ipam_pool_id(&nested).ipv4_netmask_length(20).send().await.unwrap();
    let vpc = out.vpc().unwrap();
    let vpc_id = vpc.vpc_id().unwrap().to_string();
    let vpc_cidr = vpc.cidr_block().unwrap().to_string();
    assert!(vpc_cidr.ends_with("/20") && contains("10.0.0.0/16", &vpc_cidr), "{vpc_cidr}");
    assert!(!overlaps(&vpc_cidr, "10.0.0.0/24") && !overlaps(&vpc_cidr, "10.0.200.0/24"), "{vpc_cidr}");
    let of_nested = allocations(&client, &nested).await;
    assert_eq!(of_nested.len(), 3, "{of_nested:?}");
    assert_address_order(&of_nested);
    let for_vpc: Vec<_> =
        of_nested.iter().filter(|a| a.resource_type() == Some(&IpamPoolAllocationResourceType::Vpc)).collect();
    assert_eq!(for_vpc.len(), 1, "{of_nested:?}");
    assert_eq!(for_vpc[0].resource_id(), Some(vpc_id.as_str()));
    assert_eq!(for_vpc[0].resource_owner(), Some(ACCOUNT));
    assert_eq!(for_vpc[0].resource_region(), Some(REGION));
    assert_eq!(for_vpc[0].cidr(), Some(vpc_cidr.as_str()));

    let custom = client
        .get_ipam_pool_allocations()
        .ipam_pool_id(&nested)
        .filters(filter("resource-type", &["custom"]))
        .send()
        .await
        .unwrap();
    let custom = custom.ipam_pool_allocations();
    assert_eq!(cidrs(custom), ["10.0.0.0/24", "10.0.200.0/24"]);
    assert!(custom.iter().all(|a| a.resource_type() == Some(&IpamPoolAllocationResourceType::Custom)));

    // The custom scope monitors the VPC's CIDR: managed by the pool, compliant.
    let monitored = client.get_ipam_resource_cidrs().ipam_scope_id(&scope).send().await.unwrap();
    let rows: Vec<_> =
        monitored.ipam_resource_cidrs().iter().filter(|r| r.resource_id() == Some(vpc_id.as_str())).collect();
    assert_eq!(rows.len(), 1, "{:?}", monitored.ipam_resource_cidrs());
    let row = rows[0];
    assert_eq!(row.resource_cidr(), Some(vpc_cidr.as_str()));
    assert_eq!(row.resource_type(), Some(&IpamResourceType::Vpc));
    assert_eq!(row.ipam_pool_id(), Some(nested.as_str()));
    assert_eq!(row.ipam_scope_id(), Some(scope.as_str()));
    assert_eq!(row.resource_owner_id(), Some(ACCOUNT));
    assert_eq!(row.resource_region(), Some(REGION));
    assert_eq!(row.management_state(), Some(&IpamManagementState::Managed));
    assert_eq!(row.compliance_status(), Some(&IpamComplianceStatus::Compliant));

    // Releasing a custom allocation; deleting the VPC frees its allocation at once.
    let out = client
        .release_ipam_pool_allocation()
        .ipam_pool_id(&nested)
        .cidr("10.0.200.0/24")
        .ipam_pool_allocation_id(by_cidr.ipam_pool_allocation_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.success(), Some(true));
    client.delete_vpc().vpc_id(&vpc_id).send().await.unwrap();
    assert_eq!(cidrs(&allocations(&client, &nested).await), ["10.0.0.0/24"]);

    // A CIDR with allocations in it cannot be deprovisioned; once empty it can.
    let out = client.deprovision_ipam_pool_cidr().ipam_pool_id(&nested).cidr("10.0.0.0/16").send().await.unwrap();
    let failed = out.ipam_pool_cidr().unwrap();
    assert_eq!(failed.state(), Some(&IpamPoolCidrState::FailedDeprovision), "{failed:?}");
    assert_eq!(failed.cidr(), Some("10.0.0.0/16"));
    assert_eq!(cidrs(&allocations(&client, &parent).await), ["10.0.0.0/16"]);
    let out = client
        .release_ipam_pool_allocation()
        .ipam_pool_id(&nested)
        .cidr("10.0.0.0/24")
        .ipam_pool_allocation_id(by_length.ipam_pool_allocation_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.success(), Some(true));
    let out = client.deprovision_ipam_pool_cidr().ipam_pool_id(&nested).cidr("10.0.0.0/16").send().await.unwrap();
    assert_eq!(out.ipam_pool_cidr().unwrap().state(), Some(&IpamPoolCidrState::Deprovisioned));
    let of_parent = allocations(&client, &parent).await;
    assert!(
        !of_parent.iter().any(|a| a.resource_type() == Some(&IpamPoolAllocationResourceType::IpamPool)),
        "{of_parent:?}"
    );
    let left = client.get_ipam_pool_cidrs().ipam_pool_id(&nested).send().await.unwrap();
    assert!(left.ipam_pool_cidrs().is_empty(), "{left:?}");

    // Deleting the IPAM with Cascade takes its scopes and pools with it.
    client.delete_ipam().ipam_id(&ipam_id).cascade(true).send().await.unwrap();
    let ipams = client.describe_ipams().send().await.unwrap();
    assert!(ipams.ipams().is_empty(), "{ipams:?}");
}

#[tokio::test]
async fn errors_have_aws_codes() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", REGION);
    let (ipam_id, scope) = ipam(&client).await;
    let out = client
        .create_ipam_pool()
        .ipam_scope_id(&scope)
        .address_family(AddressFamily::Ipv4)
        .locale(REGION)
        .allocation_min_netmask_length(16)
        .allocation_max_netmask_length(28)
        .send()
        .await
        .unwrap();
    let pool = out.ipam_pool().unwrap().ipam_pool_id().unwrap().to_string();
    client.provision_ipam_pool_cidr().ipam_pool_id(&pool).cidr("10.0.0.0/8").send().await.unwrap();

    // Unknown ids.
    let unknown_pool = "ipam-pool-0123456789abcdef0";
    assert_eq!(
        code!(client.allocate_ipam_pool_cidr().ipam_pool_id(unknown_pool).netmask_length(24)),
        "InvalidIpamPoolId.NotFound"
    );
    assert_eq!(code!(client.describe_ipam_pools().ipam_pool_ids(unknown_pool)), "InvalidIpamPoolId.NotFound");
    assert_eq!(code!(client.get_ipam_pool_allocations().ipam_pool_id(unknown_pool)), "InvalidIpamPoolId.NotFound");
    let unknown_ipam = "ipam-0123456789abcdef0";
    assert_eq!(code!(client.describe_ipams().ipam_ids(unknown_ipam)), "InvalidIpamId.NotFound");
    assert_eq!(code!(client.create_ipam_scope().ipam_id(unknown_ipam)), "InvalidIpamId.NotFound");
    let unknown_scope = "ipam-scope-0123456789abcdef0";
    assert_eq!(code!(client.describe_ipam_scopes().ipam_scope_ids(unknown_scope)), "InvalidIpamScopeId.NotFound");
    assert_eq!(
        code!(client.create_ipam_pool().ipam_scope_id(unknown_scope).address_family(AddressFamily::Ipv4)),
        "InvalidIpamScopeId.NotFound"
    );
    assert_eq!(
        code!(
            client
                .release_ipam_pool_allocation()
                .ipam_pool_id(&pool)
                .cidr("10.0.0.0/24")
                .ipam_pool_allocation_id("ipam-pool-alloc-0123456789abcdef0123456789abcdef0")
        ),
        "InvalidIpamPoolAllocationId.NotFound"
    );

    // Malformed and invalid values.
    assert_eq!(
        code!(client.allocate_ipam_pool_cidr().ipam_pool_id("ipam-pool-xyz").netmask_length(24)),
        "InvalidParameterValue"
    );
    assert_eq!(code!(client.allocate_ipam_pool_cidr().ipam_pool_id(&pool)), "InvalidParameterCombination");
    assert_eq!(
        code!(client.allocate_ipam_pool_cidr().ipam_pool_id(&pool).netmask_length(8)),
        "InvalidParameterValue",
        "a /8 is bigger than the pool's minimum netmask length 16 allows"
    );
    assert_eq!(
        code!(client.provision_ipam_pool_cidr().ipam_pool_id(&pool).cidr("fd00::/56")),
        "InvalidParameterValue",
        "an IPv6 CIDR in an IPv4 pool"
    );
    assert_eq!(code!(client.delete_ipam_pool().ipam_pool_id(&pool)), "DependencyViolation");
    let still = client.describe_ipam_pools().ipam_pool_ids(&pool).send().await.unwrap();
    assert_eq!(still.ipam_pools().len(), 1);
    // aws-sdk-rust checks no ranges on the client side: the server refuses MaxResults
    // outside the model's 1000–100000.
    assert_eq!(code!(client.get_ipam_pool_allocations().ipam_pool_id(&pool).max_results(999)), "InvalidParameterValue");
    client.get_ipam_pool_allocations().ipam_pool_id(&pool).max_results(1000).send().await.unwrap();

    // DryRun answers DryRunOperation and allocates nothing.
    assert_eq!(
        code!(client.allocate_ipam_pool_cidr().ipam_pool_id(&pool).netmask_length(24).dry_run(true)),
        "DryRunOperation"
    );
    assert!(allocations(&client, &pool).await.is_empty());

    // Another account sees neither the IPAM nor its pool.
    let other = ec2(&server, "111111111111", REGION);
    assert_eq!(code!(other.describe_ipams().ipam_ids(&ipam_id)), "InvalidIpamId.NotFound");
    assert!(other.describe_ipams().send().await.unwrap().ipams().is_empty());
    assert_eq!(
        code!(other.allocate_ipam_pool_cidr().ipam_pool_id(&pool).netmask_length(24)),
        "InvalidIpamPoolId.NotFound"
    );
}

#[tokio::test]
async fn ipv6_pools() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", REGION);
    let (ipam_id, scope) = ipam(&client).await;

    // A ULA /48 hands out /56s and /64s, lowest free block first.
    let ula = pool(&client, &scope, AddressFamily::Ipv6, Some("fd00:1::/48")).await;
    let mut got = Vec::new();
    for n in [56, 64, 64, 56] {
        let a = allocate(&client, &ula, n).await;
        assert!(is_allocation_id(a.ipam_pool_allocation_id().unwrap()), "{a:?}");
        got.push(a.cidr().unwrap().to_string());
    }
    assert_eq!(got, ["fd00:1::/56", "fd00:1:0:100::/64", "fd00:1:0:101::/64", "fd00:1:0:200::/56"]);
    let listed = allocations(&client, &ula).await;
    assert_eq!(cidrs(&listed), got);
    for (i, a) in got.iter().enumerate() {
        assert!(contains("fd00:1::/48", a), "{a}");
        assert!(got[i + 1..].iter().all(|b| !overlaps(a, b)), "{got:?}");
    }

    // A GUA /32 as private space (AWS asks for EnablePrivateGua) hands out consecutive /64s.
    client.modify_ipam().ipam_id(&ipam_id).enable_private_gua(true).send().await.unwrap();
    let gua = pool(&client, &scope, AddressFamily::Ipv6, Some("2001:db8::/32")).await;
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(allocate(&client, &gua, 64).await.cidr().unwrap().to_string());
    }
    assert_eq!(got, ["2001:db8::/64", "2001:db8:0:1::/64", "2001:db8:0:2::/64", "2001:db8:0:3::/64"]);
    assert_eq!(cidrs(&allocations(&client, &gua).await), got);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_clients_get_exactly_the_capacity() {
    let server = server().await;
    let client = ec2(&server, "AKIDEXAMPLE", REGION);
    let (_, scope) = ipam(&client).await;
    let pool = pool(&client, &scope, AddressFamily::Ipv4, Some("10.0.0.0/24")).await;

    // 8 clients ask 4 /28s each: 32 asks for the 16 /28s of a /24.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = ec2(&server, "AKIDEXAMPLE", REGION);
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for _ in 0..4 {
                let out = c.allocate_ipam_pool_cidr().ipam_pool_id(&pool).netmask_length(28).send().await;
                answers.push(match out {
                    Ok(o) => Ok(o.ipam_pool_allocation().unwrap().clone()),
                    Err(e) => Err(e.into_service_error().code().unwrap_or("<no code>").to_string()),
                });
            }
            answers
        }));
    }
    let mut granted = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        for answer in t.await.unwrap() {
            match answer {
                Ok(a) => granted.push(a),
                Err(code) => refused.push(code),
            }
        }
    }
    assert_eq!(granted.len(), 16, "granted {:?}, refused {refused:?}", cidrs(&granted));
    assert_eq!(refused.len(), 16);
    assert!(refused.iter().all(|c| c == "InvalidParameterValue"), "{refused:?}");
    let got = cidrs(&granted);
    for (i, a) in got.iter().enumerate() {
        assert!(contains("10.0.0.0/24", a) && a.ends_with("/28"), "{a}");
        assert!(got[i + 1..].iter().all(|b| !overlaps(a, b)), "overlap in {got:?}");
    }
    let ids: HashSet<&str> = granted.iter().map(|a| a.ipam_pool_allocation_id().unwrap()).collect();
    assert_eq!(ids.len(), 16);

    // The pool lists exactly those 16, in address order.
    let listed = allocations(&client, &pool).await;
    assert_address_order(&listed);
    let listed_pairs: HashSet<(&str, &str)> =
        listed.iter().map(|a| (a.cidr().unwrap(), a.ipam_pool_allocation_id().unwrap())).collect();
    let granted_pairs: HashSet<(&str, &str)> =
        granted.iter().map(|a| (a.cidr().unwrap(), a.ipam_pool_allocation_id().unwrap())).collect();
    assert_eq!(listed.len(), 16);
    assert_eq!(listed_pairs, granted_pairs);
}
