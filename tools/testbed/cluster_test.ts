import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, uniqueName } from "@weft/testutils";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ClusterExistsError, createCluster, listClusterNamespaces, OUTSIDE_IP, REDIS_IP } from "./cluster.ts";
import { pingOnce } from "./overlay_state.ts";

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

test("startWeftd() + addPod() give pods that reach each other across nodes; deletePod() releases the address and the namespace", async () => {
  const name = uniqueName("t", { maxLength: 8 });
  const cluster = await createCluster({ name, nodes: 2, redis: true });
  try {
    await cluster.setNetConf({ Network: "10.244.0.0/16", Backend: { Type: "host-gw" } });
    const [n1, n2] = cluster.nodes;
    await Promise.all([cluster.startWeftd(n1!), cluster.startWeftd(n2!)]);
    assert.ok(existsSync(cluster.weftdPaths(n1!).subnetFile));
    const a = await cluster.addPod(n1!, "a");
    const b = await cluster.addPod(n2!, "b");
    assert.match(a.ip, /^10\.244\.\d+\.2$/);
    assert.is(a.netns, `wtb-${name}-node1-a`);
    assert.is(a.gateway, a.ip.replace(/\.2$/, ".1"));
    const deadline = Date.now() + 15_000;
    while (!(await pingOnce(a.netns, b.ip)) && Date.now() < deadline);
    assert.ok(await pingOnce(a.netns, b.ip), "pod a reaches pod b on the other node");
    const reserved = join(cluster.weftdPaths(n1!).cniDataDir, "cbr0");
    assert.ok(readdirSync(reserved).includes(a.ip), "address reserved in node1's data dir");
    await cluster.deletePod(a);
    assert.not.ok(readdirSync(reserved).includes(a.ip), "address released");
    assert.not.ok((await listClusterNamespaces(name)).includes(a.netns));
    assert.is(cluster.pods.size, 1);
  } finally {
    await cluster.destroy();
  }
  assert.equal(await listClusterNamespaces(name), []);
});

test("createCluster() rejects a bad name before creating anything", async () => {
  await createCluster({ name: "Bad_Name" }).then(
    () => assert.unreachable(),
    (err: Error) => assert.match(err.message, /cluster name "Bad_Name"/),
  );
});

test.run();
