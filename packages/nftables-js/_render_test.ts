import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderOperation, renderOperations } from "./_render.ts";
import type { Operation } from "./types.ts";

const ops: Operation[] = [
  { verb: "add", object: { kind: "table" } },
  { verb: "add", object: { kind: "element", set: "s", key: ["1.1.1.1"] } },
  { verb: "add", object: { kind: "element", set: "s", key: ["1.1.1.2"] } },
  { verb: "add", object: { kind: "element", set: "s", key: ["1.1.1.3"] } },
  { verb: "add", object: { kind: "chain", name: "c" } },
];

test("renderOperations() maps every line back to its operation, also inside element blocks", () => {
  const { text, lineOps } = renderOperations("ip", "t", ops);
  assert.is(text.split("\n").length - 1, lineOps.length);
  assert.equal(lineOps, [0, 1, 1, 2, 3, 3, 4]);
});

test("renderOperations() renders a slice with the operations' global indexes", () => {
  const { text, lineOps } = renderOperations("ip", "t", ops, { start: 2, end: 4 });
  assert.is(text, "add element ip t s {\n\t1.1.1.2,\n\t1.1.1.3\n}\n");
  assert.equal(lineOps, [2, 2, 3, 3]);
});

test("renderOperation() renders one element on one line", () => {
  assert.is(renderOperation("inet", "t", ops[2]!), "add element inet t s { 1.1.1.2 }");
});

test("renderOperations() renders 100,000 map elements (timing is asserted in the nft-apply benchmark)", () => {
  const many: Operation[] = [];
  for (let i = 0; i < 100_000; i++) many.push({ verb: "add", object: { kind: "element", map: "m", key: [`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, "tcp", "80"], value: [`goto svc-${i}`] } });
  const { text, lineOps } = renderOperations("ip", "t", many);
  assert.is(lineOps.length, 100_002);
  assert.ok(text.endsWith("\t10.1.134.159 . tcp . 80 : goto svc-99999\n}\n"));
});

test.run();
