"""Crash safety of the stores: a bounded write load from a few client threads against a
server, killed with SIGKILL at a random moment 20 times and restarted on the same store
each time. Two variants: SQLite (issue 20: a `--data` file) and PostgreSQL (a fresh
database through RESERVOIR_TEST_PG_URL, `--store URL`; skipped when that is unset, and
in the PostgreSQL-mode pass of the suite, RESERVOIR_TEST_STORE=postgres, so that it runs
once per run).

The load: IPAM allocations from one pool (and releases), instance launches into a
targeted capacity reservation (and terminations), CoIP address allocations from a pool
on the default local gateway (and releases), and Cognito Sync record updates. Each
thread owns the objects it makes and records every write with its outcome:
acknowledged (a 2xx answer), failed (an error answer) or unknown (the connection died
with the server). Every object is marked with the id of the write that made it (the
allocation's description, the instance's or address's `op` tag, the record's value).

After every restart, before the load goes on, and at the end: every acknowledged write
is there, no failed one is, unknown ones may be either; and the invariants hold (no two
IPAM allocations overlap; the reservation's usage equals the running instances in it;
no CoIP address is handed out twice and the pool's usage equals DescribeAddresses;
Cognito's DataStorage equals a recount of the live records).

Reproducible as far as threads allow: the seed (printed; `CRASH_SEED=N` to replay)
decides the kill delays and each thread's random stream (which write next, on which of
its objects); how many requests fit before a kill is up to the machine. Bounded: 20
cycles of 0.3-1.0 s of load, about 35 s with the debug build on two cores (each variant).

PostgreSQL only: a 503 answer (the server ran out of its own retries of a serialization
failure, and wrote nothing) is asked again, up to BUSY_RETRIES times, and counted. With
SQLite a 503 is an unexpected error answer, as any other.
"""

from __future__ import annotations

import ipaddress
import os
import random
import signal
import threading
import time
from collections import Counter

import pytest
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
from botocore.parsers import ResponseParserError

import pg_support
from cognito_helpers import all_records, session
from conftest import all_pages, make_client, start_server

CYCLES = 20
THREADS = 4
LOAD_SECONDS = (0.3, 1.0)
JOIN_TIMEOUT = 30
BUSY_RETRIES = 5  # a 503 (nothing written) is asked again this many times at most

ZONE = "us-east-1a"
IMAGE = "ami-0123456789abcdef0"  # well formed, not in the catalogue: launches as Linux/UNIX
IPAM_CIDR = "10.0.0.0/16"
COIP_CIDR = "172.16.0.0/26"  # 64 addresses: the load runs it dry, so some allocations fail
SLOTS = 10  # the reservation's size: launches beyond it fail
DATASET = "crash"
KEYS_PER_THREAD = 4

ACK, FAILED, UNKNOWN = "acknowledged", "failed", "unknown"
# What botocore raises when the server dies under a request: refused, reset or closed
# connections, and an answer cut short. Anything else is a bug of the test and fails it.
DIED = (ConnectionError, HTTPClientError, ResponseParserError)


def serve(own_server, db):
    return own_server("--listen", "127.0.0.1:0", "--data", str(db))


def busy(e: ClientError) -> bool:
    return e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 503


def outcome_of(fn, retries=0, tally=None):
    """(outcome, response or error). A 503 (nothing written) is asked again up to
    `retries` times, each counted in `tally` (a Counter) under "busy"."""
    for attempt in range(retries + 1):
        try:
            return ACK, fn()
        except ClientError as e:
            if busy(e) and attempt < retries:
                if tally is not None:
                    tally["busy"] += 1
                time.sleep(0.02 * (attempt + 1))
                continue
            return FAILED, e.response
        except DIED as e:  # the server was killed mid-request
            return UNKNOWN, e


def tag_of(item, key="op"):
    for t in item.get("Tags", []):
        if t["Key"] == key:
            return t["Value"]
    return None


