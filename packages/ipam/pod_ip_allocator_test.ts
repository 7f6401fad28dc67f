import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { att, errorOf } from "./_test_helpers.ts";
import { MemoryIpamStore } from "./memory_ipam_store.ts";
import { parseIp } from "./parse_ip.ts";
import { DuplicateAllocationError, IpNotAvailableError, PodIpAllocator, RangeSetExhaustedError } from "./pod_ip_allocator.ts";
import type { IpRangeInput } from "./ip_range.ts";
import type { IpamAttachment } from "./types.ts";

/** host-local allocator_test.go's mkalloc(): 192.168.1.0/29, range .1-.6, gateway .1. */
function mkalloc(store = new MemoryIpamStore()): PodIpAllocator {
  return new PodIpAllocator(store, { ranges: [{ subnet: "192.168.1.0/29" }] });
}

/** host-local's AllocatorTestCase: subnets, taken addresses, last reserved address. */
function tcAlloc(subnets: string[], ipmap: string[], lastIP?: string): PodIpAllocator {
  const store = new MemoryIpamStore({
    reservations: ipmap.map((a) => ({ ip: parseIp(a), containerId: "id", ifname: "eth0" })),
    lastReserved: lastIP ? { 0: parseIp(lastIP) } : {},
  });
  return new PodIpAllocator(store, { ranges: subnets.map((subnet): IpRangeInput => ({ subnet })) });
}

test("allocate() iterates from scratch .2,.3,.4,.5,.6 then fails (RangeIter from the beginning)", async () => {
  const a = mkalloc();
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push((await a.allocate(att(`ID${i}`))).address);
  assert.equal(got, ["192.168.1.2/29", "192.168.1.3/29", "192.168.1.4/29", "192.168.1.5/29", "192.168.1.6/29"]);
  const err = await errorOf(a.allocate(att("ID8")));
  assert.instance(err, RangeSetExhaustedError);
  assert.is(err.message, "no IP addresses available in range set: 192.168.1.1-192.168.1.6");
});

test("allocate() after last reserved .6 starts over at .2 (RangeIter from the end)", async () => {
  const a = tcAlloc(["192.168.1.0/29"], [], "192.168.1.6");
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push((await a.allocate(att(`ID${i}`))).ip.address);
  assert.equal(got, ["192.168.1.2", "192.168.1.3", "192.168.1.4", "192.168.1.5", "192.168.1.6"]);
  await errorOf(a.allocate(att("x")));
});

test("allocate() after last reserved .3 gives .4,.5,.6,.2,.3 (RangeIter from the middle)", async () => {
  const a = tcAlloc(["192.168.1.0/29"], [], "192.168.1.3");
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push((await a.allocate(att(`ID${i}`))).ip.address);
  assert.equal(got, ["192.168.1.4", "192.168.1.5", "192.168.1.6", "192.168.1.2", "192.168.1.3"]);
  assert.instance(await errorOf(a.allocate(att("x"))), RangeSetExhaustedError);
});

// host-local allocator_test.go "RoundRobin" table.
const TABLE: Array<{ name: string; subnets: string[]; ipmap?: string[]; lastIP?: string; expect: string }> = [
  { name: "fresh start", subnets: ["10.0.0.0/29"], expect: "10.0.0.2" },
  { name: "fresh start IPv6", subnets: ["2001:db8:1::0/64"], expect: "2001:db8:1::2" },
  { name: "fresh start /30", subnets: ["10.0.0.0/30"], expect: "10.0.0.2" },
  { name: "first taken", subnets: ["10.0.0.0/29"], ipmap: ["10.0.0.2"], expect: "10.0.0.3" },
  { name: "next ip of last reserved ip", subnets: ["10.0.0.0/29"], lastIP: "10.0.0.5", expect: "10.0.0.6" },
  { name: "skip taken after last", subnets: ["10.0.0.0/29"], ipmap: ["10.0.0.4", "10.0.0.5"], lastIP: "10.0.0.3", expect: "10.0.0.6" },
  { name: "round robin to the beginning", subnets: ["10.0.0.0/29"], ipmap: ["10.0.0.6"], lastIP: "10.0.0.5", expect: "10.0.0.2" },
  { name: "lastIP is out of range", subnets: ["10.0.0.0/29"], ipmap: ["10.0.0.2"], lastIP: "10.0.0.128", expect: "10.0.0.3" },
  {
    name: "full except for lastIP: wrap around and reserve lastIP",
    subnets: ["10.0.0.0/29"],
    ipmap: ["10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.6"],
    lastIP: "10.0.0.3",
    expect: "10.0.0.3",
  },
  { name: "allocate from multiple subnets", subnets: ["10.0.0.0/30", "10.0.1.0/30"], expect: "10.0.0.2" },
  { name: "advance to next subnet", subnets: ["10.0.0.0/30", "10.0.1.0/30"], lastIP: "10.0.0.2", expect: "10.0.1.2" },
  { name: "roll to start subnet", subnets: ["10.0.0.0/30", "10.0.1.0/30", "10.0.2.0/30"], lastIP: "10.0.2.2", expect: "10.0.0.2" },
];
for (const tc of TABLE) {
  test(`allocate() round-robin: ${tc.name}`, async () => {
    const got = await tcAlloc(tc.subnets, tc.ipmap ?? [], tc.lastIP).allocate(att("ID"));
    assert.is(got.ip.address, tc.expect);
  });
}

