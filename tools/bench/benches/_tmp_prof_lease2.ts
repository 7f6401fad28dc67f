import { Redis } from "ioredis";
import { parseIp } from "@weft/ipam";
import { parseNetConf } from "@weft/netconf";
import { LeaseManager, RedisLeaseRegistry } from "@weft/subnet";
import { startBenchRedis } from "./_lease-acquire_redis.ts";
const redis = await startBenchRedis();
const clients = Array.from({ length: 50 }, () => new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null }));
await Promise.all(clients.map((c) => c.ping()));
const conf = parseNetConf(`{ "Network": "10.0.0.0/12", "SubnetLen": 24, "Backend": { "Type": "vxlan" } }`);
const regs = clients.map((c) => new RedisLeaseRegistry(c));
for (let run = 0; run < 4; run++) {
  await clients[0]!.flushall();
  await clients[0]!.config("RESETSTAT");
  const ips = Array.from({ length: 1000 }, (_, i) => parseIp(`172.16.${Math.floor(i / 250)}.${(i % 250) + 1}`));
  const t0 = performance.now();
  await Promise.all(ips.map((ip, i) => new LeaseManager(regs[i % 50]!).acquire(conf, { publicIp: ip, backendType: "vxlan", backendData: { VNI: 1, VtepMAC: "c6:d2:32:6f:8f:44" } })));
  const t1 = performance.now();
  const stats = (await clients[0]!.info("commandstats")).split("\n").filter((l) => l.startsWith("cmdstat"));
  console.log(`acquire ${(t1 - t0).toFixed(1)} ms`, stats.join("\n"));
}
for (const c of clients) c.disconnect();
await redis.stop();
