// Runs a FakeApiServer inside the namespace this process was started in (the e2e tests start it in a node
// namespace with `ip netns exec`, since 127.0.0.1 of the root namespace is not reachable from there).
// argv: <node name> <podCIDR>. Prints one JSON line {url, kubeconfigPath}, then serves until SIGTERM/stdin EOF.
import { FakeApiServer } from "@weft/fake-apiserver";

const [nodeName, podCidr] = process.argv.slice(2);
const fake = await FakeApiServer.start();
fake.create("nodes", { metadata: { name: nodeName }, spec: { podCIDR: podCidr, podCIDRs: [podCidr] } });
process.stdout.write(JSON.stringify({ url: fake.url, kubeconfigPath: fake.kubeconfigPath }) + "\n");
const stop = () => void fake.close().finally(() => process.exit(0));
process.once("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
