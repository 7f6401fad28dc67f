import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRedisClient } from "./redis_client.ts";

test("createRedisClient() passes password, ACL user, db and TLS through to ioredis", () => {
  const c = createRedisClient({ host: "10.0.0.5", port: 6380, username: "weft", password: "s3cret", db: 2, tls: true, extra: { lazyConnect: true } });
  try {
    assert.is(c.options.host, "10.0.0.5");
    assert.is(c.options.port, 6380);
    assert.is(c.options.username, "weft");
    assert.is(c.options.password, "s3cret");
    assert.is(c.options.db, 2);
    assert.equal(c.options.tls, {});
    assert.is(c.options.maxRetriesPerRequest, null);
    assert.is(c.status, "wait", "lazyConnect: no connection attempted");
  } finally {
    c.disconnect();
  }
});

test("createRedisClient() configures Sentinel with the master name and Sentinel password", () => {
  const c = createRedisClient({ sentinels: [{ host: "10.0.0.7", port: 26379 }], sentinelName: "weft", sentinelPassword: "p", extra: { lazyConnect: true } });
  try {
    assert.equal(c.options.sentinels, [{ host: "10.0.0.7", port: 26379 }]);
    assert.is(c.options.name, "weft");
    assert.is(c.options.sentinelPassword, "p");
  } finally {
    c.disconnect();
  }
});

test("createRedisClient() reads a URL and its retry strategy backs off from 100 ms to 5 s", () => {
  const c = createRedisClient({ url: "redis://u:pw@10.0.0.9:6390/3", extra: { lazyConnect: true } });
  try {
    assert.is(c.options.host, "10.0.0.9");
    assert.is(c.options.port, 6390);
    assert.is(c.options.username, "u");
    assert.is(c.options.password, "pw");
    assert.is(c.options.db, 3);
    const retry = c.options.retryStrategy!;
    assert.is(retry(1), 100);
    assert.is(retry(2), 200);
    assert.is(retry(50), 5_000);
  } finally {
    c.disconnect();
  }
});

test.run();
