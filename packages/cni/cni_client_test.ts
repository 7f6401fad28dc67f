import { test } from "uvu";
import * as assert from "uvu/assert";
import { callCniServer } from "./cni_client.ts";

test("callCniServer() rejects when nothing listens on the socket", async () => {
  await callCniServer("/nonexistent/weft.sock", { env: {}, stdin: "" }).then(
    () => assert.unreachable(),
    (e: NodeJS.ErrnoException) => assert.is(e.code, "ENOENT"),
  );
});

test.run();
