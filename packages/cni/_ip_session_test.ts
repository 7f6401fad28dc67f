import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, sh, withNetns } from "@weft/testutils";
import { IpSession } from "./_ip_session.ts";

const test = kernelTest(suite("IpSession"), { needs: ["root", "ip"] });

test("IpSession.run() applies lines in the namespace and reports a failing line", () =>
  withNetns("ips", async (ns) => {
    const s = new IpSession(ns);
    try {
      await s.run(["link add wbr1 type bridge", "link set dev wbr1 up"]);
      assert.match(await sh(["ip", "-n", ns, "-br", "link", "show", "dev", "wbr1"]), "wbr1");
      await s.run(["link show dev lo", "link add wbr1 type bridge"]).then(
        () => assert.unreachable(),
        (e: Error & { failedLines: number[] }) => {
          assert.match(e.message, "File exists");
          assert.equal(e.failedLines, [1]);
        },
      );
      // the session keeps working after a failure, and concurrent jobs are queued in order
      await Promise.all([s.run(["link add wbr2 type bridge"]), s.run(["link del wbr2"]), s.run(["link add wbr3 type bridge"])]);
      const links = await sh(["ip", "-n", ns, "-br", "link"]);
      assert.not.match(links, "wbr2");
      assert.match(links, "wbr3");
    } finally {
      await s.close();
    }
    await s.run(["link show"]).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, "closed"));
  }),
);

test.run();
