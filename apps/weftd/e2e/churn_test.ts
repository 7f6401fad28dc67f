// weftd end to end under churn (vxlan, 3 nodes, one pod per node): a node leaves and rejoins, weftd is killed and
// restarted under traffic, flannel.1 and routes are deleted by hand, Redis goes away and comes back.
import type { ChildProcess } from "node:child_process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest } from "@weft/testutils";
import { execIn, pingOnce, readSubnetEnvFile, spawnIn, stopProcess, type NodeOverlayInfo } from "@weft/testbed";
import { E2E_NEEDS, ipIn, startOverlayCluster, waitUntil, type OverlayCluster } from "./_cluster.ts";

/** How long Redis stays down; WEFT_E2E_REDIS_OUTAGE_MS shortens it (default: the real 30 s). */
const REDIS_OUTAGE_MS = Number(process.env.WEFT_E2E_REDIS_OUTAGE_MS ?? 30_000);

const test = kernelTest(suite<{ oc?: OverlayCluster }>("e2e churn (vxlan)"), { needs: [...E2E_NEEDS] });
test.before(async (ctx) => {
  ctx.oc = await startOverlayCluster("vxlan");
});
test.after(async (ctx) => {
  await ctx.oc?.cluster.destroy();
});

/** Whether a node has the neighbour, FDB entry and route of a peer. */
async function peerEntries(netns: string, peer: NodeOverlayInfo): Promise<{ neigh: boolean; fdb: boolean; route: boolean }> {
  const subnetIp = peer.subnet.split("/")[0]!;
  const [neigh, fdb, routes] = await Promise.all([
    ipIn(netns, ["neigh", "show", "dev", "flannel.1"]),
    execIn(netns, ["bridge", "fdb", "show", "dev", "flannel.1"]),
    ipIn(netns, ["route", "show"]),
  ]);
  return {
    neigh: neigh.includes(`${subnetIp} lladdr ${peer.vtepMac}`),
    fdb: fdb.includes(`${peer.vtepMac} dst ${peer.node.underlayIp}`),
    route: routes.includes(`${peer.subnet} via ${subnetIp} dev flannel.1 onlink`),
  };
}

const leaseKey = (subnet: string) => `/coreos.com/network/subnets/${subnet.replace("/", "-")}`;

test("weftd killed with SIGKILL and restarted while pods ping: at most one lost packet, same subnet", async ({ oc }) => {
  const { cluster, infos, pods } = oc!;
  const [a, b] = pods;
  const victim = infos[1]!;
  const ping: ChildProcess = spawnIn(a!.netns, ["ping", "-n", "-i", "0.1", "-W", "1", b!.ip]);
  let out = "";
  ping.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  try {
    await waitUntil("first ping reply", () => out.includes("bytes from"), 5_000);
    const exit = await cluster.weftd.get(victim.node.name)!.stop("SIGKILL");
    assert.is(exit.signal, "SIGKILL");
    await cluster.startWeftd(victim.node, { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await stopProcess(ping, { signal: "SIGINT" });
  }
  const m = out.match(/(\d+) packets transmitted, (\d+) received/);
  assert.ok(m, `ping summary in:\n${out.slice(-500)}`);
  const sent = Number(m![1]);
  const lost = sent - Number(m![2]);
  // The window is the restart plus 1 s at one ping per 100 ms: ≥ 10 packets whatever the restart takes.
  assert.ok(sent >= 10, `${sent} packets sent during the restart`);
  assert.ok(lost <= 1, `${lost} of ${sent} packets lost`);
  const env = readSubnetEnvFile(cluster.weftdPaths(victim.node).subnetFile);
  assert.is(env.FLANNEL_SUBNET, victim.subnet.replace(".0/24", ".1/24"));
});

test("flannel.1 deleted by hand → recreated with its address and peers, traffic resumes", async ({ oc }) => {
  const { cluster, infos, pods } = oc!;
  const node = infos[0]!;
  await ipIn(node.node.netns, ["link", "del", "flannel.1"]);
  await waitUntil("flannel.1 back with every peer", async () => {
    for (const peer of infos.slice(1)) {
      const e = await peerEntries(node.node.netns, peer);
      if (!e.neigh || !e.fdb || !e.route) return false;
    }
    const addr = await ipIn(node.node.netns, ["-4", "addr", "show", "dev", "flannel.1"]);
    return addr.includes(`inet ${node.subnet.replace("/24", "/32")}`);
  }, 15_000);
  const link = await ipIn(node.node.netns, ["-d", "link", "show", "flannel.1"]);
  assert.match(link, `link/ether ${node.vtepMac}`, "same VTEP MAC");
  assert.match(link, /vxlan id 1 .* dstport 8472 nolearning/);
  await waitUntil("pod traffic across the recreated device", () => pingOnce(pods[0]!.netns, pods[1]!.ip), 10_000);
  assert.ok(cluster.weftd.get(node.node.name)!.running);
});

test("a peer route deleted by hand → restored (periodic check, ≤ 10 s)", async ({ oc }) => {
  const { infos, pods } = oc!;
  const node = infos[0]!;
  const peer = infos[2]!;
  await ipIn(node.node.netns, ["route", "del", peer.subnet]);
  assert.not.ok((await peerEntries(node.node.netns, peer)).route, "the route is gone");
  const started = Date.now();
  await waitUntil("the route back", async () => (await peerEntries(node.node.netns, peer)).route, 15_000, 100);
  const tookMs = Date.now() - started;
  assert.ok(tookMs <= 11_000, `restored in ${tookMs} ms`);
  assert.ok(await pingOnce(pods[0]!.netns, pods[2]!.ip, 2));
});

test(`Redis down for ${REDIS_OUTAGE_MS / 1000} s → pods keep talking; the agents follow new leases again once it is back`, async ({ oc }) => {
  const { cluster, infos, pods } = oc!;
  await cluster.stopRedis({ save: true });
  const deadline = Date.now() + REDIS_OUTAGE_MS;
  let rounds = 0;
  while (Date.now() < deadline) {
    for (const [from, to] of [[0, 1], [1, 2], [2, 0]] as const) {
      assert.ok(await pingOnce(pods[from]!.netns, pods[to]!.ip, 2), `pod ${from} → pod ${to} during the outage (round ${rounds})`);
    }
    rounds++;
    await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(0, deadline - Date.now()))));
  }
  for (const w of cluster.weftd.values()) assert.ok(w.running, `${w.nodeName} weftd still running during the outage`);
  await cluster.startRedis();

  // A new peer lease written after the outage must reach every node's kernel: the watch is back.
  const fake = {
    subnet: "10.244.250.0/24",
    publicIp: "198.18.0.250",
    mac: "0a:11:22:33:44:55",
  };
  await cluster.redisCli([
    "set", leaseKey(fake.subnet),
    JSON.stringify({ PublicIP: fake.publicIp, PublicIPv6: null, BackendType: "vxlan", BackendData: { VNI: 1, VtepMAC: fake.mac } }),
    "px", "86400000",
  ]);
  for (const info of infos) {
    await waitUntil(`${info.node.name} to program the lease written after the outage`, async () => {
      const routes = await ipIn(info.node.netns, ["route", "show"]);
      return routes.includes(`${fake.subnet} via 10.244.250.0 dev flannel.1 onlink`);
    }, 20_000, 200);
  }
  // The agents' own leases are still there (and renewed) after the outage.
  for (const info of infos) assert.is(Number(await cluster.redisCli(["exists", leaseKey(info.subnet)])), 1, `${info.node.name}'s lease`);
  await cluster.redisCli(["del", leaseKey(fake.subnet)]);
  assert.ok(await pingOnce(pods[0]!.netns, pods[1]!.ip));
});

