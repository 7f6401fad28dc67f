import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FakeApiServer } from "@weft/fake-apiserver";
import { KubeApiError, KubeClient, isConflict, isGone, isNotFound } from "./kube_client.ts";
import { loadKubeConfig } from "./kube_config.ts";
import { NODES, SERVICES } from "./resources.ts";

const t = suite<{ fake: FakeApiServer; client: KubeClient }>("KubeClient");
t.before.each(async (ctx) => {
  ctx.fake = await FakeApiServer.start();
  ctx.client = new KubeClient(loadKubeConfig({ kubeconfigPath: ctx.fake.kubeconfigPath }));
});
t.after.each(async (ctx) => {
  await ctx.fake.close();
});

t("getNode() returns the node; a missing one throws a KubeApiError that isNotFound()", async ({ fake, client }) => {
  fake.create("nodes", { metadata: { name: "n1" }, spec: { podCIDR: "10.244.1.0/24" } });
  assert.is((await client.getNode("n1")).spec?.podCIDR, "10.244.1.0/24");
  const err = await client.getNode("n2").catch((e: unknown) => e);
  assert.instance(err, KubeApiError);
  assert.ok(isNotFound(err));
  assert.not.ok(isConflict(err) || isGone(err));
  assert.is((err as KubeApiError).reason, "NotFound");
  assert.match((err as KubeApiError).message, /nodes "n2" not found/);
});

t("list() returns items with kind/apiVersion and the list resourceVersion; filters by namespace and labels", async ({ fake, client }) => {
  fake.create("services", { metadata: { name: "a", namespace: "x", labels: { app: "a" } } });
  fake.create("services", { metadata: { name: "b", namespace: "y" } });
  const all = await client.list(SERVICES);
  assert.is(all.items.length, 2);
  assert.is(all.items[0]?.kind, "Service");
  assert.is(all.resourceVersion, fake.resourceVersion);
  assert.equal((await client.list(SERVICES, { namespace: "y" })).items.map((s) => s.metadata?.name), ["b"]);
  assert.equal((await client.list(SERVICES, { labelSelector: "app=a" })).items.map((s) => s.metadata?.name), ["a"]);
});

t("patchNodeStatus() sends a strategic merge patch; a stale resourceVersion isConflict()", async ({ fake, client }) => {
  fake.create("nodes", { metadata: { name: "n1" }, status: { conditions: [{ type: "Ready", status: "True" }] } });
  const n = await client.patchNodeStatus("n1", { status: { conditions: [{ type: "NetworkUnavailable", status: "False" }] } });
  assert.equal(n.status?.conditions?.map((c) => c.type), ["Ready", "NetworkUnavailable"]);
  const err = await client.patchNodeStatus("n1", { metadata: { resourceVersion: "1" } }, { type: "merge" }).catch((e: unknown) => e);
  assert.ok(isConflict(err));
});

t("getPod() reads a namespaced pod", async ({ fake, client }) => {
  fake.create("pods", { metadata: { name: "weft-abc", namespace: "kube-flannel" }, spec: { nodeName: "n1" } });
  assert.is((await client.getPod("kube-flannel", "weft-abc")).spec?.nodeName, "n1");
});

t("request() reports a connection failure as a KubeApiError with statusCode 0", async ({ fake }) => {
  const url = fake.url;
  await fake.close();
  const client = new KubeClient(loadKubeConfig({ apiUrl: url }), { requestTimeoutMs: 2000 });
  const err = await client.getNode("n1").catch((e: unknown) => e);
  assert.instance(err, KubeApiError);
  assert.is((err as KubeApiError).statusCode, 0);
});

t("list() with limit/continue returns pages, the continue token and remainingItemCount; an expired token isGone()", async ({ fake, client }) => {
  for (const n of ["c", "a", "b"]) fake.create("nodes", { metadata: { name: n } });
  const first = await client.list(NODES, { limit: 2 });
  assert.equal(first.items.map((n) => n.metadata?.name), ["a", "b"]);
  assert.is(first.items[0]?.kind, "Node");
  assert.is(first.remainingItemCount, 1);
  assert.ok(first.continue.length > 0);
  assert.is(fake.requests[0]?.query.limit, "2");
  const last = await client.list(NODES, { limit: 2, continue: first.continue });
  assert.equal(last.items.map((n) => n.metadata?.name), ["c"]);
  assert.is(last.continue, "");
  assert.is(last.remainingItemCount, undefined);
  assert.is(last.resourceVersion, first.resourceVersion);
  assert.is(fake.requests[1]?.query.continue, first.continue);
  // limit 0 and an empty token send neither parameter
  const all = await client.list(NODES, { limit: 0, continue: "" });
  assert.is(all.items.length, 3);
  assert.equal(Object.keys(fake.requests[2]!.query), []);
  fake.create("nodes", { metadata: { name: "d" } });
  fake.compact();
  const err = await client.list(NODES, { limit: 2, continue: first.continue }).catch((e: unknown) => e);
  assert.ok(isGone(err));
  assert.is((err as KubeApiError).reason, "Expired");
  assert.match((err as KubeApiError).message, /The provided continue parameter is too old to display a consistent list result/);
  const bad = await client.list(NODES, { limit: 2, continue: "garbage!" }).catch((e: unknown) => e);
  assert.is((bad as KubeApiError).statusCode, 400);
  await client.list(NODES, { limit: -1 }).then(() => assert.unreachable("negative limit"), (e: unknown) => assert.instance(e, RangeError));
});

t("listAll() reads every page into one snapshot; an expired continue token restarts with one unpaginated list", async ({ fake, client }) => {
  for (let i = 0; i < 5; i++) fake.create("nodes", { metadata: { name: `n${i}` } });
  let pages = 0;
  let expired = 0;
  const all = await client.listAll(NODES, { pageSize: 2, onPage: () => pages++, onExpired: () => expired++ });
  assert.equal(all.items.map((n) => n.metadata?.name), ["n0", "n1", "n2", "n3", "n4"]);
  assert.is(pages, 3);
  assert.equal(fake.requests.map((r) => r.query.limit), ["2", "2", "2"]);
  assert.is(all.resourceVersion, fake.resourceVersion);
  // the token expires after the first page: the pages read are dropped and one list without limit follows
  fake.requests.length = 0;
  let served = 0;
  fake.onRequest(() => {
    if (++served === 2) {
      fake.create("nodes", { metadata: { name: "n5" } });
      fake.compact();
    }
  });
  const again = await client.listAll(NODES, { pageSize: 2, onExpired: () => expired++ });
  assert.is(expired, 1);
  assert.equal(again.items.map((n) => n.metadata?.name), ["n0", "n1", "n2", "n3", "n4", "n5"]);
  assert.equal(fake.requests.map((r) => r.query.limit ?? "none"), ["2", "2", "none"]);
  // the default page size is client-go's 500; 0 = one list; a bad size is refused before any request
  fake.requests.length = 0;
  await client.listAll(NODES);
  assert.is(fake.requests[0]?.query.limit, "500");
  await client.listAll(NODES, { pageSize: 0 });
  assert.is(fake.requests[1]?.query.limit, undefined);
  await client.listAll(NODES, { pageSize: 1.5 }).then(() => assert.unreachable("fractional page size"), (e: unknown) => assert.instance(e, RangeError));
  assert.is(fake.requests.length, 2);
});

t.run();