test("allocate() fails with host-local's prefix when out of addresses (3 cases)", async () => {
  const cases: Array<[string[], string[]]> = [
    [["10.0.0.0/30"], ["10.0.0.2"]],
    [["10.0.0.0/29"], ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]],
    [["10.0.0.0/30", "10.0.1.0/30"], ["10.0.0.2", "10.0.1.2"]],
  ];
  for (const [subnets, ipmap] of cases) {
    const err = await errorOf(tcAlloc(subnets, ipmap).allocate(att("ID")));
    assert.instance(err, RangeSetExhaustedError);
    assert.ok(err.message.startsWith("no IP addresses available in range set"), err.message);
  }
  const err = await errorOf(tcAlloc(["10.0.0.0/30", "10.0.1.0/30"], ["10.0.0.2", "10.0.1.2"]).allocate(att("ID")));
  assert.is(err.message, "no IP addresses available in range set: 10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.2");
  assert.is((err as RangeSetExhaustedError).rangeSet, "10.0.0.1-10.0.0.2,10.0.1.1-10.0.1.2");
});

test("allocate() never hands out the broadcast address; a 6th allocation fails", async () => {
  const a = mkalloc();
  for (let i = 2; i < 7; i++) assert.is((await a.allocate(att(`ID${i}`))).address, `192.168.1.${i}/29`);
  await errorOf(a.allocate(att("ID8")));
});

test("allocate(), release(), allocate() gives .3, not .2 (round-robin)", async () => {
  const a = mkalloc();
  assert.is((await a.allocate(att("ID"))).address, "192.168.1.2/29");
  assert.equal((await a.release(att("ID"))).map((i) => i.address), ["192.168.1.2"]);
  assert.is((await a.allocate(att("ID"))).address, "192.168.1.3/29");
});

test("allocate() reuses freed addresses only after wrapping, as measured on host-local (a=.2 b=.3, DEL a, c=.4 d=.5 e=.6 f=.2)", async () => {
  const a = new PodIpAllocator(new MemoryIpamStore(), { ranges: [{ subnet: "10.99.0.0/29" }] });
  const got = async (id: string) => (await a.allocate(att(id))).ip.address;
  assert.is(await got("a"), "10.99.0.2");
  assert.is(await got("b"), "10.99.0.3");
  await a.release(att("a"));
  assert.equal([await got("c"), await got("d"), await got("e"), await got("f")], ["10.99.0.4", "10.99.0.5", "10.99.0.6", "10.99.0.2"]);
  assert.is((await errorOf(a.allocate(att("g")))).message, "no IP addresses available in range set: 10.99.0.1-10.99.0.6");
});

test("allocate() returns the subnet, gateway and address with prefix", async () => {
  const a = new PodIpAllocator(new MemoryIpamStore(), { ranges: [{ subnet: "2001:db8:1::/64" }], rangeSetIndex: 1 });
  const r = await a.allocate(att("x"));
  assert.equal(r, {
    ip: parseIp("2001:db8:1::2"),
    subnet: { family: 6, address: "2001:db8:1::", prefixLength: 64 },
    gateway: parseIp("2001:db8:1::1"),
    address: "2001:db8:1::2/64",
  });
});