class World:
    """What the setup made; the same ids across restarts."""

    def __init__(self, ec2, cognito):
        ipam = ec2.create_ipam()["Ipam"]
        self.ipam_pool = ec2.create_ipam_pool(
            IpamScopeId=ipam["PrivateDefaultScopeId"], AddressFamily="ipv4"
        )["IpamPool"]["IpamPoolId"]
        ec2.provision_ipam_pool_cidr(IpamPoolId=self.ipam_pool, Cidr=IPAM_CIDR)
        self.reservation = ec2.create_capacity_reservation(
            InstanceType="m5.large",
            InstancePlatform="Linux/UNIX",
            AvailabilityZone=ZONE,
            InstanceCount=SLOTS,
            InstanceMatchCriteria="targeted",
        )["CapacityReservation"]["CapacityReservationId"]
        (lgw,) = ec2.describe_local_gateways()["LocalGateways"]
        rtb = ec2.create_local_gateway_route_table(LocalGatewayId=lgw["LocalGatewayId"], Mode="coip")[
            "LocalGatewayRouteTable"
        ]["LocalGatewayRouteTableId"]
        self.coip_pool = ec2.create_coip_pool(LocalGatewayRouteTableId=rtb)["CoipPool"]["PoolId"]
        ec2.create_coip_cidr(Cidr=COIP_CIDR, CoipPoolId=self.coip_pool)
        self.identity_pool = cognito.create_identity_pool(
            IdentityPoolName="crash", AllowUnauthenticatedIdentities=True
        )["IdentityPoolId"]
        self.identities = [
            cognito.get_id(IdentityPoolId=self.identity_pool)["IdentityId"] for _ in range(THREADS)
        ]


