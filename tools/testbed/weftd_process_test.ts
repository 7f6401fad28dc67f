import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { WEFTD_MAIN, WeftdProcess, weftdArgv, weftdPaths } from "./weftd_process.ts";

const test = suite("weftd_process");

test("weftdPaths() keeps every node's files apart under the work dir; weftdArgv() passes them as flags", () => {
  const p = weftdPaths("/w", "node3");
  assert.equal(p, { dir: "/w/node3", subnetFile: "/w/node3/subnet.env", cniSocket: "/w/node3/run/cni.sock", cniDataDir: "/w/node3/cni-networks", cniStateDir: "/w/node3/cni-state", bridge: "cni0" });
  const argv = weftdArgv(p, ["--ip-masq"]);
  assert.is(argv[3], WEFTD_MAIN);
  assert.ok(WEFTD_MAIN.endsWith("apps/weftd/main.ts"));
  assert.equal(argv.slice(4), ["--subnet-file", p.subnetFile, "--cni-socket", p.cniSocket, "--cni-data-dir", p.cniDataDir, "--cni-bridge", "cni0", "--ip-masq"]);
});

test("WeftdProcess.waitFor() finds a log line (also one already seen) and rejects when the process exits first", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wtb-wp-"));
  try {
    const child = spawn(process.execPath, ["--no-warnings", "-e", 'console.log(JSON.stringify({msg:"starting"}));setTimeout(()=>console.log(JSON.stringify({msg:"weftd is ready"})),100);setTimeout(()=>{},300)'], { stdio: ["ignore", "pipe", "pipe"] });
    const w = new WeftdProcess(child, weftdPaths(dir, "n"), "n");
    await w.ready({ timeoutMs: 5000 });
    assert.match(await w.waitFor(/starting/), "starting");
    // Node may add warnings of its own (e.g. about NO_COLOR/FORCE_COLOR in the environment) on stderr.
    assert.equal(w.messages().filter((m) => !m.startsWith("(node:")).slice(0, 2), ["starting", "weftd is ready"]);
    await w.waitFor(/never/, { timeoutMs: 5000 }).then(
      () => assert.unreachable(),
      (err: Error) => assert.match(err.message, /exited/),
    );
    assert.is((await w.exited).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("WeftdProcess follows a log file for detached processes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wtb-wp-"));
  try {
    const log = join(dir, "log");
    writeFileSync(log, '{"msg":"one"}\n');
    const child = spawn(process.execPath, ["--no-warnings", "-e", "setTimeout(()=>{},600)"], { stdio: "ignore" });
    const w = new WeftdProcess(child, weftdPaths(dir, "n"), "n", { logFile: log });
    setTimeout(() => appendFileSync(log, '{"msg":"weftd is ready"}\n'), 150);
    await w.ready({ timeoutMs: 5000 });
    assert.equal(w.messages(), ["one", "weftd is ready"]);
    await w.stop();
    assert.not.ok(w.running);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
