import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execPlugin } from "@weft/cni/testing";
import { kernelTest, sh } from "@weft/testutils";
import { FORWARDER, MAIN, ensureForwarder, makeNode } from "./_test_helpers.ts";

const node = (args: string[], env: Record<string, string> = {}, input = "") =>
  spawnSync(process.execPath, ["--conditions=@weft/source", "--import=tsx", MAIN, ...args], { input, encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });

const test = suite("cli");
const ktest = kernelTest(suite("cli kernel"), { needs: ["root", "ip", "cc"] });

test("main.ts install copies the forwarder as <bin-dir>/weft and writes 10-weft.conflist (weft, then portmap)", () => {
  ensureForwarder();
  const dir = mkdtempSync(join(tmpdir(), "weft-inst-"));
  try {
    const r = node(["install", "--bin-dir", join(dir, "bin"), "--conf-dir", join(dir, "net.d"), "--socket", "/run/x.sock"]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, "installed");
    assert.is(statSync(join(dir, "bin", "weft")).mode & 0o777, 0o755);
    const conf = JSON.parse(readFileSync(join(dir, "net.d", "10-weft.conflist"), "utf8"));
    assert.equal(conf.plugins.map((p: { type: string }) => p.type), ["weft", "portmap"]);
    assert.is(conf.plugins[0].weftSocketPath, "/run/x.sock");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("main.ts without a command answers VERSION in-process", () => {
  const r = node([], { CNI_COMMAND: "VERSION" }, '{"cniVersion":"0.4.0"}');
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).cniVersion, "0.4.0");
});

ktest("main.ts in-process ADD and DEL set up and remove a pod, and the installed binary finds a socket named in the config", async () => {
  ensureForwarder();
  const n = await makeNode();
  try {
    const pod = await n.pod();
    const env = { CNI_CONTAINERID: "inproc", CNI_NETNS: `/run/netns/${pod}`, CNI_IFNAME: "eth0", WEFT_CNI_HOST_NETNS: n.host };
    const add = node([], { ...env, CNI_COMMAND: "ADD" }, JSON.stringify(n.conf()));
    assert.is(add.status, 0, add.stdout + add.stderr);
    assert.is(JSON.parse(add.stdout).ips[0].address, "10.244.0.2/24");
    assert.match(await sh(["ip", "-n", pod, "-br", "addr"]), "10.244.0.2/24");
    const del = node([], { ...env, CNI_COMMAND: "DEL" }, JSON.stringify(n.conf()));
    assert.is(del.status, 0, del.stdout + del.stderr);
    assert.is((await sh(["ip", "-n", n.host, "-o", "link", "show", "type", "veth"])).trim(), "");
    // the forwarder takes the socket from "weftSocketPath" when WEFT_CNI_SOCKET is unset
    const r = await execPlugin(FORWARDER, {
      env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "x", CNI_NETNS: "/x", CNI_IFNAME: "eth0" },
      stdin: JSON.stringify(n.conf({ weftSocketPath: join(n.dir, "elsewhere.sock") })),
    });
    assert.match(JSON.parse(r.stdout).msg, join(n.dir, "elsewhere.sock"));
  } finally {
    await n.cleanup();
  }
});

test.run();
ktest.run();
