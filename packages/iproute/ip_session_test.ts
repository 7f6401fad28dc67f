import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, sh, withNetns } from "@weft/testutils";
import { conformance, sessionConformance } from "./_conformance.ts";
import { Batch } from "./batch.ts";
import { createIpRoute, type IpRoute } from "./ip_route.ts";
import { BatchError, isNotFound, type IpRouteError } from "./ip_route_error.ts";
import { createIpSession, type IpSession } from "./ip_session.ts";

/** An IpRoute whose apply() (and so every single operation) goes through `session`. */
function viaSession(ip: IpRoute, session: IpSession): IpRoute {
  (ip as { apply: IpRoute["apply"] }).apply = (b, o) => session.apply(b, o);
  return ip;
}

async function withSession<T>(ns: string, fn: (s: IpSession) => Promise<T>): Promise<T> {
  const session = createIpSession({ netns: ns });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** Pids of our own session processes for namespace `ns` (`<tool> -n <ns> ... -batch -`). */
function sessionPids(ns: string, tool: "ip" | "bridge" = "ip"): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (argv[0] === tool && argv[1] === "-n" && argv[2] === ns && argv.includes("-batch")) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// Every IpRoute scenario (single operations, batches, failures with and without continueOnError,
// FDB and flagged segments, a pod set up by path) with apply() going through a session.
const real = kernelTest(suite("IpSession (kernel, IpRoute conformance through a session)"), { needs: ["root", "ip", "bridge"] });
conformance(real, (fn) =>
  withNetns("ips", (ns) =>
    withNetns("ipsp", (peerNs) =>
      withSession(ns, (session) =>
        fn({ ip: viaSession(createIpRoute({ netns: ns }), session), peerNetns: `/var/run/netns/${peerNs}`, peer: createIpRoute({ netns: peerNs }) }),
      ),
    ),
  ),
);
real.run();

const scenarios = kernelTest(suite("IpSession (kernel)"), { needs: ["root", "ip", "bridge"] });
sessionConformance(scenarios, (fn) =>
  withNetns("ipss", (ns) =>
    withNetns("ipsq", (podName) => withSession(ns, (session) => fn({ ip: createIpRoute({ netns: ns }), session, podName, pod: createIpRoute({ netns: podName }) }))),
  ),
);

scenarios("IpSession keeps one ip process for many jobs and restarts it after it died", () =>
  withNetns("ipsk", (ns) =>
    withSession(ns, async (session) => {
      const ip = createIpRoute({ netns: ns });
      for (let i = 0; i < 5; i++) await session.apply(new Batch().addLink({ type: "bridge", name: `k${i}` }));
      const pids = sessionPids(ns);
      assert.is(pids.length, 1, "one process for five jobs");
      process.kill(pids[0]!, "SIGKILL");
      await new Promise((r) => setTimeout(r, 50));
      await session.apply(new Batch().deleteLink("k0"));
      assert.is(await ip.link.get("k0"), undefined);
      const again = sessionPids(ns);
      assert.is(again.length, 1);
      assert.is.not(again[0], pids[0]);
    }),
  ),
);

scenarios("IpSession runs a large job (one progress marker at its end) and maps a failure in it to its operation", () =>
  withNetns("ipsl", (ns) =>
    withSession(ns, async (session) => {
      const ip = createIpRoute({ netns: ns });
      const big = new Batch();
      for (let i = 0; i < 40; i++) big.addLink({ type: "bridge", name: `l${i}` });
      await session.apply(big);
      assert.is((await ip.link.list()).filter((l) => /^l\d+$/.test(l.name)).length, 40);
      const failing = new Batch();
      for (let i = 40; i < 70; i++) failing.addLink({ type: "bridge", name: `l${i === 55 ? 3 : i}` }); // op 15 exists already
      const err = await session.apply(failing).then(
        (): IpRouteError => {
          throw new Error("expected a rejection");
        },
        (e: IpRouteError) => e,
      );
      assert.is(err.index, 15);
      assert.ok(await ip.link.get("l54"), "the lines before the failure ran");
      assert.is(await ip.link.get("l56"), undefined, "nothing after the failure ran");
      // and the session still works
      await session.apply(new Batch().deleteLink("l0"));
      assert.is(await ip.link.get("l0"), undefined);
    }),
  ),
);

scenarios("IpSession runs next in a namespace given by a /proc path as a one-shot process", () =>
  withNetns("ipsr", (ns) =>
    withNetns("ipsu", (podName) =>
      withSession(ns, async (session) => {
        const pod = createIpRoute({ netns: podName });
        const parked = spawn("nsenter", [`--net=/var/run/netns/${podName}`, "sleep", "60"], { stdio: "ignore" });
        try {
          await new Promise((r) => setTimeout(r, 50));
          const path = `/proc/${parked.pid}/ns/net`;
          await session.apply(new Batch().addLink({ type: "veth", name: "vr0", peer: { name: "eth1", netns: path } }), {
            next: { netns: path, batch: new Batch().addAddress({ dev: "eth1", address: "10.82.0.2/24" }).setLink("eth1", { up: true }) },
          });
          assert.equal((await pod.address.list({ dev: "eth1", family: 4 })).map((a) => a.cidr), ["10.82.0.2/24"]);
        } finally {
          parked.kill("SIGKILL");
        }
      }),
    ),
  ),
);

scenarios("IpSession reports a next namespace that does not exist as a failure of its first operation", () =>
  withNetns("ipsv", (ns) =>
    withSession(ns, async (session) => {
      const err = await session.apply(new Batch(), { next: { netns: "weft-no-such-ns", batch: new Batch().setLink("lo", { up: true }) } }).then(
        (): IpRouteError => {
          throw new Error("expected a rejection");
        },
        (e: IpRouteError) => e,
      );
      assert.is(err.netns, "weft-no-such-ns");
      assert.is(err.index, 0);
      // and the session still works
      await session.apply(new Batch().addLink({ type: "bridge", name: "v1" }));
    }),
  ),
);

/** The FDB entries with a dst on `dev`, as `bridge fdb show` prints them (`<mac> dst <ip> self permanent`). */
async function fdbLines(ns: string, dev: string): Promise<string[]> {
  return (await sh(["bridge", "-n", ns, "fdb", "show", "dev", dev])).split("\n").filter((l) => l.includes(" dst ")).map((l) => l.trim());
}

/** A vxlan device for FDB entries in `ns`. */
async function addVxlan(ns: string, name: string): Promise<void> {
  await sh(["ip", "-n", ns, "link", "add", name, "type", "vxlan", "id", "42", "dstport", "8472", "local", "127.0.0.1", "nolearning"]);
}

async function rejection(p: Promise<unknown>): Promise<BatchError> {
  return p.then(
    (): BatchError => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => {
      assert.instance(e, BatchError);
      return e as BatchError;
    },
  );
}

const MAC_A = "0e:2a:00:00:00:0a";
const MAC_B = "0e:2a:00:00:00:0b";
const MAC_C = "0e:2a:00:00:00:0c";

scenarios("IpSession writes FDB entries through one long-lived bridge process", () =>
  withNetns("ipsf", (ns) =>
    withSession(ns, async (session) => {
      await addVxlan(ns, "vxf");
      await session.apply(new Batch().replaceFdb({ dev: "vxf", lladdr: MAC_A, dst: "192.0.2.1" }));
      assert.equal(await fdbLines(ns, "vxf"), [`${MAC_A} dst 192.0.2.1 self permanent`]);
      const pids = sessionPids(ns, "bridge");
      assert.is(pids.length, 1, "a bridge -batch process stays");
      for (let i = 2; i <= 5; i++) {
        await session.apply(new Batch().replaceFdb({ dev: "vxf", lladdr: MAC_A, dst: `192.0.2.${i}` }).appendFdb({ dev: "vxf", lladdr: "00:00:00:00:00:00", dst: `198.51.100.${i}` }));
      }
      assert.equal(sessionPids(ns, "bridge"), pids, "the same process for every FDB job");
      assert.equal(sessionPids(ns, "ip"), [], "no ip process for FDB jobs");
      const lines = await fdbLines(ns, "vxf");
      assert.ok(lines.includes(`${MAC_A} dst 192.0.2.5 self permanent`), lines.join("\n"));
      assert.is(lines.filter((l) => l.startsWith("00:00:00:00:00:00 dst 198.51.100.")).length, 4);
      await session.apply(new Batch().deleteFdb({ dev: "vxf", lladdr: MAC_A, dst: "192.0.2.5" }));
      assert.not.ok((await fdbLines(ns, "vxf")).some((l) => l.startsWith(MAC_A)), "deleted");
      // killed between jobs: the next FDB job starts a new one
      process.kill(pids[0]!, "SIGKILL");
      await new Promise((r) => setTimeout(r, 50));
      await session.apply(new Batch().replaceFdb({ dev: "vxf", lladdr: MAC_B, dst: "192.0.2.9" }));
      assert.ok((await fdbLines(ns, "vxf")).includes(`${MAC_B} dst 192.0.2.9 self permanent`));
      const again = sessionPids(ns, "bridge");
      assert.is(again.length, 1);
      assert.is.not(again[0], pids[0]);
    }),
  ),
);

scenarios("IpSession reports a failing FDB operation with its index and restarts bridge for the next job", () =>
  withNetns("ipsg", (ns) =>
    withSession(ns, async (session) => {
      await addVxlan(ns, "vxg");
      const before = sessionPids(ns, "bridge");
      const err = await rejection(
        session.apply(
          new Batch()
            .replaceFdb({ dev: "vxg", lladdr: MAC_A, dst: "192.0.2.1" })
            .replaceFdb({ dev: "nosuch-g", lladdr: MAC_B, dst: "192.0.2.2" })
            .replaceFdb({ dev: "vxg", lladdr: MAC_C, dst: "192.0.2.3" }),
        ),
      );
      assert.is(err.failures.length, 1);
      assert.is(err.index, 1);
      assert.is(err.device, "nosuch-g");
      assert.ok(isNotFound(err), err.message);
      assert.is(err.netns, ns);
      assert.equal(await fdbLines(ns, "vxg"), [`${MAC_A} dst 192.0.2.1 self permanent`], "the op before ran, the one after did not");
      assert.equal(before, []);
      await session.apply(new Batch().replaceFdb({ dev: "vxg", lladdr: MAC_C, dst: "192.0.2.3" }));
      assert.ok((await fdbLines(ns, "vxg")).includes(`${MAC_C} dst 192.0.2.3 self permanent`));
      assert.is(sessionPids(ns, "bridge").length, 1);
    }),
  ),
);

scenarios("IpSession.apply({ continueOnError }) reports just the failing FDB operation and applies the others", () =>
  withNetns("ipsh", (ns) =>
    withSession(ns, async (session) => {
      await addVxlan(ns, "vxh");
      const b = new Batch()
        .replaceFdb({ dev: "vxh", lladdr: MAC_A, dst: "192.0.2.1" })
        .replaceFdb({ dev: "nosuch-h", lladdr: MAC_B, dst: "192.0.2.2" })
        .replaceFdb({ dev: "vxh", lladdr: MAC_C, dst: "192.0.2.3" });
      const err = await rejection(session.apply(b, { continueOnError: true }));
      assert.equal(err.failures.map((f) => [f.index, f.kind, f.device]), [[1, "NotFound", "nosuch-h"]]);
      assert.is(err.total, 3);
      assert.equal((await fdbLines(ns, "vxh")).sort(), [`${MAC_A} dst 192.0.2.1 self permanent`, `${MAC_C} dst 192.0.2.3 self permanent`]);
      // the -force process goes on with the next job
      const pids = sessionPids(ns, "bridge");
      await session.apply(new Batch().deleteFdb({ dev: "vxh", lladdr: MAC_A, dst: "192.0.2.1" }), { continueOnError: true });
      assert.equal(await fdbLines(ns, "vxh"), [`${MAC_C} dst 192.0.2.3 self permanent`]);
      assert.equal(sessionPids(ns, "bridge"), pids);
    }),
  ),
);

scenarios("IpSession applies a mixed batch (link, FDB, neighbour, route) in order, and stops at a failing FDB operation", () =>
  withNetns("ipsm", (ns) =>
    withSession(ns, async (session) => {
      const ip = createIpRoute({ netns: ns });
      // each operation needs the one before it: the FDB entry and the neighbour need the device
      await session.apply(
        new Batch()
          .addLink({ type: "vxlan", name: "vxm", id: 7, local: "127.0.0.1", dstport: 8472, learning: false, up: true })
          .replaceFdb({ dev: "vxm", lladdr: MAC_A, dst: "192.0.2.7" })
          .replaceNeigh({ dev: "vxm", address: "10.77.2.0", lladdr: MAC_A })
          .replaceRoute({ dst: "10.77.2.0/24", via: "10.77.2.0", dev: "vxm", onlink: true })
          .appendFdb({ dev: "vxm", lladdr: "00:00:00:00:00:00", dst: "192.0.2.8" }),
      );
      assert.equal((await fdbLines(ns, "vxm")).sort(), [`00:00:00:00:00:00 dst 192.0.2.8 self permanent`, `${MAC_A} dst 192.0.2.7 self permanent`]);
      assert.ok((await ip.neigh.list({ dev: "vxm" })).some((n) => n.address === "10.77.2.0" && n.lladdr === MAC_A));
      assert.ok((await ip.route.list({ dev: "vxm", family: 4 })).some((r) => r.dst === "10.77.2.0/24" && r.via === "10.77.2.0"));

      const err = await rejection(
        session.apply(
          new Batch()
            .replaceNeigh({ dev: "vxm", address: "10.77.3.0", lladdr: MAC_B })
            .replaceFdb({ dev: "nosuch-m", lladdr: MAC_B, dst: "192.0.2.9" })
            .replaceRoute({ dst: "10.77.3.0/24", via: "10.77.3.0", dev: "vxm", onlink: true }),
        ),
      );
      assert.is(err.index, 1);
      assert.ok((await ip.neigh.list({ dev: "vxm" })).some((n) => n.address === "10.77.3.0"), "the neighbour before the failure was written");
      assert.not.ok((await ip.route.list({ dev: "vxm", family: 4 })).some((r) => r.dst === "10.77.3.0/24"), "the route after it was not");
    }),
  ),
);

scenarios("IpSession.apply() queues its first segment synchronously, so calls in one tick run in call order", () =>
  withNetns("ipso", (ns) =>
    withSession(ns, async (session) => {
      await addVxlan(ns, "vxo");
      await session.apply(new Batch().replaceFdb({ dev: "vxo", lladdr: MAC_C, dst: "192.0.2.30" })); // bridge runs already
      // `fdb add` fails when the entry exists and `fdb del` when it does not: only call order succeeds
      const entry = { dev: "vxo", lladdr: MAC_A, dst: "192.0.2.10" };
      const first = session.apply(new Batch().addFdb(entry));
      assert.is(session.pending, 1, "the first apply() queued its job before returning");
      const second = session.apply(new Batch().deleteFdb(entry));
      assert.is(session.pending, 2, "the second apply() queued its job behind the first");
      const third = session.apply(new Batch().addFdb(entry));
      const ipJob = session.apply(new Batch().addLink({ type: "bridge", name: "brq" }));
      assert.is(session.pending, 4, "jobs of both processes count");
      await Promise.all([first, second, third, ipJob]);
      assert.ok((await fdbLines(ns, "vxo")).includes(`${MAC_A} dst 192.0.2.10 self permanent`));
      assert.is(session.pending, 0);
      // a mixed batch queues its first (ip) segment synchronously too
      const mixed = session.apply(new Batch().deleteLink("brq").deleteFdb(entry));
      const after = session.apply(new Batch().addLink({ type: "bridge", name: "brq" }));
      assert.is(session.pending, 2);
      await Promise.all([mixed, after]);
      assert.not.ok((await fdbLines(ns, "vxo")).some((l) => l.startsWith(MAC_A)));
      assert.ok(await createIpRoute({ netns: ns }).link.get("brq"), "deleted by the first call, added again by the second");
    }),
  ),
);

scenarios("IpSession.close() ends the bridge process too and rejects later FDB jobs", () =>
  withNetns("ipsc", (ns) => {
    const session = createIpSession({ netns: ns });
    return (async () => {
      try {
        await addVxlan(ns, "vxc");
        await session.apply(new Batch().replaceFdb({ dev: "vxc", lladdr: MAC_A, dst: "192.0.2.1" }).replaceNeigh({ dev: "vxc", address: "10.7.0.1", lladdr: MAC_A }));
        assert.is(sessionPids(ns, "bridge").length, 1);
        assert.is(sessionPids(ns, "ip").length, 1);
      } finally {
        await session.close();
      }
      assert.equal(sessionPids(ns, "bridge"), []);
      assert.equal(sessionPids(ns, "ip"), []);
      await session.apply(new Batch().deleteFdb({ dev: "vxc", lladdr: MAC_A, dst: "192.0.2.1" })).then(
        () => assert.unreachable("apply() after close() must reject"),
        (e: Error) => assert.match(e.message, /closed/),
      );
    })();
  }),
);

scenarios.run();

const unit = suite("createIpSession");
unit("createIpSession() validates its options", () => {
  assert.throws(() => createIpSession({ netns: "a b" }), (e: unknown) => e instanceof TypeError);
  assert.throws(() => createIpSession({ timeoutMs: 0 }), (e: unknown) => e instanceof RangeError);
});
unit("IpSession.apply() rejects an invalid batch (or next batch) before starting anything", async () => {
  const s = createIpSession({ netns: "weft-never-exists" });
  await s.apply(new Batch().addLink({ type: "bridge", name: "bad/name" })).then(() => assert.unreachable(), (e) => assert.instance(e, TypeError));
  await s.apply(new Batch(), { next: { netns: "p", batch: new Batch().deleteLink("") } }).then(() => assert.unreachable(), (e) => assert.instance(e, TypeError));
  assert.is(s.pending, 0);
  await s.close();
});
unit.run();
