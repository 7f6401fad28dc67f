import { test } from "uvu";
import * as assert from "uvu/assert";
import { kubeAnnotationNames } from "./_kube_annotations.ts";

// flannel's pkg/subnet/kube/annotations_test.go vectors: prefix -> BackendType annotation.
const VALID: Array<[string, string]> = [
  ["flannel.alpha.coreos.com", "flannel.alpha.coreos.com/backend-type"],
  ["flannel.alpha.coreos.com/", "flannel.alpha.coreos.com/backend-type"],
  ["flannel.alpha.coreos.com/prefix", "flannel.alpha.coreos.com/prefix-backend-type"],
  ["flannel.alpha.coreos.com/prefix-", "flannel.alpha.coreos.com/prefix-backend-type"],
  ["org.com", "org.com/backend-type"],
  ["org9.com", "org9.com/backend-type"],
  ["org.com/9", "org.com/9-backend-type"],
];
const INVALID = ["org", "org/", "org/prefix", "org.COM", "org.com/PREFIX"];

test("kubeAnnotationNames() applies flannel's prefix rules (upstream vectors)", () => {
  for (const [prefix, want] of VALID) assert.is(kubeAnnotationNames(prefix).backendType, want, prefix);
});

test("kubeAnnotationNames() rejects invalid prefixes with flannel's texts", () => {
  for (const prefix of INVALID) {
    assert.throws(() => kubeAnnotationNames(prefix), (e: Error) => e instanceof TypeError && e.message === "subnet/kube: prefix must be in a format: fqdn/[0-9a-z-_]*", prefix);
  }
  assert.throws(() => kubeAnnotationNames("a.com/b/c"), (e: Error) => e.message === "subnet/kube: prefix can contain at most single slash");
});

test("kubeAnnotationNames() defaults to flannel.alpha.coreos.com and names every annotation", () => {
  const n = kubeAnnotationNames();
  assert.equal(n, {
    kubeSubnetManager: "flannel.alpha.coreos.com/kube-subnet-manager",
    backendData: "flannel.alpha.coreos.com/backend-data",
    backendV6Data: "flannel.alpha.coreos.com/backend-v6-data",
    backendType: "flannel.alpha.coreos.com/backend-type",
    publicIp: "flannel.alpha.coreos.com/public-ip",
    publicIpv6: "flannel.alpha.coreos.com/public-ipv6",
    publicIpOverwrite: "flannel.alpha.coreos.com/public-ip-overwrite",
    publicIpv6Overwrite: "flannel.alpha.coreos.com/public-ipv6-overwrite",
    nodePublicIp: "flannel.alpha.coreos.com/node-public-ip",
    nodePublicIpv6: "flannel.alpha.coreos.com/node-public-ipv6",
  });
});

test.run();
