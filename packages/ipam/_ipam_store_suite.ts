// Private test helper: the conformance suite every IpamStore must pass (run by memory_ipam_store_test
// and disk_ipam_store_test).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseIp } from "./parse_ip.ts";
import type { IpamStore } from "./types.ts";

const A = { containerId: "ctr-a", ifname: "eth0" };
const A1 = { containerId: "ctr-a", ifname: "eth1" };
const B = { containerId: "ctr-b", ifname: "eth0" };
const ip = parseIp;

/** Registers and runs the suite; `make` returns a fresh, empty store per test. */
export function runIpamStoreSuite(name: string, make: () => Promise<IpamStore>): void {
  const s = suite<{ store: IpamStore }>(`${name} (IpamStore conformance)`);
  s.before.each(async (ctx) => {
    ctx.store = await make();
  });
  s.after.each(async (ctx) => {
    await ctx.store.close();
  });

  s("reserve() takes a free address once and records it as last reserved", async ({ store }) => {
    assert.is(await store.reserve(ip("10.1.2.2"), A), true);
    assert.is(await store.reserve(ip("10.1.2.2"), B), false);
    assert.equal(await store.lastReserved(0), ip("10.1.2.2"));
    assert.is(await store.lastReserved(1), undefined);
    assert.is(await store.reserve(ip("2001:db8:1::2"), A, { rangeSetIndex: 1 }), true);
    assert.equal(await store.lastReserved(1), ip("2001:db8:1::2"));
    assert.equal(await store.lastReserved(0), ip("10.1.2.2"));
  });

  s("reserve() of one address by many concurrent callers succeeds exactly once", async ({ store }) => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.reserve(ip("10.1.2.9"), { containerId: `c${i}`, ifname: "eth0" })));
    assert.is(results.filter(Boolean).length, 1);
  });

  s("findByAttachment() matches container id (trimmed) and ifname", async ({ store }) => {
    await store.reserve(ip("10.1.2.2"), { containerId: "  ctr-a\n ", ifname: "eth0" });
    await store.reserve(ip("10.1.2.3"), A1);
    await store.reserve(ip("10.1.2.4"), B);
    assert.equal(await store.findByAttachment(A), [{ ip: ip("10.1.2.2"), containerId: "ctr-a", ifname: "eth0" }]);
    assert.equal((await store.findByAttachment(A1)).map((r) => r.ip.address), ["10.1.2.3"]);
    assert.equal(await store.findByAttachment({ containerId: "nobody", ifname: "eth0" }), []);
  });

  s("release() frees an address; with owner only while that owner holds it", async ({ store }) => {
    await store.reserve(ip("10.1.2.2"), A);
    assert.is(await store.release(ip("10.1.2.2"), { owner: B }), false);
    assert.is(await store.release(ip("10.1.2.2"), { owner: A1 }), false);
    assert.is(await store.release(ip("10.1.2.2"), { owner: A }), true);
    assert.is(await store.release(ip("10.1.2.2")), false);
    assert.is(await store.reserve(ip("10.1.2.2"), B), true);
    assert.is(await store.release(ip("10.1.2.2")), true);
    assert.equal(await store.list(), []);
  });

  s("list() returns every reservation sorted by address", async ({ store }) => {
    await store.reserve(ip("10.1.2.10"), A);
    await store.reserve(ip("2001:db8::2"), A);
    await store.reserve(ip("10.1.2.9"), B);
    assert.equal((await store.list()).map((r) => `${r.ip.address} ${r.containerId} ${r.ifname}`), [
      "10.1.2.9 ctr-b eth0",
      "10.1.2.10 ctr-a eth0",
      "2001:db8::2 ctr-a eth0",
    ]);
    await store.sync();
    assert.is((await store.list()).length, 3);
  });

  s.run();
}
