import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FakeApiServer } from "@weft/fake-apiserver";
import type { KubeConfig } from "@kubernetes/client-node";
import { Informer, InformerSyncTimeoutError, createEndpointSliceInformer, createNodeInformer, createServiceInformer } from "./informer.ts";
import type { InformerOptions } from "./informer.ts";
import { loadKubeConfig } from "./kube_config.ts";
import type { V1Node } from "./types.ts";
import { waitFor } from "./_test_helpers.ts";

type Ctx = { fake: FakeApiServer; kc: KubeConfig; stop: AbortController; runs: Promise<void>[] };
const t = suite<Ctx>("Informer");
t.before.each(async (ctx) => {
  ctx.fake = await FakeApiServer.start({ bookmarkIntervalMs: 0, historySize: 50 });
  ctx.kc = loadKubeConfig({ kubeconfigPath: ctx.fake.kubeconfigPath });
  ctx.stop = new AbortController();
  ctx.runs = [];
});
t.after.each(async (ctx) => {
  ctx.stop.abort();
  await Promise.all(ctx.runs);
  await ctx.fake.close();
});

function start<T extends { metadata?: { name?: string } }>(ctx: Ctx, inf: Informer<T & object>) {
  const log: string[] = [];
  inf.on({
    add: (o) => log.push(`add ${o.metadata?.name}`),
    update: (o, old) => log.push(o === old ? `resync ${o.metadata?.name}` : `update ${o.metadata?.name}`),
    delete: (o) => log.push(`delete ${o.metadata?.name}`),
  });
  ctx.runs.push(inf.run(ctx.stop.signal));
  return log;
}

const node = (name: string, extra: Partial<V1Node> = {}): V1Node => ({ metadata: { name }, spec: { podCIDR: "10.244.1.0/24" }, ...extra });
const names = (inf: Informer<V1Node>) => inf.cache.list().map((n) => n.metadata?.name).sort();
const serverNames = (fake: FakeApiServer) => fake.list("nodes").map((n) => n.metadata?.name).sort();
const opts: InformerOptions = { resyncMs: 0, backoffInitialMs: 20, backoffMaxMs: 100 };

t("the initial list populates the cache and waitForSync() resolves", async (ctx) => {
  ctx.fake.create("nodes", node("a"));
  ctx.fake.create("nodes", node("b"));
  const inf = createNodeInformer(ctx.kc, opts);
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  assert.ok(inf.hasSynced);
  assert.equal(names(inf), ["a", "b"]);
  assert.is(inf.cache.get("a")?.kind, "Node");
  assert.is(inf.resourceVersion, "2");
  assert.equal(log.sort(), ["add a", "add b"]);
});

t("watch events reach the handlers as add, update and delete", async (ctx) => {
  const inf = createNodeInformer(ctx.kc, opts);
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  ctx.fake.create("nodes", node("a"));
  ctx.fake.patch("nodes", "a", { metadata: { annotations: { x: "1" } } });
  ctx.fake.delete("nodes", "a");
  await waitFor(() => log.length === 3, "3 events");
  assert.equal(log, ["add a", "update a", "delete a"]);
  assert.is(inf.cache.size, 0);
  assert.is(inf.resourceVersion, ctx.fake.resourceVersion);
});

t("410 Gone relists without losing events: the cache ends equal to the server and deletions are reported", async (ctx) => {
  for (const n of ["keep", "gone", "changed"]) ctx.fake.create("nodes", node(n));
  const inf = createNodeInformer(ctx.kc, opts);
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  log.length = 0;
  // The watch goes down; while it is down things change and the history is compacted.
  ctx.fake.dropWatches();
  ctx.fake.delete("nodes", "gone");
  ctx.fake.patch("nodes", "changed", { spec: { podCIDR: "10.244.9.0/24" } });
  ctx.fake.create("nodes", node("new"));
  ctx.fake.compact();
  await waitFor(() => inf.stats.expired === 1 && inf.stats.lists === 2, "a relist after 410");
  assert.equal(names(inf), serverNames(ctx.fake));
  assert.is(inf.cache.get("changed")?.spec?.podCIDR, "10.244.9.0/24");
  assert.equal(log.sort(), ["add new", "delete gone", "update changed"]);
  // and it keeps watching afterwards
  ctx.fake.create("nodes", node("later"));
  await waitFor(() => !!inf.cache.get("later"), "an event after the relist");
});

