// weftd end to end, per backend: 3 nodes in a testbed cluster, one pod per node through the real weft-cni binary.
// Pods reach each other, the kernel state is flannel's (reference/flannel.md §4.1, §4.2, §11), subnet.env and the
// leases in Redis have flannel's format, pod traffic to the outside is masqueraded and pod-to-pod traffic is not.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest } from "@weft/testutils";
import { execIn, OUTSIDE_IP, readSubnetEnvFile, reachabilityMatrix } from "@weft/testbed";
import { E2E_NEEDS, NETWORK, ipIn, sourceSeenBy, startOverlayCluster, type OverlayCluster } from "./_cluster.ts";

for (const backend of ["vxlan", "host-gw"] as const) {
  const test = kernelTest(suite<{ oc?: OverlayCluster }>(`e2e ${backend}`), { needs: [...E2E_NEEDS] });
  test.before(async (ctx) => {
    ctx.oc = await startOverlayCluster(backend);
  });
  test.after(async (ctx) => {
    await ctx.oc?.cluster.destroy();
  });

  test(`${backend}: pods on 3 nodes reach each other (6 pairs, ping -c1 -W1)`, async ({ oc }) => {
    const results = await reachabilityMatrix(oc!.pods);
    assert.is(results.length, 6);
    const failed = results.filter((r: { ok: boolean }) => !r.ok).map((r: { from: { netns: string }; to: { ip: string } }) => `${r.from.netns} -> ${r.to.ip}`);
    assert.equal(failed, []);
  });

  test(`${backend}: subnet.env and the Redis leases have flannel's format`, async ({ oc }) => {
    const { cluster, infos } = oc!;
    const subnets = new Set<string>();
    for (const info of infos) {
      const env = readSubnetEnvFile(cluster.weftdPaths(info.node).subnetFile);
      assert.is(env.FLANNEL_NETWORK, NETWORK);
      assert.match(env.FLANNEL_SUBNET ?? "", /^10\.244\.\d+\.1\/24$/);
      assert.is(env.FLANNEL_MTU, backend === "vxlan" ? "1450" : "1500");
      assert.is(env.FLANNEL_IPMASQ, "true");
      subnets.add(info.subnet);
      const key = `/coreos.com/network/subnets/${info.subnet.replace("/", "-")}`;
      const value = JSON.parse(await cluster.redisCli(["get", key])) as Record<string, unknown>;
      assert.is(value.PublicIP, info.node.underlayIp);
      assert.is(value.PublicIPv6, null);
      assert.is(value.BackendType, backend);
      if (backend === "vxlan") assert.equal(value.BackendData, { VNI: 1, VtepMAC: info.vtepMac });
      const ttl = Number(await cluster.redisCli(["ttl", key]));
      assert.ok(ttl > 23 * 3600 && ttl <= 24 * 3600, `lease TTL ${ttl} s is about 24 h`);
    }
    assert.is(subnets.size, 3, "three distinct subnets");
  });

  test(`${backend}: kernel state on every node is flannel's`, async ({ oc }) => {
    const { infos } = oc!;
    for (const info of infos) {
      const ns = info.node.netns;
      const routes = await ipIn(ns, ["route", "show"]);
      const peers = infos.filter((i: typeof info) => i !== info);
      if (backend === "vxlan") {
        const link = await ipIn(ns, ["-d", "link", "show", "flannel.1"]);
        assert.match(link, /mtu 1450 /);
        assert.match(link, new RegExp(`vxlan id 1 local ${info.node.underlayIp.replace(/\./g, "\\.")} dev eth0 `));
        assert.match(link, / dstport 8472 /);
        assert.match(link, / nolearning /);
        assert.match(link, /<BROADCAST,MULTICAST,UP,LOWER_UP>/);
        assert.ok(info.vtepMac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(info.vtepMac) && (parseInt(info.vtepMac.slice(0, 2), 16) & 3) === 2, `locally administered unicast MAC ${info.vtepMac}`);
        const addr = await ipIn(ns, ["-4", "addr", "show", "dev", "flannel.1"]);
        assert.match(addr, `inet ${info.subnet.replace("/24", "/32")} `);
        const neigh = await ipIn(ns, ["neigh", "show", "dev", "flannel.1"]);
        const fdb = await execBridge(ns);
        for (const p of peers) {
          const subnetIp = p.subnet.split("/")[0]!;
          assert.match(neigh, `${subnetIp} lladdr ${p.vtepMac} PERMANENT`);
          assert.match(fdb, `${p.vtepMac} dst ${p.node.underlayIp} self permanent`);
          assert.match(routes, `${p.subnet} via ${subnetIp} dev flannel.1 onlink`);
        }
        assert.is(neigh.trim().split("\n").length, 2, "one neighbour per peer");
        assert.not.match(routes, `${NETWORK} dev flannel.1`, "no route for the whole network");
      } else {
        for (const p of peers) assert.match(routes, `${p.subnet} via ${p.node.underlayIp} dev eth0`);
        assert.not.match(await ipIn(ns, ["link", "show"]), "flannel.1");
      }
      assert.match(routes, `${info.subnet} dev cni0 proto kernel scope link src ${info.subnet.replace(".0/24", ".1")}`);
    }
  });

  test(`${backend}: pod traffic to the outside host is masqueraded to the node address, pod-to-pod is not`, async ({ oc }) => {
    const { cluster, pods } = oc!;
    const [a, b] = pods;
    const nodeA = cluster.node(a!.node);
    assert.is(await sourceSeenBy(cluster.outsideNetns, a!.netns, OUTSIDE_IP), nodeA.underlayIp);
    assert.is(await sourceSeenBy(b!.netns, a!.netns, b!.ip), a!.ip);
  });

  test.run();
}

function execBridge(netns: string): Promise<string> {
  return execIn(netns, ["bridge", "fdb", "show", "dev", "flannel.1"]);
}
