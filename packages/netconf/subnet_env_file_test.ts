import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatCidr, parseCidr } from "@weft/ipam";
import { formatSubnetEnv } from "./subnet_env.ts";
import { DEFAULT_SUBNET_ENV_PATH, readSubnetEnv, SubnetEnvNotFoundError, writeSubnetEnv } from "./subnet_env_file.ts";
import type { SubnetEnv } from "./types.ts";

let dir = "";
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), "weft-netconf-"));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = (n: number): SubnetEnv => ({ network: parseCidr("10.244.0.0/16"), subnet: parseCidr(`10.244.${n}.0/24`), mtu: 1450, ipMasq: n % 2 === 0 });

test("DEFAULT_SUBNET_ENV_PATH is flannel's", () => {
  assert.is(DEFAULT_SUBNET_ENV_PATH, "/run/flannel/subnet.env");
});

test("writeSubnetEnv() creates the directory and writes flannel's text with mode 0644", async () => {
  const path = join(dir, "run", "flannel", "subnet.env");
  await writeSubnetEnv(path, env(3));
  assert.is(await readFile(path, "utf8"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n");
  assert.is((await stat(path)).mode & 0o777, 0o644);
  assert.is((await stat(join(dir, "run", "flannel"))).isDirectory(), true);
  assert.equal(await readdir(join(dir, "run", "flannel")), ["subnet.env"]);
});

test("writeSubnetEnv() gives mode 0644 regardless of the umask and of the old file's mode", async () => {
  const path = join(dir, "subnet.env");
  await writeFile(path, "old", { mode: 0o600 });
  const old = process.umask(0o077);
  try {
    await writeSubnetEnv(path, env(1));
  } finally {
    process.umask(old);
  }
  assert.is((await stat(path)).mode & 0o777, 0o644);
  assert.match(await readFile(path, "utf8"), /^FLANNEL_NETWORK=/);
});

test("writeSubnetEnv() honours options.mode", async () => {
  const path = join(dir, "subnet.env");
  await writeSubnetEnv(path, env(1), { mode: 0o600 });
  assert.is((await stat(path)).mode & 0o777, 0o600);
});

test("writeSubnetEnv() replaces the file atomically: concurrent readers never see a partial file", async () => {
  const path = join(dir, "subnet.env");
  const valid = new Set(Array.from({ length: 40 }, (_, i) => formatSubnetEnv(env(i))));
  await writeSubnetEnv(path, env(0));
  let stop = false;
  let reads = 0;
  const bad: string[] = [];
  const reader = async () => {
    while (!stop) {
      const text = await readFile(path, "utf8");
      reads++;
      if (!valid.has(text)) bad.push(text);
    }
  };
  const readers = [reader(), reader(), reader()];
  for (let i = 1; i < 40; i++) await writeSubnetEnv(path, env(i));
  stop = true;
  await Promise.all(readers);
  assert.equal(bad, []);
  assert.ok(reads > 0);
  assert.is(await readFile(path, "utf8"), formatSubnetEnv(env(39)));
  assert.equal(await readdir(dir), ["subnet.env"], "no temporary files are left behind");
});

test("writeSubnetEnv() validates before touching the file system", async () => {
  const path = join(dir, "sub", "subnet.env");
  let caught: unknown;
  try {
    await writeSubnetEnv(path, { network: parseCidr("10.0.0.0/8"), mtu: 1450, ipMasq: true });
  } catch (err) {
    caught = err;
  }
  assert.instance(caught, TypeError);
  assert.equal(await readdir(dir), []);
});

test("writeSubnetEnv() removes its temporary file when the rename fails", async () => {
  const path = join(dir, "subnet.env");
  await mkdir(join(path, "occupied"), { recursive: true }); // a non-empty directory cannot be renamed over
  let caught: unknown;
  try {
    await writeSubnetEnv(path, env(1));
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error);
  assert.equal(await readdir(dir), ["subnet.env"]);
  assert.is((await stat(path)).isDirectory(), true);
});

test("readSubnetEnv() reads back what writeSubnetEnv() wrote", async () => {
  const path = join(dir, "subnet.env");
  await writeSubnetEnv(path, {
    network: parseCidr("10.42.0.0/16"),
    subnet: parseCidr("10.42.7.0/24"),
    ipv6Network: parseCidr("2001:cafe:42::/56"),
    ipv6Subnet: parseCidr("2001:cafe:42:7::/64"),
    mtu: 1450,
    ipMasq: true,
  });
  const back = await readSubnetEnv(path);
  assert.is(back.subnet && formatCidr(back.subnet), "10.42.7.0/24");
  assert.is(back.ipv6Subnet && formatCidr(back.ipv6Subnet), "2001:cafe:42:7::/64");
  assert.is(back.mtu, 1450);
  assert.is(back.ipMasq, true);
});

test("readSubnetEnv() passes warnings through", async () => {
  const path = join(dir, "subnet.env");
  await writeFile(path, "FLANNEL_SUBNET=bogus\n");
  const warnings: string[] = [];
  const back = await readSubnetEnv(path, { onWarning: (m) => warnings.push(m) });
  assert.is(back.subnet, undefined);
  assert.is(warnings.length, 1);
});

test("readSubnetEnv() throws SubnetEnvNotFoundError (code ENOENT) for a missing file or directory", async () => {
  for (const path of [join(dir, "missing.env"), join(dir, "no", "such", "subnet.env")]) {
    let caught: unknown;
    try {
      await readSubnetEnv(path);
    } catch (err) {
      caught = err;
    }
    assert.instance(caught, SubnetEnvNotFoundError);
    const err = caught as SubnetEnvNotFoundError;
    assert.is(err.code, "ENOENT");
    assert.is(err.path, path);
    assert.is(err.name, "SubnetEnvNotFoundError");
    assert.match(err.message, path);
    assert.is((err.cause as NodeJS.ErrnoException).code, "ENOENT");
  }
});

test("readSubnetEnv() rethrows other file-system errors unchanged", async () => {
  let caught: unknown;
  try {
    await readSubnetEnv(dir);
  } catch (err) {
    caught = err;
  }
  assert.not.instance(caught, SubnetEnvNotFoundError);
  assert.is((caught as NodeJS.ErrnoException).code, "EISDIR");
});

test.run();
