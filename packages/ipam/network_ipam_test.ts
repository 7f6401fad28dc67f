import { test } from "uvu";
import * as assert from "uvu/assert";
import { att, errorOf } from "./_test_helpers.ts";
import { MemoryIpamStore } from "./memory_ipam_store.ts";
import { NetworkIpam, RangeSetAllocationError } from "./network_ipam.ts";
import { parseIp } from "./parse_ip.ts";
import { RangeSetExhaustedError } from "./pod_ip_allocator.ts";

const DUAL = [[{ subnet: "10.1.2.0/24" }], [{ subnet: "2001:db8:1::/64" }]];

test("allocate() returns one address per range set (host-local's dual-stack ADD vector)", async () => {
  const store = new MemoryIpamStore();
  const net = new NetworkIpam(store, { rangeSets: DUAL });
  const got = await net.allocate(att("dummy"));
  assert.equal(got.map((g) => [g.address, g.gateway.address]), [
    ["10.1.2.2/24", "10.1.2.1"],
    ["2001:db8:1::2/64", "2001:db8:1::1"],
  ]);
  assert.equal(await store.lastReserved(0), parseIp("10.1.2.2"));
  assert.equal(await store.lastReserved(1), parseIp("2001:db8:1::2"));
  // same (id, ifname) again is a duplicate; another id gets .3
  const dup = await errorOf(net.allocate(att("dummy")));
  assert.instance(dup, RangeSetAllocationError);
  assert.is(dup.message, "failed to allocate for range 0: 10.1.2.2 has been allocated to dummy, duplicate allocation is not allowed");
  assert.is((await net.allocate(att("other")))[0]!.address, "10.1.2.3/24");
});

test("allocate() rolls back earlier range sets when a later one fails", async () => {
  const store = new MemoryIpamStore();
  const net = new NetworkIpam(store, { rangeSets: [[{ subnet: "10.1.2.0/24" }], [{ subnet: "10.9.0.0/30" }]] });
  await net.allocate(att("a"));
  const err = await errorOf(net.allocate(att("b")));
  assert.instance(err, RangeSetAllocationError);
  assert.is((err as RangeSetAllocationError).rangeSetIndex, 1);
  assert.instance((err as Error & { cause: unknown }).cause, RangeSetExhaustedError);
  assert.is(err.message, "failed to allocate for range 1: no IP addresses available in range set: 10.9.0.1-10.9.0.2");
  assert.equal((await store.list()).map((r) => r.containerId), ["a", "a"]);
});

test("allocate() places requested addresses in their range set and fails on a leftover one", async () => {
  const store = new MemoryIpamStore();
  const net = new NetworkIpam(store, { rangeSets: DUAL });
  const got = await net.allocate(att("x"), { requestedIps: [parseIp("2001:db8:1::99"), parseIp("10.1.2.50")] });
  assert.equal(got.map((g) => g.ip.address), ["10.1.2.50", "2001:db8:1::99"]);
  const err = await errorOf(net.allocate(att("y"), { requestedIps: [parseIp("10.1.2.60"), parseIp("10.1.2.61")] }));
  assert.instance(err, RangeError);
  assert.is(err.message, "failed to allocate all requested IPs: 10.1.2.61");
  assert.equal(await net.find(att("y")), []);
  const taken = await errorOf(net.allocate(att("z"), { requestedIps: [parseIp("10.1.2.50")] }));
  assert.is(taken.message, "failed to allocate for range 0: requested IP address 10.1.2.50 is not available in range set 10.1.2.1-10.1.2.254");
});

test("release(), find() and gc() cover every range set", async () => {
  const net = new NetworkIpam(new MemoryIpamStore(), { rangeSets: DUAL });
  await net.allocate(att("a"));
  await net.allocate(att("b"));
  assert.equal((await net.find(att("a"))).map((i) => i.address), ["10.1.2.2", "2001:db8:1::2"]);
  assert.equal((await net.release(att("a"))).map((i) => i.address), ["10.1.2.2", "2001:db8:1::2"]);
  assert.equal(await net.release(att("a")), []);
  await net.allocate(att("c"));
  assert.equal((await net.gc([att("c")])).map((i) => i.address), ["10.1.2.3", "2001:db8:1::3"]);
  assert.equal((await net.find(att("c"))).length, 2);
});

test("NetworkIpam rejects empty and overlapping range sets", () => {
  assert.throws(() => new NetworkIpam(new MemoryIpamStore(), { rangeSets: [] }), (e: unknown) => e instanceof RangeError);
  assert.throws(
    () => new NetworkIpam(new MemoryIpamStore(), { rangeSets: [[{ subnet: "10.0.0.0/24" }], [{ subnet: "10.0.0.0/25" }]] }),
    (e: unknown) => e instanceof RangeError && (e as Error).message === "range set 0 overlaps with 1",
  );
});

test.run();
