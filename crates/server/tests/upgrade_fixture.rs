//! Schema upgrades: a database made by an older Reservoir opens with the newest schema
//! and reads back whole.
//!
//! `crates/store/tests/fixtures/v<N>.sqlite` is a SQLite file made by Reservoir at schema
//! version N (the first: `v7.sqlite`, made at `0007_capacity_and_sharing.sql`), checked in
//! with `v<N>.json`, the ids and values it holds. It holds, made through the router: a VPC
//! with an internet gateway, a subnet, a security group with a rule, a network interface
//! carrying an Elastic IP, tags; an IPAM pool with a provisioned CIDR and two allocations;
//! a capacity reservation with an instance launched into it (with a key pair); a CoIP pool
//! with a customer-owned address; a RAM share of the reservation (invitation pending); a
//! Cognito identity pool with an identity and two records of a dataset.
//!
//! `old_fixtures_upgrade_in_place` copies each fixture to a temporary directory, opens it
//! with `AppState::open` on the file store (the migrations newer than N run there, in
//! place), reads every family back through the router and checks the recorded ids and
//! values, then makes one new write of each kind (an IPAM allocation, a launch into the
//! reservation, a network interface, a customer-owned and an Amazon address, a Cognito
//! record) to show the upgraded database is usable.
//!
//! The rule (also in `crates/store/migrations/sqlite/README.md`): a new migration must
//! leave this test passing on every checked-in fixture, and each new schema version adds
//! its own fixture (`newest_schema_has_a_fixture` fails until it does), made by
//! `cargo test -p reservoir-server --test upgrade_fixture -- --ignored make_fixture`
//! (it writes `v<N>.sqlite`, vacuumed into one file, and `v<N>.json` for the newest
//! version; it never overwrites a fixture).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use reservoir_server::{AppState, Config, Storage, http::router};
use serde_json::{Value, json};
use tower::ServiceExt;

const ACCOUNT: &str = "000000000000";
const OTHER_ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";
const ZONE: &str = "us-east-1a";
const IMAGE: &str = "ami-0123456789abcdef0";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/tests/fixtures")
}

fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={ACCOUNT}/20261122/{REGION}/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={}",
        "0".repeat(64)
    )
}

async fn send(app: &axum::Router, request: Request<Body>) -> (bool, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let ok = response.status().is_success();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (ok, String::from_utf8(bytes.to_vec()).unwrap())
}

/// An EC2 call that must succeed; answers the XML.
async fn ec2(app: &axum::Router, body: &str) -> String {
    let request = Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .header("authorization", auth("ec2"))
        .body(Body::from(format!("{body}&Version=2016-11-15")))
        .unwrap();
    let (ok, text) = send(app, request).await;
    assert!(ok, "{body}: {text}");
    text
}

fn json_answer(what: &str, ok: bool, text: &str) -> Value {
    assert!(ok, "{what}: {text}");
    if text.is_empty() { Value::Null } else { serde_json::from_str(text).unwrap() }
}

