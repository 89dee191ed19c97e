//! VPC networking benchmark: a network interface, a security group rule and a subnet
//! named by id cost the same however much their subnet, group or account holds.
//!
//! `cargo bench -p reservoir-server --bench network` builds one in-process server on the
//! ephemeral store (a SQLite file in a private temporary directory, `synchronous=OFF`)
//! and, through the router, a VPC 10.0.0.0/16 with a second block 10.1.0.0/16
//! (`AssociateVpcCidrBlock`) and two /16 subnets of it, one per block: `small`, given 100
//! network interfaces, and `large`, given N (50,000; 5,000 with `-- --quick`, which the
//! test command runs). Then, through the router:
//! * two security groups of that VPC holding 10 and 1,000 rules: the default egress rule
//!   and 9 or 999 ingress rules (tcp 22 from distinct /32s, 100 per
//!   `AuthorizeSecurityGroupIngress`). The timed rule is the large group's 1,000th
//!   ingress rule, AWS's ceiling per direction: the benchmark checks that one more is
//!   refused with `RulesPerSecurityGroupLimitExceeded`;
//! * two more VPCs with 10 and 1,000 /28 subnets (`CreateSubnet`).
//!
//! Then it times in turns, one request on the small side then one on the large, one
//! measurement after the other:
//! * `CreateNetworkInterface SubnetId=…`, each interface deleted again by an untimed
//!   `DeleteNetworkInterface`, so the subnets keep exactly 100 and N interfaces and every
//!   timed create takes the same address;
//! * `AuthorizeSecurityGroupIngress` of one rule (tcp 443 from 192.0.2.0/24), revoked
//!   again by an untimed `RevokeSecurityGroupIngress`;
//! * `DescribeSubnets SubnetId.1=<the middle subnet of its VPC>`.
//!
//! It prints medians and 90th percentiles, create+delete pairs per second, checks the
//! targets and exits non-zero if one is missed. Targets are ratios of the two sides timed
//! in turns in the same run, never absolute times (2-core VM, release build, another
//! build running; measured figures in brackets, at N = 5,000 / 50,000):
//! * a create in the subnet of N at most 2x one in the subnet of 100 [0.95–1.00 / 0.99];
//! * an authorize in the group of 1,000 rules at most 2x one in the group of 10
//!   [0.99–1.03 / 1.00]: the duplicate check is one lookup of the rule's unique key, the
//!   quota check reads the group's counters;
//! * `DescribeSubnets` by id in the VPC of 1,000 subnets at most 2x in the VPC of 10
//!   [1.00–1.01 / 1.00].
//!
//! Figures on that machine: a create 0.18–0.23 ms (p90 0.25–0.34 ms), 2,250–3,000
//! create+delete pairs/s; an authorize 0.09–0.11 ms (p90 0.11–0.15 ms); a
//! `DescribeSubnets` by id 0.014 ms (p90 0.015–0.025 ms: a small read is answered on
//! the request's thread). The store fill makes about 10,000–16,000 interfaces/s (50,000
//! in 5 s); 1,000 subnets through the router take 0.25–0.35 s; the full run takes about
//! 18 s, the quick one 2 s after the build.
//!
//! The interfaces are made through the store, not HTTP, as `CreateNetworkInterface`'s
//! transaction makes them, `INTERFACES_PER_TX` (1,000) per transaction: the subnet's
//! lowest free address by `subnets::take_private_address` (the same engine, slots and
//! subnet count the handler uses), the entity by `interface::build`, its reference to
//! the VPC's default group. The benchmark checks that the router sees them:
//! `DescribeSubnets` answers 65,531 - n available addresses, and the router's first
//! interface in each subnet takes the (n+1)th address (10.0.0.104; 10.1.19.140 and
//! 10.1.195.84 for 5,000 and 50,000).
//!
//! The interface target can fail. A control times the engine's `subnet::take_address`
//! alone, in a transaction rolled back, in both subnets (the large first every other
//! round), with the store's slots and with a deliberately naive `first_free` that walks
//! the subnet's slots in address order, one `at_or_before` per slot, until a free one
//! of the size: a scan of the held addresses. Indexed, 0.07–0.09 ms in either subnet
//! (large/small 0.86–1.06); walking, 3.2 ms in the subnet of 100 against 155–170 ms at
//! 5,000 (48–50x) and 1,800–2,060 ms at 50,000 (560–610x): a create would cost 800 to
//! 9,000 times the 0.2 ms the target compares. (The search asks `first_free` for each
//! prefix /16–/32, so the walk passes the held addresses 17 times; SQLite stepping its
//! primary key would cost less per row than a query per slot, but grow the same way:
//! the IPAM benchmark measured 170x at 100,000 allocations when `first_free_slot` did.)
//!
//! Sampling stops early, after at least 7 samples of each, once a measurement has taken
//! 20 s (`--quick`) or 120 s: a request that scans would otherwise keep the benchmark
//! busy for long before it could say so.
//!
//! Flags: `--quick`.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator the `reservoir` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{REGION, Targets, extract, ratio, report};

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::interface::{self, GroupRef, NewInterface};
use reservoir_domain::network::NetError;
use reservoir_domain::space::{Block, Family, Slot, Slots, SpaceError};
use reservoir_domain::subnet::{self, Subnet};
use reservoir_domain::time::Timestamp;
use reservoir_server::ec2::interfaces::REFERENCE_KIND;
use reservoir_server::ec2::security_groups::default_group_id;
use reservoir_server::ec2::subnets::{load_subnet, take_private_address};
use reservoir_server::error::ApiError;
use reservoir_server::{AppState, Config, http::router};
use reservoir_store::slots::TxSlots;
use reservoir_store::{ReadTxExt, Reference, StoreError, TxExt};