test("allocate() honours a requested address and refuses a taken one with host-local's message", async () => {
  const a = mkalloc();
  assert.is((await a.allocate(att("ID"), { requestedIp: parseIp("192.168.1.5") })).address, "192.168.1.5/29");
  const err = await errorOf(a.allocate(att("ID"), { requestedIp: parseIp("192.168.1.5") }));
  assert.instance(err, IpNotAvailableError);
  assert.is(err.message, "requested IP address 192.168.1.5 is not available in range set 192.168.1.1-192.168.1.6");
  assert.equal((err as IpNotAvailableError).ip, parseIp("192.168.1.5"));
});

test("allocate() rejects a requested address outside rangeStart..rangeEnd or equal to the gateway", async () => {
  const store = new MemoryIpamStore();
  const end = new PodIpAllocator(store, { ranges: [{ subnet: "192.168.1.0/29", rangeEnd: "192.168.1.4" }] });
  const e1 = await errorOf(end.allocate(att("ID"), { requestedIp: parseIp("192.168.1.5") }));
  assert.instance(e1, RangeError);
  assert.is(e1.message, "192.168.1.5 not in range set 192.168.1.1-192.168.1.4");
  const start = new PodIpAllocator(store, { ranges: [{ subnet: "192.168.1.0/29", rangeStart: "192.168.1.3" }] });
  assert.instance(await errorOf(start.allocate(att("ID"), { requestedIp: parseIp("192.168.1.2") })), RangeError);
  const gw = await errorOf(mkalloc().allocate(att("ID"), { requestedIp: parseIp("192.168.1.1") }));
  assert.is(gw.message, "requested ip 192.168.1.1 is subnet's gateway");
  assert.equal(await store.list(), []);
});

test("allocate() refuses a duplicate (id, ifname) in the same range set; another ifname gets a new address", async () => {
  const a = mkalloc();
  await a.allocate(att("probe1"));
  const err = await errorOf(a.allocate(att("probe1")));
  assert.instance(err, DuplicateAllocationError);
  assert.is(err.message, "192.168.1.2 has been allocated to probe1, duplicate allocation is not allowed");
  assert.is((await a.allocate(att("probe1", "eth1"))).ip.address, "192.168.1.3");
});

test("release() frees only the matching ifname; find() reports what an attachment holds", async () => {
  const a = mkalloc();
  await a.allocate(att("c"));
  await a.allocate(att("c", "eth1"));
  assert.equal((await a.find(att("c", "eth1"))).map((i) => i.address), ["192.168.1.3"]);
  assert.equal((await a.release(att("c", "eth1"))).map((i) => i.address), ["192.168.1.3"]);
  assert.equal(await a.find(att("c", "eth1")), []);
  assert.equal((await a.find(att("c"))).map((i) => i.address), ["192.168.1.2"]);
  assert.equal(await a.release(att("unknown")), []);
  assert.equal(await a.release(att("c", "eth1")), []);
});

test("release() falls back to old-format entries holding only the container id", async () => {
  const store = new MemoryIpamStore({ reservations: [{ ip: parseIp("192.168.1.4"), containerId: "old", ifname: undefined }] });
  const a = mkalloc(store);
  assert.equal((await a.find(att("old"))).map((i) => i.address), ["192.168.1.4"]);
  assert.equal((await a.release(att("old"))).map((i) => i.address), ["192.168.1.4"]);
  assert.equal(await store.list(), []);
});

test("release() and find() stay within the allocator's range set", async () => {
  const store = new MemoryIpamStore();
  const v4 = new PodIpAllocator(store, { ranges: [{ subnet: "10.1.2.0/24" }] });
  const v6 = new PodIpAllocator(store, { ranges: [{ subnet: "2001:db8:1::/64" }], rangeSetIndex: 1 });
  await v4.allocate(att("dummy"));
  await v6.allocate(att("dummy"));
  assert.equal((await store.lastReserved(1))?.address, "2001:db8:1::2");
  assert.equal((await v4.release(att("dummy"))).map((i) => i.address), ["10.1.2.2"]);
  assert.equal((await v6.find(att("dummy"))).map((i) => i.address), ["2001:db8:1::2"]);
});

