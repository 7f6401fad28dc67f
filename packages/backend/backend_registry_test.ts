import { test } from "uvu";
import * as assert from "uvu/assert";
import { BackendRegistry, UnknownBackendError } from "./backend_registry.ts";
import type { Backend, BackendDeps, BackendFactory } from "./types.ts";

const deps = { externalInterface: { name: "eth0", index: 2, mtu: 1500 } } as unknown as BackendDeps;
const factory = (type: string): BackendFactory => () => ({ type, registerNetwork: () => Promise.reject(new Error("unused")) }) as Backend;

test("BackendRegistry.create() finds a backend by Backend.Type case-insensitively", () => {
  const registry = new BackendRegistry({ vxlan: factory("vxlan"), "Host-GW": factory("host-gw") });
  assert.is(registry.create("VXLAN", deps).type, "vxlan");
  assert.is(registry.create("host-gw", deps).type, "host-gw");
  assert.equal(registry.types(), ["host-gw", "vxlan"]);
  assert.ok(registry.has("Host-Gw"));
});

test("BackendRegistry.create() throws UnknownBackendError naming the type and the known ones", () => {
  const registry = new BackendRegistry({ vxlan: factory("vxlan") });
  try {
    registry.create("wireguard", deps);
    assert.unreachable("should throw");
  } catch (err) {
    assert.instance(err, UnknownBackendError);
    const e = err as UnknownBackendError;
    assert.is(e.type, "wireguard");
    assert.equal(e.known, ["vxlan"]);
    assert.is(e.message, 'Cannot create backend: unknown backend type "wireguard" (known: vxlan)');
  }
});

test("BackendRegistry.register() accepts a third-party backend and refuses duplicates", () => {
  const registry = new BackendRegistry();
  registry.register("example", factory("example"));
  assert.is(registry.create("Example", deps).type, "example");
  assert.throws(() => registry.register("EXAMPLE", factory("example")), /already registered/);
  assert.throws(() => registry.register(" ", factory("x")), (e: unknown) => e instanceof TypeError);
});

test("BackendRegistry.create() refuses a factory that returns another type", () => {
  const registry = new BackendRegistry({ vxlan: factory("udp") });
  assert.throws(() => registry.create("vxlan", deps), /returned a backend of type "udp"/);
});

test("BackendRegistry.create() passes the deps to the factory", () => {
  let seen: BackendDeps | undefined;
  const registry = new BackendRegistry({ x: (d) => ((seen = d), factory("x")(d)) });
  registry.create("x", deps);
  assert.is(seen, deps);
});

test.run();