const ACCOUNT: &str = "000000000000";
const ZONE: &str = "us-east-1a";
/// The VPC of the two interface subnets: its primary block and a second one, each a
/// whole /16 subnet.
const IFACE_VPC: &str = "10.0.0.0/16";
const IFACE_VPC_SECOND: &str = "10.1.0.0/16";
const SMALL_INTERFACES: usize = 100;
const LARGE_INTERFACES: usize = 50_000;
const LARGE_INTERFACES_QUICK: usize = 5_000;
/// Interfaces per fill transaction.
const INTERFACES_PER_TX: usize = 1_000;
/// Rules of the two groups, the default egress rule included: the others are ingress.
const SMALL_RULES: usize = 10;
const LARGE_RULES: usize = 1_000;
/// Rules per fill request (`IpRanges` of one permission).
const RULES_PER_REQUEST: usize = 100;
const SMALL_SUBNETS: usize = 10;
const LARGE_SUBNETS: usize = 1_000;
/// The least number of samples of each measurement, whatever the time budget.
const MIN_SAMPLES: usize = 7;
/// Samples of each engine-level measurement (the indexed engine and the walking one).
const ENGINE_SAMPLES: usize = 5;
const LIMIT_INTERFACE: f64 = 2.0;
const LIMIT_RULE: f64 = 2.0;
const LIMIT_DESCRIBE: f64 = 2.0;
/// The timed rule (an ingress rule neither group has).
const TIMED_RULE: &str = "IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443\
     &IpPermissions.1.IpRanges.1.CidrIp=192.0.2.0%2F24";

/// An EC2 call by the account: its status and whole body.
async fn try_call(app: &axum::Router, body: &str) -> (http::StatusCode, String) {
    common::try_call(app, ACCOUNT, body).await
}

/// An EC2 call by the account that must succeed; answers the whole body.
async fn call(app: &axum::Router, body: &str) -> String {
    common::call(app, ACCOUNT, body).await
}

fn enc(cidr: &str) -> String {
    cidr.replace('/', "%2F")
}

fn scope() -> Scope {
    Scope::new(AccountId::parse(ACCOUNT).unwrap(), REGION)
}

async fn create_vpc(app: &axum::Router, cidr: &str) -> String {
    extract(&call(app, &format!("Action=CreateVpc&CidrBlock={}", enc(cidr))).await, "vpcId")
}

