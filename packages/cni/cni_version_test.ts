import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkCommandVersion, checkVersion, compareVersions, isSupportedVersion } from "./cni_version.ts";
import { SUPPORTED_VERSIONS } from "./constants.ts";

test("compareVersions() orders versions numerically", () => {
  assert.ok(compareVersions("0.3.1", "1.0.0") < 0);
  assert.ok(compareVersions("0.10.0", "0.4.0") > 0);
  assert.is(compareVersions("1.1.0", "1.1.0"), 0);
  assert.throws(() => compareVersions("1.0", "1.0.0"), (e: unknown) => e instanceof SyntaxError);
});

test("isSupportedVersion() accepts 0.3.0 to 1.1.0 and nothing older", () => {
  for (const v of SUPPORTED_VERSIONS) assert.ok(isSupportedVersion(v), v);
  assert.not.ok(isSupportedVersion("0.2.0"));
  assert.not.ok(isSupportedVersion("9.9.9"));
});

test("checkVersion() throws code 1 naming the version, and treats a missing one as 0.1.0", () => {
  try {
    checkVersion("9.9.9");
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: number }).code, 1);
    assert.match((err as { details: string }).details, /config is "9.9.9"/);
  }
  assert.throws(() => checkVersion(undefined), /incompatible/);
  assert.is(checkVersion("0.3.1"), "0.3.1");
});

test("checkCommandVersion() refuses CHECK below 0.4.0 and GC/STATUS below 1.1.0", () => {
  assert.throws(() => checkCommandVersion("CHECK", "0.3.1"), /does not allow CHECK/);
  checkCommandVersion("CHECK", "0.4.0");
  assert.throws(() => checkCommandVersion("GC", "1.0.0"), /does not allow GC/);
  assert.throws(() => checkCommandVersion("STATUS", "0.4.0"), /does not allow STATUS/);
  checkCommandVersion("STATUS", "1.1.0");
  checkCommandVersion("ADD", "0.3.0");
});

test.run();
