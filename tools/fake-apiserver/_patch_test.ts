import { test } from "uvu";
import * as assert from "uvu/assert";
import { PatchError, jsonPatch, mergePatch, strategicMergePatch } from "./_patch.ts";

test("mergePatch() follows RFC 7386: objects merge, null deletes, arrays replace", () => {
  assert.equal(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [9] }), { a: 1, b: { d: 3, e: 4 }, l: [9] });
});

test("strategicMergePatch() merges conditions by type, finalizers as a set, and honours $patch directives", () => {
  const node = { status: { conditions: [{ type: "Ready", status: "True" }, { type: "X", status: "True" }] }, metadata: { finalizers: ["a"] } };
  const out = strategicMergePatch(node, {
    status: { conditions: [{ type: "Ready", status: "False" }, { type: "X", $patch: "delete" }, { type: "New", status: "True" }] },
    metadata: { finalizers: ["a", "b"], $setElementOrder: "ignored" },
  }) as typeof node;
  assert.equal(out.status.conditions, [{ type: "Ready", status: "False" }, { type: "New", status: "True" }]);
  assert.equal(out.metadata.finalizers, ["a", "b"]);
  assert.equal(strategicMergePatch({ spec: { a: 1, b: 2 } }, { spec: { $patch: "replace", c: 3 } }), { spec: { c: 3 } });
  assert.equal(strategicMergePatch({ spec: { taints: [{ key: "a" }] } }, { spec: { taints: [{ key: "b" }] } }), { spec: { taints: [{ key: "b" }] } }, "lists without a merge key replace");
});

test("jsonPatch() applies add/replace/remove/test/copy/move and throws PatchError on a failed test or missing path", () => {
  const doc = { a: { b: 1 }, l: [1, 2] };
  assert.equal(
    jsonPatch(doc, [
      { op: "add", path: "/l/-", value: 3 },
      { op: "replace", path: "/a/b", value: 5 },
      { op: "copy", from: "/a/b", path: "/c" },
      { op: "move", from: "/c", path: "/d" },
      { op: "remove", path: "/l/0" },
      { op: "test", path: "/d", value: 5 },
    ]),
    { a: { b: 5 }, l: [2, 3], d: 5 },
  );
  assert.equal(doc, { a: { b: 1 }, l: [1, 2] }, "input untouched");
  assert.throws(() => jsonPatch(doc, [{ op: "test", path: "/a/b", value: 2 }]), (e: unknown) => e instanceof PatchError);
  assert.throws(() => jsonPatch(doc, [{ op: "remove", path: "/nope" }]), (e: unknown) => e instanceof PatchError);
  assert.throws(() => jsonPatch(doc, { op: "add" }), (e: unknown) => e instanceof PatchError);
});

test.run();
