import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, withNetns } from "@weft/testutils";
import { conformance, sessionConformance } from "./_conformance.ts";
import { Batch } from "./batch.ts";
import { createIpRoute, type IpRoute } from "./ip_route.ts";
import type { IpRouteError } from "./ip_route_error.ts";
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

/** Pids of our own session processes for namespace `ns` (`ip -n <ns> ... -batch -`). */
function sessionPids(ns: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (argv[0] === "ip" && argv[1] === "-n" && argv[2] === ns && argv.includes("-batch")) pids.push(Number(d));
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