t("a BOOKMARK advances the resourceVersion and the next watch resumes from it", async (ctx) => {
  ctx.fake.create("nodes", node("a"));
  const inf = createNodeInformer(ctx.kc, opts);
  start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  const watchReq = ctx.fake.requests.find((r) => r.watch)!;
  assert.is(watchReq.query.allowWatchBookmarks, "true");
  // Other resources move the global resourceVersion; only a bookmark tells the node informer.
  for (let i = 0; i < 3; i++) ctx.fake.create("services", { metadata: { name: `s${i}`, namespace: "x" } });
  assert.is(inf.resourceVersion, "1");
  ctx.fake.sendBookmarks();
  await waitFor(() => inf.stats.bookmarks === 1, "the bookmark");
  assert.is(inf.resourceVersion, "4");
  ctx.fake.dropWatches();
  await waitFor(() => ctx.fake.requests.filter((r) => r.watch).length === 2 && ctx.fake.watchCount === 1, "the re-watch");
  const rewatch = ctx.fake.requests.filter((r) => r.watch)[1]!;
  assert.is(rewatch.query.resourceVersion, "4");
  assert.is(inf.stats.lists, 1, "no relist");
});

t("a dropped watch resumes from the last resourceVersion and gets the events it missed", async (ctx) => {
  const inf = createNodeInformer(ctx.kc, opts);
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  ctx.fake.create("nodes", node("a"));
  await waitFor(() => log.length === 1, "add a");
  ctx.fake.dropWatches({ abrupt: true });
  ctx.fake.create("nodes", node("b"));
  ctx.fake.delete("nodes", "a");
  await waitFor(() => log.length === 3, "the missed events", 8000);
  assert.equal(log, ["add a", "add b", "delete a"]);
  assert.is(inf.stats.lists, 1, "no relist");
  const watches = ctx.fake.requests.filter((r) => r.watch);
  assert.is(watches[watches.length - 1]!.query.resourceVersion, "1");
});

t("list and watch errors are retried with backoff until they succeed", async (ctx) => {
  ctx.fake.create("nodes", node("a"));
  ctx.fake.failNextRequests(2, { statusCode: 500, watch: false });
  const errors: unknown[] = [];
  const inf = createNodeInformer(ctx.kc, { ...opts, onError: (e) => errors.push(e) });
  start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  assert.is(inf.stats.errors, 2);
  assert.is(errors.length, 2);
  assert.match(String((errors[0] as Error).message), /500/);
  ctx.fake.failNextRequests(1, { statusCode: 503, watch: true });
  ctx.fake.dropWatches();
  ctx.fake.create("nodes", node("b"));
  await waitFor(() => !!inf.cache.get("b"), "b after the watch error");
  assert.is(inf.stats.errors, 3);
});

t("backoff doubles from backoffInitialMs up to backoffMaxMs (injected timers) and resets after a success", async (ctx) => {
  const delays: number[] = [];
  const timers = {
    setTimeout: (fn: () => void, ms: number) => {
      delays.push(ms);
      return setTimeout(fn, 0);
    },
    clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
  };
  ctx.fake.failNextRequests(5, { watch: false });
  const inf = createNodeInformer(ctx.kc, { resyncMs: 0, backoffInitialMs: 100, backoffMaxMs: 1000, timers });
  start(ctx, inf);
  await waitFor(() => inf.hasSynced, "the sync");
  assert.equal(delays, [100, 200, 400, 800, 1000]);
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  ctx.fake.create("nodes", node("a"));
  await waitFor(() => !!inf.cache.get("a"), "an event");
  delays.length = 0;
  ctx.fake.failNextRequests(1, { watch: true });
  ctx.fake.dropWatches(); // a watch that delivered events ends: resumed at once, then the next one fails
  await waitFor(() => inf.stats.errors === 6 && ctx.fake.watchCount === 1, "the watch error and a new watch");
  assert.equal(delays, [100], "attempts were reset by the successful list and watch");
});

