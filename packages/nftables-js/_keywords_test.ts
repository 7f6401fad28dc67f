import { test } from "uvu";
import * as assert from "uvu/assert";
import { NFT_KEYWORDS } from "./_keywords.ts";

test("NFT_KEYWORDS holds words nft parses as keywords and not ordinary chain names", () => {
  for (const w of ["fwd", "missing", "counter", "jump", "tcp", "table"]) assert.ok(NFT_KEYWORDS.has(w), w);
  for (const w of ["input", "output", "services", "nat-out", "masquerading"]) assert.not.ok(NFT_KEYWORDS.has(w), w);
});

test.run();