// Last: if the rejoin gets another subnet, the pod on that node is cut off and nothing after this depends on it.
test("a node leaves (SIGTERM, then its lease deleted as an operator would) → peers drop its entries within 5 s", async ({ oc }) => {
  const { cluster, infos } = oc!;
  const leaving = infos[2]!;
  const weftd = cluster.weftd.get(leaving.node.name)!;
  const exit = await weftd.stop("SIGTERM");
  assert.is(exit.code, 0, `clean exit on SIGTERM:\n${weftd.tail()}`);
  // weftd (like flanneld) keeps its lease on SIGTERM so a restart keeps the subnet; an operator removing a
  // node deletes the lease key.
  assert.ok(Number(await cluster.redisCli(["exists", leaseKey(leaving.subnet)])) === 1, "lease kept on SIGTERM");
  const started = Date.now();
  await cluster.redisCli(["del", leaseKey(leaving.subnet)]);
  for (const info of infos.slice(0, 2)) {
    await waitUntil(`${info.node.name} to drop ${leaving.subnet}`, async () => {
      const e = await peerEntries(info.node.netns, leaving);
      return !e.neigh && !e.fdb && !e.route;
    }, 5_000);
  }
  const tookMs = Date.now() - started;
  assert.ok(tookMs < 5_000, `removed in ${tookMs} ms`);
});

test("the node rejoins → the same subnet (from its subnet.env), and peers program it again", async ({ oc }) => {
  const { cluster, infos } = oc!;
  const leaving = infos[2]!;
  assert.not.ok(cluster.weftd.get(leaving.node.name)!.running, "stopped by the previous test");
  await cluster.startWeftd(leaving.node, { timeoutMs: 40_000 });
  const env = readSubnetEnvFile(cluster.weftdPaths(leaving.node).subnetFile);
  assert.is(env.FLANNEL_SUBNET, leaving.subnet.replace(".0/24", ".1/24"), "same subnet after rejoining");
  for (const info of infos.slice(0, 2)) {
    await waitUntil(`${info.node.name} to re-add ${leaving.subnet}`, async () => {
      const e = await peerEntries(info.node.netns, { ...leaving, vtepMac: leaving.vtepMac });
      return e.neigh && e.fdb && e.route;
    }, 5_000);
  }
  const [p1, , p3] = oc!.pods;
  assert.ok(await pingOnce(p1!.netns, p3!.ip), "pod on node1 reaches the pod on the rejoined node");
});

test.run();
