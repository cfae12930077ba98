// This file makes what the components and the cluster need beyond their
// configuration: certificates and kubeconfigs, and the objects of cluster
// DNS; and it waits for the node and for ServiceAccounts.

package realcluster

import (
	"context"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/magento-operator/magento-operator/test/pki"
	"github.com/magento-operator/magento-operator/test/proc"
)

// setupDNSObjects gives CoreDNS read access and makes Service
// kube-system/kube-dns at DNSServiceIP with a hand-made EndpointSlice
// pointing at CoreDNS on NodeIP:53.
func (c *Cluster) setupDNSObjects(ctx context.Context, cs kubernetes.Interface) error {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "realcluster:coredns"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "realcluster:coredns"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "system:coredns"}},
	}
	ports := []corev1.ServicePort{
		{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(53)},
		{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: intstr.FromInt32(53)},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: kubeDNS, Namespace: "kube-system", Labels: map[string]string{"k8s-app": kubeDNS}},
		Spec:       corev1.ServiceSpec{ClusterIP: DNSServiceIP, Ports: ports}, // no selector: endpoints are ours
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns-node", Namespace: "kube-system", Labels: map[string]string{
			discoveryv1.LabelServiceName: kubeDNS, discoveryv1.LabelManagedBy: "realcluster",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{NodeIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To(c.NodeName),
		}},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To[int32](53)},
			{Name: ptr.To("dns-tcp"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](53)},
		},
	}
	ignoreExists := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	if _, err := cs.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	if _, err := cs.DiscoveryV1().EndpointSlices("kube-system").Create(ctx, slice, metav1.CreateOptions{}); ignoreExists(err) != nil {
		return err
	}
	return nil
}

// WaitForServiceAccount waits until the controller-manager made the default
// ServiceAccount of a namespace, which its pods need.
func (c *Cluster) WaitForServiceAccount(ctx context.Context, namespace string) error {
	what, made, err := proc.DefaultServiceAccount(ctx, c.Config, namespace)
	if err != nil {
		return err
	}
	return c.waitFor(ctx, what, made)
}

// writePKI makes the certificates, the service-account key and a kubeconfig
// per client; it returns the kubeconfig paths by client.
func (c *Cluster) writePKI() (map[string]string, error) {
	d := c.Dir
	ca, err := pki.NewAuthority(d, "ca")
	if err != nil {
		return nil, err
	}
	proxyCA, err := pki.NewAuthority(d, "front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if _, _, err := ca.Issue(d, "apiserver", "kube-apiserver", nil, []string{
		"127.0.0.1", NodeIP, APIServiceIP, "localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain,
	}); err != nil {
		return nil, err
	}
	if _, _, err := ca.Issue(d, "kubelet-serving", "system:node:"+c.NodeName, []string{"system:nodes"},
		[]string{NodeIP, c.NodeName, "localhost", "127.0.0.1"}); err != nil {
		return nil, err
	}
	if _, _, err := ca.Issue(d, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil); err != nil {
		return nil, err
	}
	if _, _, err := proxyCA.Issue(d, "front-proxy-client", "front-proxy-client", nil, nil); err != nil {
		return nil, err
	}
	if err := pki.WriteServiceAccountKey(d); err != nil {
		return nil, err
	}
	// admin-netns is the admin's kubeconfig for use inside the namespace;
	// the host's (admin) is pointed at the API relay once it runs.
	inside := "https://" + net.JoinHostPort(NodeIP, strconv.Itoa(APIPort))
	masters := []string{"system:masters"}
	return ca.WriteKubeconfigs(d, "real", inside,
		pki.Client{Name: admin, User: admin, Groups: masters},
		pki.Client{Name: "admin-netns", User: admin, Groups: masters},
		pki.Client{Name: "controller-manager", User: "system:kube-controller-manager"},
		pki.Client{Name: "scheduler", User: "system:kube-scheduler"},
		pki.Client{Name: kubelet, User: "system:node:" + c.NodeName, Groups: []string{"system:nodes"}},
		pki.Client{Name: kubeProxy, User: "system:kube-proxy"},
		pki.Client{Name: coreDNS, User: "system:coredns"})
}

// setServer points a kubeconfig's clusters at server.
func setServer(path, server string) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return err
	}
	for _, cl := range cfg.Clusters {
		cl.Server = server
	}
	return clientcmd.WriteToFile(*cfg, path)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
