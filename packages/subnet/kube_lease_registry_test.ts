import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FakeApiServer } from "@weft/fake-apiserver";
import { formatCidr, parseCidr, parseIp } from "@weft/ipam";
import { loadKubeConfig } from "@weft/kube";
import type { KubeConfig } from "@weft/kube";
import { parseNetConf } from "@weft/netconf";
import { KubeLeaseRegistry, PodCidrNotAssignedError, PodCidrOutsideNetworkError } from "./kube_lease_registry.ts";
import type { KubeLeaseRegistryOptions } from "./kube_lease_registry.ts";
import { LeaseManager } from "./lease_manager.ts";
import { LeaseConflictError } from "./errors.ts";
import type { RegistryEvent } from "./types.ts";
import { withTimeout } from "./_async.ts";

const P = "flannel.alpha.coreos.com";
const CONF = parseNetConf(`{ "Network": "10.244.0.0/16", "Backend": { "Type": "vxlan" } }`);
const FAST: KubeLeaseRegistryOptions = { podCidrPollMs: 20, podCidrPollMaxMs: 100, patchRetryMs: 20, patchTimeoutMs: 500, informer: { backoffInitialMs: 20, backoffMaxMs: 100 } };
const VXLAN = { VNI: 1, VtepMAC: "e6:7c:02:8e:e8:7e" };

type Ctx = { fake: FakeApiServer; kc: KubeConfig; stop: AbortController };
const t = suite<Ctx>("KubeLeaseRegistry");
t.before.each(async (ctx) => {
  ctx.fake = await FakeApiServer.start({ bookmarkIntervalMs: 0 });
  ctx.kc = loadKubeConfig({ kubeconfigPath: ctx.fake.kubeconfigPath });
  ctx.stop = new AbortController();
});
t.after.each(async (ctx) => {
  ctx.stop.abort();
  await new Promise((r) => setTimeout(r, 20));
  await ctx.fake.close();
});

/** A node published by another (flannel or weft) agent. */
function peer(fake: FakeApiServer, name: string, podCIDR: string, publicIp: string, extra: Record<string, string> = {}) {
  fake.create("nodes", {
    metadata: {
      name,
      annotations: {
        [`${P}/kube-subnet-manager`]: "true",
        [`${P}/backend-type`]: "vxlan",
        [`${P}/backend-data`]: JSON.stringify(VXLAN),
        [`${P}/public-ip`]: publicIp,
        ...extra,
      },
    },
    spec: { podCIDR, podCIDRs: [podCIDR] },
  });
}

/** Collects a registry watch into an array until the test's signal aborts. */
function collect(reg: KubeLeaseRegistry, signal: AbortSignal) {
  const events: RegistryEvent[] = [];
  const done = (async () => {
    for await (const ev of reg.watch({ signal })) events.push(ev);
  })();
  return { events, done };
}
const describe = (ev: RegistryEvent) =>
  ev.type === "snapshot" ? `snapshot ${ev.leases.map((l) => formatCidr(l.subnet!)).sort().join(",")}` : `${ev.type} ${formatCidr(ev.lease.subnet!)}`;

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  await withTimeout(
    (async () => {
      while (!cond()) await new Promise((r) => setTimeout(r, 10));
    })(),
    ms,
    what,
  );
}

t("assignedSubnets() waits with a clear error while podCIDR is unset, then returns it when it appears", async ({ fake, kc }) => {
  fake.create("nodes", { metadata: { name: "n1" }, spec: {} });
  const waits: string[] = [];
  const reg = new KubeLeaseRegistry(kc, "n1", { ...FAST, onPodCidrWait: (e) => waits.push(e.message) });
  const pending = reg.assignedSubnets(CONF);
  await until(() => waits.length >= 2, "two waits");
  assert.is(waits[0], 'node "n1" pod cidr not assigned');
  fake.patch("nodes", "n1", { spec: { podCIDR: "10.244.7.0/24", podCIDRs: ["10.244.7.0/24"] } });
  const got = await withTimeout(pending, 3000, "assignedSubnets");
  assert.is(formatCidr(got.subnet!), "10.244.7.0/24");
  assert.is(got.ipv6Subnet, undefined);
});

