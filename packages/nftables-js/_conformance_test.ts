import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FakeNftables } from "./fake_nftables.ts";
import { REQUIRED_COVERAGE, SCENARIOS, expectFor, runScenario } from "./_conformance.ts";

const test = suite("conformance (fake)");
const seen = new Set<string>();

for (const scenario of SCENARIOS) {
  test(`FakeNftables conforms: ${scenario.name}`, async () => {
    const nft = new FakeNftables({ family: "ip", table: "TABLE" });
    const { problems, ops } = await runScenario(nft, { ...scenario, expect: expectFor(scenario, "ip", "TABLE") });
    for (const op of ops) seen.add(`${op.verb} ${op.object.kind}`);
    assert.equal(problems, []);
  });
}

test("the conformance scenarios exercise every verb on every object kind", () => {
  const missing = REQUIRED_COVERAGE.filter((c) => !seen.has(c));
  assert.equal(missing, []);
});

test.run();
