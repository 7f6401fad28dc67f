import { test } from "uvu";
import * as assert from "uvu/assert";
import { FakeIpRoute } from "./fake_ip_route.ts";
import { planReconcile, reconcile, routeSpecOf } from "./reconcile.ts";
import type { FdbEntry, Neighbour, Route } from "./types.ts";

const route = (dst: string, extra: Partial<Route> = {}): Route => ({
  family: 4, dst, onlink: true, scope: "global", table: "main", protocol: "boot", type: "unicast", dev: "flannel.1", via: dst.split("/")[0], ...extra,
});
const neigh = (address: string, lladdr: string): Neighbour => ({ family: 4, dev: "flannel.1", address, lladdr, state: ["PERMANENT"] });
const fdb = (lladdr: string, dst: string): FdbEntry => ({ dev: "flannel.1", lladdr, dst, flags: ["self"], state: "permanent" });
const owns = { route: (r: Route) => r.dev === "flannel.1" && r.via !== undefined, neigh: () => true, fdb: (f: FdbEntry) => f.dst !== undefined };

test("planReconcile() writes nothing when desired and actual agree", () => {
  const plan = planReconcile(
    {
      routes: [{ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "flannel.1", onlink: true }],
      neighbours: [{ dev: "flannel.1", address: "10.244.2.0", lladdr: "0E:2A:00:00:00:02" }],
      fdb: [{ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" }],
    },
    { routes: [route("10.244.2.0/24")], neighbours: [neigh("10.244.2.0", "0e:2a:00:00:00:02")], fdb: [fdb("0e:2a:00:00:00:02", "198.18.0.2")] },
    { owns },
  );
  assert.is(plan.batch.size, 0);
});

test("planReconcile() replaces changed entries, adds missing ones and removes only owned extras, FDB first and routes last", () => {
  const plan = planReconcile(
    {
      routes: [{ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "flannel.1", onlink: true }, { dst: "10.244.3.0/24", via: "10.244.3.0", dev: "flannel.1", onlink: true }],
      neighbours: [{ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:99" }],
      fdb: [{ dev: "flannel.1", lladdr: "0e:2a:00:00:00:99", dst: "198.18.0.2" }],
    },
    {
      routes: [route("10.244.2.0/24", { onlink: false }), route("10.244.7.0/24"), route("10.0.0.0/24", { dev: "eth0", via: undefined, scope: "link" })],
      neighbours: [neigh("10.244.2.0", "0e:2a:00:00:00:02"), neigh("10.244.7.0", "0e:2a:00:00:00:07")],
      fdb: [fdb("0e:2a:00:00:00:02", "198.18.0.2"), { dev: "flannel.1", lladdr: "0e:2a:00:00:00:01", flags: ["self"], state: "permanent" }],
    },
    { owns },
  );
  assert.equal(plan.batch.commands.map((c) => `${c.tool} ${c.args.join(" ")}`), [
    "bridge fdb del 0e:2a:00:00:00:02 dev flannel.1 dst 198.18.0.2 self",
    "bridge fdb replace 0e:2a:00:00:00:99 dev flannel.1 dst 198.18.0.2 self permanent",
    "ip route del 10.244.7.0/24 via 10.244.7.0 dev flannel.1 table main",
    "ip neigh del 10.244.7.0 dev flannel.1",
    "ip neigh replace 10.244.2.0 lladdr 0e:2a:00:00:00:99 dev flannel.1 nud permanent",
    "ip route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    "ip route replace 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink",
  ]);
  assert.equal(plan.batch.segments().map((s) => s.tool), ["bridge", "ip"], "two processes");
});

test("planReconcile() without owns never deletes and ignores kinds left out of desired", () => {
  const plan = planReconcile({ routes: [] }, { routes: [route("10.244.7.0/24")], neighbours: [neigh("10.244.7.0", "0e:2a:00:00:00:07")] });
  assert.is(plan.batch.size, 0);
});

test("planReconcile() does not churn on kernel defaults (v6 metric 1024, dev-route scope link)", () => {
  const plan = planReconcile(
    { routes: [{ dst: "fd00:2::/64", via: "fd00::2", dev: "eth0" }, { dst: "10.9.0.0/16", dev: "eth0" }] },
    {
      routes: [
        { family: 6, dst: "fd00:2::/64", via: "fd00::2", dev: "eth0", onlink: false, scope: "global", table: "main", protocol: "boot", type: "unicast", metric: 1024 },
        { family: 4, dst: "10.9.0.0/16", dev: "eth0", onlink: false, scope: "link", table: "main", protocol: "boot", type: "unicast" },
      ],
    },
  );
  assert.is(plan.batch.size, 0);
});

test("routeSpecOf() deletes exactly the listed route, numeric tables included", () => {
  assert.equal(routeSpecOf(route("10.244.7.0/24", { table: "100", metric: 5 })), {
    dst: "10.244.7.0/24", family: 4, via: "10.244.7.0", dev: "flannel.1", table: 100, metric: 5,
  });
});

test("reconcile() with dryRun plans without applying", async () => {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "vxlan", name: "flannel.1", id: 1, up: true });
  const plan = await reconcile(ip, { neighbours: [{ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:02" }] }, { dryRun: true });
  assert.is(plan.add.neighbours.length, 1);
  assert.equal(await ip.neigh.list(), []);
  await reconcile(ip, { neighbours: [{ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:02" }] }, { devices: ["flannel.1"] });
  assert.is((await ip.neigh.list()).length, 1);
});

test.run();
