import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { callCniServer } from "./cni_client.ts";
import { createCniServer } from "./cni_server.ts";
import { RecordingPlugin } from "./testing.ts";

const conf = JSON.stringify({ cniVersion: "1.0.0", name: "n" });
const env = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c", CNI_NETNS: "/run/netns/x", CNI_IFNAME: "eth0" };

test("createCniServer() answers framed requests on a 0600 socket", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weft-srv-"));
  const socketPath = join(dir, "sub", "cni.sock");
  const plugin = new RecordingPlugin();
  const server = createCniServer({ socketPath, plugin });
  await server.start();
  try {
    assert.is(statSync(socketPath).mode & 0o777, 0o600);
    const rs = await Promise.all(Array.from({ length: 20 }, () => callCniServer(socketPath, { env, stdin: conf })));
    for (const r of rs) assert.is(r.exitCode, 0);
    assert.is(JSON.parse(rs[0]!.stdout).ips[0].address, "10.0.0.2/24");
    assert.is(plugin.calls.length, 20);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("createCniServer() refuses to start over a live server and replaces a stale socket", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weft-srv-"));
  const socketPath = join(dir, "cni.sock");
  const a = createCniServer({ socketPath, plugin: new RecordingPlugin() });
  await a.start();
  const b = createCniServer({ socketPath, plugin: new RecordingPlugin() });
  try {
    await b.start().then(() => assert.unreachable("second start should fail"), (e: Error) => assert.match(e.message, /another server answers/));
  } finally {
    await a.stop();
  }
  await b.start(); // the file is gone now
  await b.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("createCniServer() drops a connection that never completes its frame", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weft-srv-"));
  const socketPath = join(dir, "cni.sock");
  const server = createCniServer({ socketPath, plugin: new RecordingPlugin(), readTimeoutMs: 50 });
  await server.start();
  try {
    const closed = await new Promise<boolean>((resolve) => {
      const c = createConnection(socketPath, () => c.write(Buffer.from([0, 0, 1, 0])));
      c.on("close", () => resolve(true));
      setTimeout(() => resolve(false), 2000);
    });
    assert.ok(closed);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