class Worker:
    """One client thread's objects and the history of its writes. Objects whose last write
    had an unknown outcome are left alone afterwards (their state is either)."""

    def __init__(self, n, world, seed, busy_retries=0):
        self.n = n
        self.busy_retries = busy_retries
        self.w = world
        self.identity = world.identities[n]
        self.rng = random.Random(f"{seed}/{n}")
        self.seq = 0
        self.counts = Counter()  # (kind, outcome) -> n
        # IPAM: op -> {"outcome", "id", "cidr", "released": None | outcome}
        self.ipam = {}
        # instances: op -> {"outcome", "id", "terminated": None | outcome}
        self.instances = {}
        # CoIP: op -> {"outcome", "id", "ip", "released": None | outcome}
        self.coip = {}
        # Cognito: key -> [(op value, outcome, sync count if acknowledged)]
        self.records = {f"t{n}-k{i}": [] for i in range(KEYS_PER_THREAD)}
        self.errors = []  # unexpected error answers, for the report
        self.busy = Counter()  # 503s asked again

    def call(self, fn):
        return outcome_of(fn, self.busy_retries, self.busy)

    def op_id(self):
        self.seq += 1
        return f"t{self.n}-{self.seq}"

    def note(self, kind, outcome, resp):
        self.counts[(kind, outcome)] += 1
        if outcome == FAILED:
            self.errors.append((kind, resp.get("Error", {}).get("Code"), resp["ResponseMetadata"]["HTTPStatusCode"]))

    # --- the load ---------------------------------------------------------------------------

    def run(self, ec2, sync, stop):
        steps = [
            (3, self.ipam_allocate),
            (0.3, self.ipam_allocate_taken),
            (1, self.ipam_release),
            (2, self.launch),
            (1.5, self.terminate),
            (2, self.coip_allocate),
            (1, self.coip_release),
            (3, self.cognito_update),
        ]
        weights = [w for w, _ in steps]
        while not stop.is_set():
            (step,) = self.rng.choices([s for _, s in steps], weights)
            if step(ec2, sync) == UNKNOWN:
                return  # the server is gone

    def ipam_allocate(self, ec2, sync):
        op = self.op_id()
        outcome, r = self.call(
            lambda: ec2.allocate_ipam_pool_cidr(IpamPoolId=self.w.ipam_pool, NetmaskLength=28, Description=op)
        )
        self.note("ipam-allocate", outcome, r)
        a = r["IpamPoolAllocation"] if outcome == ACK else {}
        self.ipam[op] = {
            "outcome": outcome,
            "id": a.get("IpamPoolAllocationId"),
            "cidr": a.get("Cidr"),
            "released": None,
        }
        return outcome

    def live_ipam(self):
        return [op for op, a in self.ipam.items() if a["outcome"] == ACK and a["released"] is None]

    def ipam_allocate_taken(self, ec2, sync):
        """Asks for a CIDR this thread holds: refused, and must leave no trace."""
        live = self.live_ipam()
        if not live:
            return None
        cidr = self.ipam[self.rng.choice(live)]["cidr"]
        op = self.op_id()
        outcome, r = self.call(
            lambda: ec2.allocate_ipam_pool_cidr(IpamPoolId=self.w.ipam_pool, Cidr=cidr, Description=op)
        )
        if outcome == FAILED and r["Error"]["Code"] == "InvalidParameterValue":
            self.counts[("ipam-allocate", outcome)] += 1  # expected: the CIDR is taken
        else:
            self.note("ipam-allocate", outcome, r)
        a = r["IpamPoolAllocation"] if outcome == ACK else {}
        self.ipam[op] = {
            "outcome": outcome,
            "id": a.get("IpamPoolAllocationId"),
            "cidr": a.get("Cidr"),
            "released": None,
        }
        return outcome

    def ipam_release(self, ec2, sync):
        live = self.live_ipam()
        if not live:
            return None
        a = self.ipam[self.rng.choice(live)]
        outcome, r = self.call(
            lambda: ec2.release_ipam_pool_allocation(
                IpamPoolId=self.w.ipam_pool, Cidr=a["cidr"], IpamPoolAllocationId=a["id"]
            )
        )
        self.note("ipam-release", outcome, r)
        a["released"] = outcome
        return outcome

    def launch(self, ec2, sync):
        op = self.op_id()
        outcome, r = self.call(
            lambda: ec2.run_instances(
                ImageId=IMAGE,
                InstanceType="m5.large",
                MinCount=1,
                MaxCount=1,
                Placement={"AvailabilityZone": ZONE},
                CapacityReservationSpecification={
                    "CapacityReservationTarget": {"CapacityReservationId": self.w.reservation}
                },
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "op", "Value": op}]}],
            )
        )
        if outcome == FAILED and r["Error"]["Code"] == "ReservationCapacityExceeded":
            self.counts[("launch", outcome)] += 1  # expected: the reservation is full
        else:
            self.note("launch", outcome, r)
        iid = r["Instances"][0]["InstanceId"] if outcome == ACK else None
        self.instances[op] = {"outcome": outcome, "id": iid, "terminated": None}
        return outcome

    def terminate(self, ec2, sync):
        running = [op for op, i in self.instances.items() if i["outcome"] == ACK and i["terminated"] is None]
        if not running:
            return None
        i = self.instances[self.rng.choice(running)]
        outcome, r = self.call(lambda: ec2.terminate_instances(InstanceIds=[i["id"]]))
        self.note("terminate", outcome, r)
        i["terminated"] = outcome
        return outcome

    def coip_allocate(self, ec2, sync):
        op = self.op_id()
        outcome, r = self.call(
            lambda: ec2.allocate_address(
                CustomerOwnedIpv4Pool=self.w.coip_pool,
                TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "op", "Value": op}]}],
            )
        )
        if outcome == FAILED and r["Error"]["Code"] == "InsufficientAddressCapacity":
            self.counts[("coip-allocate", outcome)] += 1  # expected: the pool ran dry
        else:
            self.note("coip-allocate", outcome, r)
        self.coip[op] = {
            "outcome": outcome,
            "id": r.get("AllocationId") if outcome == ACK else None,
            "ip": r.get("CustomerOwnedIp") if outcome == ACK else None,
            "released": None,
        }
        return outcome

    def coip_release(self, ec2, sync):
        live = [op for op, a in self.coip.items() if a["outcome"] == ACK and a["released"] is None]
        if not live:
            return None
        a = self.coip[self.rng.choice(live)]
        outcome, r = self.call(lambda: ec2.release_address(AllocationId=a["id"]))
        self.note("coip-release", outcome, r)
        a["released"] = outcome
        return outcome

    def cognito_update(self, ec2, sync):
        key = self.rng.choice(sorted(self.records))
        outcome, got = self.call(lambda: session(sync, self.w.identity_pool, self.identity, DATASET))
        if outcome == UNKNOWN:
            return UNKNOWN  # a read: nothing was written
        if outcome == FAILED:
            self.errors.append(("list-records", got["Error"]["Code"], None))
            return None
        token, current = got
        count = current.get(key, {}).get("SyncCount", 0)
        stale = count >= 1 and self.rng.random() < 0.1  # refused: the record moved on
        op = self.op_id()
        outcome, r = self.call(
            lambda: sync.update_records(
                IdentityPoolId=self.w.identity_pool,
                IdentityId=self.identity,
                DatasetName=DATASET,
                SyncSessionToken=token,
                RecordPatches=[{"Op": "replace", "Key": key, "Value": op, "SyncCount": count - 1 if stale else count}],
            )
        )
        if outcome == FAILED and stale and r["Error"]["Code"] == "ResourceConflictException":
            self.counts[("cognito-update", outcome)] += 1
        else:
            self.note("cognito-update", outcome, r)
        synced = None
        if outcome == ACK:
            (rec,) = [x for x in r["Records"] if x["Key"] == key]
            assert rec["Value"] == op
            synced = rec["SyncCount"]
        self.records[key].append((op, outcome, synced))
        return outcome


