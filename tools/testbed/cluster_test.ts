import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, uniqueName } from "@weft/testutils";
import { ClusterExistsError, createCluster, listClusterNamespaces, OUTSIDE_IP, REDIS_IP } from "./cluster.ts";

const test = kernelTest(suite("cluster"), { needs: ["root", "ip", "redis-server"] });

test("createCluster() joins nodes on the underlay and destroy() removes every namespace", async () => {
  const name = uniqueName("t", { maxLength: 8 });
  const cluster = await createCluster({ name, nodes: 2, redis: true });
  try {
    const [a, b] = cluster.nodes;
    assert.is(a!.underlayIp, "198.18.0.11");
    await cluster.exec(a!.netns, ["ping", "-c", "1", "-W", "2", b!.underlayIp]);
    await cluster.exec(b!.netns, ["ping", "-c", "1", "-W", "2", OUTSIDE_IP]);
    const pong = await cluster.exec(a!.netns, ["redis-cli", "-h", REDIS_IP, "ping"]);
    assert.is(pong.trim(), "PONG");
    const route = await cluster.exec(a!.netns, ["ip", "route", "show", "default"]);
    assert.match(route, `default via ${OUTSIDE_IP} dev eth0`);
    assert.is((await cluster.exec(a!.netns, ["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "1");
  } finally {
    await cluster.destroy();
  }
  assert.equal(await listClusterNamespaces(name), []);
});

test("createCluster() refuses a name that is taken and leaves the existing cluster alone", async () => {
  const name = uniqueName("t", { maxLength: 8 });
  const first = await createCluster({ name, nodes: 1 });
  try {
    try {
      await createCluster({ name, nodes: 1 });
      assert.unreachable("second create should fail");
    } catch (err) {
      assert.instance(err, ClusterExistsError);
      assert.match((err as Error).message, /already exist/);
    }
    assert.ok((await listClusterNamespaces(name)).length >= 2, "first cluster still there");
  } finally {
    await first.destroy();
  }
});

test("createCluster() rejects a bad name before creating anything", async () => {
  await createCluster({ name: "Bad_Name" }).then(
    () => assert.unreachable(),
    (err: Error) => assert.match(err.message, /cluster name "Bad_Name"/),
  );
});

test.run();
