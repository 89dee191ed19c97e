use std::collections::BTreeSet;
use std::sync::Arc;

use reservoir_domain::account::AccountId;
use reservoir_domain::vpc::{NewVpc, Tenancy};

use super::*;
use crate::context::Cx;
use crate::{AppState, Config, Storage};

fn scope() -> Scope {
    Scope::new(AccountId::default_account(), "us-east-1")
}

fn call(state: &Arc<AppState>) -> Call {
    Call {
        cx: Cx {
            state: state.clone(),
            request_id: "r".into(),
            scope: scope(),
            signed: true,
            principal: crate::context::Principal::Developer,
            now: Timestamp(1),
        },
        selection: String::new(),
        parameters: String::new(),
        operation: "CreateNetworkInterface",
    }
}

/// A VPC 10.0.0.0/16 with one subnet `block`, made straight in the store.
async fn a_subnet(state: &Arc<AppState>, block: &'static str) -> String {
    call(state)
        .write(false, move |tx| {
            let scope = scope();
            let req = NewVpc { cidr: "10.0.0.0/16".parse().unwrap(), tenancy: Tenancy::Default };
            let v = vpc::create(&scope.account, &req, "dopt-1", 0, None, Timestamp(1), &mut OsRandom)?;
            tx.create(&scope, &v)?;
            let id = ResourceKind::Subnet.new_id(&mut OsRandom);
            let net: Ipv4Net = block.parse().unwrap();
            {
                let mut slots = Slots::new(tx, &scope);
                subnet::ensure_vpc_roots(&mut slots, &v)?;
                subnet::place_block(
                    &mut slots,
                    &v.id,
                    Block::of_net(net.into()),
                    &id,
                    &id,
                    &scope.account,
                    &scope.region,
                    Timestamp(1),
                )?;
            }
            let s = subnet::build(
                NewSubnet {
                    id: id.clone(),
                    vpc_id: v.id.clone(),
                    owner: scope.account.clone(),
                    region: scope.region.clone(),
                    cidr_block: Some(net),
                    ipv6: None,
                    availability_zone: "us-east-1a".into(),
                    availability_zone_id: "use1-az1".into(),
                    default_for_az: false,
                    ipam: None,
                },
                Timestamp(1),
            );
            store_new(tx, &scope, &s, &[], Timestamp(1))?;
            Ok(id)
        })
        .await
        .unwrap()
}

/// Sixteen concurrent `take_private_address` calls in one /28, split between two servers
/// on one database file (as two processes would be): eleven distinct addresses are
/// handed out, the other five calls fail with `InsufficientFreeAddressesInSubnet`, and
/// the subnet's count agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_takes_in_a_28_hand_out_eleven_distinct_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let mut config = Config::ephemeral();
        config.storage = Storage::File(dir.path().join("shared.db"));
        Arc::new(AppState::open(config).unwrap())
    };
    let (a, b) = (open(), open());
    let subnet_id = a_subnet(&a, "10.0.5.0/28").await;
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let state = if i % 2 == 0 { a.clone() } else { b.clone() };
            let barrier = barrier.clone();
            let subnet_id = subnet_id.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                call(&state)
                    .write(false, move |tx| {
                        take_private_address(tx, &scope(), &subnet_id, None, &format!("eni-{i:017x}"), Timestamp(1))
                    })
                    .await
            })
        })
        .collect();
    let mut taken = BTreeSet::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(addr) => assert!(taken.insert(addr), "{addr} handed out twice"),
            Err(e) => {
                assert_eq!(e.code(), "InsufficientFreeAddressesInSubnet", "{e:?}");
                refused += 1;
            }
        }
    }
    let expected: BTreeSet<Ipv4Addr> = (4..=14).map(|n| Ipv4Addr::new(10, 0, 5, n)).collect();
    assert_eq!(taken, expected, "the eleven usable addresses, each once");
    assert_eq!(refused, 5);
    let s = call(&b).read(move |tx| load_subnet(tx, &scope(), &subnet_id)).await.unwrap();
    assert_eq!(s.addresses_in_use, 11);
    assert_eq!(s.available_addresses(), 0);
}

