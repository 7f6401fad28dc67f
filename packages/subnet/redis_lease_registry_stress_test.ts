// Many nodes acquiring at once from one Redis: distinct subnets, exact exhaustion, no subnet held twice.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import { OutOfSubnetsError, formatCidr, parseIp } from "@weft/ipam";
import { parseNetConf } from "@weft/netconf";
import { missingRequirement } from "@weft/testutils";
import { RedisLeaseRegistry } from "./redis_lease_registry.ts";
import { LeaseManager } from "./lease_manager.ts";
import type { Lease, LeaseRegistry } from "./types.ts";
import { startRedisServer } from "./_redis_server_test_helper.ts";
import type { TestRedisServer } from "./_redis_server_test_helper.ts";

const test = suite("RedisLeaseRegistry under concurrency");
const missing = missingRequirement(["redis-server"]);
let server: TestRedisServer | undefined;
const clients: Redis[] = [];

function connections(n: number): RedisLeaseRegistry[] {
  return Array.from({ length: n }, () => {
    const c = new Redis({ host: "127.0.0.1", port: server!.port, maxRetriesPerRequest: null });
    clients.push(c);
    return new RedisLeaseRegistry(c);
  });
}

/** The same registry without the optional allocate(): the manager's generic list + create path. */
function generic(r: LeaseRegistry): LeaseRegistry {
  return {
    name: r.name,
    assignedSubnets: (c, o) => r.assignedSubnets(c, o),
    list: (o) => r.list(o),
    create: (l, o) => r.create(l, o),
    update: (l, o) => r.update(l, o),
    delete: (l, o) => r.delete(l, o),
    watch: (o) => r.watch(o),
  };
}

