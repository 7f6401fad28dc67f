import { test } from "uvu";
import * as assert from "uvu/assert";
import { runIpamStoreSuite } from "./_ipam_store_suite.ts";
import { MemoryIpamStore } from "./memory_ipam_store.ts";
import { parseIp } from "./parse_ip.ts";
import type { IpamStore } from "./types.ts";

runIpamStoreSuite("MemoryIpamStore", async () => new MemoryIpamStore());

test("MemoryIpamStore can be seeded with reservations (including old-format, id-only ones) and last reserved addresses", async () => {
  const store: IpamStore = new MemoryIpamStore({
    reservations: [
      { ip: parseIp("10.0.0.2"), containerId: "old", ifname: undefined },
      { ip: parseIp("10.0.0.3"), containerId: "new", ifname: "eth0" },
    ],
    lastReserved: { 0: parseIp("10.0.0.3") },
  });
  assert.equal(await store.lastReserved(0), parseIp("10.0.0.3"));
  assert.equal((await store.findByAttachment({ containerId: "old", ifname: "eth9" })).map((r) => r.ip.address), ["10.0.0.2"]);
  assert.is(await store.reserve(parseIp("10.0.0.2"), { containerId: "x", ifname: "eth0" }), false);
  assert.is(await store.release(parseIp("10.0.0.2"), { owner: { containerId: "old", ifname: "eth0" } }), true);
});

test.run();
