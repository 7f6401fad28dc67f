import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, missingRequirement } from "./requirements.ts";

const test = suite("requirements");

test("missingRequirement() is undefined when nothing is needed", () => {
  assert.is(missingRequirement([]), undefined);
});

test("missingRequirement() names IPVS when /proc/net/ip_vs is absent", async () => {
  const { existsSync } = await import("node:fs");
  const reason = missingRequirement(["ipvs"]);
  if (existsSync("/proc/net/ip_vs")) assert.is(reason, undefined);
  else assert.match(reason ?? "", /IPVS/);
});

test("kernelTest() returns the suite unchanged when requirements are met", () => {
  const s = suite("inner");
  assert.is(kernelTest(s, { needs: [] }), s);
});

test.run();
