import { test } from "uvu";
import * as assert from "uvu/assert";
import { SelectorError, parseFieldSelector, parseLabelSelector } from "./_selectors.ts";

test("parseLabelSelector() supports =, ==, !=, in, notin, exists and !exists", () => {
  const labels = { app: "web", tier: "front" };
  const ok = (s: string) => parseLabelSelector(s)(labels);
  assert.ok(ok("app=web,tier==front"));
  assert.ok(ok("app in (web, api),env notin (prod)"));
  assert.ok(ok("app,!env"));
  assert.not.ok(ok("app!=web"));
  assert.not.ok(ok("tier in (back)"));
  assert.not.ok(parseLabelSelector("app")(undefined));
  assert.throws(() => parseLabelSelector("a b c"), (e: unknown) => e instanceof SelectorError);
});

test("parseFieldSelector() compares paths with = and !=", () => {
  const fields = (p: string) => ({ "metadata.name": "n1", "metadata.namespace": "" })[p];
  assert.ok(parseFieldSelector("metadata.name=n1")(fields));
  assert.not.ok(parseFieldSelector("metadata.name!=n1")(fields));
  assert.throws(() => parseFieldSelector("metadata.name"), (e: unknown) => e instanceof SelectorError);
});

test.run();
