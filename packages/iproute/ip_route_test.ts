import { spawn } from "node:child_process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, withNetns } from "@weft/testutils";
import { conformance } from "./_conformance.ts";
import { Batch } from "./batch.ts";
import { createIpRoute } from "./ip_route.ts";
import { isNotFound } from "./ip_route_error.ts";
import type { Exec, ExecResult } from "./types.ts";

/** A process parked in namespace `ns`, so the namespace has a /proc/<pid>/ns/net path. */
async function withNetnsPath<T>(ns: string, fn: (path: string) => Promise<T>): Promise<T> {
  const child = spawn("nsenter", [`--net=/var/run/netns/${ns}`, "sleep", "120"], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 50));
    if (child.pid === undefined) throw new Error("cannot start nsenter sleep");
    return await fn(`/proc/${child.pid}/ns/net`);
  } finally {
    child.kill("SIGKILL");
  }
}

const real = kernelTest(suite("IpRoute (kernel)"), { needs: ["root", "ip", "bridge"] });
conformance(real, (fn) =>
  withNetns("ipr", (ns) =>
    withNetns("iprp", (peerNs) =>
      withNetnsPath(peerNs, (peerNetns) => fn({ ip: createIpRoute({ netns: ns }), peerNetns, peer: createIpRoute({ netns: peerNetns }) })),
    ),
  ),
);
real.run();

/** Records argv and stdin, answers from a script. */
function recorder(answer: (argv: readonly string[]) => Partial<ExecResult> = () => ({})) {
  const calls: { argv: readonly string[]; input?: string }[] = [];
  const exec: Exec = {
    async run(argv, options = {}) {
      calls.push({ argv, ...(options.input !== undefined ? { input: options.input } : {}) });
      return { stdout: "", stderr: "", code: 0, ...answer(argv) };
    },
    async *lines() {},
  };
  return { exec, calls };
}

const unit = suite("createIpRoute (exec seam)");

unit("createIpRoute() runs a named namespace with ip -n and a path with nsenter", async () => {
  const named = recorder();
  await createIpRoute({ netns: "node1", exec: named.exec }).link.set("eth0", { up: true });
  assert.equal(named.calls[0]?.argv, ["ip", "-n", "node1", "-batch", "-"]);
  assert.is(named.calls[0]?.input, "link set dev eth0 up\n");

  const byPath = recorder();
  await createIpRoute({ netns: "/proc/42/ns/net", exec: byPath.exec }).fdb.replace({ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" });
  assert.equal(byPath.calls[0]?.argv, ["nsenter", "--net=/proc/42/ns/net", "bridge", "-batch", "-"]);
  assert.is(byPath.calls[0]?.input, "fdb replace 0e:2a:00:00:00:02 dev flannel.1 dst 198.18.0.2 self permanent\n");

  const runPath = recorder();
  await createIpRoute({ netns: "/var/run/netns/node2", exec: runPath.exec }).route.list({ family: 4 });
  assert.equal(runPath.calls[0]?.argv, ["ip", "-n", "node2", "-4", "-json", "route", "show", "table", "main"]);
});

unit("apply() runs consecutive ip and bridge operations as one process each, with -force on continueOnError", async () => {
  const r = recorder();
  const ip = createIpRoute({ exec: r.exec });
  const b = new Batch()
    .replaceNeigh({ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:02" })
    .replaceNeigh({ dev: "flannel.1", address: "10.244.3.0", lladdr: "0e:2a:00:00:00:03" })
    .replaceFdb({ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" })
    .replaceRoute({ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "flannel.1", onlink: true });
  await ip.apply(b, { continueOnError: true });
  assert.equal(r.calls.map((c) => c.argv.join(" ")), ["ip -force -batch -", "bridge -force -batch -", "ip -force -batch -"]);
  assert.is(r.calls[2]?.input, "route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\n");
});

unit("apply() maps 'Command failed -:N' to the operation and keeps the kind", async () => {
  const r = recorder(() => ({ code: 1, stderr: "Cannot find device \"ghost\"\nCommand failed -:3\n" }));
  const ip = createIpRoute({ netns: "n1", exec: r.exec });
  const b = new Batch().addLink({ type: "bridge", name: "br0", up: true }).setLink("ghost", { up: true });
  try {
    await ip.apply(b);
    assert.unreachable();
  } catch (err) {
    assert.ok(isNotFound(err));
    assert.is((err as { index: number }).index, 1, "line 3 belongs to the second operation (the first renders two lines)");
    assert.match((err as Error).message, /Cannot link set dev ghost up \(device ghost, netns n1\): Cannot find device "ghost"/);
  }
});

unit("sysctl.set() in a namespace runs sysctl -w through nsenter with a slash key", async () => {
  const r = recorder();
  await createIpRoute({ netns: "n1", exec: r.exec }).sysctl.set("net/ipv6/conf/flannel.1/accept_ra", 0);
  assert.equal(r.calls[0]?.argv, ["nsenter", "--net=/var/run/netns/n1", "sysctl", "-q", "-w", "net/ipv6/conf/flannel.1/accept_ra=0"]);
});

unit("createIpRoute() rejects unsafe namespace handles and names before running anything", async () => {
  assert.throws(() => createIpRoute({ netns: "../etc" }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => createIpRoute({ netns: "/proc/1/../../etc" }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => createIpRoute({ netns: "a b" }), (e: unknown) => e instanceof TypeError);
  const r = recorder();
  const ip = createIpRoute({ exec: r.exec });
  for (const bad of ["", "a".repeat(16), "a/b", "a b", ".", "..", "x\ny"]) {
    try {
      await ip.link.set(bad, { up: true });
      assert.unreachable(bad);
    } catch (err) {
      assert.instance(err, TypeError, JSON.stringify(bad));
    }
  }
  assert.is(r.calls.length, 0);
});

unit.run();
