// ipam: allocate + release of pod addresses with @weft/ipam's DiskIpamStore (host-local's on-disk
// format) against the reference host-local binary doing the same through its CNI interface
// (one ADD exec, then one DEL exec, per address). Both work on a fresh state directory for
// 10.200.0.0/16 (65,533 usable addresses), so every allocation is a new address (round-robin).
//
// Ours: 10,000 sequential allocate()+release() pairs in one warm process (how weftd's CNI server
// holds an allocator). host-local: each pair costs two process starts (~5 ms each here), so by
// default it runs a sample of 1,000 pairs (WEFT_BENCH_IPAM_HOSTLOCAL_PAIRS to change) and reports
// its per-pair rate; the notes say how many pairs each side ran. Unit: pairs per second.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { report } from "@weft/bench";
import { DiskIpamStore, PodIpAllocator } from "@weft/ipam";

const HOST_LOCAL = "/usr/lib/cni/host-local";
const SUBNET = "10.200.0.0/16";
const OURS_PAIRS = 10_000;
const HOST_LOCAL_PAIRS = Number(process.env.WEFT_BENCH_IPAM_HOSTLOCAL_PAIRS ?? 1_000);
const NETWORK = "benchnet";

function hostLocal(command: "ADD" | "DEL", dataDir: string, containerId: string): Promise<void> {
  const config = JSON.stringify({ cniVersion: "1.0.0", name: NETWORK, ipam: { type: "host-local", dataDir, ranges: [[{ subnet: SUBNET }]] } });
  const env = { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: "/proc/self/ns/net", CNI_IFNAME: "eth0", CNI_PATH: "/usr/lib/cni" };
  return new Promise((resolve, reject) => {
    const child = spawn(HOST_LOCAL, [], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`host-local ${command} ${containerId} exited ${code}: ${out}`));
    });
    child.stdin.end(config);
  });
}

async function ipFiles(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)).length;
  } catch {
    return 0;
  }
}

export default async function run(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), "weft-bench-ipam-"));
  try {
    // ours
    const oursDir = join(base, "ours", NETWORK);
    const store = new DiskIpamStore(oursDir);
    const alloc = new PodIpAllocator(store, { ranges: [{ subnet: SUBNET }] });
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      // warm-up (JIT, index load), not timed
      await alloc.allocate({ containerId: `warm${i}`, ifname: "eth0" });
      await alloc.release({ containerId: `warm${i}`, ifname: "eth0" });
    }
    let start = performance.now();
    for (let i = 0; i < OURS_PAIRS; i++) {
      const a = { containerId: `pod${i}`, ifname: "eth0" };
      seen.add((await alloc.allocate(a)).ip.address);
      await alloc.release(a);
    }
    const oursMs = performance.now() - start;
    await store.close();
    const oursLeft = await ipFiles(oursDir);

    // reference host-local, through its CNI interface
    const hlData = join(base, "host-local");
    start = performance.now();
    for (let i = 0; i < HOST_LOCAL_PAIRS; i++) {
      await hostLocal("ADD", hlData, `pod${i}`);
      await hostLocal("DEL", hlData, `pod${i}`);
    }
    const hlMs = performance.now() - start;
    const hlLeft = await ipFiles(join(hlData, NETWORK));

    const oursRate = OURS_PAIRS / (oursMs / 1000);
    const hlRate = HOST_LOCAL_PAIRS / (hlMs / 1000);
    report({
      bench: "ipam",
      ours: oursRate,
      baseline: hlRate,
      unit: "pairs/s",
      lowerIsBetter: false,
      notes: {
        oursPairs: OURS_PAIRS,
        oursMs: Math.round(oursMs),
        oursMsPerPair: Math.round((oursMs / OURS_PAIRS) * 1000) / 1000,
        oursDistinctAddresses: seen.size,
        hostLocalPairs: HOST_LOCAL_PAIRS,
        hostLocalMs: Math.round(hlMs),
        hostLocalMsPerPair: Math.round((hlMs / HOST_LOCAL_PAIRS) * 1000) / 1000,
        hostLocalScaledTo10kMs: Math.round((hlMs / HOST_LOCAL_PAIRS) * 10_000),
        sampled: HOST_LOCAL_PAIRS < OURS_PAIRS ? `host-local ran ${HOST_LOCAL_PAIRS} pairs; its rate is per pair` : false,
        leftoverFiles: oursLeft + hlLeft,
      },
    });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
