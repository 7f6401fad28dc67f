// Interoperability with the reference host-local IPAM plugin (/usr/lib/cni/host-local, run through its
// CNI interface): state it writes is read by DiskIpamStore, and the reverse.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelTest } from "@weft/testutils";
import { DiskIpamStore } from "./disk_ipam_store.ts";
import { parseIp } from "./parse_ip.ts";
import { PodIpAllocator } from "./pod_ip_allocator.ts";

const HOST_LOCAL = "/usr/lib/cni/host-local";
const NETWORK = "weftnet";
const test = kernelTest(suite("DiskIpamStore with the reference host-local"), { needs: ["host-local"] });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hostLocal(command: "ADD" | "DEL" | "CHECK", dataDir: string, containerId: string, ifname = "eth0", cniArgs?: string): Promise<Run> {
  const config = {
    cniVersion: "1.0.0",
    name: NETWORK,
    ipam: { type: "host-local", dataDir, ranges: [[{ subnet: "10.1.2.0/24" }], [{ subnet: "2001:db8:1::/64" }]] },
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: "/proc/self/ns/net", // host-local never enters the netns; any path passes the env check
    CNI_IFNAME: ifname,
    CNI_PATH: "/usr/lib/cni",
  };
  if (cniArgs) env.CNI_ARGS = cniArgs;
  return new Promise((resolve, reject) => {
    const child = spawn(HOST_LOCAL, [], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(JSON.stringify(config));
  });
}

function addresses(run: Run): string[] {
  assert.is(run.code, 0, `host-local failed: ${run.stdout} ${run.stderr}`);
  return (JSON.parse(run.stdout) as { ips: Array<{ address: string }> }).ips.map((i) => i.address);
}

let base = "";
test.before.each(async () => {
  base = await mkdtemp(join(tmpdir(), "weft-ipam-hl-"));
});
test.after.each(async () => {
  await rm(base, { recursive: true, force: true });
});

function ours(dir: string) {
  const store = new DiskIpamStore(dir);
  return {
    store,
    v4: new PodIpAllocator(store, { ranges: [{ subnet: "10.1.2.0/24" }] }),
    v6: new PodIpAllocator(store, { ranges: [{ subnet: "2001:db8:1::/64" }], rangeSetIndex: 1 }),
  };
}

test("state written by host-local is read by DiskIpamStore, and round-robin continues from its last_reserved_ip", async () => {
  assert.equal(addresses(await hostLocal("ADD", base, "dummy")), ["10.1.2.2/24", "2001:db8:1::2/64"]);
  assert.equal(addresses(await hostLocal("ADD", base, "second", "net1")), ["10.1.2.3/24", "2001:db8:1::3/64"]);
  const dir = join(base, NETWORK);
  const { store, v4, v6 } = ours(dir);
  assert.equal((await store.list()).map((r) => `${r.ip.address} ${r.containerId} ${r.ifname}`), [
    "10.1.2.2 dummy eth0",
    "10.1.2.3 second net1",
    "2001:db8:1::2 dummy eth0",
    "2001:db8:1::3 second net1",
  ]);
  assert.equal(await store.lastReserved(0), parseIp("10.1.2.3"));
  assert.equal(await store.lastReserved(1), parseIp("2001:db8:1::3"));
  assert.equal((await v4.find({ containerId: "dummy", ifname: "eth0" })).map((i) => i.address), ["10.1.2.2"]);
  // our next allocation continues after host-local's
  assert.is((await v4.allocate({ containerId: "ours", ifname: "eth0" })).address, "10.1.2.4/24");
  assert.is((await v6.allocate({ containerId: "ours", ifname: "eth0" })).address, "2001:db8:1::4/64");
  // our DEL of a host-local container removes host-local's files
  await v4.release({ containerId: "dummy", ifname: "eth0" });
  await v6.release({ containerId: "dummy", ifname: "eth0" });
  assert.equal((await readdir(dir)).filter((n) => n.includes("::") || n.startsWith("10.")).sort(), ["10.1.2.3", "10.1.2.4", "2001:db8:1::3", "2001:db8:1::4"]);
});

test("state written by DiskIpamStore is read by host-local (ADD, duplicate check, CHECK, DEL)", async () => {
  const dir = join(base, NETWORK);
  const { v4, v6 } = ours(dir);
  await v4.allocate({ containerId: "mine", ifname: "eth0" });
  await v6.allocate({ containerId: "mine", ifname: "eth0" });
  await v4.allocate({ containerId: "taken", ifname: "eth0" }, { requestedIp: parseIp("10.1.2.9") });
  // host-local continues round-robin from our last_reserved_ip.<n> and skips our files
  assert.equal(addresses(await hostLocal("ADD", base, "theirs")), ["10.1.2.10/24", "2001:db8:1::3/64"]);
  assert.is(await readFile(join(dir, "10.1.2.10"), "utf8"), "theirs\r\neth0");
  // it sees our reservation as a duplicate for the same (id, ifname)
  const dup = await hostLocal("ADD", base, "mine");
  assert.is.not(dup.code, 0);
  assert.match(dup.stdout, /10\.1\.2\.2 has been allocated to mine, duplicate allocation is not allowed/);
  // a requested address we hold is refused with the same text we use
  const req = await hostLocal("ADD", base, "want9", "eth0", "IgnoreUnknown=1;IP=10.1.2.9");
  assert.match(req.stdout, /requested IP address 10\.1\.2\.9 is not available in range set 10\.1\.2\.1-10\.1\.2\.254/);
  // CHECK finds our reservation; DEL removes our files
  const check = await hostLocal("CHECK", base, "mine");
  assert.is(check.code, 0, check.stdout);
  assert.is((await hostLocal("DEL", base, "mine")).code, 0);
  const left = (await readdir(dir)).filter((n) => n.includes("::") || n.startsWith("10.")).sort();
  assert.equal(left, ["10.1.2.10", "10.1.2.9", "2001:db8:1::3"]);
  // and our allocator sees host-local's DEL after re-reading
  assert.equal(await v4.find({ containerId: "mine", ifname: "eth0" }), []);
});

test.run();
