import { test } from "uvu";
import * as assert from "uvu/assert";
import { ObjectCache, objectKey } from "./object_cache.ts";

test("objectKey() is ns/name for namespaced objects and name for cluster-scoped ones", () => {
  assert.is(objectKey({ metadata: { name: "web", namespace: "prod" } }), "prod/web");
  assert.is(objectKey({ metadata: { name: "node-1" } }), "node-1");
  assert.throws(() => objectKey({ metadata: {} }), /metadata.name is missing/);
});

test("ObjectCache set() returns the replaced object and list() filters by namespace", () => {
  const c = new ObjectCache();
  assert.is(c.set({ metadata: { name: "a", namespace: "x", resourceVersion: "1" } }), undefined);
  const old = c.set({ metadata: { name: "a", namespace: "x", resourceVersion: "2" } });
  assert.is(old?.metadata?.resourceVersion, "1");
  c.set({ metadata: { name: "b", namespace: "y" } });
  assert.is(c.size, 2);
  assert.equal(c.list("y").map((o) => o.metadata?.name), ["b"]);
  assert.equal(c.keys().sort(), ["x/a", "y/b"]);
  assert.is(c.get("x/a")?.metadata?.resourceVersion, "2");
  assert.is(c.delete("x/a")?.metadata?.name, "a");
  assert.is(c.delete("x/a"), undefined);
  c.clear();
  assert.is(c.size, 0);
});

test.run();
