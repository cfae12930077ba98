package realcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// writeConfigs writes the containerd, CNI, kubelet, kube-proxy and CoreDNS
// configurations and the six fake /proc/sys files into the state directory.
func (c *Cluster) writeConfigs() error {
	d := c.Dir
	file := func(parts ...string) string { return filepath.Join(append([]string{d}, parts...)...) }
	for _, dir := range []string{"containerd/root", "containerd/state", "containerd/opt", "run", "cni/net.d", "cni/ipam",
		kubelet, "kubelet-certs", "logs/pods", "sysctl", "images"} {
		if err := os.MkdirAll(file(dir), 0o755); err != nil {
			return err
		}
	}
	containerd := fmt.Sprintf(`version = 2
root = %q
state = %q
oom_score = 0
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing",
]

[grpc]
  address = %q

[ttrpc]
  address = %q

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # No process on this kind of VM has CAP_SYS_RESOURCE: without this every
  # sandbox fails (runc cannot write a negative oom_score_adj).
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1
`, file("containerd/root"), file("containerd/state"), c.containerdSock, c.containerdSock+".ttrpc", file("containerd/opt"),
		PauseImage, c.opts.CNIBinDir, file("cni/net.d"))
	if err := os.WriteFile(file("containerd/config.toml"), []byte(containerd), 0o644); err != nil {
		return err
	}

	cni := fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": %q,
  "plugins": [
    {
      "type": %q, "bridge": %q, "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, c.Name, cniBridgePlugin, cniBridge, PodCIDR, file("cni/ipam"))
	b := []byte(cni)
	if err := os.WriteFile(file("cni/net.d/10-"+c.Name+".conflist"), b, 0o644); err != nil {
		return err
	}

	kubelet := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /%s
containerRuntimeEndpoint: unix://%s
address: %s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
podLogsDir: %s
tlsCertFile: %s
tlsPrivateKeyFile: %s
rotateCertificates: false
serverTLSBootstrap: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization:
  mode: Webhook
clusterDNS: [%s]
clusterDomain: %s
resolvConf: ""
failSwapOn: false
protectKernelDefaults: false
evictionHard:
  memory.available: 100Mi
  nodefs.available: "1%%"
  nodefs.inodesFree: "1%%"
  imagefs.available: "1%%"
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
syncFrequency: 10s
nodeStatusUpdateFrequency: 5s
maxPods: 110
`, c.Name, c.containerdSock, NodeIP, file("logs/pods"), file("kubelet-serving.crt"), file("kubelet-serving.key"),
		file("ca.crt"), DNSServiceIP, ClusterDomain)
	if err := os.WriteFile(file("kubelet-config.yaml"), []byte(kubelet), 0o644); err != nil {
		return err
	}

	proxy := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: %s
clusterCIDR: %s
hostnameOverride: %s
bindAddress: 0.0.0.0
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# zero: kube-proxy leaves the machine-wide conntrack sysctls alone
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  syncPeriod: 30s
  minSyncPeriod: 1s
`, file("kube-proxy.kubeconfig"), PodCIDR, c.NodeName)
	if err := os.WriteFile(file("kube-proxy.yaml"), []byte(proxy), 0o644); err != nil {
		return err
	}

	corefile := fmt.Sprintf(`.:53 {
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    kubernetes %s in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
    loadbalance
}
`, ClusterDomain, file("coredns.kubeconfig"))
	if err := os.WriteFile(file("Corefile"), []byte(corefile), 0o644); err != nil {
		return err
	}

	// The values kubelet wants for the kernel tunables it would otherwise set
	// machine-wide; bind-mounted over /proc/sys in the node's mount namespace.
	for name, v := range fakeSysctls {
		if err := os.WriteFile(file("sysctl", name), []byte(strconv.Itoa(v)+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fakeSysctls are kubelet's six kernel tunables (setupKernelTunables) and
// the values it expects, by file name under /proc/sys with "/" as ".".
var fakeSysctls = map[string]int{
	"vm.overcommit_memory":      1,
	"vm.panic_on_oom":           0,
	"kernel.panic":              10,
	"kernel.panic_on_oops":      1,
	"kernel.keys.root_maxkeys":  1000000,
	"kernel.keys.root_maxbytes": 25000000,
}