t("resync calls update(obj, obj) for every cached object each resyncMs", async (ctx) => {
  ctx.fake.create("nodes", node("a"));
  const inf = createNodeInformer(ctx.kc, { ...opts, resyncMs: 50 });
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => inf.stats.resyncs >= 2, "2 resyncs");
  assert.ok(log.filter((l) => l === "resync a").length >= 2);
});

t("run() resolves when the signal aborts, and the watch is closed", async (ctx) => {
  const inf = createNodeInformer(ctx.kc, opts);
  const stop = new AbortController();
  const running = inf.run(stop.signal);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  const again = await inf.run(new AbortController().signal).catch((e: Error) => e.message);
  assert.match(String(again), /already running/);
  stop.abort();
  await running;
  await waitFor(() => ctx.fake.watchCount === 0, "the watch to close");
});

t("waitForSync() rejects with InformerSyncTimeoutError when the list never succeeds", async (ctx) => {
  ctx.fake.failNextRequests(1000, { watch: false });
  const inf = createNodeInformer(ctx.kc, { ...opts, backoffInitialMs: 50 });
  start(ctx, inf);
  const err = await inf.waitForSync({ timeoutMs: 150 }).catch((e: unknown) => e);
  assert.instance(err, InformerSyncTimeoutError);
  assert.is((err as InformerSyncTimeoutError).resource, "nodes");
});

t("Service and EndpointSlice informers key by namespace/name and honour namespace and selectors", async (ctx) => {
  ctx.fake.create("services", { metadata: { name: "web", namespace: "a" } });
  ctx.fake.create("services", { metadata: { name: "web", namespace: "b" } });
  ctx.fake.create("endpointslices", { metadata: { name: "web-1", namespace: "a", labels: { "kubernetes.io/service-name": "web" } }, addressType: "IPv4", endpoints: [] });
  ctx.fake.create("endpointslices", { metadata: { name: "db-1", namespace: "a", labels: { "kubernetes.io/service-name": "db" } }, addressType: "IPv4", endpoints: [] });
  const svcs = createServiceInformer(ctx.kc, { ...opts, namespace: "b" });
  const slices = createEndpointSliceInformer(ctx.kc, { ...opts, labelSelector: "kubernetes.io/service-name=web" });
  start(ctx, svcs);
  const log = start(ctx, slices);
  await svcs.waitForSync({ timeoutMs: 5000 });
  await slices.waitForSync({ timeoutMs: 5000 });
  assert.equal(svcs.cache.keys(), ["b/web"]);
  assert.equal(slices.cache.keys(), ["a/web-1"]);
  await waitFor(() => ctx.fake.watchCount === 2, "2 watches");
  ctx.fake.patch("endpointslices", "web-1", { endpoints: [{ addresses: ["10.0.0.1"] }] }, { namespace: "a", type: "merge" });
  await waitFor(() => log.includes("update web-1"), "update");
  assert.equal(slices.cache.get("a/web-1")?.endpoints?.[0]?.addresses, ["10.0.0.1"]);
  assert.throws(() => createNodeInformer(ctx.kc, { namespace: "x" }), /cluster-scoped/);
});

t("a handler that throws is reported and does not stop the informer", async (ctx) => {
  const errors: unknown[] = [];
  const inf = createNodeInformer(ctx.kc, { ...opts, onError: (e) => errors.push(e) });
  inf.on({ add: () => { throw new Error("boom"); } });
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  ctx.fake.create("nodes", node("a"));
  ctx.fake.create("nodes", node("b"));
  await waitFor(() => log.length === 2, "both adds");
  assert.is(errors.length, 2);
});

const listRequests = (fake: FakeApiServer) => fake.requests.filter((r) => r.path === "/api/v1/nodes" && !r.watch);

