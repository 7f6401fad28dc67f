/**
 * One conformance suite for `IpRoute`, run against the real implementation in throwaway
 * namespaces (ip_route_test.ts) and against FakeIpRoute (fake_ip_route_test.ts), so the fake
 * keeps the kernel's semantics and error kinds. It also asserts its own coverage: every batch
 * operation kind is exercised at least once.
 */
import type { Test } from "uvu";
import * as assert from "uvu/assert";
import { Batch, type BatchOp } from "./batch.ts";
import type { IpRoute } from "./ip_route.ts";
import type { IpSession } from "./ip_session.ts";
import { BatchError, isExists, isNotFound, isUnreachable, IpRouteError } from "./ip_route_error.ts";
import { reconcile } from "./reconcile.ts";
import type { IpEvent } from "./types.ts";

/** What a scenario gets: an IpRoute for a fresh namespace, and a second namespace given by path. */
export interface ConformanceEnv {
  readonly ip: IpRoute;
  /** Handle of a second namespace as a CNI runtime passes it (a path). */
  readonly peerNetns: string;
  readonly peer: IpRoute;
}

export type WithEnv = (fn: (env: ConformanceEnv) => Promise<void>) => Promise<void>;

const ALL_OPS: readonly BatchOp["op"][] = [
  "link.add", "link.set", "link.delete", "address.add", "address.replace", "address.delete", "address.flush",
  "route.add", "route.replace", "route.delete", "neigh.add", "neigh.replace", "neigh.delete",
  "fdb.add", "fdb.append", "fdb.replace", "fdb.delete",
];

const MAC1 = "0e:2a:00:00:00:01";
const MAC2 = "0e:2a:00:00:00:02";

async function rejects(p: Promise<unknown>, check: (err: unknown) => boolean, what: string): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    assert.ok(check(err), `${what}: unexpected error ${String(err)} (${(err as IpRouteError).kind})`);
    return err;
  }
  assert.unreachable(`${what}: expected a rejection`);
  return undefined;
}

/** Bounded wait for a monitor event. */
async function nextEvent(it: AsyncIterator<IpEvent>, match: (ev: IpEvent) => boolean, timeoutMs: number): Promise<IpEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error("timed out waiting for a monitor event");
    let timer: NodeJS.Timeout | undefined;
    const res = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out waiting for a monitor event")), left))),
    ]).finally(() => clearTimeout(timer));
    if (res.done) throw new Error("monitor ended");
    if (match(res.value)) return res.value;
  }
}

