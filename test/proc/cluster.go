package proc

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultServiceAccount describes, for WaitFor, the default ServiceAccount
// of namespace: the controller-manager makes it, and pods there need it.
func DefaultServiceAccount(ctx context.Context, cfg *rest.Config, namespace string) (what string, made func() bool, err error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", nil, err
	}
	return "ServiceAccount " + namespace + "/default", func() bool {
		_, err := cs.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	}, nil
}
