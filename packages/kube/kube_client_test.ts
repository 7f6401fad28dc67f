import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FakeApiServer } from "@weft/fake-apiserver";
import { KubeApiError, KubeClient, isConflict, isGone, isNotFound } from "./kube_client.ts";
import { loadKubeConfig } from "./kube_config.ts";
import { SERVICES } from "./resources.ts";

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

t.run();