t("assignedSubnets() gives up after podCidrWaitMs with PodCidrNotAssignedError; a missing node is waited for too", async ({ kc }) => {
  const reg = new KubeLeaseRegistry(kc, "ghost", { ...FAST, podCidrWaitMs: 200 });
  const err = await reg.assignedSubnets(CONF).catch((e: unknown) => e);
  assert.match(String((err as Error).message), /nodes "ghost" not found/);
  const stop = new AbortController();
  const pending = reg.assignedSubnets(CONF, { signal: stop.signal }).catch((e: Error) => e.name);
  stop.abort();
  assert.is(await pending, "AbortError");
});

t("assignedSubnets() rejects a podCIDR outside the network with flannel's text naming both", async ({ fake, kc }) => {
  fake.create("nodes", { metadata: { name: "n1" }, spec: { podCIDR: "10.245.1.0/24" } });
  const reg = new KubeLeaseRegistry(kc, "n1", FAST);
  const err = await reg.assignedSubnets(CONF).catch((e: unknown) => e);
  assert.instance(err, PodCidrOutsideNetworkError);
  assert.is(
    (err as Error).message,
    'subnet "10.244.0.0/16" specified in the flannel net config doesn\'t contain "10.245.1.0/24" PodCIDR of the "n1" node',
  );
  const notYet = new KubeLeaseRegistry(kc, "n1", { ...FAST, podCidrWaitMs: 0 });
  fake.patch("nodes", "n1", { spec: { podCIDR: null } }, { type: "merge" });
  const e2 = await notYet.assignedSubnets(CONF).catch((e: unknown) => e);
  assert.instance(e2, PodCidrNotAssignedError);
});

t("LeaseManager.acquire() on the kube registry writes flannel's annotations; markNetworkAvailable() sets the condition", async ({ fake, kc }) => {
  fake.create("nodes", { metadata: { name: "n1" }, spec: { podCIDR: "10.244.3.0/24" }, status: { conditions: [{ type: "Ready", status: "True" }] } });
  const reg = new KubeLeaseRegistry(kc, "n1", FAST);
  const lease = await new LeaseManager(reg).acquire(CONF, { publicIp: parseIp("192.168.1.3"), backendType: "vxlan", backendData: VXLAN });
  assert.is(formatCidr(lease.subnet!), "10.244.3.0/24");
  assert.is(lease.expiration, undefined);
  const node = fake.get("nodes", "n1")!;
  assert.equal(node.metadata!.annotations, {
    [`${P}/backend-data`]: '{"VNI":1,"VtepMAC":"e6:7c:02:8e:e8:7e"}',
    [`${P}/public-ip`]: "192.168.1.3",
    [`${P}/backend-type`]: "vxlan",
    [`${P}/kube-subnet-manager`]: "true",
  });
  const patches = fake.requests.filter((r) => r.method === "PATCH");
  assert.equal(patches.map((r) => r.path), ["/api/v1/nodes/n1/status"]);
  // unchanged attributes: no patch at all
  await reg.update(lease);
  assert.is(fake.requests.filter((r) => r.method === "PATCH").length, 1);
  await reg.markNetworkAvailable();
  const cond = fake.get("nodes", "n1")!.status.conditions as Array<Record<string, string>>;
  assert.equal(cond.map((c) => [c.type, c.status]), [["Ready", "True"], ["NetworkUnavailable", "False"]]);
  assert.equal([cond[1]!.reason, cond[1]!.message], ["FlannelIsUp", "Flannel is running on this node"]);
  await reg.markNetworkAvailable();
  assert.is(fake.requests.filter((r) => r.method === "PATCH").length, 2, "already set: no second patch");
});

