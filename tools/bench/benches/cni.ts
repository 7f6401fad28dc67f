// cni: pod network ADD/DEL through the real binary, exactly as a container runtime calls it
// (env + config on stdin, see shared/tools/cnibench.sh), against the reference bridge + host-local
// from containernetworking-plugins (/usr/lib/cni) in the same run, interleaved (see
// _cni_driver.ts). Everything happens in a throwaway "host" namespace (reference bridge cni0 on
// 10.244.0.0/24, ours cni1 on 10.245.0.0/24) and pod namespaces the bench creates.
//   ours: the forwarder apps/weft-cni/dist/weft-cni -> unix socket -> CNI server
//         (`apps/weft-cni/main.ts serve`, started inside the host namespace as weftd would host it)
//   baseline: /usr/lib/cni/bridge, which execs /usr/lib/cni/host-local
// Figures: ADD median over 100 sequential pods, pods/s for 50 pods 8 at a time (two rounds), DEL
// median over the 100. NODE_EXTRA_CA_CERTS is unset for both sides.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { report, summarize } from "@weft/bench";
import { runDriver, type SideResult } from "./_cni_driver.ts";

const SEQ_N = Number(process.env.CNI_BENCH_SEQ_N ?? 100);
const PAR_N = Number(process.env.CNI_BENCH_PAR_N ?? 50);
const PAR_J = Number(process.env.CNI_BENCH_PAR_J ?? 8);
const APP = dirname(fileURLToPath(import.meta.resolve("@weft/weft-cni/package.json")));

function forwarder(): string {
  const bin = join(APP, "dist", "weft-cni");
  const src = join(APP, "src", "weft_cni.c");
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    execFileSync("npm", ["run", "--silent", "build:native"], { cwd: APP, stdio: "inherit" });
  }
  return bin;
}

function cleanupNetns(prefix: string): void {
  const names = execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").map((l) => l.split(" ")[0]!);
  for (const ns of names) if (ns.startsWith(prefix)) execFileSync("ip", ["netns", "del", ns]);
}

async function startServer(hostNetns: string, socket: string): Promise<ChildProcess> {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn("ip", ["netns", "exec", hostNetns, process.execPath, "--conditions=@weft/source", "--import=tsx", join(APP, "main.ts"), "serve", "--socket", socket], {
    cwd: APP, env, stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const started = Date.now();
  while (!err.includes("serving on")) {
    if (child.exitCode !== null || Date.now() - started > 30_000) {
      child.kill("SIGKILL");
      throw new Error(`weft CNI server did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

export default async function run(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the cni benchmark needs root (network namespaces)");
  if (!existsSync("/usr/lib/cni/bridge")) throw new Error("the cni benchmark needs /usr/lib/cni/bridge (Debian containernetworking-plugins)");
  const bin = forwarder();
  const work = mkdtempSync(join(tmpdir(), "weft-cnibench-"));
  const prefix = `wcb${randomBytes(3).toString("hex")}`;
  const host = `${prefix}host`;
  let server: ChildProcess | undefined;
  try {
    execFileSync("ip", ["netns", "add", host]);
    const refConf = join(work, "bridge.json");
    writeFileSync(refConf, JSON.stringify({ cniVersion: "1.0.0", name: "cbr0", type: "bridge", bridge: "cni0", isGateway: true, ipMasq: false, hairpinMode: true,
      ipam: { type: "host-local", ranges: [[{ subnet: "10.244.0.0/24" }]], routes: [{ dst: "10.244.0.0/16" }], dataDir: join(work, "ref-ipam") } }));
    mkdirSync(join(work, "ours"));
    writeFileSync(join(work, "ours", "subnet.env"), "FLANNEL_NETWORK=10.245.0.0/16\nFLANNEL_SUBNET=10.245.0.1/24\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n");
    const socket = join(work, "ours", "cni.sock");
    const oursConf = join(work, "weft.json");
    writeFileSync(oursConf, JSON.stringify({ cniVersion: "1.0.0", name: "cbr0", type: "weft", bridge: "cni1", isGateway: true, hairpinMode: true, weftSocketPath: socket,
      subnetFile: join(work, "ours", "subnet.env"), dataDir: join(work, "ours", "ipam"), stateDir: join(work, "ours", "state") }));
    server = await startServer(host, socket);
    const load = () => execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").slice(0, 3).join(" ");
    const loadBefore = load();
    const { ref, ours } = await runDriver({ hostNetns: host, refPlugin: "/usr/lib/cni/bridge", refConf, oursPlugin: bin, oursConf, prefix, out: join(work, "out"),
      seqN: SEQ_N, parN: PAR_N, parJ: PAR_J, timeoutMs: 600_000 });
    const facts = (r: SideResult) => ({
      failures: r.failures, ping: r.ping, p95: r1(summarize(r.addSeqMs).p95), firstAdd: Math.round(r.firstAddMs), ...(r.firstFailure ? { firstFailure: r.firstFailure } : {}),
    });
    report({ bench: "cni/add-median", ours: summarize(ours.addSeqMs).median, baseline: summarize(ref.addSeqMs).median, unit: "ms", lowerIsBetter: true,
      notes: { pods: SEQ_N, ours: facts(ours), baseline: facts(ref), loadavg: loadBefore } });
    report({ bench: "cni/add-throughput", ours: ours.addParPodsPerS, baseline: ref.addParPodsPerS, unit: "pods/s", lowerIsBetter: false,
      notes: { pods: 2 * PAR_N, parallel: PAR_J, oursMedianMs: r1(summarize(ours.addParMs).median), baselineMedianMs: r1(summarize(ref.addParMs).median) } });
    report({ bench: "cni/del-median", ours: summarize(ours.delSeqMs).median, baseline: summarize(ref.delSeqMs).median, unit: "ms", lowerIsBetter: true,
      notes: { pods: SEQ_N, delParPodsPerS: [r1(ours.delParPodsPerS), r1(ref.delParPodsPerS)], loadavg: load() } });
    if (ours.failures + ref.failures > 0 || ours.ping !== "ok" || ref.ping !== "ok") throw new Error(`cni bench checks failed: ours ${JSON.stringify(facts(ours))} baseline ${JSON.stringify(facts(ref))}`);
  } finally {
    if (server) {
      server.kill("SIGTERM");
      await new Promise((r) => (server!.exitCode !== null ? r(null) : server!.once("exit", r)));
    }
    cleanupNetns(prefix);
    if (!process.env.CNI_BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}