#[tokio::test]
async fn freed_addresses_are_taken_again_and_the_count_follows() {
    let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
    let subnet_id = a_subnet(&state, "10.0.1.0/24").await;
    let sid = subnet_id.clone();
    let (first, second) = call(&state)
        .write(false, move |tx| {
            let first = take_private_address(tx, &scope(), &sid, None, "eni-a", Timestamp(1))?;
            let second =
                take_private_address(tx, &scope(), &sid, Some(Ipv4Addr::new(10, 0, 1, 200)), "eni-b", Timestamp(1))?;
            Ok((first, second))
        })
        .await
        .unwrap();
    assert_eq!(first, Ipv4Addr::new(10, 0, 1, 4));
    assert_eq!(second, Ipv4Addr::new(10, 0, 1, 200));
    let sid = subnet_id.clone();
    let err = call(&state)
        .write(false, move |tx| take_private_address(tx, &scope(), &sid, Some(second), "eni-c", Timestamp(1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "InvalidIPAddress.InUse");
    let sid = subnet_id.clone();
    let err = call(&state)
        .write(false, move |tx| free_private_address(tx, &scope(), &sid, second, "eni-a"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "InvalidParameterValue", "only its holder frees an address");
    let sid = subnet_id.clone();
    call(&state).write(false, move |tx| free_private_address(tx, &scope(), &sid, first, "eni-a")).await.unwrap();
    let sid = subnet_id.clone();
    let s = call(&state).read(move |tx| load_subnet(tx, &scope(), &sid)).await.unwrap();
    assert_eq!((s.addresses_in_use, s.available_addresses()), (1, 250));
    let sid = subnet_id.clone();
    let again = call(&state)
        .write(false, move |tx| take_private_address(tx, &scope(), &sid, None, "eni-d", Timestamp(1)))
        .await
        .unwrap();
    assert_eq!(again, first, "the lowest free address again");
    let err = call(&state).read(|tx| load_subnet(tx, &scope(), "subnet-zz")).await.unwrap_err();
    assert_eq!(err.code(), "InvalidSubnetID.Malformed");
    let err = call(&state).read(|tx| load_subnet(tx, &scope(), "subnet-0123456789abcdef0")).await.unwrap_err();
    assert_eq!(err.code(), "InvalidSubnetID.NotFound");
}

/// The default VPC's subnets: one /20 per Availability Zone in zone order, default for
/// their zone and mapping public addresses; a second default subnet in a zone is refused.
#[tokio::test]
async fn default_subnets_are_twenties_in_zone_order() {
    let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
    let catalogue = state.catalogue.clone();
    let (subnets, again) = call(&state)
        .write(false, move |tx| {
            let scope = Scope::new(AccountId::default_account(), "eu-west-1");
            let v = vpc::default_vpc(&scope.account, "dopt-1", Timestamp(1), &mut OsRandom);
            tx.create(&scope, &v)?;
            create_default_subnets_with(tx, &scope, &catalogue, &v, Timestamp(1))?;
            let subnets: Vec<Subnet> =
                tx.page_children::<Subnet>(&scope, &v.id, 0, 100)?.into_iter().map(|(_, s)| s).collect();
            let block = subnet::default_subnet_block(v.cidr_block(), 10).unwrap();
            let again = make_default_subnet(tx, &scope, &v, block, "eu-west-1a", "euw1-az1", Timestamp(1));
            Ok((subnets, again.map(|s| s.id)))
        })
        .await
        .unwrap();
    let zones = default_zones(&state.catalogue, "eu-west-1");
    assert!(zones.len() >= 3);
    let got: Vec<(String, String)> =
        subnets.iter().map(|s| (s.availability_zone.clone(), ipv4_text(&s.cidr_block))).collect();
    let expected: Vec<(String, String)> =
        zones.iter().enumerate().map(|(i, (z, _))| (z.clone(), format!("172.31.{}.0/20", 16 * i))).collect();
    assert_eq!(got, expected);
    assert!(subnets.iter().all(|s| s.default_for_az && s.map_public_ip_on_launch && s.available_addresses() == 4091));
    assert_eq!(again.unwrap_err().code(), "DefaultSubnetAlreadyExistsInAvailabilityZone");
}

#[tokio::test]
async fn a_vpc_block_with_a_subnet_is_in_use() {
    let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
    let subnet_id = a_subnet(&state, "10.0.9.0/24").await;
    let (used, free, count) = call(&state)
        .read(move |tx| {
            let s = load_subnet(tx, &scope(), &subnet_id)?;
            let used = vpc_block_in_use(tx, &scope(), &s.vpc_id, Block::of_net("10.0.0.0/16".parse().unwrap()))?;
            let free = vpc_block_in_use(tx, &scope(), &s.vpc_id, Block::of_net("10.1.0.0/16".parse().unwrap()))?;
            Ok((used, free, vpc_subnet_count(tx, &scope(), &s.vpc_id)?))
        })
        .await
        .unwrap();
    assert!(used && !free);
    assert_eq!(count, 1);
}
