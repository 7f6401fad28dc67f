// iproute-batch: program 5,000 routes + 5,000 permanent neighbours + 5,000 FDB entries (flannel's per-peer
// vxlan state) on a vxlan device in a fresh namespace through @weft/iproute (typed Batch, validated, run as one
// `bridge -batch -` and one `ip -batch -` process) versus the same commands as hand-built text fed straight
// to `bridge -n <ns> -batch -` and `ip -n <ns> -batch -`. Each run starts from a freshly created device
// (untimed); runs alternate ABBA between the two sides, median of 6. Checks after the last run of each side: the kernel holds exactly 5,000 of each.
import { createIpRoute } from "@weft/iproute";
import { report, summarize } from "@weft/bench";
import { run } from "./_run.ts";

const PEERS = 5_000;
const RUNS = 6;
const DEV = "flannel.1";

const mac = (i: number) => `0e:2a:00:00:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`;
const peer = (i: number) => ({ subnet: `10.${64 + (i >> 8)}.${i & 255}.0`, publicIp: `198.18.${(i >> 8) + 1}.${(i & 255) || 1}`, mac: mac(i) });

export default async function main(): Promise<void> {
  const ns = `wt-iprb-${process.pid}`;
  await run(["ip", "netns", "add", ns]);
  try {
    // Without any local address the kernel has no local table and refuses every onlink gateway.
    await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
    const ip = createIpRoute({ netns: ns });
    const fresh = async () => {
      await run(["ip", "-n", ns, "link", "del", DEV]).catch(() => {});
      await ip.link.add({ type: "vxlan", name: DEV, id: 1, dstport: 8472, learning: false, mac: "0e:2a:ff:00:00:01", up: true });
    };
    const peers = Array.from({ length: PEERS }, (_, i) => peer(i));
    const count = async () => {
      const [routes, neigh, fdb] = await Promise.all([ip.route.list({ dev: DEV, family: 4 }), ip.neigh.list({ dev: DEV }), ip.fdb.list({ dev: DEV })]);
      return { routes: routes.filter((r) => r.via).length, neigh: neigh.length, fdb: fdb.filter((f) => f.dst).length };
    };

    const buildMs: number[] = [];
    const oursRun = async () => {
      const t0 = performance.now();
      const b = ip.batch();
      for (const p of peers) b.replaceFdb({ dev: DEV, lladdr: p.mac, dst: p.publicIp });
      for (const p of peers) b.replaceNeigh({ dev: DEV, address: p.subnet, lladdr: p.mac });
      for (const p of peers) b.replaceRoute({ dst: `${p.subnet}/24`, via: p.subnet, dev: DEV, onlink: true });
      buildMs.push(performance.now() - t0);
      await ip.apply(b);
    };
    const baselineRun = async () => {
      let fdb = "";
      let ipText = "";
      for (const p of peers) fdb += `fdb replace ${p.mac} dev ${DEV} dst ${p.publicIp} self permanent\n`;
      for (const p of peers) ipText += `neigh replace ${p.subnet} lladdr ${p.mac} dev ${DEV} nud permanent\n`;
      for (const p of peers) ipText += `route replace ${p.subnet}/24 via ${p.subnet} dev ${DEV} onlink\n`;
      await run(["bridge", "-n", ns, "-batch", "-"], fdb);
      await run(["ip", "-n", ns, "-batch", "-"], ipText);
    };
    // Interleaved ABBA so that drift on this shared machine hits both sides alike; one warm-up each.
    const samples = { ours: [] as number[], baseline: [] as number[] };
    const counts: Record<string, Awaited<ReturnType<typeof count>>> = {};
    const timed = async (side: "ours" | "baseline", keep: boolean) => {
      await fresh();
      const t0 = performance.now();
      await (side === "ours" ? oursRun() : baselineRun());
      const ms = performance.now() - t0;
      if (keep) samples[side].push(ms);
      counts[side] = await count();
    };
    await timed("ours", false);
    await timed("baseline", false);
    for (let i = 0; i < RUNS; i++) {
      const order: Array<"ours" | "baseline"> = i % 2 === 0 ? ["ours", "baseline"] : ["baseline", "ours"];
      for (const side of order) await timed(side, true);
    }
    const ours = summarize(samples.ours);
    const baseline = summarize(samples.baseline);
    const oursCount = counts.ours!;
    const baseCount = counts.baseline!;
    for (const [side, c] of [["ours", oursCount], ["baseline", baseCount]] as const) {
      if (c.routes !== PEERS || c.neigh !== PEERS || c.fdb !== PEERS) throw new Error(`${side} left ${JSON.stringify(c)} instead of ${PEERS} each`);
    }
    report({
      bench: "iproute-batch",
      ours: ours.median,
      baseline: baseline.median,
      unit: "ms",
      lowerIsBetter: true,
      notes: { oursBuildMedianMs: Math.round(summarize(buildMs).median), entries: PEERS * 3, processes: 2, oursP95: Math.round(ours.p95), baselineP95: Math.round(baseline.p95), kernel: oursCount },
    });
  } finally {
    await run(["ip", "netns", "del", ns]).catch(() => {});
  }
}