t("dual-stack: assignedSubnets() returns both families and update() writes the v6 annotations too", async ({ fake, kc }) => {
  const conf = parseNetConf(`{ "Network": "10.244.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00:10:244::/56", "Backend": { "Type": "vxlan" } }`);
  fake.create("nodes", { metadata: { name: "n1" }, spec: { podCIDR: "10.244.3.0/24", podCIDRs: ["10.244.3.0/24", "fd00:10:244:3::/64"] } });
  const reg = new KubeLeaseRegistry(kc, "n1", FAST);
  const got = await reg.assignedSubnets(conf);
  assert.equal([formatCidr(got.subnet!), formatCidr(got.ipv6Subnet!)], ["10.244.3.0/24", "fd00:10:244:3::/64"]);
  await new LeaseManager(reg).acquire(conf, {
    publicIp: parseIp("192.168.1.3"),
    publicIpv6: parseIp("fd00::3"),
    backendType: "vxlan",
    backendData: VXLAN,
    backendV6Data: { VNI: 1, VtepMAC: "66:55:44:33:22:11" },
  });
  const ann = fake.get("nodes", "n1")!.metadata!.annotations;
  assert.is(ann[`${P}/public-ipv6`], "fd00::3");
  assert.is(ann[`${P}/backend-v6-data`], '{"VNI":1,"VtepMAC":"66:55:44:33:22:11"}');
  assert.is((await reg.readNodeAnnotations()).vtepV6Mac, "66:55:44:33:22:11");
  const v6only = parseNetConf(`{ "EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "fd00:10:245::/56" }`);
  const err = await reg.assignedSubnets(v6only).catch((e: unknown) => e);
  assert.instance(err, PodCidrOutsideNetworkError);
  assert.is((err as PodCidrOutsideNetworkError).podCidr, "fd00:10:244:3::/64");
});

t("update() publishes public-ip-overwrite instead of the public IP, and host-gw's null backend data", async ({ fake, kc }) => {
  fake.create("nodes", { metadata: { name: "n1", annotations: { [`${P}/public-ip-overwrite`]: "172.18.0.2" } }, spec: { podCIDR: "10.244.3.0/24" } });
  const reg = new KubeLeaseRegistry(kc, "n1", FAST);
  const lease = await reg.update({ subnet: parseCidr("10.244.3.0/24"), publicIp: parseIp("192.168.1.3"), backendType: "host-gw" });
  const ann = fake.get("nodes", "n1")!.metadata!.annotations;
  assert.is(ann[`${P}/public-ip`], "172.18.0.2");
  assert.is(ann[`${P}/backend-data`], "null");
  assert.is(lease.publicIp?.address, "172.18.0.2");
});

t("update() of a subnet that is not the node's podCIDR is a LeaseConflictError", async ({ fake, kc }) => {
  fake.create("nodes", { metadata: { name: "n1" }, spec: { podCIDR: "10.244.3.0/24" } });
  const reg = new KubeLeaseRegistry(kc, "n1", FAST);
  const err = await reg.update({ subnet: parseCidr("10.244.4.0/24"), publicIp: parseIp("1.1.1.1") }).catch((e: unknown) => e);
  assert.instance(err, LeaseConflictError);
  assert.match((err as Error).message, /has pod cidr 10.244.3.0\/24/);
});

t("readNodeAnnotations() returns the previous backend data and VTEP MAC across a restart, and the input annotations", async ({ fake, kc }) => {
  fake.create("nodes", {
    metadata: { name: "n1", annotations: { [`${P}/node-public-ip`]: "10.0.0.9", [`${P}/public-ipv6-overwrite`]: "fd00::9" } },
    spec: { podCIDR: "10.244.3.0/24" },
  });
  const first = new KubeLeaseRegistry(kc, "n1", FAST);
  assert.is((await first.readNodeAnnotations()).vtepMac, undefined);
  await first.update({ subnet: parseCidr("10.244.3.0/24"), publicIp: parseIp("10.0.0.9"), backendType: "vxlan", backendData: VXLAN });
  const restarted = new KubeLeaseRegistry(kc, "n1", FAST);
  const prev = await restarted.readNodeAnnotations();
  assert.is(prev.vtepMac, "e6:7c:02:8e:e8:7e");
  assert.equal(prev.backendData, VXLAN);
  assert.is(prev.backendType, "vxlan");
  assert.is(prev.nodePublicIp?.address, "10.0.0.9");
  assert.is(prev.publicIpv6Overwrite?.address, "fd00::9");
  assert.is(prev.publicIp?.address, "10.0.0.9");
});

