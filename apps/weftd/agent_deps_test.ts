import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CniPlugin } from "@weft/cni";
import { BUILTIN_BACKENDS, instrumentCniPlugin, loadBackendRegistry } from "./agent_deps.ts";
import { createAgentMetrics } from "./agent_metrics.ts";

test("loadBackendRegistry() knows vxlan and host-gw, case-insensitively", async () => {
  const registry = await loadBackendRegistry([]);
  assert.equal(registry.types(), ["host-gw", "vxlan"]);
  assert.ok(registry.has("VXLAN"));
  assert.equal(Object.keys(BUILTIN_BACKENDS).sort(), ["host-gw", "vxlan"]);
});

test("loadBackendRegistry() names a third-party package that cannot be loaded or has no backends", async () => {
  await loadBackendRegistry(["@weft/no-such-backend"]).then(
    () => assert.unreachable(),
    (err: Error) => assert.match(err.message, /--backend-package @weft\/no-such-backend: cannot load it/),
  );
  await loadBackendRegistry(["@weft/ipam"]).then(
    () => assert.unreachable(),
    (err: Error) => assert.match(err.message, /--backend-package @weft\/ipam: it does not export "backends"/),
  );
});

test("instrumentCniPlugin() times each command with its CNI result code", async () => {
  const metrics = createAgentMetrics({ processMetrics: false });
  const plugin: CniPlugin = {
    add: async () => ({ cniVersion: "1.1.0" }) as never,
    del: async () => undefined,
    check: async () => {
      throw Object.assign(new Error("no interface"), { code: 7 });
    },
    status: async () => undefined,
    gc: async () => undefined,
  };
  const wrapped = instrumentCniPlugin(plugin, metrics);
  await wrapped.add({} as never);
  await wrapped.del({} as never);
  await wrapped.check({} as never).catch(() => undefined);
  const text = await metrics.registry.metrics();
  assert.match(text, 'weft_cni_request_duration_seconds_count{command="ADD",code="0"} 1');
  assert.match(text, 'weft_cni_request_duration_seconds_count{command="DEL",code="0"} 1');
  assert.match(text, 'weft_cni_request_duration_seconds_count{command="CHECK",code="7"} 1');
});

test.run();
