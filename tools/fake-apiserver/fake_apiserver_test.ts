import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ApiException,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  makeInformer,
  setHeaderOptions,
} from "@kubernetes/client-node";
import type { V1Node } from "@kubernetes/client-node";
import { FakeApiServer } from "./fake_apiserver.ts";

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function kubeConfig(fake: FakeApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(fake.kubeconfigPath);
  return kc;
}

type Ev = { type: string; name: string | undefined; rv: string | undefined; code?: number; reason?: string };

/** Starts a client-node Watch and collects its events; returns a stop function. */
async function collect(kc: KubeConfig, path: string, query: Record<string, string | number | boolean>) {
  const events: Ev[] = [];
  let ended: unknown = undefined;
  let done = false;
  const ctrl = await new Watch(kc).watch(
    path,
    query,
    (type, obj) => events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, code: obj?.code, reason: obj?.reason }),
    (err) => {
      done = true;
      ended = err;
    },
  );
  return { events, stop: () => ctrl.abort(), isDone: () => done, ended: () => ended };
}

const node = (name: string, podCIDR = "10.244.1.0/24"): V1Node => ({ metadata: { name, labels: { role: name } }, spec: { podCIDR } });

const t = suite<{ fake: FakeApiServer; kc: KubeConfig; core: CoreV1Api }>("fake-apiserver");
t.before.each(async (ctx) => {
  ctx.fake = await FakeApiServer.start({ bookmarkIntervalMs: 100, historySize: 20 });
  ctx.kc = kubeConfig(ctx.fake);
  ctx.core = ctx.kc.makeApiClient(CoreV1Api);
});
t.after.each(async (ctx) => {
  await ctx.fake.close();
});

t("listNode() returns the nodes and the list resourceVersion", async ({ fake, core }) => {
  fake.create("nodes", node("n1"));
  await core.createNode({ body: node("n2") });
  const list = await core.listNode();
  assert.equal(list.items.map((n) => n.metadata?.name).sort(), ["n1", "n2"]);
  assert.is(list.metadata?.resourceVersion, fake.resourceVersion);
  assert.is(fake.resourceVersion, "2");
  assert.is(list.items[1]?.spec?.podCIDR, "10.244.1.0/24");
});

t("readNode() returns one node; a missing one is a 404 NotFound Status", async ({ fake, core }) => {
  fake.create("nodes", node("n1"));
  const n = await core.readNode({ name: "n1" });
  assert.is(n.metadata?.name, "n1");
  assert.ok(n.metadata?.uid);
  assert.is(n.metadata?.resourceVersion, "1");
  try {
    await core.readNode({ name: "nope" });
    assert.unreachable("should have thrown");
  } catch (err) {
    assert.instance(err, ApiException);
    const e = err as ApiException<string>;
    assert.is(e.code, 404);
    const body = JSON.parse(e.body);
    assert.equal([body.kind, body.reason, body.code, body.message], ["Status", "NotFound", 404, 'nodes "nope" not found']);
  }
});

t("createNode() of an existing name is a 409 AlreadyExists; a stale replace is a 409 Conflict", async ({ fake, core }) => {
  fake.create("nodes", node("n1"));
  const codes: Array<[number, string]> = [];
  for (const call of [
    () => core.createNode({ body: node("n1") }),
    () => core.replaceNode({ name: "n1", body: { ...node("n1"), metadata: { name: "n1", resourceVersion: "0" } } }),
  ]) {
    try {
      await call();
    } catch (err) {
      const e = err as ApiException<string>;
      codes.push([e.code, JSON.parse(e.body).reason]);
    }
  }
  assert.equal(codes, [[409, "AlreadyExists"], [409, "Conflict"]]);
  const cur = await core.readNode({ name: "n1" });
  cur.spec = { podCIDR: "10.244.9.0/24" };
  const replaced = await core.replaceNode({ name: "n1", body: cur });
  assert.is(replaced.spec?.podCIDR, "10.244.9.0/24");
  assert.is(replaced.metadata?.resourceVersion, "2");
});

