import { test } from "uvu";
import * as assert from "uvu/assert";
import { measure, summarize } from "./measure.ts";

test("summarize() gives the median of an even count as the mean of the middle two", () => {
  const t = summarize([4, 1, 3, 2]);
  assert.is(t.median, 2.5);
  assert.is(t.min, 1);
});

test("measure() runs warmup + runs times and keeps only timed samples", async () => {
  let calls = 0;
  const t = await measure(() => void calls++, { runs: 3, warmup: 2 });
  assert.is(calls, 5);
  assert.is(t.samples.length, 3);
});

test.run();
