import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkRequestedMac, requestedIps, requestedMac } from "./_pod_requests.ts";

const env = (args: Array<[string, string]> = []) => ({ args });
const fails = (fn: () => unknown, code: number, text: string | RegExp) => {
  try {
    fn();
  } catch (err) {
    const e = err as { code: number; message: string };
    assert.is(e.code, code, e.message);
    assert.match(e.message, text);
    return;
  }
  assert.unreachable("expected an error");
};

test("requestedIps() merges CNI_ARGS IP (comma list), args.cni.ips and runtimeConfig.ips in host-local's order", () => {
  const reqs = requestedIps(env([["IgnoreUnknown", "1"], ["IP", "10.244.0.5, fd00:10:0:0::5"]]), {
    args: { cni: { ips: ["10.244.0.6/24"] } },
    runtimeConfig: { ips: ["FD00:10::7"] },
  });
  assert.equal(reqs.map((r) => [r.field, r.ip.address, r.prefixLength, r.code]), [
    ["CNI_ARGS IP", "10.244.0.5", undefined, 4],
    ["CNI_ARGS IP", "fd00:10::5", undefined, 4],
    ["args.cni.ips[0]", "10.244.0.6", 24, 7],
    ["runtimeConfig.ips[0]", "fd00:10::7", undefined, 7],
  ]);
});

test("requestedIps() is empty without requests and ignores an empty IP= and unrelated args", () => {
  assert.equal(requestedIps(env(), {}), []);
  assert.equal(requestedIps(env([["IP", ""]]), { args: { foo: 1 }, runtimeConfig: { portMappings: [] } }), []);
});

test("requestedIps() names the field and the value of a bad entry: code 4 for CNI_ARGS, 7 for the config", () => {
  fails(() => requestedIps(env([["IP", "10.244.0.300"]]), {}), 4, /^CNI_ARGS IP=10\.244\.0\.300: not an IP address/);
  fails(() => requestedIps(env([["IP", "10.244.0.5,"]]), {}), 4, /^CNI_ARGS IP=: not an IP address/);
  fails(() => requestedIps(env(), { runtimeConfig: { ips: ["10.244.0.5/33"] } }), 7, /^runtimeConfig\.ips\[0\]=10\.244\.0\.5\/33: prefix length "33"/);
  fails(() => requestedIps(env(), { args: { cni: { ips: "10.244.0.5" } } }), 7, 'invalid network config: "args.cni.ips" must be a list of IP strings, got "10.244.0.5"');
  fails(() => requestedIps(env(), { runtimeConfig: { ips: [5] } }), 7, 'invalid network config: "runtimeConfig.ips[0]" must be an IP string, got 5');
});

test("requestedMac() takes CNI_ARGS MAC, then args.cni.mac, then runtimeConfig.mac: the last one set wins", () => {
  assert.is(requestedMac(env(), {}), undefined);
  assert.is(requestedMac(env([["MAC", "0A:58:0A:F4:00:09"]]), {}), "0a:58:0a:f4:00:09");
  assert.is(requestedMac(env([["MAC", "0a:58:0a:f4:00:09"]]), { args: { cni: { mac: "0a-58-0a-f4-00-0a" } } }), "0a:58:0a:f4:00:0a");
  assert.is(requestedMac(env([["MAC", "0a:58:0a:f4:00:09"]]), { args: { cni: { mac: "0a:58:0a:f4:00:0a" } }, runtimeConfig: { mac: "0a:58:0a:f4:00:0b" } }), "0a:58:0a:f4:00:0b");
  assert.is(requestedMac(env([["MAC", "0a:58:0a:f4:00:09"]]), { runtimeConfig: { mac: "" } }), "0a:58:0a:f4:00:09", "an empty value is not set");
});

test("checkRequestedMac() refuses malformed, multicast and all-zero MACs, naming the field and the value", () => {
  fails(() => checkRequestedMac("CNI_ARGS MAC", "zz:58:0a:f4:00:09", 4), 4, "CNI_ARGS MAC=zz:58:0a:f4:00:09: not a MAC address");
  fails(() => checkRequestedMac("CNI_ARGS MAC", "0a:58:0a:f4:00", 4), 4, "not a MAC address");
  fails(() => checkRequestedMac("CNI_ARGS MAC", "0a:58-0a:f4:00:09", 4), 4, "not a MAC address");
  fails(() => checkRequestedMac("runtimeConfig.mac", "01:00:5e:00:00:01", 7), 7, "runtimeConfig.mac=01:00:5e:00:00:01: a multicast MAC address");
  fails(() => checkRequestedMac("runtimeConfig.mac", "00:00:00:00:00:00", 7), 7, "all-zero");
  // every value given is checked, even one a later source overrides
  fails(() => requestedMac(env([["MAC", "ff:ff:ff:ff:ff:ff"]]), { runtimeConfig: { mac: "0a:58:0a:f4:00:0b" } }), 4, "CNI_ARGS MAC=ff:ff:ff:ff:ff:ff");
  fails(() => requestedMac(env(), { args: { cni: { mac: 42 } } }), 7, '"args.cni.mac" must be a MAC string');
});

test.run();
