import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FakeApiServer } from "@weft/fake-apiserver";
import { isNotFound, loadKubeConfig } from "@weft/kube";
import type { KubeConfig } from "@weft/kube";
import { resolveNodeName } from "./_kube_node_name.ts";

const t = suite<{ fake: FakeApiServer; kc: KubeConfig }>("resolveNodeName");
t.before.each(async (ctx) => {
  ctx.fake = await FakeApiServer.start();
  ctx.kc = loadKubeConfig({ kubeconfigPath: ctx.fake.kubeconfigPath });
});
t.after.each(async (ctx) => {
  await ctx.fake.close();
});

t("resolveNodeName() prefers NODE_NAME", async ({ kc }) => {
  assert.is(await resolveNodeName(kc, { env: { NODE_NAME: "n7", POD_NAME: "x", POD_NAMESPACE: "y" } }), "n7");
});

t("resolveNodeName() reads spec.nodeName of the pod POD_NAMESPACE/POD_NAME", async ({ fake, kc }) => {
  fake.create("pods", { metadata: { name: "weft-x1", namespace: "kube-flannel" }, spec: { nodeName: "worker-2" } });
  assert.is(await resolveNodeName(kc, { env: { POD_NAME: "weft-x1", POD_NAMESPACE: "kube-flannel" } }), "worker-2");
});

t("resolveNodeName() fails with flannel's texts", async ({ fake, kc }) => {
  const e1 = await resolveNodeName(kc, { env: { POD_NAME: "p" } }).catch((e: Error) => e);
  assert.is((e1 as Error).message, "env variables POD_NAME and POD_NAMESPACE must be set");
  fake.create("pods", { metadata: { name: "p", namespace: "ns" }, spec: {} });
  const e2 = await resolveNodeName(kc, { env: { POD_NAME: "p", POD_NAMESPACE: "ns" } }).catch((e: Error) => e);
  assert.is((e2 as Error).message, "node name not present in pod spec 'ns/p'");
  const e3 = await resolveNodeName(kc, { env: { POD_NAME: "missing", POD_NAMESPACE: "ns" } }).catch((e: Error) => e);
  assert.ok(isNotFound(e3));
});

t.run();