function ipOf(i: number) {
  return parseIp(`172.16.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}

async function heldTwice(): Promise<string[]> {
  const leases = await connections(1)[0]!.list();
  const seen = new Map<string, number>();
  for (const l of leases) seen.set(formatCidr(l.subnet!), (seen.get(formatCidr(l.subnet!)) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([s]) => s);
}

if (missing) {
  test.skip(`concurrency tests (${missing})`, () => {});
} else {
  test.before(async () => {
    server = await startRedisServer();
  });
  test.before.each(async () => {
    await connections(1)[0]!.list(); // connected
    await clients[clients.length - 1]!.flushall();
  });
  test.after(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await server?.stop();
  });

  for (const conns of [1, 8, 50]) {
    test(`acquire() by 200 nodes at once over ${conns} connection(s) on 10.0.0.0/16 gives 200 distinct /24s`, async () => {
      const regs = connections(conns);
      const conf = parseNetConf(`{ "Network": "10.0.0.0/16" }`);
      const leases = await Promise.all(
        Array.from({ length: 200 }, (_, i) => new LeaseManager(regs[i % conns]!).acquire(conf, { publicIp: ipOf(i), backendType: "vxlan" })),
      );
      const subnets = new Set(leases.map((l) => formatCidr(l.subnet!)));
      assert.is(subnets.size, 200);
      for (const l of leases) assert.is(l.subnet!.prefixLength, 24);
      assert.is((await regs[0]!.list()).length, 200);
      assert.equal(await heldTwice(), []);
      // Each node got the lease carrying its own public IP.
      const byIp = new Map((await regs[0]!.list()).map((l) => [l.publicIp!.address, formatCidr(l.subnet!)]));
      for (const [i, l] of leases.entries()) assert.is(byIp.get(ipOf(i).address), formatCidr(l.subnet!));
    });
  }

  test("acquire() by 200 nodes at once, half through allocate() and half through the generic path, gives 200 distinct /24s", async () => {
    // Both paths write the same indexes: neither may hand out a subnet the other holds.
    const regs = connections(8);
    const conf = parseNetConf(`{ "Network": "10.0.0.0/16" }`);
    const leases = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const r = regs[i % 8]!;
        return new LeaseManager(i % 2 ? r : generic(r)).acquire(conf, { publicIp: ipOf(i) });
      }),
    );
    assert.is(new Set(leases.map((l) => formatCidr(l.subnet!))).size, 200);
    assert.is((await regs[0]!.list()).length, 200);
    assert.equal(await heldTwice(), []);
  });

  test("acquire() through allocate() by 300 nodes on 10.0.0.0/12 stays within the first 100 free subnets (flannel)", async () => {
    // flannel picks among the first 100 free subnets from SubnetMin: after n acquisitions no subnet beyond
    // index n + 98 of the window can be held (the window starts at 10.0.1.0).
    const regs = connections(10);
    const conf = parseNetConf(`{ "Network": "10.0.0.0/12" }`);
    const leases = await Promise.all(Array.from({ length: 300 }, (_, i) => new LeaseManager(regs[i % 10]!).acquire(conf, { publicIp: ipOf(i) })));
    const indexes = leases.map((l) => {
      const [, b, c] = l.subnet!.address.split(".").map(Number);
      return b! * 256 + c! - 1;
    });
    assert.ok(Math.max(...indexes) <= 300 + 98, `highest window index ${Math.max(...indexes)}`);
    assert.is(new Set(indexes).size, 300);
  });

  test("acquire() by 300 nodes at once on a network of 62 subnets: exactly 62 succeed, 238 get out of subnets", async () => {
    // 10.0.0.0/18 with SubnetLen 24 has 64 subnets; flannel skips the first (SubnetMin 10.0.1.0) and SubnetMax
    // 10.0.62.0 leaves 10.0.1.0 .. 10.0.62.0: 62 subnets.
    const conf = parseNetConf(`{ "Network": "10.0.0.0/18", "SubnetLen": 24, "SubnetMax": "10.0.62.0" }`);
    const regs = connections(10);
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => new LeaseManager(regs[i % 10]!).acquire(conf, { publicIp: ipOf(i) })),
    );
    const ok = results.filter((r): r is PromiseFulfilledResult<Lease> => r.status === "fulfilled").map((r) => r.value);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as Error);
    assert.is(ok.length, 62);
    assert.is(failed.length, 238);
    for (const e of failed) {
      assert.instance(e, OutOfSubnetsError);
      assert.is(e.message, "out of subnets");
    }
    assert.is(new Set(ok.map((l) => formatCidr(l.subnet!))).size, 62);
    assert.equal(await heldTwice(), []);
    assert.is((await regs[0]!.list()).length, 62);
  });

  test("acquire() by 300 nodes at once on 62 subnets through the generic path: exactly 62 succeed", async () => {
    const conf = parseNetConf(`{ "Network": "10.0.0.0/18", "SubnetLen": 24, "SubnetMax": "10.0.62.0" }`);
    const regs = connections(10).map(generic);
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => new LeaseManager(regs[i % 10]!).acquire(conf, { publicIp: ipOf(i) })));
    const ok = results.filter((r): r is PromiseFulfilledResult<Lease> => r.status === "fulfilled").map((r) => r.value);
    assert.is(ok.length, 62);
    for (const r of results) if (r.status === "rejected") assert.instance(r.reason, OutOfSubnetsError);
    assert.equal(await heldTwice(), []);
  });

  test("acquire() by 100 dual-stack nodes at once gives distinct IPv4 and IPv6 subnets", async () => {
    const conf = parseNetConf(`{ "Network": "10.1.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:1::/48" }`);
    const regs = connections(5);
    const leases = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        new LeaseManager(regs[i % 5]!).acquire(conf, { publicIp: ipOf(i), publicIpv6: parseIp(`fc00::${(i + 1).toString(16)}`) }),
      ),
    );
    assert.is(new Set(leases.map((l) => formatCidr(l.subnet!))).size, 100);
    assert.is(new Set(leases.map((l) => formatCidr(l.ipv6Subnet!))).size, 100);
  });
}

test.run();
