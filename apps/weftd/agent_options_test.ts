import { test } from "uvu";
import * as assert from "uvu/assert";
import { AgentOptionsError, agentHelp, AGENT_FLAGS, parseAgentOptions } from "./agent_options.ts";

const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const cmd = parseAgentOptions(argv, { env });
  if (cmd.kind !== "run") throw new Error(`expected run, got ${cmd.kind}`);
  return cmd.options;
};

test("parseAgentOptions() gives flannel's defaults", () => {
  const o = run([]);
  assert.is(o.subnetFile, "/run/flannel/subnet.env");
  assert.is(o.netConfigPath, "/etc/kube-flannel/net-conf.json");
  assert.is(o.subnetLeaseRenewMarginMin, 60);
  assert.is(o.healthzIp, "0.0.0.0");
  assert.is(o.healthzPort, 0);
  assert.is(o.ipMasq, false);
  assert.is(o.kubeAnnotationPrefix, "flannel.alpha.coreos.com");
  assert.equal(o.iface, []);
  assert.is(o.leaseStore, "redis");
});

test("parseAgentOptions() reads flags, repeated flags and --kube-subnet-mgr", () => {
  const o = run(["--iface", "eth0", "--iface", "10.0.0.1", "--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081"]);
  assert.equal(o.iface, ["eth0", "10.0.0.1"]);
  assert.is(o.ipMasq, true);
  assert.is(o.leaseStore, "kube");
  assert.is(o.healthzPort, 8081);
});

test("parseAgentOptions() takes WEFTD_ and FLANNELD_ variables, and the command line wins", () => {
  const o = run(["--subnet-file", "/a"], { WEFTD_SUBNET_FILE: "/b", FLANNELD_IP_MASQ: "true", WEFTD_HEALTHZ_PORT: "9000", NODE_NAME: "n1" });
  assert.is(o.subnetFile, "/a");
  assert.is(o.ipMasq, true);
  assert.is(o.healthzPort, 9000);
  assert.is(o.nodeName, "n1");
});

test("parseAgentOptions() names the flag in every error", () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [["--subnet-lease-renew-margin", "0"], {}, /--subnet-lease-renew-margin: must be between 1 and 1439/],
    [["--healthz-port", "abc"], {}, /--healthz-port: expected a whole number/],
    [["--lease-store", "etcd"], {}, /--lease-store: expected kube or redis/],
    [["--iface-regex", "("], {}, /--iface-regex: "\(" is not a valid regular expression/],
    [[], { WEFTD_IP_MASQ: "maybe" }, /--ip-masq: expected true or false/],
    [["--no-such-flag"], {}, /no-such-flag/],
  ];
  for (const [argv, env, re] of cases) {
    try {
      parseAgentOptions(argv, { env });
      assert.unreachable(`${argv.join(" ")} should fail`);
    } catch (err) {
      assert.instance(err, AgentOptionsError);
      assert.match((err as Error).message, re);
    }
  }
});

test("agentHelp() documents every flag with its environment variable and default", () => {
  const help = agentHelp();
  for (const name of Object.keys(AGENT_FLAGS)) assert.match(help, `--${name}`);
  assert.match(help, "env WEFTD_SUBNET_FILE or FLANNELD_SUBNET_FILE; default: /run/flannel/subnet.env");
  assert.equal(parseAgentOptions(["--help"], { env: {} }), { kind: "help" });
});

test.run();
