import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { installCni } from "./install.ts";

test("installCni() copies the binary as <binDir>/weft (0755) and writes 10-weft.conflist", () => {
  const dir = mkdtempSync(join(tmpdir(), "weft-install-"));
  try {
    const src = join(dir, "weft-cni");
    writeFileSync(src, "#!/bin/true\n");
    const r = installCni(src, { binDir: join(dir, "bin"), confDir: join(dir, "net.d") });
    assert.is(r.binary, join(dir, "bin", "weft"));
    assert.is(statSync(r.binary).mode & 0o777, 0o755);
    assert.is(readFileSync(r.binary, "utf8"), "#!/bin/true\n");
    const conf = JSON.parse(readFileSync(join(dir, "net.d", "10-weft.conflist"), "utf8"));
    assert.equal(conf.plugins.map((p: { type: string }) => p.type), ["weft", "portmap"]);
    // a second install replaces both in place
    writeFileSync(src, "v2");
    installCni(src, { binDir: join(dir, "bin"), confDir: join(dir, "net.d"), name: "other" });
    assert.is(readFileSync(r.binary, "utf8"), "v2");
    assert.is(JSON.parse(readFileSync(r.conflist, "utf8")).name, "other");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
