// nft-apply: applying a kube-proxy-sized table through nftables-js vs piping the same script,
// built by hand, into `nft -f -`. Each run gets a fresh network namespace (created and deleted
// outside the timed part), so both sides start from an empty ruleset.
//
// Workload: one table, a verdict map `ipv4_addr . inet_proto . inet_service : verdict` with
// 10,000 elements (each `goto` its own chain) and 10,000 regular chains. Ours includes building the
// Transaction (objects, validation) and rendering; the baseline includes building its string.
// Also checks that rendering 100,000 map elements takes well under a second.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { report, summarize } from "@weft/bench";
import { createNftables } from "nftables-js";

const execFileAsync = promisify(execFile);
const CHAINS = 10_000;
const ELEMENTS = 10_000;
const RUNS = 11;
const TABLE = "bench";

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function buildWithLibrary(netns: string) {
  const nft = createNftables({ family: "ip", table: TABLE, netns });
  const tx = nft
    .newTransaction()
    .add({ kind: "table", comment: "nft-apply bench" })
    .add({ kind: "map", name: "service-ips", type: "ipv4_addr . inet_proto . inet_service : verdict" });
  for (let i = 0; i < CHAINS; i++) tx.add({ kind: "chain", name: `svc-${i}` });
  for (let i = 0; i < ELEMENTS; i++) tx.add({ kind: "element", map: "service-ips", key: [ip(i), "tcp", "80"], value: [`goto svc-${i % CHAINS}`] });
  return { nft, tx };
}

/** The same script, written by hand. */
function buildByHand(): string {
  let s = `add table ip ${TABLE} { comment "nft-apply bench" ; }\n`;
  s += `add map ip ${TABLE} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }\n`;
  for (let i = 0; i < CHAINS; i++) s += `add chain ip ${TABLE} svc-${i}\n`;
  s += `add element ip ${TABLE} service-ips {\n`;
  for (let i = 0; i < ELEMENTS; i++) s += `\t${ip(i)} . tcp . 80 : goto svc-${i % CHAINS}${i < ELEMENTS - 1 ? "," : ""}\n`;
  return s + "}\n";
}

function nftByHand(netns: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=/var/run/netns/${netns}`, "--", "nft", "-f", "-"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`nft -f - failed: ${stderr}`))));
    child.stdin.end(script);
  });
}

async function createNetns(): Promise<string> {
  const ns = `wt-nftb-${randomBytes(4).toString("hex")}`;
  await execFileAsync("ip", ["netns", "add", ns]);
  return ns;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export default async function run(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("nft-apply needs root (network namespaces)");

  // Same text on both sides (checked once, untimed).
  const sameText = buildWithLibrary("x").tx.toString() === buildByHand();
  if (!sameText) throw new Error("nft-apply: the hand-written script differs from nftables-js' rendering");

  // Rendering 100,000 map elements must take well under a second (best of 3, so that a load
  // spike on a shared machine does not decide it; building the objects is reported separately).
  let renderMs = Infinity;
  let buildMs = Infinity;
  for (let attempt = 0; attempt < 3; attempt++) {
    const t0 = performance.now();
    const big = createNftables({ family: "ip", table: TABLE }).newTransaction();
    for (let i = 0; i < 100_000; i++) big.add({ kind: "element", map: "service-ips", key: [ip(i), "tcp", "80"], value: ["goto svc-1"] });
    const t1 = performance.now();
    if (big.toString().length === 0) throw new Error("nft-apply: empty rendering");
    buildMs = Math.min(buildMs, t1 - t0);
    renderMs = Math.min(renderMs, performance.now() - t1);
  }
  if (renderMs >= 1000) throw new Error(`nft-apply: rendering 100,000 elements took ${renderMs.toFixed(0)} ms (limit 1000)`);

  const ours: number[] = [];
  const baseline: number[] = [];
  const buildSamples: number[] = [];
  let listedElements = 0;
  // Warm up the library's code paths (untimed): a long-running agent builds transactions all the time.
  for (let w = 0; w < 3; w++) buildWithLibrary("x").tx.toString();
  // Every run gets its own fresh namespace. All are created first and deleted only at the end:
  // deleting a namespace that holds 10,000 chains makes the kernel clean up in the background,
  // which would slow whichever run comes next.
  const namespaces: string[] = [];
  try {
    for (let r = 0; r < 2 * (RUNS + 1); r++) namespaces.push(await createNetns());
      for (let r = 0; r <= RUNS; r++) {
      const [nsOurs, nsBase] = [namespaces[2 * r]!, namespaces[2 * r + 1]!];
      const runOurs = () =>
        timed(async () => {
          const t0 = performance.now();
          const { nft, tx } = buildWithLibrary(nsOurs);
          if (r > 0) buildSamples.push(performance.now() - t0);
          await nft.run(tx);
        });
      const runBase = () => timed(() => nftByHand(nsBase, buildByHand()));
      // Alternate which side goes first: the kernel keeps freeing the previous batch for a while.
      let o: number;
      let b: number;
      if (r % 2 === 0) {
        o = await runOurs();
        b = await runBase();
      } else {
        b = await runBase();
        o = await runOurs();
      }
      if (r > 0) {
        ours.push(o);
        baseline.push(b);
      }
    }
    listedElements = (await createNftables({ family: "ip", table: TABLE, netns: namespaces[0]! }).list()).elements.length;
  } finally {
    for (const ns of namespaces) await execFileAsync("ip", ["netns", "delete", ns]).catch(() => {});
  }
  if (listedElements !== ELEMENTS) throw new Error(`nft-apply: listed ${listedElements} elements, expected ${ELEMENTS}`);
  const o = summarize(ours);
  const b = summarize(baseline);
  report({
    bench: "nft-apply",
    ours: o.median,
    baseline: b.median,
    unit: "ms",
    lowerIsBetter: true,
    notes: { chains: CHAINS, elements: ELEMENTS, runs: RUNS, sameText, render100kMs: Math.round(renderMs), build100kMs: Math.round(buildMs), oursP95: Math.round(o.p95), oursBuildMedian: Math.round(summarize(buildSamples).median), baselineP95: Math.round(b.p95) },
  });
}
