// vxlan-peers: what @weft/backend-vxlan costs on top of the raw kernel writes, in a fresh namespace.
//   vxlan-peers/snapshot-1000: VxlanNetwork.handleLeaseEvent({ type: "snapshot" }) with 1,000 peer leases on a
//     freshly registered flannel.1 (full pass: read the owned state, diff, one batch) until the kernel holds the
//     1,000 neighbours, FDB entries and routes. Baseline: the same 3,000 entries as hand-built text fed to
//     `ip -batch -` (neighbours), `bridge -batch -` (FDB), `ip -batch -` (routes) on a fresh device.
//   vxlan-peers/recheck-1000: the periodic full re-check when nothing changed (three listings + diff, no
//     writes). Baseline: the same three listings run raw (`ip -j neigh`, `bridge -j fdb`, `ip -j route`).
// Runs alternate ABBA, median of 6 each; the device is recreated (untimed) before every snapshot run.
import { parseCidr, parseIp } from "@weft/ipam";
import { createIpRoute } from "@weft/iproute";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { createVxlanBackend } from "@weft/backend-vxlan";
import type { Network } from "@weft/backend";
import { sampleNetConf } from "@weft/backend/testing";
import { report, summarize } from "@weft/bench";
import { run } from "./_run.ts";

const PEERS = 1_000;
const RUNS = 6;

const hex = (n: number) => n.toString(16).padStart(2, "0");
const peer = (i: number): Lease => ({
  subnet: parseCidr(`10.${1 + (i >> 8)}.${i & 255}.0/24`),
  publicIp: parseIp(`198.19.${i >> 8}.${(i & 255) || 1}`),
  backendType: "vxlan",
  backendData: { VNI: 1, VtepMAC: `0e:2a:00:00:${hex((i >> 8) & 255)}:${hex(i & 255)}` },
});

const CONF = sampleNetConf("vxlan", { network: parseCidr("10.0.0.0/8") });

export default async function main(): Promise<void> {
  const ns = `wt-vxp-${process.pid}`;
  await run(["ip", "netns", "add", ns]);
  try {
    await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    await run(["ip", "-n", ns, "link", "add", "vxp0", "type", "veth", "peer", "name", "vxp1"]);
    await run(["ip", "-n", ns, "addr", "add", "198.18.0.1/15", "dev", "vxp0"]);
    await run(["ip", "-n", ns, "link", "set", "vxp0", "up"]);
    const iproute = createIpRoute({ netns: ns });
    const index = (await iproute.link.get("vxp0"))!.index;
    const peers = Array.from({ length: PEERS }, (_, i) => peer(i + 1));
    const count = async () => Number((await run(["ip", "-n", ns, "route", "show", "dev", "flannel.1"])).trim().split("\n").filter((l) => l.includes("via")).length);
    const fresh = async (): Promise<Network> => {
      await run(["ip", "-n", ns, "link", "del", "flannel.1"]).catch(() => {});
      return createVxlanBackend({ iproute, externalInterface: { name: "vxp0", index, mtu: 1500, address: parseIp("198.18.0.1") } }).registerNetwork(CONF, {
        acquireLease: async (a: LeaseAttrs): Promise<Lease> => ({ ...a, subnet: parseCidr("10.0.0.0/24") }),
      });
    };

    let net: Network | undefined;
    const ours = async () => {
      net = await fresh();
      const t0 = performance.now();
      await net.handleLeaseEvent({ type: "snapshot", leases: peers });
      return performance.now() - t0;
    };
    const baseline = async () => {
      await fresh();
      let neigh = "";
      let fdb = "";
      let routes = "";
      for (const p of peers) {
        const mac = (p.backendData as { VtepMAC: string }).VtepMAC;
        neigh += `neigh replace ${p.subnet!.address} lladdr ${mac} dev flannel.1 nud permanent\n`;
        fdb += `fdb replace ${mac} dev flannel.1 dst ${p.publicIp!.address} self permanent\n`;
        routes += `route replace ${p.subnet!.address}/24 via ${p.subnet!.address} dev flannel.1 onlink\n`;
      }
      const t0 = performance.now();
      await run(["ip", "-n", ns, "-batch", "-"], neigh);
      await run(["bridge", "-n", ns, "-batch", "-"], fdb);
      await run(["ip", "-n", ns, "-batch", "-"], routes);
      return performance.now() - t0;
    };
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      if (i % 2 === 0) {
        a.push(await ours());
        if ((await count()) !== PEERS) throw new Error("ours: wrong route count");
        b.push(await baseline());
        if ((await count()) !== PEERS) throw new Error("baseline: wrong route count");
      } else {
        b.push(await baseline());
        a.push(await ours());
        if ((await count()) !== PEERS) throw new Error("ours: wrong route count");
      }
    }
    report({ bench: "vxlan-peers/snapshot-1000", ours: summarize(a).median, baseline: summarize(b).median, unit: "ms", lowerIsBetter: true, notes: { peers: PEERS, runs: RUNS } });

    net = await fresh();
    await net.handleLeaseEvent({ type: "snapshot", leases: peers });
    const recheck = net as Network & { reconcile(): Promise<{ diff: { add: { routes: unknown[] } } }> };
    const c: number[] = [];
    const d: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = await recheck.reconcile();
      c.push(performance.now() - t0);
      if (r.diff.add.routes.length !== 0) throw new Error("recheck: expected no changes");
      const t1 = performance.now();
      await Promise.all([
        run(["ip", "-n", ns, "-j", "neigh", "show", "dev", "flannel.1"]),
        run(["bridge", "-n", ns, "-j", "fdb", "show", "dev", "flannel.1"]),
        run(["ip", "-n", ns, "-j", "route", "show"]),
      ]);
      d.push(performance.now() - t1);
    }
    report({ bench: "vxlan-peers/recheck-1000", ours: summarize(c).median, baseline: summarize(d).median, unit: "ms", lowerIsBetter: true, notes: { peers: PEERS, runs: RUNS } });
  } finally {
    await run(["ip", "netns", "delete", ns]).catch(() => {});
  }
}
