import { test as base } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest } from "./requirements.ts";
import { sh, withNetns } from "./netns.ts";

const test = kernelTest(base, { needs: ["root", "ip"] });

test("withNetns() creates a namespace and removes it afterwards", async () => {
  let seen = "";
  await withNetns("tu", async (ns) => {
    seen = ns;
    assert.match(await sh(["ip", "netns", "list"]), ns);
  });
  assert.not.match(await sh(["ip", "netns", "list"]), seen);
});

test("withNetns() removes the namespace when the body throws", async () => {
  let seen = "";
  await withNetns("tu", async (ns) => {
    seen = ns;
    throw new Error("boom");
  }).then(
    () => assert.unreachable("should have thrown"),
    (err: Error) => assert.is(err.message, "boom"),
  );
  assert.not.match(await sh(["ip", "netns", "list"]), seen);
});

test.run();
