import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, withNetns } from "@weft/testutils";
import { execIn, inNetns, spawnIn, stopProcess } from "./netns_exec.ts";

const unit = suite("netns_exec");
unit("inNetns() prefixes argv with ip netns exec", () => {
  assert.equal(inNetns("x", ["ip", "link"]), ["ip", "netns", "exec", "x", "ip", "link"]);
});
unit("stopProcess() kills a detached, unref'd child that ignores SIGTERM and resolves once it has exited", async () => {
  const { spawn } = await import("node:child_process");
  const child = spawn("sh", ["-c", "trap '' TERM; echo up; sleep 30"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  child.unref();
  await new Promise((r) => child.stdout!.once("data", r));
  await stopProcess(child, { graceMs: 100 });
  assert.is(child.signalCode, "SIGKILL");
});
unit.run();

const test = kernelTest(suite("netns_exec kernel"), { needs: ["root", "ip"] });
test("execIn() runs inside the namespace and reports stderr on failure", async () => {
  await withNetns("ex", async (ns) => {
    const out = await execIn(ns, ["ip", "-br", "link"]);
    assert.match(out, /^lo\s/m);
    assert.not.match(out, /eth0/);
    await execIn(ns, ["ip", "link", "show", "nope0"]).then(
      () => assert.unreachable(),
      (err: Error) => assert.match(err.message, /nope0/),
    );
  });
});
test("stopProcess() ends a process started with spawnIn()", async () => {
  await withNetns("ex", async (ns) => {
    const child = spawnIn(ns, ["sleep", "30"]);
    await new Promise((r) => child.once("spawn", r));
    await stopProcess(child);
    assert.is(child.signalCode, "SIGTERM");
  });
});
test.run();