t("pageSize 2 over 5 nodes: three pages, one snapshot, one add per node, stats count the pages", async (ctx) => {
  for (const n of ["e", "c", "a", "d", "b"]) ctx.fake.create("nodes", node(n));
  const inf = createNodeInformer(ctx.kc, { ...opts, pageSize: 2 });
  let requestsAtFirstAdd = -1;
  inf.on({ add: () => void (requestsAtFirstAdd < 0 && (requestsAtFirstAdd = listRequests(ctx.fake).length)) });
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  assert.equal(log, ["add a", "add b", "add c", "add d", "add e"]);
  assert.is(requestsAtFirstAdd, 3, "handlers run only after the last page");
  assert.equal([inf.stats.pages, inf.stats.lists, inf.stats.expired], [3, 1, 0]);
  const lists = listRequests(ctx.fake);
  assert.equal(lists.map((r) => [r.query.limit, r.query.continue !== undefined]), [["2", false], ["2", true], ["2", true]]);
  assert.is(inf.resourceVersion, "5");
  // the watch starts at the snapshot's resourceVersion and the informer keeps working
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  assert.is(ctx.fake.requests.find((r) => r.watch)?.query.resourceVersion, "5");
  ctx.fake.delete("nodes", "c");
  await waitFor(() => log.length === 6, "the delete");
  assert.is(log[5], "delete c");
});

t("a paginated relist after 410 reports the same differences as one list would", async (ctx) => {
  for (const n of ["a", "b", "c", "d", "e"]) ctx.fake.create("nodes", node(n));
  const inf = createNodeInformer(ctx.kc, { ...opts, pageSize: 2 });
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  await waitFor(() => ctx.fake.watchCount === 1, "the watch");
  log.length = 0;
  ctx.fake.dropWatches();
  ctx.fake.delete("nodes", "b");
  ctx.fake.patch("nodes", "e", { spec: { podCIDR: "10.244.9.0/24" } });
  ctx.fake.create("nodes", node("f"));
  ctx.fake.compact();
  await waitFor(() => inf.stats.lists === 2, "the relist");
  assert.equal(log.sort(), ["add f", "delete b", "update e"]);
  assert.equal(names(inf), serverNames(ctx.fake));
  assert.is(inf.stats.pages, 6, "3 pages, then 3 pages again");
});

t("a continue token that expires mid-list makes the informer start over with one full list and sync the right set", async (ctx) => {
  for (const n of ["a", "b", "c", "d", "e"]) ctx.fake.create("nodes", node(n));
  let expired = false;
  ctx.fake.onRequest((r) => {
    if (!expired && r.query.continue !== undefined) {
      expired = true;
      // between the pages: a write, then a compaction past the first page's revision
      ctx.fake.create("nodes", node("f"));
      ctx.fake.delete("nodes", "a");
      ctx.fake.compact();
    }
  });
  const inf = createNodeInformer(ctx.kc, { ...opts, pageSize: 2 });
  const log = start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 5000 });
  assert.ok(expired);
  assert.equal(names(inf), ["b", "c", "d", "e", "f"]);
  assert.equal(names(inf), serverNames(ctx.fake));
  assert.equal(log, ["add b", "add c", "add d", "add e", "add f"], "nothing from the abandoned pages");
  assert.equal([inf.stats.expired, inf.stats.lists, inf.stats.pages, inf.stats.errors], [1, 1, 2, 0]);
  const lists = listRequests(ctx.fake);
  assert.equal(lists.map((r) => [r.query.limit, r.query.continue !== undefined]), [["2", false], ["2", true], [undefined, false]]);
  assert.is(inf.resourceVersion, ctx.fake.resourceVersion);
});

t("the default page size is 500 and pageSize 0 lists in one request", async (ctx) => {
  for (let i = 0; i < 501; i++) ctx.fake.create("nodes", node(`n${String(i).padStart(3, "0")}`));
  const inf = createNodeInformer(ctx.kc, opts);
  start(ctx, inf);
  await inf.waitForSync({ timeoutMs: 10_000 });
  assert.is(inf.cache.size, 501);
  assert.equal([inf.stats.pages, inf.stats.lists], [2, 1]);
  assert.equal(listRequests(ctx.fake).map((r) => r.query.limit), ["500", "500"]);
  const whole = createNodeInformer(ctx.kc, { ...opts, pageSize: 0 });
  start(ctx, whole);
  await whole.waitForSync({ timeoutMs: 10_000 });
  assert.is(whole.cache.size, 501);
  assert.is(whole.stats.pages, 1);
  assert.equal(listRequests(ctx.fake).slice(2).map((r) => r.query.limit), [undefined]);
  assert.throws(() => createNodeInformer(ctx.kc, { pageSize: -1 }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => createNodeInformer(ctx.kc, { pageSize: 2.5 }), /pageSize must be a non-negative integer/);
});

t.run();