async fn create_subnet(app: &axum::Router, vpc: &str, cidr: &str) -> String {
    let xml =
        call(app, &format!("Action=CreateSubnet&VpcId={vpc}&CidrBlock={}&AvailabilityZone={ZONE}", enc(cidr))).await;
    extract(&xml, "subnetId")
}

/// `n` network interfaces in the subnet, made through the store as
/// `CreateNetworkInterface` makes them (the subnet's lowest free address by
/// `take_private_address`, the interface entity, its reference to the VPC's default
/// group), `INTERFACES_PER_TX` per transaction; answers the time.
fn fill_interfaces(state: &AppState, subnet_id: &str, n: usize, now: Timestamp) -> Duration {
    let scope = scope();
    let t = Instant::now();
    let mut done = 0;
    while done < n {
        let k = INTERFACES_PER_TX.min(n - done);
        reservoir_store::write(&*state.store, |tx| -> Result<(), ApiError> {
            let s = load_subnet(tx, &scope, subnet_id)?;
            let group_id = default_group_id(tx, &scope, &s.vpc_id)?;
            let group = GroupRef { id: group_id.clone(), name: "default".into() };
            for _ in 0..k {
                let id = ResourceKind::NetworkInterface.new_id(&mut OsRandom);
                let primary = take_private_address(tx, &scope, &s.id, None, &id, now)?;
                let req = NewInterface {
                    subnet_id: s.id.clone(),
                    vpc_id: s.vpc_id.clone(),
                    availability_zone: s.availability_zone.clone(),
                    availability_zone_id: s.availability_zone_id.clone(),
                    region: scope.region.clone(),
                    description: String::new(),
                    groups: vec![group.clone()],
                };
                let iface = interface::build(id, &scope.account, req, primary, &[], Vec::new(), now, &mut OsRandom);
                tx.create(&scope, &iface)?;
                tx.put_reference(
                    &scope,
                    &Reference { target: group_id.clone(), source: iface.id.clone(), kind: REFERENCE_KIND.into() },
                )?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("filling {subnet_id}: {e:?}"));
        done += k;
    }
    t.elapsed()
}

/// The `i`th address an interface takes in a subnet starting at `base` (from 0): the
/// first four addresses are reserved.
fn nth_address(base: Ipv4Addr, i: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base) + 4 + i as u32)
}

/// One `CreateNetworkInterface` in the subnet, timed (request and answer), then its
/// `DeleteNetworkInterface`, untimed. Answers (the create's time, the pair's time, the
/// interface's address).
async fn create_delete(app: &axum::Router, subnet: &str) -> (Duration, Duration, String) {
    let t = Instant::now();
    let xml = call(app, &format!("Action=CreateNetworkInterface&SubnetId={subnet}")).await;
    let took = t.elapsed();
    let (id, address) = (extract(&xml, "networkInterfaceId"), extract(&xml, "privateIpAddress"));
    call(app, &format!("Action=DeleteNetworkInterface&NetworkInterfaceId={id}")).await;
    (took, t.elapsed(), address)
}

/// `AuthorizeSecurityGroupIngress` of the timed rule, timed, then its
/// `RevokeSecurityGroupIngress`, untimed.
async fn authorize_revoke(app: &axum::Router, group: &str) -> Duration {
    let t = Instant::now();
    let xml = call(app, &format!("Action=AuthorizeSecurityGroupIngress&GroupId={group}&{TIMED_RULE}")).await;
    let took = t.elapsed();
    std::hint::black_box(xml);
    call(app, &format!("Action=RevokeSecurityGroupIngress&GroupId={group}&{TIMED_RULE}")).await;
    took
}

/// `DescribeSubnets SubnetId.1=<subnet>`, timed.
async fn describe_one(app: &axum::Router, subnet: &str) -> Duration {
    let t = Instant::now();
    let xml = call(app, &format!("Action=DescribeSubnets&SubnetId.1={subnet}")).await;
    let took = t.elapsed();
    std::hint::black_box(xml);
    took
}