/** Registers the scenarios on `test`. */
export function conformance(test: Test, withEnv: WithEnv): void {
  const used = new Set<BatchOp["op"]>();
  const run = (fn: (env: ConformanceEnv) => Promise<void>) =>
    withEnv(async (env) => {
      const apply = env.ip.apply.bind(env.ip);
      (env.ip as { apply: IpRoute["apply"] }).apply = (b, o) => {
        for (const op of b.ops) used.add(op.op);
        return apply(b, o);
      };
      await fn(env);
    });

  test("link.add() creates bridge, veth and tun links that list back typed", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "bridge", name: "br-c", mtu: 1400, up: true });
      // A bridge's creation MTU holds until its first port joins (the kernel then follows the ports).
      assert.is((await ip.link.get("br-c"))?.mtu, 1400);
      await ip.link.add({ type: "veth", name: "vh-c", peer: { name: "vp-c" }, master: "br-c", up: true });
      await ip.link.add({ type: "tun", name: "tun-c", mtu: 1472 });
      const links = await ip.link.list();
      const br = links.find((l) => l.name === "br-c");
      const vh = links.find((l) => l.name === "vh-c");
      const tun = links.find((l) => l.name === "tun-c");
      assert.is(br?.kind, "bridge");
      assert.is(br?.up, true);
      assert.is(vh?.kind, "veth");
      assert.is(vh?.master, "br-c");
      assert.is(vh?.link, "vp-c");
      assert.is(tun?.kind, "tun");
      assert.is(tun?.mtu, 1472);
      assert.equal((await ip.link.list({ master: "br-c" })).map((l) => l.name), ["vh-c"]);
      assert.equal((await ip.link.list({ kind: "bridge" })).map((l) => l.name), ["br-c"]);
      assert.is(await ip.link.get("nope-c"), undefined);
    }));

  test("link.add() of a taken name is isExists and names the device", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "bridge", name: "br-dup" });
      const err = await rejects(ip.link.add({ type: "bridge", name: "br-dup" }), isExists, "duplicate");
      assert.match((err as Error).message, /br-dup/);
    }));

  test("link.set() and link.delete() of a missing device are isNotFound with op and device in the message", () =>
    run(async ({ ip }) => {
      const err = await rejects(ip.link.set("ghost0", { up: true }), isNotFound, "set");
      assert.match((err as Error).message, /link set dev ghost0 up/);
      assert.is((err as IpRouteError).device, "ghost0");
      await rejects(ip.link.delete("ghost0"), isNotFound, "delete");
    }));

  test("link.add() creates a vxlan device with every flannel option", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "veth", name: "under0", peer: { name: "under1" }, up: true });
      await ip.address.add({ dev: "under0", address: "198.18.0.1/24" });
      await ip.link.add({
        type: "vxlan", name: "flannel.1", id: 1, local: "198.18.0.1", dev: "under0", dstport: 8472, learning: false, gbp: true, mac: MAC1, mtu: 1450, up: true,
      });
      const l = await ip.link.get("flannel.1");
      assert.is(l?.kind, "vxlan");
      assert.is(l?.mac, MAC1);
      assert.is(l?.mtu, 1450);
      assert.is(l?.up, true);
      assert.equal(l?.vxlan, { id: 1, local: "198.18.0.1", dev: "under0", dstport: 8472, learning: false, gbp: true });
      await ip.link.add({ type: "vxlan", name: "vx-dflt", id: 2, dev: "under0" });
      assert.is((await ip.link.get("vx-dflt"))?.mtu, 1450, "default MTU = lower device MTU - 50");
      assert.is((await ip.link.get("vx-dflt"))?.vxlan?.learning, true);
    }));

  test("link.add() places a veth peer in a namespace given by path", () =>
    run(async ({ ip, peer, peerNetns }) => {
      await ip.link.add({ type: "veth", name: "vethc0", mtu: 1450, peer: { name: "eth0", netns: peerNetns, mac: MAC2 } });
      const inside = await peer.link.get("eth0");
      assert.is(inside?.kind, "veth");
      assert.is(inside?.mac, MAC2);
      assert.is(inside?.mtu, 1450);
      assert.is(await ip.link.get("eth0"), undefined);
      await ip.link.delete("vethc0");
      assert.is(await peer.link.get("eth0"), undefined, "deleting one end deletes the peer");
    }));

  test("link.set() changes mtu, mac, promisc, master, hairpin, up and name", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "bridge", name: "br-s" });
      await ip.link.add({ type: "veth", name: "vs0", peer: { name: "vs1" } });
      await ip.link.set("vs0", { mtu: 1300, mac: MAC1, promisc: true, master: "br-s", hairpin: true, up: true });
      let l = await ip.link.get("vs0");
      assert.is(l?.mtu, 1300);
      assert.is(l?.mac, MAC1);
      assert.is(l?.promisc, true);
      assert.is(l?.master, "br-s");
      assert.is(l?.hairpin, true);
      assert.is(l?.up, true);
      await ip.link.set("vs0", { master: null, up: false });
      l = await ip.link.get("vs0");
      assert.is(l?.master, undefined);
      assert.is(l?.up, false);
      await ip.link.set("vs1", { name: "vs1-renamed" });
      assert.ok(await ip.link.get("vs1-renamed"));
      await rejects(ip.link.set("vs0", { hairpin: true }), (e) => e instanceof IpRouteError, "hairpin without master");
    }));

  test("address.add/replace/delete/flush are idempotent where iproute2 is and list back", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "veth", name: "va0", peer: { name: "va1" }, up: true });
      await ip.address.add({ dev: "va0", address: "10.88.0.1/24" });
      await rejects(ip.address.add({ dev: "va0", address: "10.88.0.1/24" }), isExists, "duplicate add");
      await ip.address.replace({ dev: "va0", address: "10.88.0.1/24" });
      await ip.address.replace({ dev: "va0", address: "10.88.1.0/32" });
      let list = await ip.address.list({ dev: "va0", family: 4 });
      assert.equal(list.map((a) => a.cidr).sort(), ["10.88.0.1/24", "10.88.1.0/32"]);
      assert.is(list[0]?.family, 4);
      await ip.address.delete({ dev: "va0", address: "10.88.1.0/32" });
      await rejects(ip.address.delete({ dev: "va0", address: "10.88.1.0/32" }), isNotFound, "delete missing");
      await ip.address.flush("va0", { family: 4 });
      list = await ip.address.list({ dev: "va0", family: 4 });
      assert.equal(list, []);
      await rejects(ip.address.add({ dev: "ghost1", address: "10.88.0.1/24" }), isNotFound, "missing device");
    }));

  test("route.replace() is idempotent; route.add() reports isExists, isUnreachable and isNotFound", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "veth", name: "vr0", peer: { name: "vr1" }, up: true });
      await ip.link.set("vr1", { up: true });
      await ip.address.add({ dev: "vr0", address: "198.18.5.1/24" });
      const spec = { dst: "10.244.2.0/24", via: "198.18.5.2", dev: "vr0" } as const;
      await ip.route.replace(spec);
      await ip.route.replace(spec);
      let routes = (await ip.route.list({ family: 4 })).filter((r) => r.dst === "10.244.2.0/24");
      assert.is(routes.length, 1);
      assert.is(routes[0]?.via, "198.18.5.2");
      assert.is(routes[0]?.dev, "vr0");
      assert.is(routes[0]?.table, "main");
      await rejects(ip.route.add(spec), isExists, "add twice");
      await ip.route.replace({ ...spec, via: "198.18.5.3" });
      routes = (await ip.route.list({ family: 4, dev: "vr0" })).filter((r) => r.dst === "10.244.2.0/24");
      assert.equal(routes.map((r) => [r.via, r.dev]), [["198.18.5.3", "vr0"]]);
      const err = await rejects(ip.route.add({ dst: "10.9.0.0/16", via: "192.0.2.1", dev: "vr0" }), isUnreachable, "off-link gateway");
      assert.match((err as Error).message, /route add 10\.9\.0\.0\/16 via 192\.0\.2\.1 dev vr0/);
      assert.match((err as Error).message, /vr0/);
      await rejects(ip.route.add({ dst: "10.9.0.0/16", dev: "ghost2" }), isNotFound, "missing device");
      await rejects(ip.route.delete(spec), isNotFound, "delete with the old gateway");
      await ip.route.delete({ dst: "10.244.2.0/24", dev: "vr0" });
      await rejects(ip.route.delete({ dst: "10.244.2.0/24" }), isNotFound, "delete missing");
      const got = await ip.route.get("198.18.5.77");
      assert.is(got?.dev, "vr0");
      assert.is(got?.dst, "198.18.5.77/32");
      assert.is(await ip.route.get("203.0.113.1"), undefined, "no route: undefined");
    }));

  test("route.replace() with onlink, scope, table and metric lists back; link down drops its routes", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "vxlan", name: "vx-r", id: 7, dstport: 8472, learning: false, up: true });
      await ip.route.replace({ dst: "10.244.3.0/24", via: "10.244.3.0", dev: "vx-r", onlink: true });
      await ip.route.replace({ dst: "10.244.4.0/24", dev: "vx-r", scope: "link", table: 100, metric: 7 });
      await ip.route.replace({ dst: "fd10:1::/64", via: "fd10::1", dev: "vx-r", onlink: true });
      const main = await ip.route.list({ dev: "vx-r" });
      const r3 = main.find((r) => r.dst === "10.244.3.0/24");
      assert.ok(r3?.onlink);
      assert.is(r3?.via, "10.244.3.0");
      const v6 = main.find((r) => r.dst === "fd10:1::/64");
      assert.is(v6?.family, 6);
      assert.is(v6?.via, "fd10::1");
      const t100 = await ip.route.list({ table: 100, family: 4 });
      assert.equal(t100.map((r) => [r.dst, r.dev, r.table, r.metric, r.scope]), [["10.244.4.0/24", "vx-r", "100", 7, "link"]]);
      await ip.link.set("vx-r", { up: false });
      assert.equal((await ip.route.list({ dev: "vx-r", family: 4 })).length, 0);
    }));

  test("neigh and fdb entries for a vxlan peer are written, replaced, listed and deleted", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "vxlan", name: "vx-n", id: 1, dstport: 8472, learning: false, up: true });
      await ip.neigh.add({ dev: "vx-n", address: "10.244.2.0", lladdr: MAC1 });
      await rejects(ip.neigh.add({ dev: "vx-n", address: "10.244.2.0", lladdr: MAC1 }), isExists, "neigh add twice");
      await ip.neigh.replace({ dev: "vx-n", address: "10.244.2.0", lladdr: MAC2 });
      const neigh = await ip.neigh.list({ dev: "vx-n" });
      assert.equal(neigh.map((n) => [n.dev, n.address, n.lladdr, n.state]), [["vx-n", "10.244.2.0", MAC2, ["PERMANENT"]]]);
      await ip.fdb.add({ dev: "vx-n", lladdr: MAC2, dst: "198.18.0.2" });
      await rejects(ip.fdb.add({ dev: "vx-n", lladdr: MAC2, dst: "198.18.0.2" }), isExists, "fdb add twice");
      await ip.fdb.replace({ dev: "vx-n", lladdr: MAC2, dst: "198.18.0.3" });
      await ip.fdb.append({ dev: "vx-n", lladdr: "00:00:00:00:00:00", dst: "198.18.0.4" });
      await ip.fdb.append({ dev: "vx-n", lladdr: "00:00:00:00:00:00", dst: "198.18.0.5" });
      const fdb = (await ip.fdb.list({ dev: "vx-n" })).map((f) => `${f.dev} ${f.lladdr} ${f.dst} ${f.flags.join(",")} ${f.state}`).sort();
      assert.equal(fdb, [
        "vx-n 00:00:00:00:00:00 198.18.0.4 self permanent",
        "vx-n 00:00:00:00:00:00 198.18.0.5 self permanent",
        `vx-n ${MAC2} 198.18.0.3 self permanent`,
      ]);
      await ip.fdb.delete({ dev: "vx-n", lladdr: MAC2, dst: "198.18.0.3" });
      await rejects(ip.fdb.delete({ dev: "vx-n", lladdr: MAC2, dst: "198.18.0.3" }), isNotFound, "fdb delete missing");
      await ip.neigh.delete({ dev: "vx-n", address: "10.244.2.0" });
      await rejects(ip.neigh.delete({ dev: "vx-n", address: "10.244.2.0" }), isNotFound, "neigh delete missing");
      assert.equal(await ip.neigh.list({ dev: "vx-n" }), []);
      await rejects(ip.neigh.replace({ dev: "ghost3", address: "10.244.2.0", lladdr: MAC1 }), isNotFound, "neigh on missing device");
      await rejects(ip.fdb.replace({ dev: "ghost3", lladdr: MAC1, dst: "198.18.0.2" }), isNotFound, "fdb on missing device");
    }));

  test("apply() stops at the first failure and names the failed operation", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "veth", name: "vb0", peer: { name: "vb1" }, up: true });
      const b = new Batch()
        .replaceAddress({ dev: "vb0", address: "10.77.0.1/24" })
        .replaceRoute({ dst: "10.78.0.0/16", via: "192.0.2.9", dev: "vb0" })
        .replaceAddress({ dev: "vb0", address: "10.77.1.1/24" })
        .setLink("ghost4", { up: true });
      const err = (await rejects(ip.apply(b), (e) => e instanceof BatchError, "batch")) as BatchError;
      assert.is(err.failures.length, 1);
      assert.is(err.index, 1);
      assert.ok(isUnreachable(err));
      assert.match(err.message, /route replace 10\.78\.0\.0\/16/);
      const cidrs = (await ip.address.list({ dev: "vb0", family: 4 })).map((a) => a.cidr);
      assert.equal(cidrs, ["10.77.0.1/24"], "the operation before the failure stays applied, the ones after do not run");
    }));

  test("apply({ continueOnError }) runs every operation and reports every failure", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "veth", name: "vf0", peer: { name: "vf1" }, up: true });
      const b = new Batch()
        .replaceAddress({ dev: "vf0", address: "10.77.0.1/24" })
        .replaceRoute({ dst: "10.78.0.0/16", via: "192.0.2.9", dev: "vf0" })
        .replaceAddress({ dev: "vf0", address: "10.77.1.1/24" })
        .setLink("ghost5", { up: true })
        .replaceFdb({ dev: "ghost5", lladdr: MAC1, dst: "198.18.0.2" });
      const err = (await rejects(ip.apply(b, { continueOnError: true }), (e) => e instanceof BatchError, "batch")) as BatchError;
      assert.equal(err.failures.map((f) => [f.index, f.kind]), [[1, "Unreachable"], [3, "NotFound"], [4, "NotFound"]]);
      assert.is(err.failures[1]?.device, "ghost5");
      const cidrs = (await ip.address.list({ dev: "vf0", family: 4 })).map((a) => a.cidr).sort();
      assert.equal(cidrs, ["10.77.0.1/24", "10.77.1.1/24"]);
    }));

  test("apply() rejects an invalid batch before running anything", () =>
    run(async ({ ip }) => {
      const b = new Batch().addLink({ type: "bridge", name: "br-ok" }).addLink({ type: "bridge", name: "bad/name" });
      await rejects(ip.apply(b), (e) => e instanceof TypeError, "invalid");
      assert.is(await ip.link.get("br-ok"), undefined);
    }));

  test("one batch sets up a pod: veth into a namespace by path, then address, up and routes inside it", () =>
    run(async ({ ip, peer, peerNetns }) => {
      await ip.link.add({ type: "bridge", name: "cni-c", up: true });
      await ip.address.add({ dev: "cni-c", address: "10.66.0.1/24" });
      await ip.apply(new Batch()
        .addLink({ type: "veth", name: "vethpod0", mtu: 1450, peer: { name: "eth0", netns: peerNetns } })
        .setLink("vethpod0", { master: "cni-c", hairpin: true, up: true }));
      await peer.apply(new Batch()
        .addAddress({ dev: "eth0", address: "10.66.0.5/24" })
        .setLink("eth0", { up: true })
        .setLink("lo", { up: true })
        .addRoute({ dst: "default", via: "10.66.0.1", dev: "eth0" }));
      const host = await ip.link.get("vethpod0");
      assert.is(host?.master, "cni-c");
      assert.is(host?.hairpin, true);
      const routes = await peer.route.list({ family: 4 });
      assert.ok(routes.some((r) => r.dst === "default" && r.via === "10.66.0.1" && r.dev === "eth0"), JSON.stringify(routes));
      assert.equal((await peer.address.list({ dev: "eth0", family: 4 })).map((a) => a.cidr), ["10.66.0.5/24"]);
    }));

  test("reconcile() applies only the difference and deletes only owned extras", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "vxlan", name: "vx-rc", id: 1, dstport: 8472, learning: false, up: true });
      await ip.link.add({ type: "veth", name: "vrc0", peer: { name: "vrc1" }, up: true });
      // A foreign route and neighbour that must survive, and a stale owned one that must go.
      await ip.route.replace({ dst: "10.99.0.0/24", dev: "vrc0" });
      await ip.route.replace({ dst: "10.244.9.0/24", via: "10.244.9.0", dev: "vx-rc", onlink: true });
      await ip.neigh.replace({ dev: "vx-rc", address: "10.244.9.0", lladdr: MAC1 });
      await ip.fdb.replace({ dev: "vx-rc", lladdr: MAC1, dst: "198.18.0.9" });
      const desired = {
        routes: [{ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "vx-rc", onlink: true }],
        neighbours: [{ dev: "vx-rc", address: "10.244.2.0", lladdr: MAC2 }],
        fdb: [{ dev: "vx-rc", lladdr: MAC2, dst: "198.18.0.2" }],
      };
      const owns = { route: (r: { dev?: string; via?: string }) => r.dev === "vx-rc" && r.via !== undefined, neigh: () => true, fdb: (f: { dst?: string }) => f.dst !== undefined };
      const first = await reconcile(ip, desired, { owns });
      assert.is(first.add.routes.length, 1);
      assert.equal(first.remove.routes.map((r) => r.dst), ["10.244.9.0/24"]);
      assert.equal(first.remove.neighbours.map((n) => n.address), ["10.244.9.0"]);
      assert.equal(first.remove.fdb.map((f) => f.dst), ["198.18.0.9"]);
      const routes = (await ip.route.list({ family: 4 })).map((r) => r.dst).sort();
      assert.ok(routes.includes("10.99.0.0/24"), "a foreign route survives");
      assert.ok(routes.includes("10.244.2.0/24"));
      assert.not.ok(routes.includes("10.244.9.0/24"));
      assert.equal((await ip.fdb.list({ dev: "vx-rc" })).map((f) => f.dst), ["198.18.0.2"]);
      const second = await reconcile(ip, desired, { owns });
      assert.is(second.batch.size, 0, "a second reconcile changes nothing");
    }));

  test("monitor() reports a link deletion in a namespace given by path and stops on abort", () =>
    run(async ({ peer: ip }) => {
      await ip.link.add({ type: "bridge", name: "br-mon" });
      const ac = new AbortController();
      const it = ip.monitor({ objects: ["link"], signal: ac.signal })[Symbol.asyncIterator]();
      const pending = nextEvent(it, (ev) => ev.type === "link" && ev.action === "deleted" && ev.name === "br-mon", 5000);
      // `ip monitor` subscribes asynchronously: delete only once it has had time to start.
      await new Promise((r) => setTimeout(r, 300));
      await ip.link.delete("br-mon");
      const ev = await pending;
      assert.is(ev.type, "link");
      ac.abort();
      const end = await Promise.race([it.next(), new Promise<"hung">((r) => setTimeout(() => r("hung"), 3000))]);
      assert.ok(end !== "hung" && end.done, "the iteration ends after abort");
    }));

  test("monitor() reports route, neighbour and address changes when asked", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "vxlan", name: "vx-mon", id: 3, dstport: 8472, learning: false, up: true });
      const ac = new AbortController();
      const it = ip.monitor({ objects: ["route", "neigh", "address"], signal: ac.signal })[Symbol.asyncIterator]();
      const seen: IpEvent[] = [];
      const pending = nextEvent(it, (ev) => {
        seen.push(ev);
        return ev.type === "route" && ev.dst === "10.244.5.0/24";
      }, 5000);
      await new Promise((r) => setTimeout(r, 300));
      await ip.address.add({ dev: "vx-mon", address: "10.244.1.0/32" });
      await ip.neigh.replace({ dev: "vx-mon", address: "10.244.5.0", lladdr: MAC1 });
      await ip.route.replace({ dst: "10.244.5.0/24", via: "10.244.5.0", dev: "vx-mon", onlink: true });
      const ev = await pending;
      ac.abort();
      await it.return?.();
      assert.equal([ev.type, ev.action, ev.type === "route" ? [ev.dev, ev.via] : []], ["route", "new", ["vx-mon", "10.244.5.0"]]);
      assert.ok(seen.some((e) => e.type === "neigh" && e.address === "10.244.5.0" && e.lladdr === MAC1), JSON.stringify(seen));
      assert.ok(seen.some((e) => e.type === "address" && e.cidr === "10.244.1.0/32" && e.dev === "vx-mon"), JSON.stringify(seen));
    }));

  test("sysctl.set() and get() work per interface inside the namespace", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "bridge", name: "br.sys" });
      await ip.sysctl.set("net/ipv6/conf/br.sys/accept_ra", 0);
      assert.is(await ip.sysctl.get("net/ipv6/conf/br.sys/accept_ra"), "0");
      await ip.sysctl.set("net/ipv4/conf/br.sys/proxy_arp", 1);
      assert.is(await ip.sysctl.get("net/ipv4/conf/br.sys/proxy_arp"), "1");
      await ip.sysctl.set("net/ipv4/ip_forward", 1);
      assert.is(await ip.sysctl.get("net/ipv4/ip_forward"), "1");
      await rejects(ip.sysctl.set("net/ipv4/conf/ghost6/forwarding", 1), isNotFound, "missing interface");
    }));

  test("link.delete() removes links; the suite exercised every operation kind", () =>
    run(async ({ ip }) => {
      await ip.link.add({ type: "bridge", name: "br-del" });
      await ip.link.delete("br-del");
      assert.is(await ip.link.get("br-del"), undefined);
      const missing = ALL_OPS.filter((op) => !used.has(op));
      assert.equal(missing, [], `operations never exercised: ${missing.join(", ")}`);
    }));
}

