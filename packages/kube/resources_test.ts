import { test } from "uvu";
import * as assert from "uvu/assert";
import { ENDPOINT_SLICES, NODES, SERVICES, resourcePath } from "./resources.ts";

test("resourcePath() builds core and group paths, namespaced and not, with subresources", () => {
  assert.is(resourcePath(NODES), "/api/v1/nodes");
  assert.is(resourcePath(NODES, { name: "n1", subresource: "status" }), "/api/v1/nodes/n1/status");
  assert.is(resourcePath(SERVICES), "/api/v1/services");
  assert.is(resourcePath(SERVICES, { namespace: "kube-system", name: "dns" }), "/api/v1/namespaces/kube-system/services/dns");
  assert.is(resourcePath(ENDPOINT_SLICES, { namespace: "a b" }), "/apis/discovery.k8s.io/v1/namespaces/a%20b/endpointslices");
});

test("resourcePath() rejects a namespace on a cluster-scoped resource and a subresource without a name", () => {
  assert.throws(() => resourcePath(NODES, { namespace: "x" }), /cluster-scoped/);
  assert.throws(() => resourcePath(NODES, { subresource: "status" }), /needs a name/);
});

test.run();
