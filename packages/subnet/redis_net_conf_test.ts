import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Redis } from "ioredis";
import { formatCidr } from "@weft/ipam";
import { missingRequirement } from "@weft/testutils";
import { NetConfNotFoundError, readRedisNetConf, writeRedisNetConf } from "./redis_net_conf.ts";
import { startRedisServer } from "./_redis_server_test_helper.ts";
import type { TestRedisServer } from "./_redis_server_test_helper.ts";

const test = suite("redis net-conf");
const missing = missingRequirement(["redis-server"]);
let server: TestRedisServer | undefined;
let client: Redis | undefined;

if (missing) {
  test.skip(`readRedisNetConf() tests (${missing})`, () => {});
} else {
  test.before(async () => {
    server = await startRedisServer();
    client = new Redis({ host: "127.0.0.1", port: server.port });
  });
  test.after(async () => {
    client?.disconnect();
    await server?.stop();
  });

  test("readRedisNetConf() parses <prefix>/config with flannel's defaults", async () => {
    await client!.set("/coreos.com/network/config", '{ "Network": "10.3.0.0/16", "Backend": { "Type": "vxlan" } }');
    const conf = await readRedisNetConf(client!);
    assert.is(formatCidr(conf.network!), "10.3.0.0/16");
    assert.is(conf.subnetLen, 24);
    assert.is(conf.subnetMin?.address, "10.3.1.0");
    assert.is(conf.backendType, "vxlan");
  });

  test("writeRedisNetConf() and readRedisNetConf() use the prefix option", async () => {
    await writeRedisNetConf(client!, '{ "Network": "10.12.0.0/16", "Backend": { "Type": "host-gw" } }', { prefix: "/hostgw/network/" });
    assert.ok(await client!.exists("/hostgw/network/config"));
    const conf = await readRedisNetConf(client!, { prefix: "/hostgw/network" });
    assert.is(conf.backendType, "host-gw");
  });

  test("readRedisNetConf() throws NetConfNotFoundError naming the key when it is missing", async () => {
    const err = await readRedisNetConf(client!, { prefix: "/nothing/here" }).catch((e: unknown) => e);
    assert.instance(err, NetConfNotFoundError);
    assert.is((err as NetConfNotFoundError).key, "/nothing/here/config");
  });

  test("readRedisNetConf() passes on flannel's validation errors", async () => {
    await client!.set("/bad/config", '{ "Network": "10.3.0.0/16", "SubnetLen": 31 }');
    const err = await readRedisNetConf(client!, { prefix: "/bad" }).catch((e: unknown) => e);
    assert.instance(err, Error);
    assert.match((err as Error).message, "SubnetLen must be less than /31");
  });
}

test.run();
