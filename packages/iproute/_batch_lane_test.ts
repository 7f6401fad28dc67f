import { execFileSync } from "node:child_process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, withNetns } from "@weft/testutils";
import { BatchLane, BRIDGE_LANE, IP_LANE } from "./_batch_lane.ts";
import { RealIpRoute } from "./_real_ip_route.ts";
import type { BatchCommand } from "./batch.ts";
import { createExec } from "./exec.ts";
import { IpRouteError } from "./ip_route_error.ts";

// Lanes in the caller's namespace, running read-only commands only (`bridge link show dev lo` prints
// nothing, a missing device fails, `monitor` never ends): no root and nothing is changed.
const test = kernelTest(suite("BatchLane (read-only commands in the caller's namespace)"), { needs: ["ip", "bridge"] });

const here = () => new RealIpRoute({ netns: undefined, exec: createExec(), timeoutMs: 5000 });
const bridgeLane = (timeoutMs = 5000) => new BatchLane({ ...BRIDGE_LANE, ip: here(), timeoutMs });
const cmd = (index: number, line: string, tool: "ip" | "bridge" = "bridge"): BatchCommand => {
  const args = line.split(" ");
  return { tool, args, index, device: args[args.length - 1]! };
};
const ok = (i: number) => cmd(i, "link show dev lo");
const missing = (i: number, dev = `weftnosuch${i}`) => cmd(i, `link show dev ${dev}`);
const closed = () => new Error("closed");

test("BatchLane.enqueue() runs jobs in FIFO order in one bridge process", async () => {
  const lane = bridgeLane();
  try {
    assert.is(lane.pid, undefined, "nothing starts before the first job");
    const jobs = [lane.enqueue([ok(0)], false), lane.enqueue([ok(0), ok(1)], false), lane.enqueue([ok(0)], false)];
    assert.is(lane.pending, 3, "queued synchronously");
    const pid = lane.pid;
    assert.ok(pid !== undefined);
    assert.equal(await Promise.all(jobs), [[], [], []]);
    for (let i = 0; i < 3; i++) assert.equal(await lane.enqueue([ok(0)], false), []);
    assert.is(lane.pid, pid, "the same process for every job");
    assert.is(lane.pending, 0);
  } finally {
    await lane.close(closed);
  }
});

test("BatchLane.enqueue() maps a failure to its command, and the next job runs in a new process", async () => {
  const lane = bridgeLane();
  try {
    await lane.enqueue([ok(0)], false);
    const first = lane.pid;
    const failures = await lane.enqueue([ok(0), missing(1), ok(2)], false);
    assert.equal(failures.map((f) => [f.index, f.kind, f.device]), [[1, "NotFound", "weftnosuch1"]]);
    assert.match(failures[0]!.detail, /Cannot find device "weftnosuch1"/);
    assert.equal(await lane.enqueue([ok(0)], false), []);
    assert.ok(lane.pid !== undefined && lane.pid !== first, "restarted after the failure");
  } finally {
    await lane.close(closed);
  }
});

test("BatchLane.enqueue(force) reports every failure and keeps its process", async () => {
  const lane = bridgeLane();
  try {
    const a = await lane.enqueue([missing(0), ok(1), missing(2), ok(3)], true);
    assert.equal(a.map((f) => f.index), [0, 2]);
    const pid = lane.pid;
    // a batch line failing for the end marker's device name is still that line's failure
    const b = await lane.enqueue([missing(0, "ws2"), ok(1)], true);
    assert.equal(b.map((f) => [f.index, f.device]), [[0, "ws2"]]);
    assert.equal(await lane.enqueue([ok(0)], true), []);
    // a large job (one marker at its end)
    const big = Array.from({ length: 40 }, (_, i) => (i === 7 || i === 33 ? missing(i) : ok(i)));
    assert.equal((await lane.enqueue(big, true)).map((f) => f.index), [7, 33]);
    assert.is(lane.pid, pid, "one -force process for all of them");
    // and back to stop-at-first-failure: a process of the other mode
    assert.equal((await lane.enqueue([missing(0), missing(1)], false)).map((f) => f.index), [0]);
  } finally {
    await lane.close(closed);
  }
});

