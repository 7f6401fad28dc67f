import { test } from "uvu";
import * as assert from "uvu/assert";
import { NetConfError } from "./net_conf_error.ts";

test("NetConfError carries name, field, message and cause", () => {
  const cause = new Error("inner");
  const err = new NetConfError("SubnetLen must be less than /31", "subnetLen", { cause });
  assert.instance(err, Error);
  assert.is(err.name, "NetConfError");
  assert.is(err.field, "subnetLen");
  assert.is(err.message, "SubnetLen must be less than /31");
  assert.is(err.cause, cause);
});

test("NetConfError has no cause property when none is given", () => {
  const err = new NetConfError("x", "document");
  assert.not.ok("cause" in err);
});

test.run();