t("list() returns the leases of annotated nodes and skips others and malformed ones", async ({ fake, kc }) => {
  peer(fake, "a", "10.244.1.0/24", "192.168.1.1");
  peer(fake, "bad", "10.244.2.0/24", "not-an-ip");
  fake.create("nodes", { metadata: { name: "plain" }, spec: { podCIDR: "10.244.9.0/24" } });
  const leases = await new KubeLeaseRegistry(kc, "x", FAST).list();
  assert.equal(leases.map((l) => [formatCidr(l.subnet!), l.publicIp?.address, l.backendType]), [["10.244.1.0/24", "192.168.1.1", "vxlan"]]);
  // read in pages of 500, as the informers do
  assert.is(fake.requests.filter((r) => r.path === "/api/v1/nodes").at(-1)?.query.limit, "500");
});

t("watch() sends a snapshot, then added only when a field that matters changes, and removed on node deletion", async ({ fake, kc, stop }) => {
  peer(fake, "a", "10.244.1.0/24", "192.168.1.1");
  fake.create("nodes", { metadata: { name: "b" }, spec: { podCIDR: "10.244.2.0/24" } });
  const reg = new KubeLeaseRegistry(kc, "me", FAST);
  const w = collect(reg, stop.signal);
  await until(() => w.events.length === 1 && fake.watchCount === 1, "the snapshot");
  assert.equal(w.events.map(describe), ["snapshot 10.244.1.0/24"]);
  // heartbeat-like changes: nothing
  fake.patch("nodes", "a", { metadata: { labels: { x: "1" } }, status: { conditions: [{ type: "Ready", status: "True" }] } });
  fake.patch("nodes", "a", { metadata: { annotations: { unrelated: "y" } } });
  // b becomes a lease, a changes its backend data, then a is deleted
  fake.patch("nodes", "b", { metadata: { annotations: { [`${P}/kube-subnet-manager`]: "true", [`${P}/public-ip`]: "192.168.1.2", [`${P}/backend-type`]: "vxlan" } } });
  fake.patch("nodes", "a", { metadata: { annotations: { [`${P}/backend-data`]: '{"VNI":1,"VtepMAC":"aa:aa:aa:aa:aa:aa"}' } } });
  fake.delete("nodes", "a");
  await until(() => w.events.length === 4, "3 more events");
  assert.equal(w.events.map(describe), ["snapshot 10.244.1.0/24", "added 10.244.2.0/24", "added 10.244.1.0/24", "removed 10.244.1.0/24"]);
  const changed = w.events[2] as { lease: { backendData: unknown } };
  assert.equal(changed.lease.backendData, { VNI: 1, VtepMAC: "aa:aa:aa:aa:aa:aa" });
  stop.abort();
  await withTimeout(w.done, 2000, "the watch to end");
});

t("watch() after 410 Gone relists and loses no events: removed/added for what changed, then a snapshot", async ({ fake, kc, stop }) => {
  peer(fake, "a", "10.244.1.0/24", "192.168.1.1");
  peer(fake, "b", "10.244.2.0/24", "192.168.1.2");
  const reg = new KubeLeaseRegistry(kc, "me", FAST);
  const w = collect(reg, stop.signal);
  await until(() => w.events.length === 1 && fake.watchCount === 1, "the snapshot");
  fake.dropWatches();
  fake.delete("nodes", "a");
  peer(fake, "c", "10.244.3.0/24", "192.168.1.3");
  fake.patch("nodes", "b", { metadata: { annotations: { [`${P}/public-ip`]: "192.168.1.22" } } });
  fake.compact();
  await until(() => w.events.filter((e) => e.type === "snapshot").length === 2, "the second snapshot");
  const after = w.events.slice(1).map(describe);
  assert.equal(after.slice(0, -1).sort(), ["added 10.244.2.0/24", "added 10.244.3.0/24", "removed 10.244.1.0/24"]);
  assert.is(after[after.length - 1], "snapshot 10.244.2.0/24,10.244.3.0/24");
  const snap = w.events[w.events.length - 1] as Extract<RegistryEvent, { type: "snapshot" }>;
  assert.equal(snap.leases.map((l) => l.publicIp?.address).sort(), ["192.168.1.22", "192.168.1.3"]);
  assert.equal((await reg.list()).map((l) => formatCidr(l.subnet!)).sort(), ["10.244.2.0/24", "10.244.3.0/24"]);
});