async fn identity(app: &axum::Router, operation: &str, body: Value) -> Value {
    let request = Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSCognitoIdentityService.{operation}"))
        .header("authorization", auth("cognito-identity"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let (ok, text) = send(app, request).await;
    json_answer(operation, ok, &text)
}

async fn rest(app: &axum::Router, service: &str, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut request = Request::builder().method(method).uri(path).header("authorization", auth(service));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap();
    let (ok, text) = send(app, request).await;
    json_answer(&format!("{method} {path}"), ok, &text)
}

/// The text of the first `<tag>` element.
fn extract(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{tag}> in {xml}")) + open.len();
    let end = xml[start..].find('<').unwrap() + start;
    xml[start..end].to_string()
}

fn enc(text: &str) -> String {
    text.replace('/', "%2F").replace(':', "%3A").replace('*', "%2A")
}

fn records_path(pool: &str, identity: &str) -> String {
    format!("/identitypools/{}/identities/{}/datasets/settings", enc(pool), enc(identity))
}

/// Writes one record through ListRecords (for the session token) and UpdateRecords.
async fn put_record(app: &axum::Router, pool: &str, identity: &str, key: &str, value: &str, count: i64) -> Value {
    let base = records_path(pool, identity);
    let listed = rest(app, "cognito-sync", "GET", &format!("{base}/records"), None).await;
    let token = listed["SyncSessionToken"].as_str().unwrap().to_string();
    let body = json!({
        "SyncSessionToken": token,
        "RecordPatches": [{"Op": "replace", "Key": key, "Value": value, "SyncCount": count}],
    });
    rest(app, "cognito-sync", "POST", &base, Some(body)).await
}

fn open_file(path: &Path) -> Arc<AppState> {
    let config = Config { storage: Storage::File(path.to_path_buf()), ..Config::ephemeral() };
    Arc::new(AppState::open(config).unwrap())
}

/// Builds the fixture's state through the router; answers the ids and values it recorded.
async fn populate(app: &axum::Router) -> Value {
    // A VPC with a subnet, a security group with a rule, a network interface, tags.
    let vpc = extract(
        &ec2(
            app,
            "Action=CreateVpc&CidrBlock=10.20.0.0%2F16&TagSpecification.1.ResourceType=vpc\
             &TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=fixture-vpc",
        )
        .await,
        "vpcId",
    );
    let subnet = extract(
        &ec2(app, &format!("Action=CreateSubnet&VpcId={vpc}&CidrBlock=10.20.1.0%2F24&AvailabilityZone={ZONE}")).await,
        "subnetId",
    );
    ec2(app, &format!("Action=CreateTags&ResourceId.1={subnet}&Tag.1.Key=tier&Tag.1.Value=app")).await;
    let group = extract(
        &ec2(app, &format!("Action=CreateSecurityGroup&GroupName=fixture-sg&GroupDescription=fixture&VpcId={vpc}"))
            .await,
        "groupId",
    );
    ec2(
        app,
        &format!(
            "Action=AuthorizeSecurityGroupIngress&GroupId={group}&IpPermissions.1.IpProtocol=tcp\
             &IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8"
        ),
    )
    .await;
    let eni_xml = ec2(
        app,
        &format!(
            "Action=CreateNetworkInterface&SubnetId={subnet}&PrivateIpAddress=10.20.1.10&SecurityGroupId.1={group}\
             &Description=fixture-eni"
        ),
    )
    .await;
    let eni = extract(&eni_xml, "networkInterfaceId");

    // IPAM: a pool, a provisioned CIDR, two allocations.
    let ipam_xml = ec2(app, "Action=CreateIpam").await;
    let ipam = extract(&ipam_xml, "ipamId");
    let scope = extract(&ipam_xml, "privateDefaultScopeId");
    let pool = extract(
        &ec2(app, &format!("Action=CreateIpamPool&IpamScopeId={scope}&AddressFamily=ipv4")).await,
        "ipamPoolId",
    );
    ec2(app, &format!("Action=ProvisionIpamPoolCidr&IpamPoolId={pool}&Cidr=10.100.0.0%2F16")).await;
    let mut allocations = Vec::new();
    for body in [
        format!("Action=AllocateIpamPoolCidr&IpamPoolId={pool}&Cidr=10.100.4.0%2F24&Description=fixed"),
        format!("Action=AllocateIpamPoolCidr&IpamPoolId={pool}&NetmaskLength=20&Description=sized"),
    ] {
        let xml = ec2(app, &body).await;
        allocations.push(json!({"id": extract(&xml, "ipamPoolAllocationId"), "cidr": extract(&xml, "cidr")}));
    }

    // A capacity reservation with an instance launched into it, in the subnet.
    let reservation = extract(
        &ec2(
            app,
            &format!(
                "Action=CreateCapacityReservation&InstanceType=m5.large&InstancePlatform=Linux%2FUNIX\
                 &AvailabilityZone={ZONE}&InstanceCount=3&InstanceMatchCriteria=targeted"
            ),
        )
        .await,
        "capacityReservationId",
    );
    let key = ec2(app, "Action=CreateKeyPair&KeyName=fixture-key").await;
    let key_id = extract(&key, "keyPairId");
    let key_fingerprint = extract(&key, "keyFingerprint");
    let run = ec2(
        app,
        &format!(
            "Action=RunInstances&ImageId={IMAGE}&InstanceType=m5.large&MinCount=1&MaxCount=1&SubnetId={subnet}\
             &KeyName=fixture-key&CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId=\
             {reservation}&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name\
             &TagSpecification.1.Tag.1.Value=fixture-instance"
        ),
    )
    .await;
    let instance = extract(&run, "instanceId");
    let instance_ip = extract(&run, "privateIpAddress");
    let instance_eni = extract(&run, "networkInterfaceId");

    // CoIP: a pool of the account's Outpost, one customer-owned address.
    let lgw = extract(&ec2(app, "Action=DescribeLocalGateways").await, "localGatewayId");
    let lgw_table = extract(
        &ec2(app, &format!("Action=CreateLocalGatewayRouteTable&LocalGatewayId={lgw}&Mode=coip")).await,
        "localGatewayRouteTableId",
    );
    let coip_pool =
        extract(&ec2(app, &format!("Action=CreateCoipPool&LocalGatewayRouteTableId={lgw_table}")).await, "poolId");
    ec2(app, &format!("Action=CreateCoipCidr&Cidr=192.168.50.0%2F28&CoipPoolId={coip_pool}")).await;
    let coip_xml = ec2(app, &format!("Action=AllocateAddress&CustomerOwnedIpv4Pool={coip_pool}")).await;
    let coip_allocation = extract(&coip_xml, "allocationId");
    let coip_address = extract(&coip_xml, "customerOwnedIp");

    // An Elastic IP from Amazon's space, associated with the network interface (the VPC
    // needs an internet gateway for that).
    let igw = extract(&ec2(app, "Action=CreateInternetGateway").await, "internetGatewayId");
    ec2(app, &format!("Action=AttachInternetGateway&InternetGatewayId={igw}&VpcId={vpc}")).await;
    let eip_xml = ec2(app, "Action=AllocateAddress&Domain=vpc").await;
    let eip_allocation = extract(&eip_xml, "allocationId");
    let eip_address = extract(&eip_xml, "publicIp");
    let association = extract(
        &ec2(app, &format!("Action=AssociateAddress&AllocationId={eip_allocation}&NetworkInterfaceId={eni}")).await,
        "associationId",
    );

    // RAM: the reservation shared with another account (an invitation, pending).
    let reservation_arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:capacity-reservation/{reservation}");
    let share = rest(
        app,
        "ram",
        "POST",
        "/createresourceshare",
        Some(json!({"name": "fixture-share", "resourceArns": [reservation_arn], "principals": [OTHER_ACCOUNT]})),
    )
    .await;
    let share_arn = share["resourceShare"]["resourceShareArn"].as_str().unwrap().to_string();

    // Cognito: an identity pool, an identity, two records of a dataset.
    let identity_pool = identity(
        app,
        "CreateIdentityPool",
        json!({"IdentityPoolName": "fixture_pool", "AllowUnauthenticatedIdentities": true}),
    )
    .await["IdentityPoolId"]
        .as_str()
        .unwrap()
        .to_string();
    let identity_id =
        identity(app, "GetId", json!({"IdentityPoolId": identity_pool, "AccountId": ACCOUNT})).await["IdentityId"]
            .as_str()
            .unwrap()
            .to_string();
    put_record(app, &identity_pool, &identity_id, "theme", "dark", 0).await;
    put_record(app, &identity_pool, &identity_id, "lang", "en", 0).await;

    json!({
        "schema_version": 7,
        "account": ACCOUNT,
        "region": REGION,
        "vpc": vpc,
        "subnet": subnet,
        "security_group": group,
        "network_interface": eni,
        "network_interface_ip": "10.20.1.10",
        "ipam": ipam,
        "ipam_scope": scope,
        "ipam_pool": pool,
        "ipam_pool_cidr": "10.100.0.0/16",
        "ipam_allocations": allocations,
        "capacity_reservation": reservation,
        "instance": instance,
        "instance_private_ip": instance_ip,
        "instance_network_interface": instance_eni,
        "key_pair_id": key_id,
        "key_pair_name": "fixture-key",
        "key_fingerprint": key_fingerprint,
        "local_gateway_route_table": lgw_table,
        "coip_pool": coip_pool,
        "coip_cidr": "192.168.50.0/28",
        "coip_allocation": coip_allocation,
        "coip_address": coip_address,
        "internet_gateway": igw,
        "eip_allocation": eip_allocation,
        "eip_address": eip_address,
        "eip_association": association,
        "resource_share_arn": share_arn,
        "identity_pool": identity_pool,
        "identity": identity_id,
        "dataset": "settings",
        "records": {"theme": "dark", "lang": "en"},
    })
}

/// Makes the fixture of the newest schema version: `v<N>.sqlite` (vacuumed into one file,
/// no WAL) and `v<N>.json` in `crates/store/tests/fixtures/`. Run by hand when a
/// migration is added; never overwrites an existing fixture.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes a new fixture; run by hand when a migration is added"]
async fn make_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("made.db");
    let state = open_file(&db);
    let app = router(state.clone());
    let mut ids = populate(&app).await;
    drop(app);
    state.store.close().unwrap();
    drop(state);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: u32 = conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    ids["schema_version"] = json!(version);
    let out = fixtures_dir().join(format!("v{version}.sqlite"));
    assert!(!out.exists(), "{} exists: fixtures are never remade", out.display());
    std::fs::create_dir_all(fixtures_dir()).unwrap();
    conn.execute("VACUUM INTO ?1", [out.to_str().unwrap()]).unwrap();
    drop(conn);
    let text = serde_json::to_string_pretty(&ids).unwrap() + "\n";
    std::fs::write(fixtures_dir().join(format!("v{version}.json")), text).unwrap();
    println!("wrote {} ({} bytes)", out.display(), std::fs::metadata(&out).unwrap().len());
}

fn s<'a>(ids: &'a Value, name: &str) -> &'a str {
    ids[name].as_str().unwrap_or_else(|| panic!("{name} missing from the fixture's ids"))
}