/// `rules` ingress rules in the group (tcp 22 from distinct /32s), `RULES_PER_REQUEST`
/// per `AuthorizeSecurityGroupIngress`.
async fn fill_rules(app: &axum::Router, group: &str, rules: usize) {
    let mut done = 0;
    while done < rules {
        let k = RULES_PER_REQUEST.min(rules - done);
        let mut body = format!(
            "Action=AuthorizeSecurityGroupIngress&GroupId={group}&IpPermissions.1.IpProtocol=tcp\
             &IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22"
        );
        for j in 0..k {
            let a = Ipv4Addr::from(u32::from(Ipv4Addr::new(172, 16, 0, 0)) + (done + j) as u32);
            body.push_str(&format!("&IpPermissions.1.IpRanges.{}.CidrIp={a}%2F32", j + 1));
        }
        call(app, &body).await;
        done += k;
    }
}

// ----- The walking variant: what a scan would cost -------------------------------------

/// What an engine-level probe answers through the store's error path, so that its
/// transaction is rolled back: the time `take_address` took, or what went wrong.
#[derive(Debug)]
enum Probe {
    Took(Duration, Ipv4Addr),
    Failed(String),
}

impl From<StoreError> for Probe {
    fn from(e: StoreError) -> Self {
        Probe::Failed(e.to_string())
    }
}

impl From<SpaceError> for Probe {
    fn from(e: SpaceError) -> Self {
        Probe::Failed(e.to_string())
    }
}

impl From<NetError> for Probe {
    fn from(e: NetError) -> Self {
        Probe::Failed(format!("{e:?}"))
    }
}

/// The store's slots, except that `first_free` walks the subnet's slots in address
/// order, one `at_or_before` per slot, until a free one of the size: a scan of the held
/// addresses, as the IPAM allocator's was when `first_free_slot` walked the primary key.
/// (The subnet's space is one root, tiled without gaps, so the walk starts at the root.)
struct Walking<'a> {
    inner: TxSlots<'a, Probe>,
    root: Block,
}

impl Slots for Walking<'_> {
    type Error = Probe;

    fn at_or_before(&mut self, space: &str, family: Family, addr: u128) -> Result<Option<Slot>, Probe> {
        self.inner.at_or_before(space, family, addr)
    }

    fn first_free(&mut self, space: &str, family: Family, prefix: u8, from: u128) -> Result<Option<Slot>, Probe> {
        let mut at = from.max(self.root.start);
        while at <= self.root.last() {
            let Some(slot) = self.inner.at_or_before(space, family, at)? else { return Ok(None) };
            if slot.block.last() < at {
                return Ok(None);
            }
            if slot.block.start >= from && slot.is_free() && slot.block.prefix == prefix {
                return Ok(Some(slot));
            }
            at = slot.block.last() + 1;
        }
        Ok(None)
    }

    fn insert(&mut self, space: &str, slot: &Slot) -> Result<(), Probe> {
        self.inner.insert(space, slot)
    }

    fn remove(&mut self, space: &str, family: Family, start: u128) -> Result<(), Probe> {
        self.inner.remove(space, family, start)
    }

    fn any_held(&mut self, space: &str, within: Block) -> Result<bool, Probe> {
        self.inner.any_held(space, within)
    }
}

