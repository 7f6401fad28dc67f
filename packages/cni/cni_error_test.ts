import { test } from "uvu";
import * as assert from "uvu/assert";
import { CniError, isCniError } from "./cni_error.ts";

test("CniError.toJSON() prints code, msg and details for the given version", () => {
  const err = new CniError(4, "required env variables [CNI_NETNS] missing", { details: "x" });
  assert.equal(err.toJSON("1.0.0"), { cniVersion: "1.0.0", code: 4, msg: "required env variables [CNI_NETNS] missing", details: "x" });
});

test("CniError.toJSON() leaves details out when there are none", () => {
  assert.equal(new CniError(7, "bad").toJSON("1.1.0"), { cniVersion: "1.1.0", code: 7, msg: "bad" });
});

test("isCniError() checks the class and the code", () => {
  const err = new CniError(11, "later", { cause: new Error("inner") });
  assert.ok(isCniError(err));
  assert.ok(isCniError(err, 11));
  assert.not.ok(isCniError(err, 4));
  assert.not.ok(isCniError(new Error("plain")));
  assert.is((err.cause as Error).message, "inner");
});

test.run();