# --- checks ---------------------------------------------------------------------------------


def check_history(kind, label, histories, by_op, matches, landed, problems):
    """What the clients did (op -> history of an allocation and its release, merged from
    `histories`) against what the server holds (`by_op`): nothing unasked for, no failed
    allocation present, every acknowledged one present (`matches`) until an acknowledged
    release; a write of unknown outcome is noted in `landed` as `(kind-allocate|release,
    op)`."""
    known = {}
    for h in histories:
        known.update(h)
    for op, got in by_op.items():
        if op not in known:
            problems.append(f"{label} {got} made by no request")
    for op, h in known.items():
        got = by_op.get(op)
        if h["outcome"] == UNKNOWN:
            landed.setdefault((f"{kind}-allocate", op), got is not None)
        if h["released"] == UNKNOWN:
            landed.setdefault((f"{kind}-release", op), got is None)
        if h["outcome"] == FAILED and got:
            problems.append(f"{label} {op} failed but is present: {got}")
        elif h["outcome"] == ACK and h["released"] != UNKNOWN:
            want_present = h["released"] in (None, FAILED)
            if want_present and not (got and matches(got, h)):
                problems.append(f"{label} {op} {h} acknowledged, found {got}")
            if not want_present and got:
                problems.append(f"{label} {op} released (acknowledged) but present: {got}")