/// The engine's `take_address` (the lowest free address) in the subnet, timed alone, in
/// a transaction rolled back afterwards; `walking` swaps in the walking `first_free`.
fn probe_take(state: &AppState, subnet_id: &str, walking: bool, now: Timestamp) -> (Duration, Ipv4Addr) {
    let scope = scope();
    let outcome = reservoir_store::write(&*state.store, |tx| -> Result<(), Probe> {
        let mut s: Subnet =
            tx.load(&scope, subnet_id)?.ok_or_else(|| Probe::Failed(format!("no subnet {subnet_id}")))?;
        let root = Block::of_net(s.ipv4_block().expect("an IPv4 subnet").into());
        let holder = ResourceKind::NetworkInterface.new_id(&mut OsRandom);
        let t = Instant::now();
        let addr = if walking {
            let mut slots = Walking { inner: TxSlots::new(tx, &scope), root };
            subnet::take_address(&mut slots, &mut s, None, &holder, now)?
        } else {
            let mut slots = TxSlots::<Probe>::new(tx, &scope);
            subnet::take_address(&mut slots, &mut s, None, &holder, now)?
        };
        Err(Probe::Took(t.elapsed(), addr))
    });
    match outcome {
        Err(Probe::Took(d, addr)) => (d, addr),
        Err(Probe::Failed(e)) => panic!("probe in {subnet_id}: {e}"),
        Ok(()) => unreachable!("a probe always rolls back"),
    }
}

// ----- Figures --------------------------------------------------------------------------

