// The binary kubelet's runtime runs, end to end: the C forwarder, the framed socket protocol, the
// CNI server and the pod network, on the real kernel in namespaces the tests create.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createCniServer, createPodNetwork } from "@weft/cni";
import { ALL_SPEC_VERSIONS } from "@weft/cni/testing";
import { kernelTest, sh } from "@weft/testutils";
import { MAIN, ensureForwarder, makeNode, runCni, type Node } from "./_test_helpers.ts";

const test = kernelTest(suite("weft-cni binary"), { needs: ["root", "ip", "cc"] });

async function withServer<T>(node: Node, fn: () => Promise<T>): Promise<T> {
  ensureForwarder();
  const plugin = createPodNetwork({ hostNetns: node.host });
  const server = createCniServer({ socketPath: node.socket, plugin });
  await server.start();
  try {
    return await fn();
  } finally {
    await server.stop();
  }
}

const ipFiles = (node: Node) => {
  const d = join(node.dir, "ipam", "cbr0");
  return existsSync(d) ? readdirSync(d).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
};

test("the forwarder answers CNI error 11 naming the socket when no server listens", async () => {
  ensureForwarder();
  const node = await makeNode();
  try {
    for (const v of ALL_SPEC_VERSIONS) {
      const r = await runCni(node, "ADD", { id: "x", netns: "/run/netns/none" }, node.conf({ cniVersion: v }));
      assert.is(r.exitCode, 1);
      const e = JSON.parse(r.stdout);
      assert.equal([e.cniVersion, e.code], [v, 11]);
      assert.match(e.msg, node.socket);
    }
  } finally {
    await node.cleanup();
  }
});

test("spec errors through the binary: bad env, bad JSON, unknown version, bad container ID and ifname, for every version", async () => {
  const node = await makeNode();
  try {
    await withServer(node, async () => {
      for (const v of ALL_SPEC_VERSIONS) {
        const conf = node.conf({ cniVersion: v });
        const code = async (cmd: string, env: Parameters<typeof runCni>[2], c: Record<string, unknown> | string = conf) => {
          const r = await runCni(node, cmd, env, c);
          assert.is(r.exitCode, 1, `${cmd} ${JSON.stringify(env)} ${v}`);
          return JSON.parse(r.stdout) as { code: number; msg: string; cniVersion: string };
        };
        const missing = await code("ADD", { ifname: "eth0" });
        assert.equal([missing.code, missing.msg, missing.cniVersion], [4, "required env variables [CNI_CONTAINERID,CNI_NETNS] missing", v]);
        assert.is((await code("FOO", { id: "x", netns: "/x" })).code, 4);
        assert.is((await code("ADD", { id: "x", netns: "/x" }, "{bad")).code, 6);
        assert.is((await code("ADD", { id: "x", netns: "/x" }, node.conf({ cniVersion: "9.9.9" }))).code, 1);
        assert.equal(await code("ADD", { id: "bad/id", netns: "/x" }).then((e) => [e.code, e.msg]), [4, "invalid characters in containerID"]);
        assert.equal(await code("ADD", { id: "x", netns: "/x", ifname: "abcdefghijklmnop" }).then((e) => [e.code, e.msg]), [4, "interface name is too long"]);
        assert.is((await code("ADD", { id: "x", netns: "/x", extra: { CNI_ARGS: "FOO=bar" } })).code, 4);
        const ver = await runCni(node, "VERSION", {}, JSON.stringify({ cniVersion: v }));
        assert.equal(JSON.parse(ver.stdout), { cniVersion: v, supportedVersions: [...ALL_SPEC_VERSIONS] });
      }
      const about = await runCni(node, "", {}, "");
      assert.equal([about.exitCode, about.stdout], [0, ""]);
      assert.match(about.stderr, "CNI protocol versions supported");
    });
  } finally {
    await node.cleanup();
  }
});

