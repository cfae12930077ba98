// This file starts the cluster's components as processes, each in the
// namespaces it needs: etcd and kube-apiserver, the controller-manager and
// the scheduler, kubelet and kube-proxy.

package realcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/magento-operator/magento-operator/test/proc"
)

// startControlPlane starts etcd and kube-apiserver in the namespace.
func (c *Cluster) startControlPlane() error {
	file := func(name string) string { return filepath.Join(c.Dir, name) }
	if _, err := c.start("etcd", inNet, c.opts.Etcd,
		"--name=real", "--data-dir="+file("etcd"),
		"--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
		"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=real=http://127.0.0.1:2380", "--listen-metrics-urls=",
		"--unsafe-no-fsync", "--quota-backend-bytes=2147483648"); err != nil {
		return err
	}
	_, err := c.start("kube-apiserver", inNet, filepath.Join(c.opts.KubeDir, "kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:2379",
		"--bind-address=0.0.0.0", "--advertise-address="+NodeIP, "--secure-port="+strconv.Itoa(APIPort),
		"--tls-cert-file="+file("apiserver.crt"), "--tls-private-key-file="+file("apiserver.key"),
		"--client-ca-file="+file("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+file("sa.pub"),
		"--service-account-signing-key-file="+file("sa.key"),
		"--service-cluster-ip-range="+ServiceCIDR, "--authorization-mode=Node,RBAC", "--allow-privileged=true",
		"--kubelet-client-certificate="+file("apiserver-kubelet-client.crt"),
		"--kubelet-client-key="+file("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority="+file("ca.crt"),
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--requestheader-client-ca-file="+file("front-proxy-ca.crt"), "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file="+file("front-proxy-client.crt"), "--proxy-client-key-file="+file("front-proxy-client.key"),
	)
	return err
}

// startControllers starts the controller-manager and the scheduler.
func (c *Cluster) startControllers(kubeconfigs map[string]string) error {
	file := func(name string) string { return filepath.Join(c.Dir, name) }
	kcm := kubeconfigs["controller-manager"]
	if _, err := c.start("kube-controller-manager", inNet, filepath.Join(c.opts.KubeDir, "kube-controller-manager"),
		"--kubeconfig="+kcm, "--authentication-kubeconfig="+kcm, "--authorization-kubeconfig="+kcm,
		"--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
		"--use-service-account-credentials=true", "--allocate-node-cidrs=false",
		"--service-account-private-key-file="+file("sa.key"), "--root-ca-file="+file("ca.crt"),
		"--cluster-signing-cert-file="+file("ca.crt"), "--cluster-signing-key-file="+file("ca.key"),
		"--controllers=*", "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
	); err != nil {
		return err
	}
	sch := kubeconfigs["scheduler"]
	_, err := c.start("kube-scheduler", inNet, filepath.Join(c.opts.KubeDir, "kube-scheduler"),
		"--kubeconfig="+sch, "--authentication-kubeconfig="+sch, "--authorization-kubeconfig="+sch,
		"--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false")
	return err
}

// startNode starts kubelet and kube-proxy in the node's namespaces.
func (c *Cluster) startNode(kubeconfigs map[string]string) error {
	file := func(name string) string { return filepath.Join(c.Dir, name) }
	if _, err := c.start(kubelet, inNet|inMount, filepath.Join(c.opts.KubeDir, kubelet),
		"--config="+file("kubelet-config.yaml"), "--kubeconfig="+kubeconfigs[kubelet],
		"--root-dir="+file(kubelet), "--cert-dir="+file("kubelet-certs"),
		"--hostname-override="+c.NodeName, "--node-ip="+NodeIP, "--v=1",
	); err != nil {
		return err
	}
	_, err := c.start(kubeProxy, inNet|inMount, filepath.Join(c.opts.KubeDir, kubeProxy),
		"--config="+file("kube-proxy.yaml"), "--v=1")
	return err
}

// start runs a component in its own process group, in the namespaces ns
// asks for (nsenter execs, so the pid is the component's); it dies with
// this process (Pdeathsig), so a crashed test leaves no component behind.
func (c *Cluster) start(name string, ns int, path string, args ...string) (*proc.Process, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var argv []string
	if ns != 0 {
		argv = append(argv, c.opts.Nsenter)
		if ns&inMount != 0 {
			argv = append(argv, "--mount="+c.MountNSPath)
		}
		if ns&inNet != 0 {
			argv = append(argv, "--net="+c.NetnsPath)
		}
		argv = append(argv, "--")
	}
	argv = append(argv, path)
	argv = append(argv, args...)
	return c.procs.Start(name, argv...)
}

// sh runs a short setup command.
func (c *Cluster) sh(name string, args ...string) error {
	if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, b)
	}
	return nil
}

// waitFor polls ok until it holds, a component exits, or the timeout passes.
func (c *Cluster) waitFor(ctx context.Context, what string, ok func() bool) error {
	return c.procs.WaitFor(ctx, what, c.opts.Timeout, 100*time.Millisecond, ok)
}