fn assert_has(xml: &str, what: &[&str]) {
    for w in what {
        assert!(xml.contains(w), "{w} not in {xml}");
    }
}

/// The schema versions of the checked-in fixtures (`v<N>.sqlite`), oldest first.
fn fixtures() -> Vec<u32> {
    let mut versions: Vec<u32> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().ok()?;
            name.strip_prefix('v')?.strip_suffix(".sqlite")?.parse().ok()
        })
        .collect();
    versions.sort_unstable();
    versions
}

/// The schema version a new database gets.
fn newest_schema() -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let state = open_file(&db);
    state.store.close().unwrap();
    drop(state);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_fixtures_upgrade_in_place() {
    let versions = fixtures();
    assert!(versions.contains(&7), "the v7 fixture is missing: {versions:?}");
    for version in versions {
        check_fixture(version).await;
    }
}

#[test]
fn newest_schema_has_a_fixture() {
    let newest = newest_schema();
    assert!(
        fixtures().contains(&newest),
        "schema version {newest} has no fixture in crates/store/tests/fixtures/: make it with \
         `cargo test -p reservoir-server --test upgrade_fixture -- --ignored make_fixture` and check it in"
    );
}

async fn check_fixture(version: u32) {
    let ids: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures_dir().join(format!("v{version}.json"))).expect("the fixture's ids"),
    )
    .unwrap();
    assert_eq!(ids["schema_version"], json!(version));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("upgraded.db");
    std::fs::copy(fixtures_dir().join(format!("v{version}.sqlite")), &db).unwrap();
    let state = open_file(&db);
    check_state(&state, &ids).await;
    state.store.close().unwrap();
    drop(state);

    // The copy is now at the newest schema, and whole.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let upgraded: u32 = conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    assert_eq!(upgraded, newest_schema(), "v{version} fixture after opening");
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok", "v{version} fixture after opening");
}