test("gc() frees everything in the range set not held by the kept attachments", async () => {
  const store = new MemoryIpamStore({ reservations: [{ ip: parseIp("10.1.2.200"), containerId: "old-kept", ifname: undefined }] });
  const a = new PodIpAllocator(store, { ranges: [{ subnet: "10.1.2.0/24" }] });
  const other = new PodIpAllocator(store, { ranges: [{ subnet: "10.9.0.0/24" }], rangeSetIndex: 1 });
  for (const id of ["a", "b", "c"]) await a.allocate(att(id));
  await a.allocate(att("a", "eth1"));
  await other.allocate(att("zzz"));
  const freed = await a.gc([att("a"), att("c"), att("old-kept", "eth0")]);
  assert.equal(freed.map((i) => i.address).sort(), ["10.1.2.3", "10.1.2.5"]);
  assert.equal((await store.list()).map((r) => `${r.ip.address}=${r.containerId}`), ["10.1.2.2=a", "10.1.2.4=c", "10.1.2.200=old-kept", "10.9.0.2=zzz"]);
});

test("allocate() called concurrently in one process never hands out one address twice", async () => {
  const a = new PodIpAllocator(new MemoryIpamStore(), { ranges: [{ subnet: "10.7.0.0/24" }] });
  const all = await Promise.all(Array.from({ length: 253 }, (_, i) => a.allocate(att(`c${i}`))));
  assert.is(new Set(all.map((r) => r.ip.address)).size, 253);
  const dup = await Promise.allSettled([a.allocate(att("late")), a.allocate(att("late2"))]);
  assert.ok(dup.every((r) => r.status === "rejected"));
});

test("allocate() rejects bad attachments and options with TypeError/RangeError", async () => {
  const a = mkalloc();
  assert.instance(await errorOf(a.allocate(att(""))), TypeError);
  assert.instance(await errorOf(a.allocate({ containerId: "x" } as IpamAttachment)), TypeError);
  assert.instance(await errorOf(a.release(att("   "))), TypeError);
  assert.instance(await errorOf(a.gc([att("")])), TypeError);
  assert.throws(() => new PodIpAllocator(new MemoryIpamStore(), { ranges: [] }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => new PodIpAllocator(new MemoryIpamStore(), { ranges: [{ subnet: "10.0.0.0/24" }], rangeSetIndex: -1 }), (e: unknown) => e instanceof RangeError);
});

test("property: thousands of random allocate/release steps never double-allocate and fail only when full", async () => {
  let total = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ release: fc.boolean(), who: fc.integer({ min: 0, max: 24 }), ifname: fc.constantFrom("eth0", "eth1") }), { minLength: 50, maxLength: 300, size: "max" }),
      fc.constantFrom("10.5.0.0/28", "10.5.0.0/29", "2001:db8::/124"),
      async (steps, subnet) => {
        const store = new MemoryIpamStore();
        const a = new PodIpAllocator(store, { ranges: [{ subnet }] });
        const capacity = subnet.endsWith("/28") ? 13 : subnet.endsWith("/29") ? 5 : 14;
        const held = new Map<string, string>(); // "who/ifname" -> address
        for (const step of steps) {
          total++;
          const who = att(`pod${step.who}`, step.ifname);
          const key = `${who.containerId}/${who.ifname}`;
          if (step.release) {
            const freed = await a.release(who);
            assert.equal(freed.map((i) => i.address), held.has(key) ? [held.get(key)] : []);
            held.delete(key);
          } else if (held.has(key)) {
            assert.instance(await errorOf(a.allocate(who)), DuplicateAllocationError);
          } else if (held.size === capacity) {
            assert.instance(await errorOf(a.allocate(who)), RangeSetExhaustedError);
          } else {
            const got = (await a.allocate(who)).ip.address;
            assert.not.ok([...held.values()].includes(got), `double allocation of ${got}`);
            const forbidden = { "10.5.0.0/28": ["10.5.0.0", "10.5.0.1", "10.5.0.15"], "10.5.0.0/29": ["10.5.0.0", "10.5.0.1", "10.5.0.7"], "2001:db8::/124": ["2001:db8::", "2001:db8::1"] }[subnet]!;
            assert.not.ok(forbidden.includes(got), `network, gateway or broadcast handed out: ${got}`);
            held.set(key, got);
          }
          assert.is((await store.list()).length, held.size);
        }
      },
    ),
    { numRuns: 60 },
  );
  assert.ok(total >= 3000, `only ${total} steps ran`);
});

test.run();
