import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatCidr } from "@weft/ipam";
import type { V1Node } from "@weft/kube";
import { kubeAnnotationNames } from "./_kube_annotations.ts";
import { nodePodCidrs, nodeToLease } from "./_kube_node_lease.ts";

const P = "flannel.alpha.coreos.com";
const annotated = (extra: Record<string, string> = {}): V1Node => ({
  metadata: {
    name: "n1",
    annotations: {
      [`${P}/kube-subnet-manager`]: "true",
      [`${P}/backend-type`]: "vxlan",
      [`${P}/backend-data`]: '{"VNI":1,"VtepMAC":"e6:7c:02:8e:e8:7e"}',
      [`${P}/public-ip`]: "192.168.1.10",
      ...extra,
    },
  },
  spec: { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"] },
});

test("nodePodCidrs() reads podCIDRs by family, else podCIDR", () => {
  const dual = nodePodCidrs({ spec: { podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24", "fd00:10:244:1::/64"] } });
  assert.equal([formatCidr(dual.subnet!), formatCidr(dual.ipv6Subnet!)], ["10.244.1.0/24", "fd00:10:244:1::/64"]);
  assert.is(formatCidr(nodePodCidrs({ spec: { podCIDR: "10.244.2.0/24" } }).subnet!), "10.244.2.0/24");
  assert.equal(nodePodCidrs({ spec: {} }), {});
});

test("nodePodCidrs() rejects three CIDRs or two of one family with flannel's text", () => {
  const msg = "pod cidrs should be IPv4/IPv6 only or dualstack";
  assert.throws(() => nodePodCidrs({ spec: { podCIDRs: ["10.0.1.0/24", "fd00::/64", "10.0.2.0/24"] } }), (e: Error) => e.message === msg);
  assert.throws(() => nodePodCidrs({ spec: { podCIDRs: ["10.0.1.0/24", "10.0.2.0/24"] } }), (e: Error) => e.message === msg);
  assert.throws(() => nodePodCidrs({ metadata: { name: "x" }, spec: { podCIDR: "bogus" } }), (e: unknown) => e instanceof SyntaxError);
});

test("nodeToLease() reads subnet, public IP, backend type and data from the annotations", () => {
  const lease = nodeToLease(annotated())!;
  assert.is(formatCidr(lease.subnet!), "10.244.1.0/24");
  assert.is(lease.publicIp?.address, "192.168.1.10");
  assert.is(lease.backendType, "vxlan");
  assert.equal(lease.backendData, { VNI: 1, VtepMAC: "e6:7c:02:8e:e8:7e" });
  assert.is(lease.expiration, undefined);
});

test("nodeToLease() keeps host-gw's literal null backend data", () => {
  const lease = nodeToLease(annotated({ [`${P}/backend-type`]: "host-gw", [`${P}/backend-data`]: "null" }))!;
  assert.is(lease.backendData, null);
});

test("nodeToLease() ignores nodes without kube-subnet-manager=true or without a pod CIDR", () => {
  assert.is(nodeToLease({ metadata: { name: "x", annotations: {} }, spec: { podCIDR: "10.0.0.0/24" } }), undefined);
  const n = annotated();
  n.spec = {};
  assert.is(nodeToLease(n), undefined);
});

test("nodeToLease() uses the configured prefix and throws SyntaxError on malformed annotations", () => {
  const names = kubeAnnotationNames("weft.example.com");
  const node: V1Node = { metadata: { name: "n", annotations: { [names.kubeSubnetManager]: "true", [names.publicIp]: "10.1.1.1" } }, spec: { podCIDR: "10.244.3.0/24" } };
  assert.is(nodeToLease(node, { annotations: names })?.publicIp?.address, "10.1.1.1");
  assert.is(nodeToLease(node), undefined, "default prefix does not see it");
  assert.throws(() => nodeToLease(annotated({ [`${P}/public-ip`]: "not-an-ip" })), (e: unknown) => e instanceof SyntaxError);
  assert.throws(() => nodeToLease(annotated({ [`${P}/backend-data`]: "{bad" })), (e: unknown) => e instanceof SyntaxError);
});

test.run();
