import { test } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import { OutOfSubnetsError, allocateSubnet, formatCidr, parseCidr, parseIp } from "@weft/ipam";
import type { Cidr, SubnetWindow } from "@weft/ipam";
import { RedisLeaseRegistry } from "./redis_lease_registry.ts";
import type { LeaseRegistry, RegistryEvent } from "./types.ts";
import { leaseManagerConformance } from "./_lease_manager_conformance.ts";
import { LeaseManager } from "./lease_manager.ts";
import { parseNetConf } from "@weft/netconf";
import type { NetConf } from "@weft/netconf";
import { withTimeout } from "./_async.ts";
import { startRedisServer } from "./_redis_server_test_helper.ts";
import type { TestRedisServer } from "./_redis_server_test_helper.ts";
import { missingRequirement } from "@weft/testutils";

const missing = missingRequirement(["redis-server"]);
const server: TestRedisServer | undefined = missing ? undefined : await startRedisServer();
const clients: Redis[] = [];
function client(): Redis {
  const c = new Redis({ host: "127.0.0.1", port: server!.port, maxRetriesPerRequest: null, retryStrategy: () => 50, lazyConnect: false });
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}
function registry(options: { prefix?: string; foreignScanMs?: number } = {}): RedisLeaseRegistry {
  return new RedisLeaseRegistry(client(), { resyncMs: 1_000, pollMs: 300, ...options });
}
/**
 * Records a registry's watch in the background. `until` polls a condition (failing with `describe()` in the
 * message when it times out); `stop` ends the watch and waits for it. Tests stop it in `finally`.
 */
function recordWatch(r: LeaseRegistry) {
  const controller = new AbortController();
  const events: RegistryEvent[] = [];
  const done = (async () => {
    for await (const e of r.watch({ signal: controller.signal })) events.push(e);
  })();
  const describe = () => JSON.stringify(events.map((e) => e.type));
  return {
    events,
    async until(what: string, cond: () => boolean, timeoutMs = 3_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !cond()) await new Promise((res) => setTimeout(res, 20));
      assert.ok(cond(), `${what}: ${describe()}`);
    },
    /** Polls like `until` but does not fail; the test asserts afterwards. */
    async settle(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !cond()) await new Promise((res) => setTimeout(res, 20));
    },
    async stop(): Promise<void> {
      controller.abort();
      await done;
    },
  };
}

async function closeClients(): Promise<void> {
  for (const c of clients.splice(0)) c.disconnect();
}

