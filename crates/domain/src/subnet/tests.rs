use proptest::prelude::*;

use super::*;
use crate::ids::{ResourceKind, SeededRandom};
use crate::space::{MemorySlots, Slot, Slots};
use crate::vpc::{self, NewVpc, Tenancy};

/// The engine's memory slots with an error type that takes the subnet rules' errors.
#[derive(Default)]
struct Mem(MemorySlots);

#[derive(Debug, PartialEq)]
enum E {
    Space(SpaceError),
    Net(NetError),
}

impl From<SpaceError> for E {
    fn from(e: SpaceError) -> E {
        E::Space(e)
    }
}

impl From<NetError> for E {
    fn from(e: NetError) -> E {
        E::Net(e)
    }
}

impl Slots for Mem {
    type Error = E;
    fn at_or_before(&mut self, space: &str, family: Family, addr: u128) -> Result<Option<Slot>, E> {
        Ok(self.0.at_or_before(space, family, addr)?)
    }
    fn first_free(&mut self, space: &str, family: Family, prefix: u8, from: u128) -> Result<Option<Slot>, E> {
        Ok(self.0.first_free(space, family, prefix, from)?)
    }
    fn insert(&mut self, space: &str, slot: &Slot) -> Result<(), E> {
        Ok(self.0.insert(space, slot)?)
    }
    fn remove(&mut self, space: &str, family: Family, start: u128) -> Result<(), E> {
        Ok(self.0.remove(space, family, start)?)
    }
    fn any_held(&mut self, space: &str, within: Block) -> Result<bool, E> {
        Ok(self.0.any_held(space, within)?)
    }
}

fn owner() -> AccountId {
    AccountId::default_account()
}

fn a_vpc(cidr: &str) -> Vpc {
    let req = NewVpc { cidr: cidr.parse().unwrap(), tenancy: Tenancy::Default };
    vpc::create(&owner(), &req, "dopt-1", 0, None, Timestamp(0), &mut SeededRandom::new(7)).unwrap()
}

fn a_subnet(vpc: &Vpc, cidr: &str, id: &str) -> Subnet {
    build(
        NewSubnet {
            id: id.into(),
            vpc_id: vpc.id.clone(),
            owner: owner(),
            region: "us-east-1".into(),
            cidr_block: Some(cidr.parse().unwrap()),
            ipv6: None,
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            default_for_az: false,
            ipam: None,
        },
        Timestamp(0),
    )
}

fn block(text: &str) -> Block {
    Block::of_net(text.parse().unwrap())
}

#[test]
fn cidr_rules() {
    assert_eq!(ipv4_text(&parse_cidr("10.0.1.7/24").unwrap()), "10.0.1.0/24", "canonical form");
    assert!(matches!(parse_cidr("10.0.0.0/15"), Err(NetError::SubnetRange(_))));
    assert!(matches!(parse_cidr("10.0.0.0/29"), Err(NetError::SubnetRange(_))));
    assert!(matches!(parse_cidr("10.0.0/24"), Err(NetError::InvalidValue(_))));
    assert!(parse_ipv6_cidr("fd00:1:2:3::/64").is_ok());
    assert!(matches!(parse_ipv6_cidr("fd00::/56"), Err(NetError::SubnetRange(_))));
    let v = a_vpc("10.0.0.0/16");
    assert!(containing_ipv4(&v, "10.0.3.0/24".parse().unwrap()).is_ok());
    assert!(matches!(containing_ipv4(&v, "10.1.0.0/24".parse().unwrap()), Err(NetError::SubnetRange(_))));
    assert!(matches!(containing_ipv4(&v, "10.0.0.0/15".parse().unwrap()), Err(NetError::SubnetRange(_))));
}

#[test]
fn available_addresses_are_the_block_less_five_and_those_in_use() {
    let v = a_vpc("10.0.0.0/16");
    let mut s = a_subnet(&v, "10.0.0.0/28", "subnet-1");
    assert_eq!(s.available_addresses(), 11);
    s.addresses_in_use = 3;
    assert_eq!(s.available_addresses(), 8);
    assert_eq!(a_subnet(&v, "10.0.1.0/24", "subnet-2").available_addresses(), 251);
    assert_eq!(a_subnet(&v, "10.0.0.0/16", "subnet-3").available_addresses(), 65531);
    assert_eq!(s.arn(), format!("arn:aws:ec2:us-east-1:{}:subnet/subnet-1", owner()));
}

