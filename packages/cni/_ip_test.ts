import { test } from "uvu";
import * as assert from "uvu/assert";
import { inNetnsArgv, ipArgv, ipBatch, isExists, isNotFound, type Exec } from "./_ip.ts";

test("ipArgv() uses -n for names and /run/netns paths, nsenter for other paths", () => {
  assert.equal(ipArgv(undefined, ["link"]), ["ip", ["link"]]);
  assert.equal(ipArgv("pod1", ["link"]), ["ip", ["-n", "pod1", "link"]]);
  assert.equal(ipArgv("/var/run/netns/cni-1", ["link"]), ["ip", ["-n", "cni-1", "link"]]);
  assert.equal(ipArgv("/proc/42/ns/net", ["link"]), ["nsenter", ["--net=/proc/42/ns/net", "ip", "link"]]);
  assert.equal(inNetnsArgv("h", "sysctl", ["-w", "x=1"]), ["nsenter", ["--net=/run/netns/h", "sysctl", "-w", "x=1"]]);
});

test("ipBatch() sends every line on stdin of one ip -batch run", async () => {
  const calls: Array<[string, readonly string[], string | undefined]> = [];
  const exec: Exec = async (f, a, i) => (calls.push([f, a, i]), "");
  await ipBatch(exec, "ns1", ["link set lo up", "addr add 10.0.0.1/24 dev lo"]);
  assert.equal(calls, [["ip", ["-n", "ns1", "-batch", "-"], "link set lo up\naddr add 10.0.0.1/24 dev lo\n"]]);
});

test("isExists() and isNotFound() classify iproute2 messages", () => {
  assert.ok(isExists(new Error("RTNETLINK answers: File exists")));
  assert.ok(isNotFound(new Error('Cannot find device "eth0"')));
  assert.not.ok(isNotFound(new Error("RTNETLINK answers: File exists")));
});

test.run();
