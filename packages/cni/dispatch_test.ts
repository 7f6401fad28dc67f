import { test } from "uvu";
import * as assert from "uvu/assert";
import { CniError } from "./cni_error.ts";
import { dispatch } from "./dispatch.ts";
import { ALL_SPEC_VERSIONS, RecordingPlugin } from "./testing.ts";

const env = (cmd: string, extra: Record<string, string> = {}) => ({
  CNI_COMMAND: cmd, CNI_CONTAINERID: "c1", CNI_NETNS: "/run/netns/p", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin", ...extra,
});
const conf = (v: string, extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: v, name: "cbr0", type: "weft", ...extra });

test("dispatch() prints the about text on stderr and exits 0 when CNI_COMMAND is unset", async () => {
  const r = await dispatch({ env: {}, stdin: "" }, new RecordingPlugin());
  assert.is(r.exitCode, 0);
  assert.is(r.stdout, "");
  assert.match(r.stderr, /CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0/);
});

for (const v of ALL_SPEC_VERSIONS) {
  test(`dispatch() answers VERSION with the requested version and every supported one (${v})`, async () => {
    const r = await dispatch({ env: { CNI_COMMAND: "VERSION" }, stdin: `{"cniVersion":"${v}"}` }, new RecordingPlugin());
    assert.is(r.exitCode, 0);
    assert.equal(JSON.parse(r.stdout), { cniVersion: v, supportedVersions: [...ALL_SPEC_VERSIONS] });
  });

  test(`dispatch() renders the ADD result in the config's version (${v})`, async () => {
    const p = new RecordingPlugin();
    const r = await dispatch({ env: env("ADD"), stdin: conf(v) }, p);
    assert.is(r.exitCode, 0, r.stdout);
    const out = JSON.parse(r.stdout);
    assert.is(out.cniVersion, v);
    assert.is(out.ips[0].address, "10.0.0.2/24");
    assert.is("version" in out.ips[0], v.startsWith("0."));
    assert.is(p.calls[0]!.call.cniVersion, v);
  });

  test(`dispatch() gives DEL an empty stdout and passes prevResult (${v})`, async () => {
    const p = new RecordingPlugin();
    const r = await dispatch({ env: env("DEL", { CNI_NETNS: "" }), stdin: conf(v, { prevResult: { cniVersion: v, ips: [] } }) }, p);
    assert.equal([r.exitCode, r.stdout], [0, ""]);
    assert.equal(p.calls[0]!.call.prevResult, { cniVersion: v, ips: [] });
  });

  test(`dispatch() allows CHECK from 0.4.0 and STATUS/GC from 1.1.0 only (${v})`, async () => {
    const check = await dispatch({ env: env("CHECK"), stdin: conf(v) }, new RecordingPlugin());
    assert.is(check.exitCode === 0, v !== "0.3.0" && v !== "0.3.1", v);
    for (const cmd of ["STATUS", "GC"]) {
      const r = await dispatch({ env: { CNI_COMMAND: cmd }, stdin: conf(v) }, new RecordingPlugin());
      assert.is(r.exitCode === 0, v === "1.1.0", `${cmd} ${v}`);
      if (r.exitCode !== 0) assert.is(JSON.parse(r.stdout).code, 1);
    }
  });

  test(`dispatch() reports bad JSON as code 6 and missing env as code 4 (${v})`, async () => {
    const bad = await dispatch({ env: env("ADD"), stdin: "{bad" }, new RecordingPlugin());
    assert.is(bad.exitCode, 1);
    assert.is(JSON.parse(bad.stdout).code, 6);
    const miss = await dispatch({ env: { CNI_COMMAND: "ADD" }, stdin: conf(v) }, new RecordingPlugin());
    const e = JSON.parse(miss.stdout);
    assert.equal([e.cniVersion, e.code, e.msg], [v, 4, "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing"]);
  });
}

test("dispatch() refuses an unknown cniVersion with code 1", async () => {
  const r = await dispatch({ env: env("ADD"), stdin: conf("9.9.9") }, new RecordingPlugin());
  const e = JSON.parse(r.stdout);
  assert.equal([r.exitCode, e.code, e.msg], [1, 1, "incompatible CNI versions"]);
});

test("dispatch() refuses a missing or invalid network name with code 7", async () => {
  const r = await dispatch({ env: env("ADD"), stdin: JSON.stringify({ cniVersion: "1.0.0" }) }, new RecordingPlugin());
  assert.equal(JSON.parse(r.stdout).code, 7);
  const r2 = await dispatch({ env: env("ADD"), stdin: JSON.stringify({ cniVersion: "1.0.0", name: "a b" }) }, new RecordingPlugin());
  assert.match(JSON.parse(r2.stdout).msg, /invalid network name/);
});

test("dispatch() hands GC the valid attachments from either key", async () => {
  const p = new RecordingPlugin();
  const list = [{ containerID: "a", ifname: "eth0" }];
  await dispatch({ env: { CNI_COMMAND: "GC" }, stdin: conf("1.1.0", { "cni.dev/valid-attachments": list }) }, p);
  await dispatch({ env: { CNI_COMMAND: "GC" }, stdin: conf("1.1.0", { "cni.dev/attachments": list }) }, p);
  assert.equal((p.calls[0]!.call as unknown as { validAttachments: unknown }).validAttachments, list);
  assert.equal((p.calls[1]!.call as unknown as { validAttachments: unknown }).validAttachments, list);
});

test("dispatch() prints a plugin's CniError with its code, and other errors as code 100", async () => {
  const p = new RecordingPlugin();
  p.fail = new CniError(11, "later", { details: "d" });
  const r = await dispatch({ env: env("ADD"), stdin: conf("1.0.0") }, p);
  assert.equal(JSON.parse(r.stdout), { cniVersion: "1.0.0", code: 11, msg: "later", details: "d" });
  p.fail = new Error("kaboom");
  const seen: unknown[] = [];
  const r2 = await dispatch({ env: env("ADD"), stdin: conf("1.0.0") }, p, { onInternalError: (e) => seen.push(e) });
  assert.equal(JSON.parse(r2.stdout), { cniVersion: "1.0.0", code: 100, msg: "kaboom" });
  assert.is(seen.length, 1);
});

test.run();
