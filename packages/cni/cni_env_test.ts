import { test } from "uvu";
import * as assert from "uvu/assert";
import { readCniEnv, validateIfname } from "./cni_env.ts";

const base = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: "/run/netns/p", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin" };

function codeOf(fn: () => unknown): [number, string] {
  try {
    fn();
  } catch (err) {
    return [(err as { code: number }).code, (err as Error).message];
  }
  throw new Error("expected a throw");
}

test("readCniEnv() reads every variable of an ADD", () => {
  const env = readCniEnv({ ...base, CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=a" });
  assert.is(env.command, "ADD");
  assert.is(env.containerId, "c1");
  assert.is(env.netns, "/run/netns/p");
  assert.equal(env.path, ["/opt/cni/bin"]);
  assert.equal(env.args[1], ["K8S_POD_NAME", "a"]);
});

test("readCniEnv() lists every missing variable in one code-4 error", () => {
  assert.equal(codeOf(() => readCniEnv({ CNI_COMMAND: "ADD" })), [4, "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing"]);
  assert.equal(codeOf(() => readCniEnv({ CNI_COMMAND: "CHECK", CNI_CONTAINERID: "x" })), [4, "required env variables [CNI_NETNS,CNI_IFNAME] missing"]);
});

test("readCniEnv() lets DEL run without CNI_NETNS", () => {
  assert.is(readCniEnv({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "c", CNI_IFNAME: "eth0" }).netns, "");
});

test("readCniEnv() needs nothing but the command for VERSION, STATUS and GC", () => {
  for (const c of ["VERSION", "STATUS", "GC"]) assert.is(readCniEnv({ CNI_COMMAND: c }).command, c);
});

test("readCniEnv() refuses an unknown command with code 4", () => {
  assert.equal(codeOf(() => readCniEnv({ ...base, CNI_COMMAND: "FOO" })), [4, "unknown CNI_COMMAND: FOO"]);
});

test("readCniEnv() refuses a container ID with invalid characters with code 4", () => {
  assert.equal(codeOf(() => readCniEnv({ ...base, CNI_CONTAINERID: "bad/id" })), [4, "invalid characters in containerID"]);
  assert.equal(codeOf(() => readCniEnv({ ...base, CNI_CONTAINERID: "-lead" })), [4, "invalid characters in containerID"]);
});

test("validateIfname() refuses long, dot, slash, colon and whitespace names with code 4", () => {
  assert.equal(codeOf(() => validateIfname("abcdefghijklmnop")), [4, "interface name is too long"]);
  assert.equal(codeOf(() => validateIfname("..")), [4, "interface name is . or .."]);
  for (const bad of ["a/b", "a:b", "a b", "a\tb"]) assert.is(codeOf(() => validateIfname(bad))[0], 4);
  validateIfname("abcdefghijklmno");
});

test.run();
