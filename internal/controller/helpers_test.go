package controller

import (
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// notes are the notes of events, in order.
func notes(events []eventsv1.Event) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.Note)
	}
	return out
}

// watchDeployments watches the Deployments of the release's namespace.
func watchDeployments(rel *v1alpha1.MagentoRelease) (watch.Interface, error) {
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		return nil, err
	}
	return wc.Watch(env.Ctx, &appsv1.DeploymentList{}, client.InNamespace(rel.Namespace))
}

// eachObject calls f with every item of a typed list.
func eachObject(l client.ObjectList, f func(client.Object)) {
	Expect(meta.EachListItem(l, func(o runtime.Object) error {
		f(o.(client.Object))
		return nil
	})).To(Succeed())
}