test("BatchLane.enqueue() names the command a process exited on without a Command failed line", async () => {
  const lane = bridgeLane();
  try {
    // `fdb show brport` (no value) makes bridge exit(-1) with only a usage hint
    const failures = await lane.enqueue([ok(0), cmd(1, "fdb show brport"), ok(2)], false);
    assert.equal(failures.map((f) => f.index), [1]);
    assert.match(failures[0]!.detail, /not complete/);
    assert.equal(await lane.enqueue([ok(0)], false), []);
  } finally {
    await lane.close(closed);
  }
});

test("BatchLane kills a job that runs longer than timeoutMs and restarts for the next one", async () => {
  const lane = bridgeLane(300);
  try {
    const hung = lane.enqueue([cmd(0, "monitor fdb")], false);
    const after = lane.enqueue([ok(0)], false);
    const err = await hung.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(err, IpRouteError);
    assert.match((err as Error).message, /bridge -batch was killed/);
    assert.equal(await after, []);
  } finally {
    await lane.close(closed);
  }
});

test("BatchLane.close() rejects queued jobs, lets the running one finish and ends the process", async () => {
  const lane = bridgeLane();
  const running = lane.enqueue([ok(0)], false);
  const queued = lane.enqueue([ok(0)], false).then(
    () => undefined,
    (e: unknown) => e,
  );
  const pid = lane.pid!;
  await lane.close(() => new Error("the lane is closed"));
  assert.equal(await running, []);
  assert.match(String(await queued), /the lane is closed/, "a queued job is rejected");
  assert.is(lane.pid, undefined);
  assert.throws(() => process.kill(pid, 0), "the process has ended");
});

test("BatchLane over ip uses its own markers (link show dev lo, Device does not exist)", async () => {
  const lane = new BatchLane({ ...IP_LANE, ip: here(), timeoutMs: 5000 });
  try {
    const failures = await lane.enqueue([cmd(0, "link show dev lo", "ip"), cmd(1, "link show dev weftnosuch1", "ip"), cmd(2, "addr show dev lo", "ip")], true);
    assert.equal(failures.map((f) => f.index), [1]);
    assert.equal(await lane.enqueue([cmd(0, "addr show dev lo", "ip")], false), []);
  } finally {
    await lane.close(closed);
  }
});

test.run();

const markers = kernelTest(suite("BatchLane markers (kernel)"), { needs: ["root", "ip", "bridge"] });

markers("the bridge marker prints just its header line next to a bridge with veth and vxlan ports", () =>
  withNetns("blm", async (ns) => {
    const run = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: "pipe" });
    // VLAN filtering where the kernel has it (CONFIG_BRIDGE_VLAN_FILTERING), else a plain bridge
    try {
      run("ip", "-n", ns, "link", "add", "brm", "type", "bridge", "vlan_filtering", "1");
    } catch {
      run("ip", "-n", ns, "link", "add", "brm", "type", "bridge");
    }
    run("ip", "-n", ns, "link", "add", "vpm0", "type", "veth", "peer", "name", "vpm1");
    run("ip", "-n", ns, "link", "add", "vxm", "type", "vxlan", "id", "5", "dstport", "4789", "local", "127.0.0.1", "nolearning");
    for (const port of ["vpm0", "vxm"]) run("ip", "-n", ns, "link", "set", port, "master", "brm", "up");
    run("ip", "-n", ns, "link", "set", "brm", "up");
    const batch = (script: string) => execFileSync("bridge", ["-n", ns, "-batch", "-"], { input: script, encoding: "utf8", stdio: "pipe" });
    const out = batch(`${BRIDGE_LANE.mark}\n`).split("\n");
    assert.equal(out.length, 2, JSON.stringify(out));
    assert.is(out[1], "");
    assert.ok(BRIDGE_LANE.markOutput.test(out[0]!), JSON.stringify(out[0]));
    // FDB writes print nothing on stdout: the marker's header is the only line
    const writes = [
      "fdb replace 0e:00:00:00:00:01 dev vxm dst 192.0.2.1 self permanent",
      "fdb append 00:00:00:00:00:00 dev vxm dst 192.0.2.2 self permanent",
      "fdb add 0e:00:00:00:00:02 dev vxm dst 192.0.2.3 self permanent",
      "fdb del 0e:00:00:00:00:01 dev vxm self",
      BRIDGE_LANE.mark,
    ];
    assert.equal(batch(writes.join("\n") + "\n"), out.join("\n"));
  }),
);

markers.run();