/// Whether sampling should stop: the budget is spent and every list has its minimum.
fn spent(t: Instant, budget: Duration, samples: &[&Vec<Duration>]) -> bool {
    t.elapsed() > budget && samples.iter().all(|s| s.len() >= MIN_SAMPLES)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let began = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let n = if quick { LARGE_INTERFACES_QUICK } else { LARGE_INTERFACES };
    let rounds = if quick { 300 } else { 2_000 };
    let budget = Duration::from_secs(if quick { 20 } else { 120 });
    let mut targets = Targets::default();

    let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
    let app = &router(state.clone());
    let now = state.clock.now();
    println!(
        "VPC networking: subnets of {SMALL_INTERFACES} and {n} interfaces, groups of {SMALL_RULES} and {LARGE_RULES} rules, \
         VPCs of {SMALL_SUBNETS} and {LARGE_SUBNETS} subnets; {} mode; store: SQLite file, synchronous=OFF (ephemeral store)",
        if quick { "quick" } else { "full" }
    );

    // ----- Interfaces: two /16 subnets of one VPC.
    let vpc = create_vpc(app, IFACE_VPC).await;
    call(app, &format!("Action=AssociateVpcCidrBlock&VpcId={vpc}&CidrBlock={}", enc(IFACE_VPC_SECOND))).await;
    let small = create_subnet(app, &vpc, IFACE_VPC).await;
    let large = create_subnet(app, &vpc, IFACE_VPC_SECOND).await;
    let bases = [Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(10, 1, 0, 0)];
    let took = {
        let (state, subnet) = (state.clone(), small.clone());
        tokio::task::spawn_blocking(move || fill_interfaces(&state, &subnet, SMALL_INTERFACES, now)).await.unwrap()
    };
    println!(
        "fill of small: {SMALL_INTERFACES} interfaces in {:.2} s ({:.0} interfaces/s)",
        took.as_secs_f64(),
        SMALL_INTERFACES as f64 / took.as_secs_f64()
    );
    let took = {
        let (state, subnet) = (state.clone(), large.clone());
        tokio::task::spawn_blocking(move || fill_interfaces(&state, &subnet, n, now)).await.unwrap()
    };
    println!(
        "fill of large: {n} interfaces in {:.2} s ({:.0} interfaces/s, {INTERFACES_PER_TX} per transaction)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    // The router sees the fills: the subnets' counts, and the next address of each.
    for ((subnet, held), base) in [(&small, SMALL_INTERFACES), (&large, n)].into_iter().zip(bases) {
        let xml = call(app, &format!("Action=DescribeSubnets&SubnetId.1={subnet}")).await;
        let available: usize = extract(&xml, "availableIpAddressCount").parse().unwrap();
        assert_eq!(available, 65_536 - 5 - held, "available addresses of a /16 holding {held}");
        let (took, _, address) = create_delete(app, subnet).await;
        assert_eq!(address, nth_address(base, held).to_string(), "the next address of a subnet of {held}");
        println!("first interface in the subnet of {held}: {address}, {:.3} ms", took.as_secs_f64() * 1e3);
    }

    // ----- Security groups: 10 and 1,000 rules (the default egress rule and 9 or 999
    // ingress rules: the timed rule is the large group's 1,000th ingress rule, AWS's
    // ceiling per direction).
    let mut groups = Vec::new();
    for (name, rules) in [("small", SMALL_RULES), ("large", LARGE_RULES)] {
        let xml =
            call(app, &format!("Action=CreateSecurityGroup&GroupName={name}&GroupDescription=bench&VpcId={vpc}")).await;
        let group = extract(&xml, "groupId");
        let t = Instant::now();
        fill_rules(app, &group, rules - 1).await;
        println!(
            "fill of the {name} group: {} ingress rules through the router in {:.2} s",
            rules - 1,
            t.elapsed().as_secs_f64()
        );
        groups.push(group);
    }
    {
        // The large group is at the ceiling once the timed rule is in: one more is refused.
        let large_group = &groups[1];
        call(app, &format!("Action=AuthorizeSecurityGroupIngress&GroupId={large_group}&{TIMED_RULE}")).await;
        let other = TIMED_RULE.replace("443", "8443");
        let (status, text) =
            try_call(app, &format!("Action=AuthorizeSecurityGroupIngress&GroupId={large_group}&{other}")).await;
        assert!(
            !status.is_success() && text.contains("RulesPerSecurityGroupLimitExceeded"),
            "a rule past the ceiling: {status} {text}"
        );
        call(app, &format!("Action=RevokeSecurityGroupIngress&GroupId={large_group}&{TIMED_RULE}")).await;
    }

    // ----- Subnets of two more VPCs: 10 and 1,000 /28s, through the router.
    let mut named = Vec::new();
    for (cidr, count) in [("10.2.0.0/16", SMALL_SUBNETS), ("10.3.0.0/16", LARGE_SUBNETS)] {
        let v = create_vpc(app, cidr).await;
        let base: Ipv4Addr = cidr.split('/').next().unwrap().parse().unwrap();
        let t = Instant::now();
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            let block = format!("{}/28", Ipv4Addr::from(u32::from(base) + 16 * i as u32));
            ids.push(create_subnet(app, &v, &block).await);
        }
        println!("{count} subnets through the router in {:.2} s", t.elapsed().as_secs_f64());
        let xml = call(app, &format!("Action=DescribeSubnets&Filter.1.Name=vpc-id&Filter.1.Value.1={v}")).await;
        assert_eq!(xml.matches("<subnetId>").count(), count, "the subnets of {v}");
        named.push(ids[count / 2].clone());
    }
    for subnet in &named {
        let xml = call(app, &format!("Action=DescribeSubnets&SubnetId.1={subnet}")).await;
        assert_eq!(xml.matches("<subnetId>").count(), 1, "one subnet named");
    }

    // ----- In turns: one request on the small side, one on the large, ...
    for _ in 0..3 {
        for (subnet, group, one) in [(&small, &groups[0], &named[0]), (&large, &groups[1], &named[1])] {
            create_delete(app, subnet).await;
            authorize_revoke(app, group).await;
            describe_one(app, one).await;
        }
    }
    let mut create = [Vec::new(), Vec::new()];
    let mut pair_time = Duration::ZERO;
    let t = Instant::now();
    for _ in 0..rounds {
        for (i, subnet) in [&small, &large].into_iter().enumerate() {
            let (took, pair, _) = create_delete(app, subnet).await;
            create[i].push(took);
            pair_time += pair;
        }
        if spent(t, budget, &[&create[0], &create[1]]) {
            println!("(time budget of {} s spent: interface sampling stopped early)", budget.as_secs());
            break;
        }
    }
    let pairs = create[0].len() + create[1].len();
    let mut authorize = [Vec::new(), Vec::new()];
    let t = Instant::now();
    for _ in 0..rounds {
        for (i, group) in groups.iter().enumerate() {
            authorize[i].push(authorize_revoke(app, group).await);
        }
        if spent(t, budget, &[&authorize[0], &authorize[1]]) {
            println!("(time budget of {} s spent: rule sampling stopped early)", budget.as_secs());
            break;
        }
    }
    let mut describe = [Vec::new(), Vec::new()];
    let t = Instant::now();
    for _ in 0..rounds {
        for (i, one) in named.iter().enumerate() {
            describe[i].push(describe_one(app, one).await);
        }
        if spent(t, budget, &[&describe[0], &describe[1]]) {
            println!("(time budget of {} s spent: DescribeSubnets sampling stopped early)", budget.as_secs());
            break;
        }
    }

    // ----- The control: the engine's take_address, indexed and walking, in turns.
    let mut engine = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for round in 0..ENGINE_SAMPLES {
        let mut order = [
            (0, &small, false, SMALL_INTERFACES, bases[0]),
            (1, &large, false, n, bases[1]),
            (2, &small, true, SMALL_INTERFACES, bases[0]),
            (3, &large, true, n, bases[1]),
        ];
        // The large subnet first every other round.
        if round % 2 == 1 {
            order.swap(0, 1);
            order.swap(2, 3);
        }
        for (i, subnet, walking, held, base) in order {
            let (state, subnet) = (state.clone(), subnet.clone());
            let (d, addr) =
                tokio::task::spawn_blocking(move || probe_take(&state, &subnet, walking, now)).await.unwrap();
            assert_eq!(addr, nth_address(base, held), "the engine's next address in a subnet of {held}");
            engine[i].push(d);
        }
    }

    let [create_small, create_large] = create;
    let [authorize_small, authorize_large] = authorize;
    let [describe_small, describe_large] = describe;
    let [indexed_small, indexed_large, walking_small, walking_large] = engine;
    let c_small = report(&format!("CreateNetworkInterface, subnet of {SMALL_INTERFACES}"), create_small);
    let c_large = report(&format!("CreateNetworkInterface, subnet of {n}"), create_large);
    println!(
        "  (each deleted again, untimed, so the subnets keep {SMALL_INTERFACES} and {n}): {:.0} create+delete pairs/s",
        pairs as f64 / pair_time.as_secs_f64()
    );
    let a_small = report(&format!("AuthorizeSecurityGroupIngress, group of {SMALL_RULES} rules"), authorize_small);
    let a_large = report(&format!("AuthorizeSecurityGroupIngress, group of {LARGE_RULES} rules"), authorize_large);
    println!("  (each revoked again, untimed)");
    let d_small = report(&format!("DescribeSubnets SubnetId.1, VPC of {SMALL_SUBNETS} subnets"), describe_small);
    let d_large = report(&format!("DescribeSubnets SubnetId.1, VPC of {LARGE_SUBNETS} subnets"), describe_large);
    println!("control, the engine's take_address alone (transaction rolled back):");
    let i_small = report(&format!("  indexed first_free, subnet of {SMALL_INTERFACES}"), indexed_small);
    let i_large = report(&format!("  indexed first_free, subnet of {n}"), indexed_large);
    let w_small = report(&format!("  walking first_free, subnet of {SMALL_INTERFACES}"), walking_small);
    let w_large = report(&format!("  walking first_free, subnet of {n}"), walking_large);
    println!(
        "  large / small: indexed {:.2}x, walking {:.1}x (a scan the interface target would catch)",
        ratio(&i_large, &i_small),
        ratio(&w_large, &w_small)
    );

    targets.at_most(
        &format!("CreateNetworkInterface, subnet of {n} / subnet of {SMALL_INTERFACES}"),
        ratio(&c_large, &c_small),
        LIMIT_INTERFACE,
    );
    targets.at_most(
        &format!("AuthorizeSecurityGroupIngress, group of {LARGE_RULES} / group of {SMALL_RULES}"),
        ratio(&a_large, &a_small),
        LIMIT_RULE,
    );
    targets.at_most(
        &format!("DescribeSubnets by id, VPC of {LARGE_SUBNETS} / VPC of {SMALL_SUBNETS}"),
        ratio(&d_large, &d_small),
        LIMIT_DESCRIBE,
    );
    println!("run time {:.1} s", began.elapsed().as_secs_f64());

    targets.finish();
}