/// Reads every family of the fixture's state back through the router, then makes one new
/// write of each kind (the store is usable: no id, address or insertion order collides).
async fn check_state(state: &Arc<AppState>, ids: &Value) {
    let ids = ids.clone();
    let app = &router(state.clone());

    // Networking.
    let (vpc, subnet, group, eni) =
        (s(&ids, "vpc"), s(&ids, "subnet"), s(&ids, "security_group"), s(&ids, "network_interface"));
    let xml = ec2(app, &format!("Action=DescribeVpcs&VpcId.1={vpc}")).await;
    assert_has(&xml, &[vpc, "<cidrBlock>10.20.0.0/16</cidrBlock>", "<value>fixture-vpc</value>"]);
    let xml = ec2(app, &format!("Action=DescribeSubnets&SubnetId.1={subnet}")).await;
    assert_has(&xml, &[subnet, vpc, "<cidrBlock>10.20.1.0/24</cidrBlock>", ZONE, "<value>app</value>"]);
    let xml = ec2(app, &format!("Action=DescribeSecurityGroups&GroupId.1={group}")).await;
    assert_has(&xml, &[group, "<groupName>fixture-sg</groupName>", "<fromPort>443</fromPort>", "10.0.0.0/8"]);
    let xml = ec2(app, &format!("Action=DescribeNetworkInterfaces&NetworkInterfaceId.1={eni}")).await;
    assert_has(
        &xml,
        &[eni, subnet, group, s(&ids, "network_interface_ip"), s(&ids, "eip_address"), s(&ids, "eip_association")],
    );
    let igw = s(&ids, "internet_gateway");
    let xml = ec2(app, &format!("Action=DescribeInternetGateways&InternetGatewayId.1={igw}")).await;
    assert_has(&xml, &[igw, vpc]);
    let xml = ec2(app, &format!("Action=DescribeTags&Filter.1.Name=resource-id&Filter.1.Value.1={vpc}")).await;
    assert_has(&xml, &["<key>Name</key>", "<value>fixture-vpc</value>"]);
    let xml = ec2(app, &format!("Action=DescribeTags&Filter.1.Name=resource-id&Filter.1.Value.1={subnet}")).await;
    assert_has(&xml, &["<key>tier</key>", "<value>app</value>"]);

    // IPAM.
    let pool = s(&ids, "ipam_pool");
    let xml = ec2(app, &format!("Action=GetIpamPoolAllocations&IpamPoolId={pool}")).await;
    let allocations = ids["ipam_allocations"].as_array().unwrap();
    for a in allocations {
        assert_has(&xml, &[a["id"].as_str().unwrap(), a["cidr"].as_str().unwrap()]);
    }
    let xml = ec2(app, &format!("Action=GetIpamPoolCidrs&IpamPoolId={pool}")).await;
    assert_has(&xml, &[s(&ids, "ipam_pool_cidr")]);

    // Capacity, instances, key pairs.
    let (reservation, instance) = (s(&ids, "capacity_reservation"), s(&ids, "instance"));
    let xml = ec2(app, &format!("Action=DescribeCapacityReservations&CapacityReservationId.1={reservation}")).await;
    assert_has(
        &xml,
        &[
            reservation,
            "<totalInstanceCount>3</totalInstanceCount>",
            "<availableInstanceCount>2</availableInstanceCount>",
        ],
    );
    let xml = ec2(app, &format!("Action=GetCapacityReservationUsage&CapacityReservationId={reservation}")).await;
    assert_has(&xml, &[ACCOUNT, "<usedInstanceCount>1</usedInstanceCount>"]);
    let xml = ec2(app, &format!("Action=DescribeInstances&InstanceId.1={instance}")).await;
    assert_has(
        &xml,
        &[
            instance,
            subnet,
            reservation,
            s(&ids, "instance_private_ip"),
            s(&ids, "instance_network_interface"),
            "<keyName>fixture-key</keyName>",
            "<value>fixture-instance</value>",
        ],
    );
    let xml = ec2(app, "Action=DescribeKeyPairs&KeyName.1=fixture-key").await;
    assert_has(&xml, &[s(&ids, "key_pair_id"), s(&ids, "key_fingerprint")]);

    // CoIP and Elastic IPs.
    let coip_pool = s(&ids, "coip_pool");
    let xml = ec2(app, &format!("Action=GetCoipPoolUsage&PoolId={coip_pool}")).await;
    assert_has(&xml, &[s(&ids, "coip_allocation"), s(&ids, "coip_address")]);
    let xml = ec2(app, &format!("Action=DescribeCoipPools&PoolId.1={coip_pool}")).await;
    assert_has(&xml, &[s(&ids, "coip_cidr"), s(&ids, "local_gateway_route_table")]);
    let xml = ec2(app, "Action=DescribeAddresses").await;
    assert_has(
        &xml,
        &[s(&ids, "coip_allocation"), s(&ids, "coip_address"), s(&ids, "eip_allocation"), s(&ids, "eip_address"), eni],
    );

    // RAM.
    let shares = rest(app, "ram", "POST", "/getresourceshares", Some(json!({"resourceOwner": "SELF"}))).await;
    let share = shares["resourceShares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceShareArn"] == ids["resource_share_arn"])
        .unwrap_or_else(|| panic!("the resource share is gone: {shares}"));
    assert_eq!(share["name"], "fixture-share");

    // Cognito.
    let (identity_pool, identity_id) = (s(&ids, "identity_pool"), s(&ids, "identity"));
    let out = identity(app, "DescribeIdentityPool", json!({"IdentityPoolId": identity_pool})).await;
    assert_eq!(out["IdentityPoolName"], "fixture_pool");
    let out = identity(app, "DescribeIdentity", json!({"IdentityId": identity_id})).await;
    assert_eq!(out["IdentityId"], identity_id);
    let listed =
        rest(app, "cognito-sync", "GET", &format!("{}/records", records_path(identity_pool, identity_id)), None).await;
    let records = listed["Records"].as_array().unwrap();
    for (key, value) in ids["records"].as_object().unwrap() {
        let record = records.iter().find(|r| r["Key"] == *key).unwrap_or_else(|| panic!("record {key}: {listed}"));
        assert_eq!(record["Value"], *value);
    }

    // One new write of each family.
    let xml = ec2(app, &format!("Action=AllocateIpamPoolCidr&IpamPoolId={pool}&NetmaskLength=24")).await;
    let cidr = extract(&xml, "cidr");
    assert!(allocations.iter().all(|a| a["cidr"] != cidr.as_str()), "{cidr} handed out twice");
    let xml = ec2(
        app,
        &format!(
            "Action=RunInstances&ImageId={IMAGE}&InstanceType=m5.large&MinCount=1&MaxCount=1&SubnetId={subnet}\
             &CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId={reservation}"
        ),
    )
    .await;
    assert_ne!(extract(&xml, "privateIpAddress"), s(&ids, "instance_private_ip"));
    let xml = ec2(app, &format!("Action=GetCapacityReservationUsage&CapacityReservationId={reservation}")).await;
    assert_has(
        &xml,
        &["<usedInstanceCount>2</usedInstanceCount>", "<availableInstanceCount>1</availableInstanceCount>"],
    );
    let xml = ec2(app, &format!("Action=AllocateAddress&CustomerOwnedIpv4Pool={coip_pool}")).await;
    assert_ne!(extract(&xml, "customerOwnedIp"), s(&ids, "coip_address"));
    let xml = ec2(app, "Action=AllocateAddress&Domain=vpc").await;
    assert_ne!(extract(&xml, "publicIp"), s(&ids, "eip_address"));
    let xml = ec2(app, &format!("Action=CreateNetworkInterface&SubnetId={subnet}")).await;
    assert_ne!(extract(&xml, "privateIpAddress"), s(&ids, "network_interface_ip"));
    let theme = &records.iter().find(|r| r["Key"] == "theme").unwrap()["SyncCount"];
    let out = put_record(app, identity_pool, identity_id, "theme", "light", theme.as_i64().unwrap()).await;
    assert_eq!(out["Records"][0]["Value"], "light");
}

