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
import { CONTINUE_EXPIRED_MESSAGE, FakeApiServer } from "./fake_apiserver.ts";

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

/** Lists all pages with client-node's listNode({ limit, _continue }); returns the pages' names and metadata. */
async function pagesOf(core: CoreV1Api, query: { limit: number; labelSelector?: string; fieldSelector?: string }) {
  const pages: Array<{ names: string[]; rv: string | undefined; remaining: number | undefined; more: boolean }> = [];
  let token: string | undefined;
  do {
    const page = await core.listNode({ ...query, ...(token ? { _continue: token } : {}) });
    token = page.metadata?._continue;
    pages.push({
      names: page.items.map((n) => n.metadata!.name!),
      rv: page.metadata?.resourceVersion,
      remaining: page.metadata?.remainingItemCount,
      more: !!token,
    });
    assert.ok(pages.length < 20, "the pages end");
  } while (token);
  return pages;
}

/** The Status of a failed client-node call. */
async function statusOf(call: () => Promise<unknown>): Promise<{ httpCode: number; body: Record<string, any> }> {
  try {
    await call();
  } catch (err) {
    assert.instance(err, ApiException);
    const e = err as ApiException<string>;
    return { httpCode: e.code, body: JSON.parse(e.body) };
  }
  throw new Error("the call should have failed");
}

t("limit/continue pages cover every node once, in key order, with remainingItemCount and one resourceVersion", async ({ fake, core }) => {
  for (const n of ["n3", "n10", "a", "n1", "n2"]) fake.create("nodes", node(n));
  const pages = await pagesOf(core, { limit: 2 });
  assert.equal(pages.map((p) => p.names), [["a", "n1"], ["n10", "n2"], ["n3"]]);
  assert.equal(pages.map((p) => p.remaining), [3, 1, undefined]);
  assert.equal(pages.map((p) => p.more), [true, true, false]);
  assert.equal(pages.map((p) => p.rv), ["5", "5", "5"]);
  // an unpaginated list is in key order too, and limit 0 means no limit
  assert.equal((await core.listNode()).items.map((n) => n.metadata?.name), ["a", "n1", "n10", "n2", "n3"]);
  const all = await core.listNode({ limit: 0 });
  assert.is(all.items.length, 5);
  assert.is(all.metadata?._continue, undefined);
  // an exact fit ends without a token
  assert.equal((await pagesOf(core, { limit: 5 })).map((p) => [p.names.length, p.more]), [[5, false]]);
  assert.equal(fake.requests.filter((r) => r.query.continue !== undefined).length, 2, "two continued requests");
});

