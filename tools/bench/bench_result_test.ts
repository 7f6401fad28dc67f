import { test } from "uvu";
import * as assert from "uvu/assert";
import { benchLine, report } from "./bench_result.ts";

test("benchLine() computes ours / baseline", () => {
  const line = benchLine({ bench: "x", ours: 12, baseline: 10, unit: "ms", lowerIsBetter: true });
  assert.equal(line, { bench: "x", ours: 12, baseline: 10, unit: "ms", ratio: 1.2, lowerIsBetter: true });
});

test("benchLine() refuses a zero baseline", () => {
  assert.throws(() => benchLine({ bench: "x", ours: 1, baseline: 0, unit: "ms", lowerIsBetter: true }), /baseline must be a positive/);
});

test("report() prints the JSON object as the last line", () => {
  let out = "";
  report({ bench: "y", ours: 5, baseline: 10, unit: "ops/s", lowerIsBetter: false, notes: { conflicts: 0 } }, { write: (s) => (out += s) });
  const lines = out.trim().split("\n");
  assert.match(lines[0]!, /conflicts=0/);
  assert.equal(JSON.parse(lines.at(-1)!), { bench: "y", ours: 5, baseline: 10, unit: "ops/s", ratio: 0.5, lowerIsBetter: false });
});

test.run();