t("delete() withdraws this node's lease annotations; another owner's lease is left alone", async ({ fake, kc, stop }) => {
  peer(fake, "n1", "10.244.1.0/24", "192.168.1.1");
  const reg = new KubeLeaseRegistry(kc, "n1", FAST);
  const w = collect(reg, stop.signal);
  await until(() => w.events.length === 1 && fake.watchCount === 1, "the snapshot");
  assert.is(await reg.delete({ subnet: parseCidr("10.244.1.0/24"), publicIp: parseIp("9.9.9.9") }), false);
  assert.is(await reg.delete({ subnet: parseCidr("10.244.1.0/24"), publicIp: parseIp("192.168.1.1") }), true);
  assert.is(fake.get("nodes", "n1")!.metadata!.annotations?.[`${P}/kube-subnet-manager`], undefined);
  await until(() => w.events.length === 2, "removed");
  assert.is(describe(w.events[1]!), "removed 10.244.1.0/24");
  assert.is(await new KubeLeaseRegistry(kc, "gone", FAST).delete({ subnet: parseCidr("10.244.1.0/24"), publicIp: parseIp("1.1.1.1") }), false);
});

t("LeaseManager.watch() over the kube registry: a snapshot of the other nodes, then their changes, never its own", async ({ fake, kc, stop }) => {
  peer(fake, "a", "10.244.1.0/24", "192.168.1.1");
  fake.create("nodes", { metadata: { name: "me" }, spec: { podCIDR: "10.244.5.0/24" } });
  const reg = new KubeLeaseRegistry(kc, "me", FAST);
  const manager = new LeaseManager(reg);
  const own = await manager.acquire(CONF, { publicIp: parseIp("192.168.1.5"), backendType: "vxlan", backendData: VXLAN });
  const seen: string[] = [];
  const done = (async () => {
    for await (const ev of manager.watch({ signal: stop.signal, ownLease: own })) {
      seen.push(ev.type === "snapshot" ? `snapshot ${ev.leases.map((l) => formatCidr(l.subnet!)).join(",")}` : `${ev.type} ${formatCidr(ev.lease.subnet!)}`);
    }
  })();
  await until(() => seen.length === 1 && fake.watchCount === 1, "the snapshot");
  assert.equal(seen, ["snapshot 10.244.1.0/24"]);
  peer(fake, "b", "10.244.2.0/24", "192.168.1.2");
  await reg.update({ ...own, backendData: { VNI: 1, VtepMAC: "11:22:33:44:55:66" } });
  fake.delete("nodes", "a");
  await until(() => seen.length === 3, "2 changes");
  assert.equal(seen, ["snapshot 10.244.1.0/24", "added 10.244.2.0/24", "removed 10.244.1.0/24"]);
  stop.abort();
  await withTimeout(done, 2000, "the watch to end");
});

t("KubeLeaseRegistry rejects an empty node name and a bad annotation prefix", ({ kc }) => {
  assert.throws(() => new KubeLeaseRegistry(kc, ""), (e: unknown) => e instanceof TypeError);
  assert.throws(() => new KubeLeaseRegistry(kc, "n", { annotationPrefix: "org" }), /prefix must be in a format/);
  assert.is(new KubeLeaseRegistry(kc, "n", { annotationPrefix: "weft.io/x" }).annotations.publicIp, "weft.io/x-public-ip");
});

t.run();