t("Watch receives ADDED, MODIFIED and DELETED after the given resourceVersion", async ({ fake, kc }) => {
  fake.create("nodes", node("old"));
  const from = fake.resourceVersion;
  const w = await collect(kc, "/api/v1/nodes", { resourceVersion: from });
  fake.create("nodes", node("n1"));
  fake.patch("nodes", "n1", { metadata: { labels: { x: "y" } } }, { type: "merge" });
  fake.delete("nodes", "n1");
  await waitFor(() => w.events.length >= 3, "3 events");
  w.stop();
  assert.equal(
    w.events.map((e) => [e.type, e.name, e.rv]),
    [["ADDED", "n1", "2"], ["MODIFIED", "n1", "3"], ["DELETED", "n1", "4"]],
  );
});

t("Watch without resourceVersion starts with ADDED for existing objects", async ({ fake, kc }) => {
  fake.create("nodes", node("a"));
  fake.create("nodes", node("b"));
  const w = await collect(kc, "/api/v1/nodes", {});
  await waitFor(() => w.events.length >= 2, "2 events");
  w.stop();
  assert.equal(w.events.map((e) => [e.type, e.name]), [["ADDED", "a"], ["ADDED", "b"]]);
});

t("patchNodeStatus() with a strategic merge patch merges conditions by type and keeps spec", async ({ fake, core }) => {
  fake.create("nodes", { ...node("n1"), status: { conditions: [{ type: "Ready", status: "True" }] } });
  const patched = await core.patchNodeStatus(
    {
      name: "n1",
      body: {
        metadata: { annotations: { "flannel.alpha.coreos.com/backend-type": "vxlan" } },
        spec: { podCIDR: "1.2.3.0/24" },
        status: { conditions: [{ type: "NetworkUnavailable", status: "False", reason: "FlannelIsUp" }] },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
  );
  assert.equal(patched.status?.conditions?.map((c) => [c.type, c.status]), [["Ready", "True"], ["NetworkUnavailable", "False"]]);
  assert.is(patched.metadata?.annotations?.["flannel.alpha.coreos.com/backend-type"], "vxlan");
  assert.is(patched.spec?.podCIDR, "10.244.1.0/24", "status subresource must not change spec");
  const stored = fake.get("nodes", "n1")!;
  assert.is(stored.status.conditions.length, 2);
});

t("patchNode() with a JSON merge patch replaces lists, ignores status and deletes null keys", async ({ fake, core }) => {
  fake.create("nodes", { ...node("n1"), status: { conditions: [{ type: "Ready", status: "True" }] } });
  const patched = await core.patchNode(
    { name: "n1", body: { metadata: { labels: { role: null } }, spec: { podCIDRs: ["10.244.1.0/24"] }, status: { conditions: [] } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  assert.equal(patched.metadata?.labels ?? {}, {});
  assert.equal(patched.spec?.podCIDRs, ["10.244.1.0/24"]);
  assert.is(patched.status?.conditions?.length, 1);
});

t("patchNode() with a JSON patch applies operations; an unchanged result keeps the resourceVersion", async ({ fake, core }) => {
  fake.create("nodes", node("n1"));
  const patched = await core.patchNode({ name: "n1", body: [{ op: "add", path: "/spec/unschedulable", value: true }] });
  assert.is(patched.spec?.unschedulable, true);
  assert.is(patched.metadata?.resourceVersion, "2");
  const same = fake.patch("nodes", "n1", { spec: { unschedulable: true } });
  assert.is(same.metadata?.resourceVersion, "2");
});

t("a watch from a resourceVersion older than the history gets an ERROR event with 410 Expired", async ({ fake, kc }) => {
  for (let i = 0; i < 25; i++) fake.create("nodes", node(`n${i}`)); // history keeps 20
  const w = await collect(kc, "/api/v1/nodes", { resourceVersion: "2" });
  await waitFor(() => w.isDone(), "the stream to end");
  assert.is(w.events.length, 1);
  assert.equal([w.events[0]?.type, w.events[0]?.code, w.events[0]?.reason], ["ERROR", 410, "Expired"]);
  // within the window it replays
  const ok = await collect(kc, "/api/v1/nodes", { resourceVersion: "20" });
  await waitFor(() => ok.events.length >= 5, "replayed events");
  ok.stop();
  assert.equal(ok.events.map((e) => e.rv), ["21", "22", "23", "24", "25"]);
  fake.compact();
  const gone = await collect(kc, "/api/v1/nodes", { resourceVersion: "24" });
  await waitFor(() => gone.isDone(), "the stream to end");
  assert.is(gone.events[0]?.code, 410);
});

t("allowWatchBookmarks=true gets periodic BOOKMARK events with the current resourceVersion", async ({ fake, kc }) => {
  fake.create("nodes", node("n1"));
  const w = await collect(kc, "/api/v1/nodes", { resourceVersion: "1", allowWatchBookmarks: true });
  fake.create("pods", { metadata: { name: "p", namespace: "kube-system" } }); // advances the global resourceVersion
  await waitFor(() => w.events.some((e) => e.type === "BOOKMARK"), "a bookmark");
  w.stop();
  const bm = w.events.find((e) => e.type === "BOOKMARK")!;
  assert.is(bm.rv, "2");
  const plain = await collect(kc, "/api/v1/nodes", { resourceVersion: "2" });
  await new Promise((r) => setTimeout(r, 250));
  plain.stop();
  assert.equal(plain.events, [], "no bookmarks unless asked");
});

t("timeoutSeconds ends the watch cleanly and dropWatches() ends all streams", async ({ fake, kc }) => {
  const a = await collect(kc, "/api/v1/nodes", { resourceVersion: "0", timeoutSeconds: 1 });
  const b = await collect(kc, "/api/v1/services", { resourceVersion: "0" });
  await waitFor(() => fake.watchCount === 2, "2 watches");
  await waitFor(() => a.isDone(), "timeout", 3000);
  assert.is(a.ended(), null);
  assert.is(fake.dropWatches(), 1);
  await waitFor(() => b.isDone(), "drop");
  assert.is(fake.watchCount, 0);
});

t("Services and EndpointSlices: namespaced create, update, delete, list and watch", async ({ fake, kc, core }) => {
  const disc = kc.makeApiClient(DiscoveryV1Api);
  const w = await collect(kc, "/apis/discovery.k8s.io/v1/endpointslices", { resourceVersion: fake.resourceVersion });
  await core.createNamespacedService({ namespace: "web", body: { metadata: { name: "svc" }, spec: { ports: [{ port: 80 }] } } });
  await disc.createNamespacedEndpointSlice({
    namespace: "web",
    body: { metadata: { name: "svc-abc", labels: { "kubernetes.io/service-name": "svc" } }, addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"] }] },
  });
  const es = await disc.readNamespacedEndpointSlice({ name: "svc-abc", namespace: "web" });
  es.endpoints = [{ addresses: ["10.0.0.2"] }];
  await disc.replaceNamespacedEndpointSlice({ name: "svc-abc", namespace: "web", body: es });
  const all = await disc.listEndpointSliceForAllNamespaces({ labelSelector: "kubernetes.io/service-name=svc" });
  assert.equal(all.items.map((s) => s.endpoints?.[0]?.addresses), [["10.0.0.2"]]);
  assert.is((await core.listServiceForAllNamespaces()).items.length, 1);
  assert.is((await core.listNamespacedService({ namespace: "other" })).items.length, 0);
  await disc.deleteNamespacedEndpointSlice({ name: "svc-abc", namespace: "web" });
  await core.deleteNamespacedService({ name: "svc", namespace: "web" });
  await waitFor(() => w.events.length >= 3, "3 events");
  w.stop();
  assert.equal(w.events.map((e) => e.type), ["ADDED", "MODIFIED", "DELETED"]);
  assert.equal(fake.list("services"), []);
});

t("label and field selectors filter lists; a watched object leaving the selector arrives as DELETED", async ({ fake, kc, core }) => {
  fake.create("nodes", node("a"));
  fake.create("nodes", node("b"));
  assert.equal((await core.listNode({ fieldSelector: "metadata.name=b" })).items.map((n) => n.metadata?.name), ["b"]);
  assert.equal((await core.listNode({ labelSelector: "role in (a,c)" })).items.map((n) => n.metadata?.name), ["a"]);
  assert.equal((await core.listNode({ labelSelector: "role!=a" })).items.map((n) => n.metadata?.name), ["b"]);
  const w = await collect(kc, "/api/v1/nodes", { resourceVersion: fake.resourceVersion, labelSelector: "role=a" });
  fake.patch("nodes", "a", { metadata: { labels: { role: "z" } } });
  fake.patch("nodes", "a", { metadata: { labels: { role: "a" } } });
  fake.patch("nodes", "b", { metadata: { labels: { other: "1" } } });
  await waitFor(() => w.events.length >= 2, "2 events");
  await new Promise((r) => setTimeout(r, 50));
  w.stop();
  assert.equal(w.events.map((e) => [e.type, e.name]), [["DELETED", "a"], ["ADDED", "a"]]);
});

t("a bearer token is required when configured, and the kubeconfig carries it", async () => {
  const fake = await FakeApiServer.start({ token: "s3cret" });
  try {
    const ok = await kubeConfig(fake).makeApiClient(CoreV1Api).listNode();
    assert.equal(ok.items, []);
    const res = await fetch(`${fake.url}/api/v1/nodes`);
    assert.is(res.status, 401);
    assert.is(((await res.json()) as { reason: string }).reason, "Unauthorized");
  } finally {
    await fake.close();
  }
});

t("failNextRequests() fails matching requests with a Status", async ({ fake, core }) => {
  fake.failNextRequests(1, { statusCode: 503, method: "GET" });
  try {
    await core.listNode();
    assert.unreachable("should fail");
  } catch (err) {
    assert.is((err as ApiException<string>).code, 503);
  }
  assert.equal((await core.listNode()).items, []);
});

t("client-node's makeInformer relists after 410 and ends equal to the server", async ({ fake, kc, core }) => {
  fake.create("nodes", node("keep"));
  fake.create("nodes", node("gone"));
  const inf = makeInformer(kc, "/api/v1/nodes", () => core.listNode());
  const deleted: string[] = [];
  inf.on("delete", (n) => deleted.push(n.metadata!.name!));
  await inf.start();
  await waitFor(() => inf.list().length === 2 && fake.watchCount === 1, "informer synced");
  // While the watch is down, changes happen and the history is compacted: the resumed watch gets 410.
  fake.dropWatches();
  fake.delete("nodes", "gone");
  fake.create("nodes", node("new"));
  fake.compact();
  await waitFor(() => inf.list().length === 2 && !!inf.get("new"), "relist");
  await inf.stop();
  assert.equal(inf.list().map((n) => n.metadata?.name).sort(), ["keep", "new"]);
  assert.equal(deleted, ["gone"]);
  assert.is(fake.requests.filter((r) => r.path === "/api/v1/nodes" && !r.watch).length, 2, "listed twice");
});

t("restart() cuts every watch and forgets the history, so resumed watches get 410", async ({ fake, kc }) => {
  fake.create("nodes", node("a"));
  const w = await collect(kc, "/api/v1/nodes", { resourceVersion: "1" });
  await waitFor(() => fake.watchCount === 1, "the watch");
  fake.create("nodes", node("b"));
  await waitFor(() => w.events.length === 1, "one event");
  fake.restart();
  await waitFor(() => w.isDone(), "the cut");
  assert.is(fake.watchCount, 0);
  const resumed = await collect(kc, "/api/v1/nodes", { resourceVersion: "1" });
  await waitFor(() => resumed.isDone(), "the 410");
  assert.equal(resumed.events.map((e) => [e.type, e.code]), [["ERROR", 410]]);
  assert.equal(fake.list("nodes").map((n) => n.metadata?.name), ["a", "b"], "objects survive");
});

t.run();
