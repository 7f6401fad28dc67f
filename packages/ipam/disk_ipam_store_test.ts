import { test } from "uvu";
import * as assert from "uvu/assert";
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { runIpamStoreSuite } from "./_ipam_store_suite.ts";
import { att } from "./_test_helpers.ts";
import { DiskIpamStore } from "./disk_ipam_store.ts";
import { parseIp } from "./parse_ip.ts";
import { PodIpAllocator, RangeSetExhaustedError } from "./pod_ip_allocator.ts";

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "weft-ipam-"));
  dirs.push(d);
  return join(d, "cbr0");
}
const ipFiles = async (dir: string) => (await readdir(dir)).filter((n) => /^[0-9a-f.:]+$/.test(n)).sort();

runIpamStoreSuite("DiskIpamStore", async () => new DiskIpamStore(await tempDir()));

test.after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test("DiskIpamStore writes host-local's format: <dir>/<ip> = id\\r\\nifname, last_reserved_ip.<n>", async () => {
  const dir = await tempDir();
  const store = new DiskIpamStore(dir);
  await store.reserve(parseIp("10.1.2.2"), att("  dummy\n "));
  await store.reserve(parseIp("2001:db8:1::2"), att("dummy"), { rangeSetIndex: 1 });
  assert.is(await readFile(join(dir, "10.1.2.2"), "utf8"), "dummy\r\neth0");
  assert.is(await readFile(join(dir, "2001:db8:1::2"), "utf8"), "dummy\r\neth0");
  assert.is(await readFile(join(dir, "last_reserved_ip.0"), "utf8"), "10.1.2.2");
  assert.is(await readFile(join(dir, "last_reserved_ip.1"), "utf8"), "2001:db8:1::2");
  assert.is((await stat(join(dir, "10.1.2.2"))).mode & 0o777, 0o600);
  assert.equal((await readdir(dir)).sort(), ["10.1.2.2", "2001:db8:1::2", "last_reserved_ip.0", "last_reserved_ip.1"]);
  await store.release(parseIp("10.1.2.2"));
  assert.equal((await readdir(dir)).sort(), ["2001:db8:1::2", "last_reserved_ip.0", "last_reserved_ip.1"]);
});

test("DiskIpamStore reads state written by others, including old id-only files, and ignores other files", async () => {
  const dir = await tempDir();
  await new DiskIpamStore(dir).list(); // creates the directory
  await writeFile(join(dir, "10.1.2.7"), "probe1\r\neth0");
  await writeFile(join(dir, "10.1.2.8"), "oldstyle");
  await writeFile(join(dir, "last_reserved_ip.0"), "10.1.2.8");
  await writeFile(join(dir, "lock"), "");
  await writeFile(join(dir, "010.1.2.9"), "junk");
  const store = new DiskIpamStore(dir);
  assert.equal((await store.list()).map((r) => [r.ip.address, r.containerId, r.ifname]), [
    ["10.1.2.7", "probe1", "eth0"],
    ["10.1.2.8", "oldstyle", undefined],
  ]);
  assert.equal(await store.lastReserved(0), parseIp("10.1.2.8"));
  const alloc = new PodIpAllocator(store, { ranges: [{ subnet: "10.1.2.0/24" }] });
  assert.is((await alloc.allocate(att("next"))).ip.address, "10.1.2.9");
  assert.equal((await alloc.release(att("oldstyle"))).map((i) => i.address), ["10.1.2.8"]);
  assert.equal(await ipFiles(dir), ["010.1.2.9", "10.1.2.7", "10.1.2.9"]); // the junk file is left alone
});

test("DiskIpamStore: a stale index costs a retry, never a double allocation (two stores on one directory)", async () => {
  const dir = await tempDir();
  const s1 = new DiskIpamStore(dir);
  const s2 = new DiskIpamStore(dir);
  const a1 = new PodIpAllocator(s1, { ranges: [{ subnet: "10.3.0.0/29" }] });
  const a2 = new PodIpAllocator(s2, { ranges: [{ subnet: "10.3.0.0/29" }] });
  await s1.list();
  await s2.list(); // both indexes loaded while empty
  assert.is((await a1.allocate(att("x"))).ip.address, "10.3.0.2");
  // s2 does not know .2 is taken; its exclusive create fails, it learns and moves on
  assert.is((await a2.allocate(att("y"), {})).ip.address, "10.3.0.3");
  assert.is(await s2.reserve(parseIp("10.3.0.2"), att("z")), false);
  // s2 finds x (made by s1) for CHECK/DEL after re-reading
  assert.equal((await a2.find(att("x"))).map((i) => i.address), ["10.3.0.2"]);
  assert.equal((await a2.release(att("x"))).map((i) => i.address), ["10.3.0.2"]);
  // fill up through s1: its index still says .2 (freed by s2) is taken; the re-read at the end finds it
  const filled = [];
  for (const id of ["p", "q", "r", "s"]) filled.push((await a1.allocate(att(id))).ip.address);
  assert.equal(filled, ["10.3.0.4", "10.3.0.5", "10.3.0.6", "10.3.0.2"]);
  assert.instance(await a1.allocate(att("full")).catch((e: unknown) => e), RangeSetExhaustedError);
  await a2.release(att("q"));
  assert.is((await a1.allocate(att("after"))).ip.address, "10.3.0.5");
  assert.equal(await ipFiles(dir), ["10.3.0.2", "10.3.0.3", "10.3.0.4", "10.3.0.5", "10.3.0.6"]);
});

