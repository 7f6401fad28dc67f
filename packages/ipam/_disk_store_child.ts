// Private test helper, run by disk_ipam_store_test in a child process (fork, IPC):
//   argv: <dir> <subnet> <containerId prefix> <count> <allocate|release>
// It opens its own DiskIpamStore, says "ready", waits for "go", then allocates (or releases) `count`
// attachments concurrently and replies with the addresses.
import { DiskIpamStore } from "./disk_ipam_store.ts";
import { PodIpAllocator } from "./pod_ip_allocator.ts";

const [dir, subnet, prefix, countText, mode] = process.argv.slice(2);
if (!dir || !subnet || !prefix || !countText || (mode !== "allocate" && mode !== "release")) {
  throw new TypeError("usage: _disk_store_child.ts <dir> <subnet> <prefix> <count> <allocate|release>");
}
const count = Number(countText);
const store = new DiskIpamStore(dir);
const alloc = new PodIpAllocator(store, { ranges: [{ subnet }] });
await store.list(); // load the index before the race starts
process.send!("ready");
process.once("message", async () => {
  const ids = Array.from({ length: count }, (_, i) => ({ containerId: `${prefix}-${i}`, ifname: "eth0" }));
  try {
    const addresses =
      mode === "allocate"
        ? (await Promise.all(ids.map((id) => alloc.allocate(id)))).map((r) => r.ip.address)
        : (await Promise.all(ids.map((id) => alloc.release(id)))).flat().map((ip) => ip.address);
    process.send!({ addresses }, () => process.exit(0));
  } catch (err) {
    process.send!({ error: String((err as Error)?.stack ?? err) }, () => process.exit(1));
  }
});