/** What a session scenario gets: a session and an IpRoute (for reads) on one namespace, and a pod namespace by name. */
export interface SessionEnv {
  readonly ip: IpRoute;
  readonly session: IpSession;
  /** A second namespace's name (as under /run/netns). */
  readonly podName: string;
  readonly pod: IpRoute;
}

/** Registers the `IpSession` scenarios on `test` (batch semantics of `apply()` are checked by `conformance()` through a session). */
export function sessionConformance(test: Test, withEnv: (fn: (env: SessionEnv) => Promise<void>) => Promise<void>): void {
  const podSetup = (podName: string, veth: string) => ({
    host: new Batch()
      .addLink({ type: "veth", name: veth, mtu: 1450, peer: { name: "eth0", netns: `/run/netns/${podName}` }, master: "cni-s", up: true })
      .setLink(veth, { hairpin: true }),
    pod: new Batch()
      .addAddress({ dev: "eth0", address: "10.79.0.5/24" })
      .addAddress({ dev: "eth0", address: "fd00:79::5/64", noDad: true })
      .setLink("eth0", { up: true })
      .addRoute({ dst: "10.80.0.0/16", via: "10.79.0.1", dev: "eth0" }),
  });

  test("IpSession.apply() with next sets up the host side and the pod side in one job", () =>
    withEnv(async ({ ip, session, podName, pod }) => {
      await ip.link.add({ type: "bridge", name: "cni-s", up: true });
      const { host, pod: podBatch } = podSetup(podName, "vs-a");
      await session.apply(host, { next: { netns: podName, batch: podBatch } });
      const link = await ip.link.get("vs-a");
      assert.is(link?.master, "cni-s");
      assert.is(link?.hairpin, true);
      assert.equal((await pod.address.list({ dev: "eth0" })).filter((a) => a.scope !== "link").map((a) => a.cidr).sort(), ["10.79.0.5/24", "fd00:79::5/64"]);
      assert.ok((await pod.route.list({ family: 4 })).some((r) => r.dst === "10.80.0.0/16" && r.via === "10.79.0.1"));
    }));

  test("IpSession.apply() reports a failure of next with its namespace and index, and skips next after a host failure", () =>
    withEnv(async ({ ip, session, podName, pod }) => {
      await ip.link.add({ type: "bridge", name: "cni-s", up: true });
      const { host } = podSetup(podName, "vs-b");
      const bad = new Batch().addAddress({ dev: "eth0", address: "10.79.0.6/24" }).setLink("eth0", { up: true }).addRoute({ dst: "10.81.0.0/16", via: "192.0.2.1", dev: "eth0" });
      const err = (await rejects(session.apply(host, { next: { netns: podName, batch: bad } }), (e) => e instanceof BatchError, "next")) as BatchError;
      assert.is(err.failures.length, 1);
      assert.is(err.netns, podName);
      assert.is(err.index, 2);
      assert.ok(isUnreachable(err));
      assert.is(err.total, host.size + bad.size);

      const good = new Batch().addAddress({ dev: "eth0", address: "10.79.0.7/24" });
      const hostErr = (await rejects(session.apply(new Batch().setLink("ghost-s", { up: true }), { next: { netns: podName, batch: good } }), isNotFound, "host")) as BatchError;
      assert.is(hostErr.index, 0);
      assert.is(hostErr.netns, session.netns);
      assert.not.ok((await pod.address.list({ dev: "eth0" })).some((a) => a.cidr === "10.79.0.7/24"), "next does not run after a host failure");
      // the session keeps working after failures
      await session.apply(new Batch().setLink("vs-b", { mtu: 1400 }));
      assert.is((await ip.link.get("vs-b"))?.mtu, 1400);
    }));

  test("IpSession.apply() queues concurrent jobs and runs them in call order", () =>
    withEnv(async ({ ip, session }) => {
      const jobs = [
        session.apply(new Batch().addLink({ type: "bridge", name: "q1" })),
        session.apply(new Batch().deleteLink("q1")),
        session.apply(new Batch().addLink({ type: "bridge", name: "q2" })),
        session.apply(new Batch().addLink({ type: "bridge", name: "q2" })),
      ];
      assert.ok(session.pending >= 3, `pending ${session.pending}`);
      const results = await Promise.allSettled(jobs);
      assert.equal(results.map((r) => r.status), ["fulfilled", "fulfilled", "fulfilled", "rejected"]);
      assert.ok(isExists((results[3] as PromiseRejectedResult).reason));
      const names = (await ip.link.list()).map((l) => l.name);
      assert.not.ok(names.includes("q1"));
      assert.ok(names.includes("q2"));
      assert.is(session.pending, 0);
    }));

  test("IpSession.apply({ continueOnError }) runs everything and reports every failure, then stops at failures again", () =>
    withEnv(async ({ ip, session }) => {
      const b = new Batch().addLink({ type: "bridge", name: "c1" }).setLink("ghost-c", { up: true }).addLink({ type: "bridge", name: "c2" }).deleteLink("ghost-d");
      const err = (await rejects(session.apply(b, { continueOnError: true }), (e) => e instanceof BatchError, "force")) as BatchError;
      assert.equal(err.failures.map((f) => [f.index, f.kind]), [[1, "NotFound"], [3, "NotFound"]]);
      assert.ok((await ip.link.get("c2")) !== undefined);
      const stop = new Batch().addLink({ type: "bridge", name: "c3" }).setLink("ghost-e", { up: true }).addLink({ type: "bridge", name: "c4" });
      const err2 = (await rejects(session.apply(stop), (e) => e instanceof BatchError, "stop")) as BatchError;
      assert.is(err2.index, 1);
      assert.ok((await ip.link.get("c3")) !== undefined);
      assert.is(await ip.link.get("c4"), undefined, "nothing after the first failure runs");
    }));

  test("IpSession.close() rejects later jobs", () =>
    withEnv(async ({ session }) => {
      await session.apply(new Batch().addLink({ type: "bridge", name: "z1" }));
      await session.close();
      await rejects(session.apply(new Batch().deleteLink("z1")), (e) => e instanceof IpRouteError && /closed/.test((e as Error).message), "closed");
    }));
}