if (missing) {
  test.skip(`RedisLeaseRegistry tests (${missing})`, () => {});
} else {
  const _check: LeaseRegistry = registry(); // STYLE 15: conforms at compile time
  void _check;

  test.before.each(async () => {
    await client().flushall();
  });
  test.after(async () => {
    await closeClients();
  });

  test("create() stores flannel's key and JSON value with a PX TTL", async () => {
    const r = registry();
    await r.create({ subnet: parseCidr("10.5.52.0/24"), publicIp: parseIp("1.2.3.4") }, { ttlMs: 60_000 });
    const c = client();
    assert.is(await c.get("/coreos.com/network/subnets/10.5.52.0-24"), '{"PublicIP":"1.2.3.4","PublicIPv6":null}');
    const pttl = await c.pttl("/coreos.com/network/subnets/10.5.52.0-24");
    assert.ok(pttl > 59_000 && pttl <= 60_000, String(pttl));
    await r.create(
      { subnet: parseCidr("10.5.53.0/24"), ipv6Subnet: parseCidr("fd00:12:13::/56"), publicIp: parseIp("192.168.64.3"), backendType: "vxlan", backendData: { VNI: 1, VtepMAC: "c6:d2:32:6f:8f:44" } },
    );
    assert.is(
      await c.get("/coreos.com/network/subnets/10.5.53.0-24&fd00:12:13::-56"),
      '{"PublicIP":"192.168.64.3","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"c6:d2:32:6f:8f:44"}}',
    );
    assert.is(await c.pttl("/coreos.com/network/subnets/10.5.53.0-24&fd00:12:13::-56"), -1, "no ttlMs: a reservation");
  });

  test("list() reads leases written by hand (flannel reservations) and skips keys that are not subnets", async () => {
    const c = client();
    await c.set("/coreos.com/network/subnets/10.5.1.0-24", '{"PublicIP":"10.0.0.1","BackendType":"host-gw","BackendData":null}');
    await c.set("/coreos.com/network/subnets/not-a-subnet", '{"PublicIP":"10.0.0.2"}');
    await c.set("/coreos.com/network/subnets/10.5.2.0-24", "garbage");
    await c.set("/other/subnets/10.5.3.0-24", '{"PublicIP":"10.0.0.3"}');
    const leases = await registry().list();
    assert.is(leases.length, 1);
    assert.equal(leases[0], { subnet: parseCidr("10.5.1.0/24"), publicIp: parseIp("10.0.0.1"), backendType: "host-gw", backendData: null });
    // A hand-written lease blocks creating the same subnet.
    await registry().create({ subnet: parseCidr("10.5.1.0/24"), publicIp: parseIp("9.9.9.9") }).then(
      () => assert.unreachable("create should fail"),
      (e: Error) => assert.is(e.name, "LeaseConflictError"),
    );
  });

  test("the prefix option separates networks (flannel's multi test: /vxlan/network and /hostgw/network)", async () => {
    const a = registry({ prefix: "/vxlan/network" });
    const b = registry({ prefix: "/hostgw/network/" });
    await a.create({ subnet: parseCidr("10.11.1.0/24"), publicIp: parseIp("1.1.1.1") });
    await b.create({ subnet: parseCidr("10.11.1.0/24"), publicIp: parseIp("2.2.2.2") });
    assert.is((await a.list()).length, 1);
    assert.is((await b.list())[0]!.publicIp?.address, "2.2.2.2");
    assert.ok(await client().exists("/hostgw/network/subnets/10.11.1.0-24"));
  });

  test("watch() works without keyevent notifications (CONFIG refused) by polling", async () => {
    const c = client();
    await c.config("SET", "notify-keyspace-events", "");
    const r = new RedisLeaseRegistry(client(), { configureNotifications: false, pollMs: 200, resyncMs: 60_000 });
    const w = recordWatch(r);
    try {
      await new Promise((res) => setTimeout(res, 100));
      await r.create({ subnet: parseCidr("10.5.9.0/24"), publicIp: parseIp("1.1.1.1") });
      await w.settle(() => w.events.some((e) => e.type === "snapshot" && e.leases.length === 1));
    } finally {
      await w.stop();
    }
    assert.ok(w.events.some((e) => e.type === "snapshot" && e.leases.length === 1), JSON.stringify(w.events.map((e) => e.type)));
    assert.is((await c.config("GET", "notify-keyspace-events"))[1], "", "left the server config alone");
  });

  test("watch() enables keyevent notifications and reports a set as added without waiting for a resync", async () => {
    const c = client();
    await c.config("SET", "notify-keyspace-events", "");
    const r = new RedisLeaseRegistry(client(), { resyncMs: 60_000 });
    const w = recordWatch(r);
    try {
      await w.settle(() => w.events.length > 0);
      const flags = (await c.config("GET", "notify-keyspace-events"))[1] ?? "";
      assert.ok(["E", "$", "g", "x"].every((f) => flags.includes(f)), flags);
      await r.create({ subnet: parseCidr("10.5.8.0/24"), publicIp: parseIp("1.1.1.1") });
      await w.settle(() => w.events.some((e) => e.type === "added"), 2_000);
    } finally {
      await w.stop();
    }
    assert.equal(w.events.map((e) => e.type), ["snapshot", "added"]);
  });

  test("watch() reports a lease renamed into the prefix and ignores keyevents of keys outside it", async () => {
    const c = client();
    const prefix = "/rename-test";
    const w = recordWatch(new RedisLeaseRegistry(client(), { prefix, resyncMs: 60_000 }));
    try {
      await w.until("snapshot", () => w.events.length > 0);
      const value = JSON.stringify({ PublicIP: "192.0.2.9", PublicIPv6: null, BackendType: "vxlan", BackendData: { VNI: 1, VtepMAC: "0e:00:00:00:00:09" } });
      await c.set("/elsewhere/subnets/10.30.1.0-24", value);
      await c.rename("/elsewhere/subnets/10.30.1.0-24", `${prefix}/subnets/10.30.1.0-24`);
      await w.until("added", () => w.events.some((e) => e.type === "added"));
      await c.set("/elsewhere/subnets/10.30.2.0-24", value);
      await new Promise((res) => setTimeout(res, 200));
    } finally {
      await w.stop();
    }
    assert.equal(w.events.map((e) => e.type), ["snapshot", "added"]);
    const added = w.events[1] as Extract<RegistryEvent, { type: "added" }>;
    assert.is(formatCidr(added.lease.subnet!), "10.30.1.0/24");
    await c.del(`${prefix}/subnets/10.30.1.0-24`, "/elsewhere/subnets/10.30.2.0-24");
  });

  test("watch() reports 300 leases written in one MULTI as 300 added events, and their deletion as 300 removed", async () => {
    const c = client();
    const prefix = "/burst-test";
    const w = recordWatch(new RedisLeaseRegistry(client(), { prefix, resyncMs: 60_000 }));
    try {
      await w.until("snapshot", () => w.events.length > 0, 5_000);
      const keys = Array.from({ length: 300 }, (_, i) => `${prefix}/subnets/10.${20 + (i >> 8)}.${i & 255}.0-24`);
      const value = (i: number) => JSON.stringify({ PublicIP: `192.0.2.${1 + (i % 250)}`, PublicIPv6: null, BackendType: "vxlan", BackendData: { VNI: 1, VtepMAC: "0e:00:00:00:00:01" } });
      const multi = c.multi();
      keys.forEach((k, i) => multi.set(k, value(i), "PX", 60_000));
      await multi.exec();
      await w.until("added", () => w.events.filter((e) => e.type === "added").length >= 300, 5_000);
      const added = w.events.filter((e): e is Extract<RegistryEvent, { type: "added" }> => e.type === "added");
      assert.is(added.length, 300);
      assert.equal(new Set(added.map((e) => formatCidr(e.lease.subnet!))).size, 300);
      assert.ok(added.every((e) => e.lease.expiration !== undefined && e.lease.backendType === "vxlan"));
      await c.del(...keys);
      await w.until("removed", () => w.events.filter((e) => e.type === "removed").length >= 300, 5_000);
    } finally {
      await w.stop();
    }
    assert.is(w.events.filter((e) => e.type === "removed").length, 300);
    assert.is(w.events.filter((e) => e.type === "snapshot").length, 1, "no re-list needed");
  });

  test("watch() re-lists after its connection drops, catching changes it missed (no resync needed)", async () => {
    const c = client();
    const writer = registry();
    await writer.create({ subnet: parseCidr("10.5.20.0/24"), publicIp: parseIp("1.1.1.1") }, { ttlMs: 60_000 });
    const w = recordWatch(new RedisLeaseRegistry(client(), { resyncMs: 60_000 }));
    try {
      await w.until("first snapshot", () => w.events.length === 1);
      // Miss an event for sure: notifications off, delete, then drop the subscriber connection.
      await c.config("SET", "notify-keyspace-events", "");
      assert.ok(await writer.delete({ subnet: parseCidr("10.5.20.0/24"), publicIp: parseIp("1.1.1.1") }));
      await new Promise((res) => setTimeout(res, 100));
      assert.is(w.events.length, 1, "the deletion was not notified");
      await c.call("CLIENT", "KILL", "TYPE", "pubsub");
      await w.until("a fresh, empty snapshot", () => w.events.some((e, i) => i > 0 && e.type === "snapshot" && e.leases.length === 0));
      assert.ok(((await c.config("GET", "notify-keyspace-events"))[1] ?? "").includes("E"), "notifications re-enabled");
    } finally {
      await w.stop();
    }
  });

  test("keepAlive() and watch() end promptly on abort while Redis is down", async () => {
    const m = new LeaseManager(registry(), { ttlMs: 1_500, renewMarginMs: 1_000, retryMs: 100 });
    const lease = await m.acquire(parseNetConf(`{ "Network": "10.3.0.0/16" }`), { publicIp: parseIp("1.2.3.4") });
    const stop = new AbortController();
    const alive = m.keepAlive(lease, { signal: stop.signal }).catch((e: unknown) => e);
    const watching = (async () => {
      for await (const _ of m.watch({ signal: stop.signal, ownLease: lease })) void _;
    })();
    await server!.kill();
    try {
      await new Promise((res) => setTimeout(res, 800)); // the renewal (due after ~500 ms) is now stuck in the client's queue
      stop.abort();
      const started = Date.now();
      const [aliveResult] = await withTimeout(Promise.all([alive, watching]), 2_000, "keepAlive and watch to end");
      assert.is(aliveResult, undefined, "keepAlive resolved (no error) on abort");
      assert.ok(Date.now() - started < 1_000);
    } finally {
      await server!.start();
    }
  });

  const windowOf = (c: NetConf, family: 4 | 6): SubnetWindow =>
    family === 4
      ? { network: c.network!, subnetLen: c.subnetLen!, subnetMin: c.subnetMin!, subnetMax: c.subnetMax! }
      : { network: c.ipv6Network!, subnetLen: c.ipv6SubnetLen!, subnetMin: c.ipv6SubnetMin!, subnetMax: c.ipv6SubnetMax! };
  const nodeIp = (i: number, family: 4 | 6) => parseIp(family === 4 ? `172.20.${i >> 8}.${i & 255}` : `fc00::${(i + 1).toString(16)}`);

  test("allocate() picks exactly what allocateSubnet() picks for the same taken subnets and random number (IPv4 and IPv6 windows)", async () => {
    const cases: [string, 4 | 6][] = [
      [`{ "Network": "10.0.0.0/16" }`, 4],
      [`{ "Network": "10.0.0.0/16", "SubnetLen": 28, "SubnetMin": "10.0.3.16", "SubnetMax": "10.0.9.240" }`, 4],
      [`{ "EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00:1::/48" }`, 6],
      [`{ "EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00::/40", "IPv6SubnetLen": 56, "IPv6SubnetMin": "fd00:0:fe::" }`, 6],
      [`{ "EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00:0:0:0:1::/80", "IPv6SubnetLen": 124 }`, 6],
      [`{ "EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8:0:1::/64", "IPv6SubnetLen": 96, "IPv6SubnetMin": "2001:db8:0:1:0:ffff::" }`, 6],
    ];
    const randoms = [0, 0.999, 0.5, 0.01, 0.37, 0.73, 0.2, 0.91];
    for (const [n, [text, family]] of cases.entries()) {
      const conf = parseNetConf(text);
      const w = windowOf(conf, family);
      const r = registry({ prefix: `/allocate-vs-ipam/${n}` }); // its own prefix: nothing else writes there
      // Some subnets held up front (a scattered taken set), written by create().
      for (const [n, rnd] of [[1, 0.3], [2, 0.6], [3, 0.9]] as const) {
        const s = allocateSubnet(w, { random: () => rnd, taken: (await r.list()).map((l) => (family === 4 ? l.subnet : l.ipv6Subnet)!) });
        await r.create({ ...(family === 4 ? { subnet: s, publicIp: nodeIp(1000 + n, 4) } : { ipv6Subnet: s, publicIpv6: nodeIp(1000 + n, 6) }) }, { ttlMs: 60_000 });
      }
      for (const [i, rnd] of randoms.entries()) {
        const taken: Cidr[] = (await r.list()).map((l) => (family === 4 ? l.subnet : l.ipv6Subnet)!);
        const expected = formatCidr(allocateSubnet(w, { random: () => rnd, taken }));
        const attrs = family === 4 ? { publicIp: nodeIp(i, 4) } : { publicIpv6: nodeIp(i, 6) };
        const got = await r.allocate(conf, attrs, { ttlMs: 60_000, random: () => rnd });
        assert.ok(got, `${text}: allocate() declined`);
        assert.is(formatCidr((family === 4 ? got!.subnet : got!.ipv6Subnet)!), expected, `${text} with random ${rnd}`);
        assert.ok(got!.expiration! > Date.now() + 50_000);
      }
      // The previous subnet, when free and fitting, wins over the random choice.
      const taken = (await r.list()).map((l) => (family === 4 ? l.subnet : l.ipv6Subnet)!);
      const prev = allocateSubnet(w, { random: () => 0.999, taken, candidates: 500 });
      const got = await r.allocate(conf, family === 4 ? { publicIp: nodeIp(99, 4) } : { publicIpv6: nodeIp(99, 6) }, {
        random: () => 0,
        ...(family === 4 ? { previousSubnet: prev } : { previousIpv6Subnet: prev }),
      });
      assert.is(formatCidr((family === 4 ? got!.subnet : got!.ipv6Subnet)!), formatCidr(prev), `${text}: previous subnet`);
    }
  });

  test("allocate() gives distinct IPv4 and IPv6 subnets on a dual-stack network and writes flannel's key", async () => {
    const conf = parseNetConf(`{ "Network": "10.9.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:9::/48" }`);
    const r = registry();
    const a = await r.allocate(conf, { publicIp: parseIp("1.1.1.1"), publicIpv6: parseIp("fc00::1") }, { ttlMs: 60_000, random: () => 0 });
    const b = await r.allocate(conf, { publicIp: parseIp("1.1.1.2"), publicIpv6: parseIp("fc00::2") }, { ttlMs: 60_000, random: () => 0 });
    assert.is(formatCidr(a!.subnet!), "10.9.1.0/24");
    assert.is(formatCidr(a!.ipv6Subnet!), "fd00:9:0:1::/64");
    assert.is(formatCidr(b!.subnet!), "10.9.2.0/24");
    assert.is(formatCidr(b!.ipv6Subnet!), "fd00:9:0:2::/64");
    assert.is(await client().get("/coreos.com/network/subnets/10.9.1.0-24&fd00:9:0:1::-64"), '{"PublicIP":"1.1.1.1","PublicIPv6":"fc00::1"}');
  });

  test("allocate() hands out again the subnet of a lease that expired or was released", async () => {
    const conf = parseNetConf(`{ "Network": "10.8.0.0/16" }`);
    const r = registry();
    const first = await r.allocate(conf, { publicIp: parseIp("1.1.1.1") }, { ttlMs: 300, random: () => 0 });
    assert.is(formatCidr(first!.subnet!), "10.8.1.0/24");
    const second = await r.allocate(conf, { publicIp: parseIp("1.1.1.2") }, { ttlMs: 60_000, random: () => 0 });
    assert.is(formatCidr(second!.subnet!), "10.8.2.0/24");
    await new Promise((res) => setTimeout(res, 500));
    const third = await r.allocate(conf, { publicIp: parseIp("1.1.1.3") }, { ttlMs: 60_000, random: () => 0 });
    assert.is(formatCidr(third!.subnet!), "10.8.1.0/24", "the expired lease's subnet is free again");
    assert.ok(await r.delete(second!));
    const fourth = await r.allocate(conf, { publicIp: parseIp("1.1.1.4") }, { ttlMs: 60_000, random: () => 0 });
    assert.is(formatCidr(fourth!.subnet!), "10.8.2.0/24", "the released subnet is free again");
  });

  test("allocate() renews this owner's lease (a reservation stays one) and replaces one that no longer fits", async () => {
    const r = registry();
    await r.create({ subnet: parseCidr("10.7.5.0/24"), publicIp: parseIp("1.1.1.1") }); // a reservation (no TTL)
    const conf = parseNetConf(`{ "Network": "10.7.0.0/16" }`);
    const kept = await r.allocate(conf, { publicIp: parseIp("1.1.1.1"), backendType: "vxlan" }, { ttlMs: 60_000 });
    assert.is(formatCidr(kept!.subnet!), "10.7.5.0/24");
    assert.is(kept!.expiration, undefined);
    assert.is(kept!.backendType, "vxlan");
    const moved = await r.allocate(parseNetConf(`{ "Network": "10.6.0.0/16" }`), { publicIp: parseIp("1.1.1.1") }, { ttlMs: 60_000, random: () => 0 });
    assert.is(formatCidr(moved!.subnet!), "10.6.1.0/24");
    assert.equal((await r.list()).map((l) => formatCidr(l.subnet!)), ["10.6.1.0/24"]);
  });

  test("allocate() throws OutOfSubnetsError (out of subnets) when the window is full", async () => {
    const conf = parseNetConf(`{ "Network": "10.6.0.0/16", "SubnetMin": "10.6.1.0", "SubnetMax": "10.6.2.0" }`);
    const r = registry();
    await r.allocate(conf, { publicIp: parseIp("1.1.1.1") }, { ttlMs: 60_000 });
    await r.allocate(conf, { publicIp: parseIp("1.1.1.2") }, { ttlMs: 60_000 });
    const err = await r.allocate(conf, { publicIp: parseIp("1.1.1.3") }, { ttlMs: 60_000 }).catch((e: unknown) => e);
    assert.instance(err, OutOfSubnetsError);
    assert.is((err as Error).message, "out of subnets");
  });

  test("allocate() declines while a lease written by hand exists; the manager's generic path then honours that reservation", async () => {
    const c = client();
    await c.set("/coreos.com/network/subnets/10.5.7.0-24", '{"PublicIP":"1.2.3.4","PublicIPv6":null}');
    const conf = parseNetConf(`{ "Network": "10.5.0.0/16" }`);
    const r = registry({ foreignScanMs: 0 });
    await c.set("/coreos.com/network/subnets/not-a-subnet", "x");
    await c.del("/coreos.com/network/subnets/10.5.7.0-24");
    assert.ok(await r.allocate(conf, { publicIp: parseIp("1.2.3.8") }, { ttlMs: 60_000, random: () => 0 }), "a key that is not a subnet key does not count");
    await c.set("/coreos.com/network/subnets/10.5.7.0-24", '{"PublicIP":"1.2.3.4","PublicIPv6":null}');
    assert.is(await r.allocate(conf, { publicIp: parseIp("1.2.3.9") }, { ttlMs: 60_000 }), undefined);
    const mine = await new LeaseManager(r).acquire(conf, { publicIp: parseIp("1.2.3.4") });
    assert.is(formatCidr(mine.subnet!), "10.5.7.0/24");
    assert.is(mine.expiration, undefined, "a reservation stays one");
    const other = await new LeaseManager(r, { random: () => 0 }).acquire(conf, { publicIp: parseIp("1.2.3.5") }, { previousSubnet: parseCidr("10.5.7.0/24") });
    assert.is.not(formatCidr(other.subnet!), "10.5.7.0/24");
  });

  test("allocate() declines while leases of another SubnetLen live (they may overlap), and the manager avoids them", async () => {
    const r = registry();
    await r.create({ subnet: parseCidr("10.4.4.0/26"), publicIp: parseIp("9.9.9.9") }, { ttlMs: 60_000 });
    const conf = parseNetConf(`{ "Network": "10.4.0.0/16", "SubnetMin": "10.4.4.0" }`);
    assert.is(await r.allocate(conf, { publicIp: parseIp("1.1.1.1") }, { ttlMs: 60_000, random: () => 0 }), undefined);
    const l = await new LeaseManager(r, { random: () => 0 }).acquire(conf, { publicIp: parseIp("1.1.1.1") });
    assert.is(formatCidr(l.subnet!), "10.4.5.0/24");
  });

  test.run();

  leaseManagerConformance({
    name: "redis",
    async reset() {
      await closeClients();
      await client().flushall();
    },
    open() {
      return registry();
    },
    async restart({ keepData }) {
      await server!.kill({ save: keepData });
      await new Promise((res) => setTimeout(res, 300));
      await server!.start();
    },
    async close() {
      await closeClients();
      await server!.stop();
    },
  });
}
