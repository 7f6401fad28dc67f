// A node whose lease key was deleted by hand (an operator removing the node) gets its previous subnet back when it
// rejoins: the allocator's taken index is only a hint (found by apps/weftd/e2e/churn_test.ts).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import { formatCidr, parseIp } from "@weft/ipam";
import { parseNetConf } from "@weft/netconf";
import { kernelTest } from "@weft/testutils";
import { LeaseManager } from "./lease_manager.ts";
import { RedisLeaseRegistry } from "./redis_lease_registry.ts";
import { startRedisServer, type TestRedisServer } from "./_redis_server_test_helper.ts";

const test = kernelTest(suite<{ server?: TestRedisServer; client?: Redis }>("RedisLeaseRegistry rejoin"), { needs: ["redis-server"] });
test.before(async (ctx) => {
  ctx.server = await startRedisServer();
  ctx.client = new Redis({ host: "127.0.0.1", port: ctx.server.port, maxRetriesPerRequest: null });
});
test.after(async (ctx) => {
  ctx.client?.disconnect();
  await ctx.server?.stop();
});

test("acquire() with previousSubnet reuses it after the lease key was deleted by hand", async ({ client }) => {
  const conf = parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}');
  const registry = new RedisLeaseRegistry(client!);
  const manager = new LeaseManager(registry);
  const attrs = { publicIp: parseIp("198.18.0.13"), backendType: "vxlan", backendData: null };
  const first = await manager.acquire(conf, attrs);
  // Other nodes around it, so a fresh pick would rarely land on the same subnet by chance.
  for (let i = 0; i < 5; i++) await new LeaseManager(new RedisLeaseRegistry(client!)).acquire(conf, { ...attrs, publicIp: parseIp(`198.18.0.${20 + i}`) });
  assert.is(await client!.del(registry.keyOf(first)), 1);
  const again = await manager.acquire(conf, attrs, { previousSubnet: first.subnet! });
  assert.is(formatCidr(again.subnet!), formatCidr(first.subnet!));
});

test.run();