test("DiskIpamStore.release() with an owner does not free an address that was re-allocated to someone else", async () => {
  const dir = await tempDir();
  const s1 = new DiskIpamStore(dir);
  const s2 = new DiskIpamStore(dir);
  await s1.reserve(parseIp("10.0.0.5"), att("a"));
  await s2.list();
  await s1.release(parseIp("10.0.0.5"));
  await s1.reserve(parseIp("10.0.0.5"), att("b"));
  // s2's index (loaded before) says a holds .5; the release checks the file first
  assert.is(await s2.release(parseIp("10.0.0.5"), { owner: att("a") }), false);
  assert.is(await readFile(join(dir, "10.0.0.5"), "utf8"), "b\r\neth0");
});

test("DiskIpamStore keeps last_reserved_ip.<n> current when the file is replaced or removed under it", async () => {
  const dir = await tempDir();
  const store = new DiskIpamStore(dir);
  await store.reserve(parseIp("10.0.0.2"), att("a"));
  await writeFile(join(dir, "tmp"), "10.0.0.50");
  await rename(join(dir, "tmp"), join(dir, "last_reserved_ip.0"));
  await store.reserve(parseIp("10.0.0.3"), att("b"));
  assert.is(await readFile(join(dir, "last_reserved_ip.0"), "utf8"), "10.0.0.3");
  await rm(join(dir, "last_reserved_ip.0"));
  await store.reserve(parseIp("10.0.0.4"), att("c"));
  assert.equal(await store.lastReserved(0), parseIp("10.0.0.4"));
  // host-local rewrites it in place (os.WriteFile): we read its value
  await writeFile(join(dir, "last_reserved_ip.0"), "10.0.0.77");
  assert.equal(await store.lastReserved(0), parseIp("10.0.0.77"));
  await store.reserve(parseIp("10.0.0.5"), att("d"));
  assert.is(await readFile(join(dir, "last_reserved_ip.0"), "utf8"), "10.0.0.5");
  await store.close();
});

test("DiskIpamStore rejects addresses that are not canonical IpAddr values (no path tricks)", async () => {
  const store = new DiskIpamStore(await tempDir());
  for (const bad of [{ family: 4, address: "../x" }, { family: 4, address: "010.0.0.1" }, { family: 6, address: "2001:DB8::1" }, { family: 6, address: "10.0.0.1" }]) {
    const err = await store.reserve(bad as never, att("a")).catch((e: unknown) => e);
    assert.instance(err, TypeError, JSON.stringify(bad));
    assert.instance(await store.release(bad as never).catch((e: unknown) => e), TypeError);
  }
  assert.equal(await store.list(), []);
  await store.close();
});

test("gc() on a disk store re-reads every owner (an address re-taken by another process is judged by its new holder)", async () => {
  const dir = await tempDir();
  const s1 = new DiskIpamStore(dir);
  const s2 = new DiskIpamStore(dir);
  await s1.reserve(parseIp("10.0.0.5"), att("a"));
  await s1.reserve(parseIp("10.0.0.6"), att("keep-me"));
  await s2.list(); // s2 believes a holds .5
  await s1.release(parseIp("10.0.0.5"));
  await s1.reserve(parseIp("10.0.0.5"), att("b"));
  await s1.reserve(parseIp("10.0.0.7"), att("c"));
  const a2 = new PodIpAllocator(s2, { ranges: [{ subnet: "10.0.0.0/24" }] });
  const freed = await a2.gc([att("a"), att("keep-me")]);
  assert.equal(freed.map((i) => i.address), ["10.0.0.5", "10.0.0.7"]);
  assert.equal(await ipFiles(dir), ["10.0.0.6"]);
  await s1.close();
  await s2.close();
});