test("ADD, CHECK and DEL through the binary, with Kubernetes CNI_ARGS, for every version", async () => {
  const node = await makeNode();
  try {
    await withServer(node, async () => {
      for (const v of ALL_SPEC_VERSIONS) {
        const pod = await node.pod();
        const conf = node.conf({ cniVersion: v });
        const args = { CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=c" };
        const add = await runCni(node, "ADD", { id: `c-${v}`, netns: pod, extra: args }, conf);
        assert.is(add.exitCode, 0, add.stdout);
        const res = JSON.parse(add.stdout);
        assert.is(res.cniVersion, v);
        assert.is(res.interfaces.length, 3);
        assert.is(res.interfaces[2].sandbox, `/run/netns/${pod}`);
        assert.match(await sh(["ip", "-n", pod, "-br", "addr", "show", "dev", "eth0"]), res.ips[0].address);
        if (v !== "0.3.0" && v !== "0.3.1") {
          const check = await runCni(node, "CHECK", { id: `c-${v}`, netns: pod, extra: args }, { ...conf, prevResult: res });
          assert.equal([check.exitCode, check.stdout], [0, ""]);
        }
        const del = await runCni(node, "DEL", { id: `c-${v}`, netns: pod, extra: args }, { ...conf, prevResult: res });
        assert.equal([del.exitCode, del.stdout], [0, ""]);
        assert.is((await runCni(node, "DEL", { id: `c-${v}`, netns: pod }, conf)).exitCode, 0, "DEL twice");
      }
      assert.equal(ipFiles(node), []);
    });
  } finally {
    await node.cleanup();
  }
});

function startServerProcess(node: Node): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--conditions=@weft/source", "--import=tsx", MAIN, "serve", "--socket", node.socket, "--host-netns", node.host], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (err.includes("serving on")) {
        clearInterval(poll);
        resolve(child);
      } else if (child.exitCode !== null || Date.now() - started > 20_000) {
        clearInterval(poll);
        child.kill("SIGKILL");
        reject(new Error(`server did not start: ${err}`));
      }
    }, 50);
  });
}

test("the server killed and restarted between ADD and DEL: CHECK and DEL still work from the state on disk", async () => {
  ensureForwarder();
  const node = await makeNode();
  let server: ChildProcess | undefined;
  try {
    server = await startServerProcess(node);
    const pod = await node.pod();
    const conf = node.conf({ cniVersion: "1.1.0" });
    const add = await runCni(node, "ADD", { id: "r1", netns: pod }, conf);
    assert.is(add.exitCode, 0, add.stdout);
    server.kill("SIGKILL");
    await new Promise((r) => server!.once("exit", r));
    const down = await runCni(node, "CHECK", { id: "r1", netns: pod }, { ...conf, prevResult: JSON.parse(add.stdout) });
    assert.is(JSON.parse(down.stdout).code, 11);
    server = await startServerProcess(node);
    const check = await runCni(node, "CHECK", { id: "r1", netns: pod }, { ...conf, prevResult: JSON.parse(add.stdout) });
    assert.equal([check.exitCode, check.stdout], [0, ""]);
    const dup = await runCni(node, "ADD", { id: "r1", netns: pod }, conf);
    assert.is(JSON.parse(dup.stdout).code, 103, "the restarted server still knows the reservation");
    assert.is((await runCni(node, "DEL", { id: "r1", netns: pod }, conf)).exitCode, 0);
    assert.equal(ipFiles(node), []);
    // the veth goes in the background: wait (bounded) for it
    for (let i = 0; i < 100 && (await sh(["ip", "-n", node.host, "-o", "link", "show", "type", "veth"])).trim() !== ""; i++) await new Promise((r) => setTimeout(r, 50));
    assert.is((await sh(["ip", "-n", node.host, "-o", "link", "show", "type", "veth"])).trim(), "");
  } finally {
    server?.kill("SIGTERM");
    if (server && server.exitCode === null) await new Promise((r) => server!.once("exit", r));
    await node.cleanup();
  }
});

test.run();
