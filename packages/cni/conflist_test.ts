import { test } from "uvu";
import * as assert from "uvu/assert";
import { renderConflist } from "./conflist.ts";

test("renderConflist() lists weft then portmap with the portMappings capability", () => {
  const c = JSON.parse(renderConflist());
  assert.is(c.name, "cbr0");
  assert.is(c.cniVersion, "1.0.0");
  assert.equal(c.plugins.map((p: { type: string }) => p.type), ["weft", "portmap"]);
  assert.equal(c.plugins[1].capabilities, { portMappings: true });
  assert.is(c.plugins[0].hairpinMode, true);
});

test("renderConflist() takes extra weft keys and can leave portmap out", () => {
  const c = JSON.parse(renderConflist({ name: "n", portmap: false, weft: { bridge: "br1", weftSocketPath: "/tmp/s.sock" } }));
  assert.is(c.plugins.length, 1);
  assert.is(c.plugins[0].bridge, "br1");
  assert.is(c.plugins[0].weftSocketPath, "/tmp/s.sock");
});

test.run();