def check(url, world, workers, landed):
    """Every acknowledged write is there, no failed one is; the invariants hold. Notes in
    `landed` ((kind, op) -> bool) whether each write of unknown outcome took effect, the
    first time it is seen (its object is not touched again, so that stays true)."""
    ec2 = make_client(url, "ec2")
    sync = make_client(url, "cognito-sync")
    problems = []

    # IPAM: allocations by description.
    allocs = all_pages(ec2.get_ipam_pool_allocations, "IpamPoolAllocations", IpamPoolId=world.ipam_pool)
    nets = sorted((ipaddress.ip_network(a["Cidr"]) for a in allocs), key=lambda n: n.network_address)
    for a, b in zip(nets, nets[1:]):
        if a.overlaps(b):
            problems.append(f"IPAM allocations overlap: {a} {b}")
    by_op = {}
    for a in allocs:
        if a.get("Description"):
            if a["Description"] in by_op:
                problems.append(f"IPAM op {a['Description']} allocated twice")
            by_op[a["Description"]] = a
    check_history(
        "ipam",
        "IPAM allocation",
        [w.ipam for w in workers],
        by_op,
        lambda got, h: (got["IpamPoolAllocationId"], got["Cidr"]) == (h["id"], h["cidr"]),
        landed,
        problems,
    )

    # Instances, by their op tag.
    instances = [
        i
        for r in all_pages(ec2.describe_instances, "Reservations")
        for i in r["Instances"]
    ]
    by_op = {}
    for i in instances:
        op = tag_of(i)
        if op is None:
            problems.append(f"instance {i['InstanceId']} without an op tag")
            continue
        if op in by_op:
            problems.append(f"launch {op} made two instances")
        by_op[op] = i
    known = {}
    for w in workers:
        known.update(w.instances)
    for op, i in by_op.items():
        if op not in known:
            problems.append(f"instance {i['InstanceId']} made by no request")
    for op, h in known.items():
        got = by_op.get(op)
        state = got["State"]["Name"] if got else None
        if h["outcome"] == UNKNOWN:
            landed.setdefault(("launch", op), got is not None)
        if h["terminated"] == UNKNOWN:
            landed.setdefault(("terminate", op), state == "terminated")
        if h["outcome"] == FAILED:
            allowed = {None}
        elif h["outcome"] == UNKNOWN:
            allowed = {None, "running"}
        elif h["terminated"] in (None, FAILED):
            allowed = {"running"}
        elif h["terminated"] == ACK:
            allowed = {"terminated"}
        else:
            allowed = {"running", "terminated"}
        if state not in allowed:
            problems.append(f"launch {op} ({h}): state {state}, expected one of {allowed}")
        if got and h["outcome"] == ACK and got["InstanceId"] != h["id"]:
            problems.append(f"launch {op}: instance {got['InstanceId']}, acknowledged {h['id']}")
    # The reservation's usage equals the running instances in it.
    in_it = [
        i
        for r in all_pages(
            ec2.describe_instances,
            "Reservations",
            Filters=[{"Name": "capacity-reservation-id", "Values": [world.reservation]}],
        )
        for i in r["Instances"]
        if i["State"]["Name"] in ("pending", "running")
    ]
    running = [i for i in instances if i["State"]["Name"] in ("pending", "running")]
    u = ec2.get_capacity_reservation_usage(CapacityReservationId=world.reservation)
    used = sum(r["UsedInstanceCount"] for r in u["InstanceUsages"])
    (cr,) = ec2.describe_capacity_reservations(CapacityReservationIds=[world.reservation])["CapacityReservations"]
    if not (used == len(in_it) == len(running)):
        problems.append(f"reservation used {used}, {len(in_it)} running in it, {len(running)} running")
    if u["AvailableInstanceCount"] != cr["TotalInstanceCount"] - used or cr["TotalInstanceCount"] != SLOTS:
        problems.append(
            f"reservation available {u['AvailableInstanceCount']}, total {cr['TotalInstanceCount']}, used {used}"
        )
    if cr["AvailableInstanceCount"] != SLOTS - used:
        problems.append(f"DescribeCapacityReservations available {cr['AvailableInstanceCount']}, used {used}")

    # CoIP: usage and DescribeAddresses agree, each address once, by op tag.
    usage = all_pages(ec2.get_coip_pool_usage, "CoipAddressUsages", PoolId=world.coip_pool)
    ips = [r["CoIp"] for r in usage]
    if len(ips) != len(set(ips)):
        problems.append(f"a CoIP address appears twice in the usage: {sorted(ips)}")
    addresses = [a for a in ec2.describe_addresses()["Addresses"] if a.get("CustomerOwnedIpv4Pool") == world.coip_pool]
    if len({a["CustomerOwnedIp"] for a in addresses}) != len(addresses):
        problems.append("a CoIP address appears twice in DescribeAddresses")
    listed = {(a["CustomerOwnedIp"], a["AllocationId"]) for a in addresses}
    if {(r["CoIp"], r["AllocationId"]) for r in usage} != listed:
        problems.append("GetCoipPoolUsage and DescribeAddresses disagree")
    in_usage = {r["AllocationId"]: r["CoIp"] for r in usage}
    by_op = {}
    for a in addresses:
        op = tag_of(a)
        if op is None:
            problems.append(f"address {a['AllocationId']} without an op tag")
        by_op[op] = a
    check_history(
        "coip",
        "CoIP allocation",
        [w.coip for w in workers],
        by_op,
        lambda got, h: (got["AllocationId"], got["CustomerOwnedIp"]) == (h["id"], h["ip"])
        and in_usage.get(h["id"]) == h["ip"],
        landed,
        problems,
    )

    # Cognito Sync: each record's value, and DataStorage against a recount.
    total = 0
    for w in workers:
        records, _ = all_records(sync, world.identity_pool, w.identity, DATASET)
        live = {r["Key"]: r for r in records if r.get("Value") is not None}
        stored = sum(len(k.encode("utf-8")) + len(r["Value"].encode("utf-8")) for k, r in live.items())
        total += stored
        datasets = sync.list_datasets(IdentityPoolId=world.identity_pool, IdentityId=w.identity)["Datasets"]
        ds = [d for d in datasets if d["DatasetName"] == DATASET]
        got_storage = ds[0]["DataStorage"] if ds else 0
        if got_storage != stored:
            problems.append(f"identity {w.n}: ListDatasets DataStorage {got_storage}, recount {stored}")
        if ds:
            d = sync.describe_dataset(IdentityPoolId=world.identity_pool, IdentityId=w.identity, DatasetName=DATASET)
            if (d["Dataset"]["DataStorage"], d["Dataset"]["NumRecords"]) != (stored, len(live)):
                problems.append(f"identity {w.n}: DescribeDataset {d['Dataset']}, recount {stored} in {len(live)}")
        for key, history in w.records.items():
            acked = [i for i, (_, o, _) in enumerate(history) if o == ACK]
            last = acked[-1] if acked else -1
            allowed = {history[last][0]} if acked else {None}
            allowed |= {v for v, o, _ in history[last + 1:] if o == UNKNOWN}
            rec = live.get(key)
            value = rec["Value"] if rec else None
            if history and history[-1][1] == UNKNOWN:  # its thread stopped there
                landed.setdefault(("cognito-update", history[-1][0]), value == history[-1][0])
            if value not in allowed:
                problems.append(f"record {key}: value {value}, expected one of {allowed} (history {history})")
            elif acked and value == history[last][0] and rec["SyncCount"] != history[last][2]:
                problems.append(f"record {key}: sync count {rec['SyncCount']}, acknowledged {history[last][2]}")
    pool_usage = sync.describe_identity_pool_usage(IdentityPoolId=world.identity_pool)["IdentityPoolUsage"]
    if pool_usage.get("DataStorage", 0) != total:
        problems.append(f"identity pool DataStorage {pool_usage.get('DataStorage')}, recount {total}")

    assert problems == [], "\n".join(problems)
    return {"ipam": len(allocs), "instances running": len(running), "coip": len(usage), "bytes": total}