/// Runs `f` (which may use a PostgreSQL connection's own runtime) off the async workers.
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// `reservoir export` / `import` / `serve --seed`: the newest fixture's state, exported,
/// seeds an empty SQLite store and (with `RESERVOIR_TEST_PG_URL`) an empty PostgreSQL
/// database; each exports exactly the same document, answers every read of the fixture
/// and takes new writes. One account's export holds only that account's rows and loads
/// alone. A store that holds state refuses a seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_import_round_trip_is_exact() {
    use reservoir_store::transfer::{export, import};
    let version = newest_schema();
    let ids: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join(format!("v{version}.json"))).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("source.db");
    std::fs::copy(fixtures_dir().join(format!("v{version}.sqlite")), &db).unwrap();
    let source = open_file(&db);
    let doc = export(&*source.store, None).unwrap();
    let rows: usize = doc["tables"].as_object().unwrap().values().map(|t| t["rows"].as_array().unwrap().len()).sum();
    assert!(rows > 50, "the fixture exports {rows} rows");
    assert!(doc["meta"]["next-token-key"].is_string());
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, serde_json::to_string_pretty(&doc).unwrap()).unwrap();

    let pg = blocking(reservoir_store::postgres::ScratchDatabase::from_env);
    let mut targets = vec![("sqlite-memory", Storage::Memory), ("sqlite-file", Storage::File(dir.path().join("t.db")))];
    if let Some(db) = &pg {
        targets.push(("postgres", Storage::Postgres { url: db.url().to_string(), pool_size: 2 }));
    }
    for (name, storage) in targets {
        let config = Config { storage, seed: Some(seed.clone()), ..Config::ephemeral() };
        let state = tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap();
        let state = Arc::new(state);
        let again = blocking(|| export(&*state.store, None).unwrap());
        assert!(again == doc, "{name}: the round trip changed the state");
        check_state(&state, &ids).await;
        // Loading again into a store that holds state is refused, and writes nothing.
        blocking(|| {
            let before = export(&*state.store, None).unwrap();
            let refused = import(&*state.store, &doc);
            assert!(matches!(refused, Err(reservoir_store::transfer::ImportError::NotEmpty)), "{name}");
            assert!(export(&*state.store, None).unwrap() == before, "{name}");
            state.store.close().unwrap();
        });
    }

    // One account's state.
    let mine = export(&*source.store, Some(ACCOUNT)).unwrap();
    for (table, t) in mine["tables"].as_object().unwrap() {
        let columns = t["columns"].as_array().unwrap();
        let at = columns.iter().position(|c| c == "account").unwrap_or_else(|| panic!("{table} has no account"));
        assert!(t["rows"].as_array().unwrap().iter().all(|r| r[at] == ACCOUNT), "{table}");
    }
    assert_eq!(mine["meta"], json!({}));
    let store = reservoir_store::sqlite::SqliteStore::open_memory().unwrap();
    import(&store, &mine).unwrap();
    assert!(export(&store, Some(ACCOUNT)).unwrap() == mine);
    assert_eq!(export(&store, Some(OTHER_ACCOUNT)).unwrap()["tables"]["resources"]["rows"], json!([]));

    // Malformed documents change nothing.
    let empty = reservoir_store::sqlite::SqliteStore::open_memory().unwrap();
    for bad in [json!({}), json!({"format": "reservoir-state", "schema": 99, "tables": {}}), {
        let mut d = doc.clone();
        d["tables"]["resources"]["columns"] = json!(["seq"]);
        d
    }] {
        assert!(import(&empty, &bad).is_err(), "{bad}");
    }
    let mut broken = doc.clone();
    broken["tables"]["tags"]["rows"][0][0] = json!(12);
    assert!(import(&empty, &broken).is_err());
    assert_eq!(export(&empty, None).unwrap()["tables"]["resources"]["rows"], json!([]));
}
