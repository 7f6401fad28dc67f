import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FakeApiServer } from "@weft/fake-apiserver";
import { KubeConfigError, loadKubeConfig } from "./kube_config.ts";
import { KubeClient } from "./kube_client.ts";

test("loadKubeConfig() with kubeconfigPath talks to the server in the file", async () => {
  const fake = await FakeApiServer.start({ token: "t0k" });
  try {
    fake.create("nodes", { metadata: { name: "n1" } });
    const kc = loadKubeConfig({ kubeconfigPath: fake.kubeconfigPath });
    assert.is(kc.getCurrentCluster()?.server, fake.url);
    const list = await new KubeClient(kc).list({ kind: "Node", apiVersion: "v1", plural: "nodes", namespaced: false });
    assert.equal(list.items.map((n) => n.metadata?.name), ["n1"]);
  } finally {
    await fake.close();
  }
});

test("loadKubeConfig() with apiUrl alone (and a token) works against an http server", async () => {
  const fake = await FakeApiServer.start({ token: "abc" });
  try {
    fake.create("nodes", { metadata: { name: "n1" } });
    const kc = loadKubeConfig({ apiUrl: fake.url, token: "abc" });
    const node = await new KubeClient(kc).getNode("n1");
    assert.is(node.metadata?.name, "n1");
    const anon = loadKubeConfig({ apiUrl: fake.url });
    await new KubeClient(anon).getNode("n1").then(
      () => assert.unreachable("needs a token"),
      (err: { statusCode?: number }) => assert.is(err.statusCode, 401),
    );
  } finally {
    await fake.close();
  }
});

test("loadKubeConfig() with apiUrl and kubeconfigPath replaces the file's server", async () => {
  const fake = await FakeApiServer.start();
  try {
    const kc = loadKubeConfig({ kubeconfigPath: fake.kubeconfigPath, apiUrl: "https://10.0.0.1:6443" });
    assert.is(kc.getCurrentCluster()?.server, "https://10.0.0.1:6443");
  } finally {
    await fake.close();
  }
});

test("loadKubeConfig() in-cluster reads KUBERNETES_SERVICE_HOST/PORT and the service account token", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weft-sa-"));
  try {
    writeFileSync(join(dir, "token"), "sa-token");
    writeFileSync(join(dir, "namespace"), "kube-flannel\n");
    const kc = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, serviceAccountDir: dir });
    assert.is(kc.getCurrentCluster()?.server, "https://[fd00::1]:443");
    assert.is(kc.getContextObject(kc.currentContext)?.namespace, "kube-flannel");
    const opts: { headers?: Record<string, string> } = { headers: {} };
    await kc.applyToHTTPSOptions(opts);
    assert.is(opts.headers?.Authorization, "Bearer sa-token");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loadKubeConfig() fails clearly with nothing configured, a missing file or a bad URL", () => {
  assert.throws(() => loadKubeConfig({ env: {} }), (e: unknown) => e instanceof KubeConfigError && /KUBERNETES_SERVICE_HOST/.test(e.message));
  assert.throws(
    () => loadKubeConfig({ kubeconfigPath: "/nonexistent/kubeconfig" }),
    (e: unknown) => e instanceof KubeConfigError && e.source === "/nonexistent/kubeconfig",
  );
  assert.throws(() => loadKubeConfig({ apiUrl: "ftp://x" }), (e: unknown) => e instanceof TypeError);
  assert.throws(
    () => loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, serviceAccountDir: "/nonexistent" }),
    /token/,
  );
});

test.run();
