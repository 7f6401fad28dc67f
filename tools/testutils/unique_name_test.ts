import { test } from "uvu";
import * as assert from "uvu/assert";
import { uniqueName } from "./unique_name.ts";

test("uniqueName() keeps the prefix and fits an interface name", () => {
  const name = uniqueName("wt-br");
  assert.ok(name.startsWith("wt-br"));
  assert.ok(name.length <= 15, name);
});

test("uniqueName() gives different names on each call", () => {
  const names = new Set(Array.from({ length: 100 }, () => uniqueName("x")));
  assert.is(names.size, 100);
});

test("uniqueName() refuses a prefix that leaves no room", () => {
  assert.throws(() => uniqueName("a-very-long-prefix"), /fewer than 4/);
});

test.run();