# --- the test -------------------------------------------------------------------------------


def crash_seed():
    given = os.environ.get("CRASH_SEED", "").strip()
    return int(given) if given else random.SystemRandom().randrange(1 << 30)


def sigkill_cycles(start, seed, store, busy_retries=0):
    """The load, CYCLES kills and restarts through start() (a new server on the same
    store), the checks after each restart and the report; answers the last server."""
    print(f"\ncrash test ({store}) seed: {seed} (CRASH_SEED={seed} replays the kill delays and the threads' choices)")
    rng = random.Random(seed)
    started = time.monotonic()

    s = start()
    world = World(make_client(s.url, "ec2"), make_client(s.url, "cognito-identity"))
    workers = [Worker(n, world, seed, busy_retries) for n in range(THREADS)]
    last = None
    landed = {}
    for cycle in range(CYCLES):
        stop = threading.Event()
        clients = [(make_client(s.url, "ec2"), make_client(s.url, "cognito-sync")) for _ in workers]
        failures = []

        def body(w, ec2, sync):
            try:
                w.run(ec2, sync, stop)
            except BaseException as e:  # reported below, never swallowed
                failures.append((w.n, repr(e)))

        threads = [
            threading.Thread(target=body, args=(w, *c), daemon=True) for w, c in zip(workers, clients)
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(*LOAD_SECONDS))
        stop.set()
        assert s.signal(signal.SIGKILL) == -signal.SIGKILL
        for t in threads:
            t.join(JOIN_TIMEOUT)
        assert not any(t.is_alive() for t in threads), "a client thread did not finish"
        assert failures == [], failures

        s = start()  # the same store; a new port
        last = check(s.url, world, workers, landed)

    elapsed = time.monotonic() - started
    counts = Counter()
    busy = Counter()
    for w in workers:
        counts.update(w.counts)
        busy.update(w.busy)
    kinds = sorted({k for k, _ in counts})
    print(f"crash test ({store}): {CYCLES} SIGKILL cycles, {THREADS} client threads, {elapsed:.1f} s, seed {seed}")
    took = Counter(k for (k, _), v in landed.items() if v)
    print(f"  {'write':<16}{ACK:>14}{FAILED:>8}{UNKNOWN:>9}  (unknown that took effect)")
    for k in kinds:
        print(f"  {k:<16}{counts[(k, ACK)]:>14}{counts[(k, FAILED)]:>8}{counts[(k, UNKNOWN)]:>9}  ({took[k]})")
    print(
        f"  {'total':<16}{sum(v for (_, o), v in counts.items() if o == ACK):>14}"
        f"{sum(v for (_, o), v in counts.items() if o == FAILED):>8}"
        f"{sum(v for (_, o), v in counts.items() if o == UNKNOWN):>9}  ({sum(took.values())})"
    )
    print(f"  state at the end: {last}")
    if busy_retries:
        print(f"  503 answers asked again: {busy['busy']}")
    unexpected = [e for w in workers for e in w.errors]
    print(f"  unexpected error answers: {Counter(unexpected)}")
    assert unexpected == [], Counter(unexpected)
    # The load did reach every kind of write, and the kills did land mid-request.
    assert all(counts[(k, ACK)] > 0 for k in kinds), counts
    assert sum(v for (_, o), v in counts.items() if o == UNKNOWN) > 0, counts
    return s


def test_sigkill_20_times_loses_nothing_acknowledged(own_server, tmp_path):
    db = tmp_path / "crash.db"
    sigkill_cycles(lambda: serve(own_server, db), crash_seed(), "SQLite")


@pytest.mark.skipif(pg_support.pg_url() is None, reason=pg_support.skip_reason_without_pg())
@pytest.mark.skipif(
    pg_support.postgres_mode(),
    reason="PostgreSQL-specific: runs once per run of the suite, in the SQLite-mode pass "
    "(RESERVOIR_TEST_STORE unset) with RESERVOIR_TEST_PG_URL set",
)
def test_postgres_sigkill_20_times_loses_nothing_acknowledged():
    seed = crash_seed()
    servers = []
    with pg_support.pg_database() as url:

        def start():
            s = start_server("--listen", "127.0.0.1:0", "--store", url)
            servers.append(s)
            return s

        try:
            last = sigkill_cycles(start, seed, "PostgreSQL", busy_retries=BUSY_RETRIES)
            code = last.stop()
            assert code == 0, f"the last server exited with {code}; stderr tail:\n{last.stderr()[-4000:]}"
        finally:
            for s in servers:  # stopped before the database is dropped
                s.cleanup()
