/**
 * Test doubles for code that uses @weft/iproute: {@linkcode FakeIpRoute} implements `IpRoute`
 * with the kernel's semantics (a route needs its device and a reachable gateway, names are
 * unique, a veth peer can live in another fake namespace) and throws the same error kinds.
 *
 * @example
 * ```ts
 * import { FakeIpRoute } from "@weft/iproute/testing";
 * const ip = new FakeIpRoute();
 * await ip.link.add({ type: "bridge", name: "cni0", up: true });
 * console.log(ip.dump());
 * ```
 *
 * @module
 */
export * from "./fake_ip_route.ts";
export * from "./fake_ip_session.ts";