test("DiskIpamStore: concurrent allocate() in one process on one allocator gives distinct addresses", async () => {
  const dir = await tempDir();
  const alloc = new PodIpAllocator(new DiskIpamStore(dir), { ranges: [{ subnet: "10.8.0.0/24" }] });
  const got = await Promise.all(Array.from({ length: 100 }, (_, i) => alloc.allocate(att(`c${i}`))));
  assert.is(new Set(got.map((g) => g.ip.address)).size, 100);
  assert.is((await ipFiles(dir)).length, 100);
});

test("DiskIpamStore: two allocators sharing one store in one process stay distinct", async () => {
  const dir = await tempDir();
  const store = new DiskIpamStore(dir);
  const a = new PodIpAllocator(store, { ranges: [{ subnet: "10.8.0.0/26" }] });
  const b = new PodIpAllocator(store, { ranges: [{ subnet: "10.8.0.0/26" }] });
  const got = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).allocate(att(`c${i}`))));
  assert.is(new Set(got.map((g) => g.ip.address)).size, 60);
});

test("property: random allocate/release steps on the disk store match a model and leave matching files", async () => {
  const dir = await tempDir();
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ release: fc.boolean(), who: fc.integer({ min: 0, max: 8 }) }), { minLength: 20, maxLength: 80, size: "max" }),
      async (steps) => {
        const d = join(dir, `run${run++}`);
        const a = new PodIpAllocator(new DiskIpamStore(d), { ranges: [{ subnet: "10.6.0.0/29" }] });
        const held = new Map<string, string>();
        for (const s of steps) {
          const who = att(`p${s.who}`);
          if (s.release) {
            const freed = await a.release(who);
            assert.equal(freed.map((i) => i.address), held.has(who.containerId) ? [held.get(who.containerId)] : []);
            held.delete(who.containerId);
          } else if (!held.has(who.containerId) && held.size < 5) {
            const ip = (await a.allocate(who)).ip.address;
            assert.not.ok([...held.values()].includes(ip));
            held.set(who.containerId, ip);
          }
        }
        assert.equal(await ipFiles(d), [...held.values()].sort());
      },
    ),
    { numRuns: 25 },
  );
});

function forkChild(args: string[]): { child: ChildProcess; ready: Promise<void>; done: Promise<string[]> } {
  const child = fork(join(here, "_disk_store_child.ts"), args, {
    execArgv: ["--conditions=@weft/source", "--import=tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
  });
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<string[]>((resolve, reject) => {
    child.on("message", (m: unknown) => {
      if (m === "ready") return onReady();
      const msg = m as { addresses?: string[]; error?: string };
      if (msg.error) reject(new Error(msg.error));
      else resolve(msg.addresses ?? []);
    });
    child.on("exit", (code) => reject(new Error(`child exited with ${code} before answering`)));
    child.on("error", reject);
  });
  return { child, ready, done };
}

async function race(dir: string, mode: "allocate" | "release"): Promise<string[][]> {
  const children = Array.from({ length: 8 }, (_, i) => forkChild([dir, "10.4.0.0/24", `proc${i}`, "25", mode]));
  const timer = setTimeout(() => children.forEach((c) => c.child.kill("SIGKILL")), 60_000);
  try {
    await Promise.race([Promise.all(children.map((c) => c.ready)), Promise.all(children.map((c) => c.done))]);
    for (const c of children) c.child.send("go");
    return await Promise.all(children.map((c) => c.done));
  } finally {
    clearTimeout(timer);
    for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
  }
}

test("8 processes allocating 200 addresses at once from one disk store get 200 distinct addresses; none lost after release", async () => {
  const dir = await tempDir();
  const allocated = await race(dir, "allocate");
  const all = allocated.flat();
  assert.is(all.length, 200);
  assert.is(new Set(all).size, 200, "an address was handed out twice");
  assert.equal(await ipFiles(dir), [...all].sort());
  for (const f of await ipFiles(dir)) assert.match(await readFile(join(dir, f), "utf8"), /^proc\d-\d+\r\neth0$/);

  const released = await race(dir, "release");
  assert.equal(released.flat().sort(), [...all].sort());
  assert.equal(await ipFiles(dir), []);
  // every address of the /24 is allocatable again
  const alloc = new PodIpAllocator(new DiskIpamStore(dir), { ranges: [{ subnet: "10.4.0.0/24" }] });
  const again = await Promise.all(Array.from({ length: 253 }, (_, i) => alloc.allocate(att(`again${i}`))));
  assert.is(new Set(again.map((g) => g.ip.address)).size, 253);
  assert.instance(await alloc.allocate(att("one-too-many")).catch((e: unknown) => e), RangeSetExhaustedError);
});

test.run();