t("namespaced lists page by namespace/name across namespaces and by name within one", async ({ fake, core }) => {
  for (const [ns, name] of [["b", "a"], ["a", "z"], ["a", "b"], ["b", "c"]] as const) {
    fake.create("services", { metadata: { name, namespace: ns } });
  }
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await core.listServiceForAllNamespaces({ limit: 3, ...(token ? { _continue: token } : {}) });
    keys.push(...page.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`));
    token = page.metadata?._continue;
  } while (token);
  assert.equal(keys, ["a/b", "a/z", "b/a", "b/c"]);
  const first = await core.listNamespacedService({ namespace: "b", limit: 1 });
  assert.equal(first.items.map((s) => s.metadata?.name), ["a"]);
  assert.is(first.metadata?.remainingItemCount, 1);
  const rest = await core.listNamespacedService({ namespace: "b", limit: 1, _continue: first.metadata!._continue! });
  assert.equal(rest.items.map((s) => s.metadata?.name), ["c"]);
  assert.is(rest.metadata?._continue, undefined);
});

t("later pages show the snapshot of the first page, not changes made in between", async ({ fake, core }) => {
  for (const n of ["a", "b", "c", "d"]) fake.create("nodes", node(n));
  const first = await core.listNode({ limit: 2 });
  assert.is(first.metadata?.resourceVersion, "4");
  fake.patch("nodes", "c", { spec: { podCIDR: "10.244.9.0/24" } });
  fake.delete("nodes", "d");
  fake.create("nodes", node("e"));
  fake.delete("nodes", "a");
  const second = await core.listNode({ limit: 2, _continue: first.metadata!._continue! });
  assert.equal(second.items.map((n) => n.metadata?.name), ["c", "d"]);
  assert.is(second.items[0]?.spec?.podCIDR, "10.244.1.0/24", "c as it was");
  assert.is(second.items[0]?.metadata?.resourceVersion, "3");
  assert.is(second.metadata?.resourceVersion, "4");
  assert.is(second.metadata?._continue, undefined, "e is not in the snapshot");
  const now = await core.listNode();
  assert.equal(now.items.map((n) => [n.metadata?.name, n.spec?.podCIDR]), [["b", "10.244.1.0/24"], ["c", "10.244.9.0/24"], ["e", "10.244.1.0/24"]]);
  assert.is(now.metadata?.resourceVersion, "8");
});

t("an expired continue token is a 410 Expired Status with kube-apiserver's message and an inconsistent token", async ({ fake, core }) => {
  for (const n of ["a", "b", "c", "d"]) fake.create("nodes", node(n));
  const first = await core.listNode({ limit: 2 });
  fake.compact(); // nothing was written since the first page: its revision is still readable
  const ok = await core.listNode({ limit: 2, _continue: first.metadata!._continue! });
  assert.equal(ok.items.map((n) => n.metadata?.name), ["c", "d"]);
  for (let i = 0; i < 21; i++) fake.create("nodes", node(`x${i}`)); // the history keeps 20 events
  const { httpCode, body } = await statusOf(() => core.listNode({ limit: 2, _continue: first.metadata!._continue! }));
  assert.is(httpCode, 410);
  assert.equal([body.kind, body.apiVersion, body.status, body.reason, body.code], ["Status", "v1", "Failure", "Expired", 410]);
  assert.is(body.message, CONTINUE_EXPIRED_MESSAGE);
  assert.ok(body.message.startsWith("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter"));
  // the token in the Status goes on after "b" at the latest revision (an inconsistent list)
  const rest = await core.listNode({ limit: 100, _continue: body.metadata.continue });
  assert.is(rest.items.length, 23);
  assert.equal(rest.items.slice(0, 3).map((n) => n.metadata?.name), ["c", "d", "x0"]);
  assert.is(rest.metadata?.resourceVersion, fake.resourceVersion);
  // compact() after a write expires the tokens of older lists too
  const again = await core.listNode({ limit: 2 });
  fake.create("nodes", node("y"));
  fake.compact();
  assert.is((await statusOf(() => core.listNode({ limit: 2, _continue: again.metadata!._continue! }))).httpCode, 410);
});

t("a malformed continue token is a 400 BadRequest Status 'invalid continue token: ...'", async ({ fake, core }) => {
  fake.create("nodes", node("a"));
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64url");
  const cases: Array<[string, string]> = [
    ["%%%", "invalid continue token: continue key is not valid: illegal base64 data at input byte 0"],
    [b64("{}"), "invalid continue token: continue key is not valid: server does not recognize this encoded version "],
    [b64('{"v":"meta.k8s.io/v1","rv":0,"start":"a"}'), "invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"],
    [b64('{"v":"meta.k8s.io/v1","rv":1,"start":"../secrets/x"}'), "invalid continue token: continue key is not valid: ../secrets/x"],
  ];
  for (const [token, message] of cases) {
    const { httpCode, body } = await statusOf(() => core.listNode({ limit: 1, _continue: token }));
    assert.equal([httpCode, body.kind, body.reason, body.code, body.message], [400, "Status", "BadRequest", 400, message], token);
  }
  const first = await core.listNode({ limit: 1 });
  fake.create("nodes", node("b"));
  const second = await core.listNode({ limit: 1 });
  const withRv = await statusOf(() => core.listNode({ limit: 1, _continue: second.metadata!._continue!, resourceVersion: "1" }));
  assert.equal([withRv.httpCode, withRv.body.message], [400, "specifying resource version is not allowed when using continue"]);
  assert.is(first.metadata?._continue, undefined, "one node fits one page");
  assert.is((await statusOf(() => core.listNode({ limit: "x" as unknown as number }))).httpCode, 400);
});

t("limit with label and field selectors fills pages after filtering and gives no remainingItemCount", async ({ fake, core }) => {
  for (let i = 0; i < 9; i++) fake.create("nodes", { metadata: { name: `n${i}`, labels: { parity: i % 2 ? "odd" : "even" } } });
  const even = await pagesOf(core, { limit: 2, labelSelector: "parity=even" });
  assert.equal(even.map((p) => p.names), [["n0", "n2"], ["n4", "n6"], ["n8"]]);
  assert.equal(even.map((p) => p.remaining), [undefined, undefined, undefined]);
  const odd = await pagesOf(core, { limit: 2, labelSelector: "parity=odd" });
  // the last odd node fills the second page while n8 is still unread: a token for an empty last page, as etcd
  assert.equal(odd.map((p) => p.names), [["n1", "n3"], ["n5", "n7"], []]);
  const byField = await pagesOf(core, { limit: 1, fieldSelector: "metadata.name!=n0", labelSelector: "parity=even" });
  assert.equal(byField.flatMap((p) => p.names), ["n2", "n4", "n6", "n8"]);
  assert.equal(new Set(byField.map((p) => p.rv)), new Set(["9"]));
});

t("onRequest() sees each request before it is served and can be removed", async ({ fake, core }) => {
  fake.create("nodes", node("a"));
  fake.create("nodes", node("b"));
  const seen: string[] = [];
  const off = fake.onRequest((r) => {
    seen.push(`${r.method} ${r.path} ${r.query.continue ? "continue" : "first"}`);
    if (r.query.continue) fake.create("nodes", node("c")); // lands between the pages
  });
  const pages = await pagesOf(core, { limit: 1 });
  off();
  await core.listNode();
  assert.equal(seen, ["GET /api/v1/nodes first", "GET /api/v1/nodes continue"]);
  assert.equal(pages.flatMap((p) => p.names), ["a", "b"], "c is not in the snapshot");
  assert.is(fake.list("nodes").length, 3);
});

t.run();
