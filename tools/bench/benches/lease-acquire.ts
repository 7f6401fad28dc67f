// lease-acquire: 1,000 nodes acquire a subnet lease concurrently from one Redis (10.0.0.0/12, /24 subnets),
// through LeaseManager + RedisLeaseRegistry: flannel's choice made by one atomic Lua script per node
// (`allocate()`, no lost races); `declinedPerRun` counts acquisitions the script handed back to the generic
// list + create path (expected 0 here), `lostRacesPerRun` the generic path's lost races (expected 0).
// Baseline: 1,000 plain `SET key value NX PX` round trips on the same server over the same connections, the
// floor for any allocation protocol. Checks: every node got a lease and no subnet is held twice (conflicts: 0).
// Notes also give the Redis server's own CPU time per run (INFO cpu): ~0.1 ms of Lua per acquisition (the
// script makes ~25 Redis calls: indexes, binary search, writes) against ~0.01 ms for a plain SET, which is
// most of the remaining distance to the floor; all 1,000 simulated nodes also share this one Node.js process.
import { Redis } from "ioredis";
import { formatCidr, parseIp } from "@weft/ipam";
import { parseNetConf } from "@weft/netconf";
import { LeaseConflictError, LeaseManager, RedisLeaseRegistry } from "@weft/subnet";
import type { Lease, LeaseRegistry } from "@weft/subnet";
import { measure, report } from "@weft/bench";
import { startBenchRedis } from "./_lease-acquire_redis.ts";

const NODES = 1_000;
const CONNECTIONS = 50;

/** Counts lost races (LeaseConflictError from create/update) and declined server-side allocations on the way through. */
function counting(inner: LeaseRegistry, counter: { lost: number; declined: number }): LeaseRegistry {
  const count = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (err) {
      if (err instanceof LeaseConflictError) counter.lost++;
      throw err;
    }
  };
  return {
    name: inner.name,
    assignedSubnets: (c, o) => inner.assignedSubnets(c, o),
    list: (o) => inner.list(o),
    create: (l, o) => count(inner.create(l, o)),
    update: (l, o) => count(inner.update(l, o)),
    delete: (l, o) => inner.delete(l, o),
    watch: (o) => inner.watch(o),
    ...(inner.allocate
      ? {
          allocate: async (c: Parameters<NonNullable<LeaseRegistry["allocate"]>>[0], a: Parameters<NonNullable<LeaseRegistry["allocate"]>>[1], o?: Parameters<NonNullable<LeaseRegistry["allocate"]>>[2]) => {
            const lease = await count(inner.allocate!(c, a, o));
            if (!lease) counter.declined++;
            return lease;
          },
        }
      : {}),
  };
}

export default async function run(): Promise<void> {
  const redis = await startBenchRedis();
  const clients = Array.from({ length: CONNECTIONS }, () => new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null }));
  try {
    await Promise.all(clients.map((c) => c.ping()));
    const conf = parseNetConf(`{ "Network": "10.0.0.0/12", "SubnetLen": 24, "Backend": { "Type": "vxlan" } }`);
    const counter = { lost: 0, declined: 0 };
    const registries = clients.map((c) => counting(new RedisLeaseRegistry(c), counter));
    let conflicts = 0;
    let lastLeases: Lease[] = [];
    /** CPU seconds the redis-server process has used (INFO cpu: used_cpu_user + used_cpu_sys). */
    const redisCpuMs = async () => {
      const info = await clients[0]!.info("cpu");
      const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
      return (field("used_cpu_user") + field("used_cpu_sys")) * 1000;
    };
    let cpuAtStart = 0;
    const flush = async () => {
      await clients[0]!.flushall();
      cpuAtStart = await redisCpuMs();
    };
    const serverMs = async () => (await redisCpuMs()) - cpuAtStart;
    const oursServerMs: number[] = [];
    const baselineServerMs: number[] = [];

    const ours = await measure(
      async () => {
        lastLeases = await Promise.all(
          Array.from({ length: NODES }, (_, i) =>
            new LeaseManager(registries[i % CONNECTIONS]!).acquire(conf, {
              publicIp: parseIp(`172.16.${Math.floor(i / 250)}.${(i % 250) + 1}`),
              backendType: "vxlan",
              backendData: { VNI: 1, VtepMAC: "c6:d2:32:6f:8f:44" },
            }),
          ),
        );
      },
      {
        runs: 5,
        warmup: 1,
        before: flush,
        after: async () => {
          oursServerMs.push(await serverMs());
          const stored = await registries[0]!.list();
          const distinct = new Set(stored.map((l) => formatCidr(l.subnet!)));
          conflicts += stored.length - distinct.size + (lastLeases.length - new Set(lastLeases.map((l) => formatCidr(l.subnet!))).size);
          if (stored.length !== NODES) throw new Error(`expected ${NODES} leases, found ${stored.length}`);
        },
      },
    );
    const lostRacesPerRun = Math.round(counter.lost / 6);
    const declinedPerRun = Math.round(counter.declined / 6);

    const baseline = await measure(
      async () => {
        const replies = await Promise.all(
          Array.from({ length: NODES }, (_, i) =>
            clients[i % CONNECTIONS]!.set(`/bench/subnets/10.${i >> 8}.${i & 255}.0-24`, '{"PublicIP":"172.16.0.1","PublicIPv6":null}', "PX", 86_400_000, "NX"),
          ),
        );
        if (replies.some((r) => r !== "OK")) throw new Error("baseline SET NX lost a key");
      },
      { runs: 5, warmup: 1, before: flush, after: async () => void baselineServerMs.push(await serverMs()) },
    );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

    report({
      bench: "lease-acquire",
      ours: ours.median,
      baseline: baseline.median,
      unit: "ms",
      lowerIsBetter: true,
      notes: { nodes: NODES, connections: CONNECTIONS, conflicts, lostRacesPerRun, declinedPerRun, oursP95: Math.round(ours.p95), baselineP95: Math.round(baseline.p95),
        oursRedisCpuMs: Math.round(median(oursServerMs)), baselineRedisCpuMs: Math.round(median(baselineServerMs)) },
    });
  } finally {
    for (const c of clients) c.disconnect();
    await redis.stop();
  }
}