#[test]
fn default_subnets_are_consecutive_twenties() {
    let b: Ipv4Net = "172.31.0.0/16".parse().unwrap();
    let blocks: Vec<String> = (0..4).map(|n| ipv4_text(&default_subnet_block(b, n).unwrap())).collect();
    assert_eq!(blocks, ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20", "172.31.48.0/20"]);
    assert!(default_subnet_block(b, 15).is_some());
    assert!(default_subnet_block(b, 16).is_none(), "a /16 has sixteen /20s");
}

#[test]
fn siblings_conflict_and_vpcs_made_before_subnets_get_their_roots() {
    let mut m = Mem::default();
    let v = a_vpc("10.0.0.0/16");
    let now = Timestamp(0);
    ensure_vpc_roots(&mut m, &v).unwrap();
    ensure_vpc_roots(&mut m, &v).unwrap();
    place_block(&mut m, &v.id, block("10.0.0.0/24"), "subnet-1", "subnet-1", &owner(), "us-east-1", now).unwrap();
    for overlapping in ["10.0.0.0/24", "10.0.0.128/25", "10.0.0.0/20"] {
        assert_eq!(
            place_block(&mut m, &v.id, block(overlapping), "subnet-2", "subnet-2", &owner(), "us-east-1", now),
            Err(E::Net(NetError::SubnetConflict(overlapping.into())))
        );
    }
    place_block(&mut m, &v.id, block("10.0.1.0/24"), "subnet-2", "subnet-2", &owner(), "us-east-1", now).unwrap();
    release_block(&mut m, &v.id, block("10.0.0.0/24"), "subnet-1").unwrap();
    place_block(&mut m, &v.id, block("10.0.0.0/25"), "subnet-3", "subnet-3", &owner(), "us-east-1", now).unwrap();
}

#[test]
fn a_stale_free_root_gives_way_to_the_vpc_blocks() {
    let mut m = Mem::default();
    let mut v = a_vpc("10.0.0.0/16");
    let mut rng = SeededRandom::new(1);
    vpc::associate_ipv4(&mut v, "10.1.0.0/24".parse().unwrap(), None, &mut rng).unwrap();
    ensure_vpc_roots(&mut m, &v).unwrap();
    let id = v.cidr_associations[1].association_id.clone();
    vpc::disassociate(&mut v, &id).unwrap();
    vpc::associate_ipv4(&mut v, "10.1.0.0/16".parse().unwrap(), None, &mut rng).unwrap();
    ensure_vpc_roots(&mut m, &v).unwrap();
    place_block(&mut m, &v.id, block("10.1.128.0/24"), "subnet-1", "subnet-1", &owner(), "us-east-1", Timestamp(0))
        .unwrap();
}

#[test]
fn private_addresses_skip_the_reserved_five_and_run_out() {
    let mut m = Mem::default();
    let v = a_vpc("10.0.0.0/16");
    let mut s = a_subnet(&v, "10.0.0.16/28", "subnet-1");
    open_subnet_space(&mut m, &s, Timestamp(0)).unwrap();
    let mut got = Vec::new();
    for i in 0..11 {
        got.push(take_address(&mut m, &mut s, None, &format!("eni-{i}"), Timestamp(0)).unwrap());
    }
    let expected: Vec<Ipv4Addr> = (20..=30).map(|n| Ipv4Addr::new(10, 0, 0, n)).collect();
    assert_eq!(got, expected, "lowest first, .16-.19 and .31 reserved");
    assert_eq!(s.addresses_in_use, 11);
    assert_eq!(s.available_addresses(), 0);
    assert!(matches!(
        take_address(&mut m, &mut s, None, "eni-x", Timestamp(0)),
        Err(E::Net(NetError::AddressesExhausted(_)))
    ));
    free_address(&mut m, &mut s, Ipv4Addr::new(10, 0, 0, 25), "eni-5").unwrap();
    assert!(matches!(
        free_address(&mut m, &mut s, Ipv4Addr::new(10, 0, 0, 26), "eni-5"),
        Err(E::Net(NetError::InvalidValue(_)))
    ));
    assert_eq!(s.available_addresses(), 1);
    let asked = Ipv4Addr::new(10, 0, 0, 25);
    assert!(matches!(
        take_address(&mut m, &mut s, Some(Ipv4Addr::new(10, 0, 0, 26)), "eni-y", Timestamp(0)),
        Err(E::Net(NetError::AddressInUse(_)))
    ));
    for reserved in [16, 17, 18, 19, 31] {
        assert!(matches!(
            take_address(&mut m, &mut s, Some(Ipv4Addr::new(10, 0, 0, reserved)), "eni-y", Timestamp(0)),
            Err(E::Net(NetError::InvalidValue(_)))
        ));
    }
    assert!(matches!(
        take_address(&mut m, &mut s, Some(Ipv4Addr::new(10, 0, 1, 5)), "eni-y", Timestamp(0)),
        Err(E::Net(NetError::InvalidValue(_)))
    ));
    assert_eq!(take_address(&mut m, &mut s, Some(asked), "eni-y", Timestamp(0)).unwrap(), asked);
}

#[test]
fn one_attribute_per_call() {
    assert!(matches!(one_attribute(vec![]), Err(NetError::Missing(_))));
    let two = vec![
        ("mapPublicIpOnLaunch", Attribute::MapPublicIpOnLaunch(true)),
        ("enableDns64", Attribute::EnableDns64(true)),
    ];
    match one_attribute(two) {
        Err(NetError::InvalidRequest(m)) => assert!(m.contains("[mapPublicIpOnLaunch, enableDns64]"), "{m}"),
        other => panic!("{other:?}"),
    }
    let v = a_vpc("10.0.0.0/16");
    let mut s = a_subnet(&v, "10.0.0.0/24", "subnet-1");
    modify(&mut s, Attribute::MapPublicIpOnLaunch(true)).unwrap();
    assert!(s.map_public_ip_on_launch);
    assert!(modify(&mut s, Attribute::AssignIpv6AddressOnCreation(true)).is_err(), "no IPv6 block");
    assert!(modify(&mut s, Attribute::EnableLniAtDeviceIndex(0)).is_err());
    modify(&mut s, Attribute::EnableLniAtDeviceIndex(1)).unwrap();
    modify(&mut s, Attribute::DisableLniAtDeviceIndex(true)).unwrap();
    assert_eq!(s.enable_lni_at_device_index, None);
}

#[derive(Debug, Clone)]
enum Op {
    /// A subnet at (third octet, prefix) inside or around 10.0.0.0/16.
    Create { octets: (u8, u8), prefix: u8 },
    /// Deletes the nth live subnet.
    Delete(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => ((0u8..=255, 0u8..=255), 14u8..=28).prop_map(|(o, p)| Op::Create { octets: o, prefix: p }),
        1 => (0usize..32).prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random creations and deletions in a VPC of two blocks: a creation succeeds
    /// exactly when its block is /16–/28, inside one VPC block and overlaps no live
    /// subnet; live subnets never overlap and always lie inside a VPC block.
    #[test]
    fn subnets_never_overlap_and_stay_inside_their_vpc(ops in proptest::collection::vec(op(), 1..60)) {
        let mut m = Mem::default();
        let mut v = a_vpc("10.0.0.0/16");
        vpc::associate_ipv4(&mut v, "10.1.0.0/20".parse().unwrap(), None, &mut SeededRandom::new(3)).unwrap();
        let mut live: Vec<(String, Ipv4Net)> = Vec::new();
        let mut rng = SeededRandom::new(9);
        for op in ops {
            match op {
                Op::Create { octets, prefix } => {
                    // 10.0.x.y or 10.1.x.y, depending on the first octet's parity.
                    let second = octets.0 % 2;
                    let addr = Ipv4Addr::new(10, second, octets.0, octets.1);
                    let net = Ipv4Net::new(addr, prefix).unwrap().trunc();
                    let id = ResourceKind::Subnet.new_id(&mut rng);
                    let expected_ok = (MIN_PREFIX..=MAX_PREFIX).contains(&prefix)
                        && v.cidr_associations.iter().any(|a| a.cidr.contains(&net))
                        && !live.iter().any(|(_, o)| o.contains(&net.network()) || net.contains(&o.network()));
                    let result = check_size(net)
                        .and_then(|()| containing_ipv4(&v, net).map(|_| ()))
                        .map_err(E::Net)
                        .and_then(|()| {
                            ensure_vpc_roots(&mut m, &v)?;
                            place_block(&mut m, &v.id, Block::of_net(net.into()), &id, &id, &owner(), "r", Timestamp(0))
                        });
                    prop_assert_eq!(result.is_ok(), expected_ok, "{} -> {:?}", net, result);
                    if result.is_ok() {
                        live.push((id, net));
                    }
                }
                Op::Delete(n) if !live.is_empty() => {
                    let (id, net) = live.remove(n % live.len());
                    release_block(&mut m, &v.id, Block::of_net(net.into()), &id).unwrap();
                }
                Op::Delete(_) => {}
            }
            for (i, (_, a)) in live.iter().enumerate() {
                prop_assert!(v.cidr_associations.iter().any(|c| c.cidr.contains(a)));
                for (_, b) in &live[i + 1..] {
                    prop_assert!(!a.contains(&b.network()) && !b.contains(&a.network()), "{} overlaps {}", a, b);
                }
            }
        }
        // Every live subnet's block is held, by it, in the VPC space.
        for (id, net) in &live {
            let b = Block::of_net((*net).into());
            let slot = m.at_or_before(&vpc_space(&v.id), Family::Ipv4, b.start).unwrap().unwrap();
            prop_assert_eq!(slot.block, b);
            prop_assert_eq!(slot.holder.map(|h| h.id), Some(id.clone()));
        }
    }
}
