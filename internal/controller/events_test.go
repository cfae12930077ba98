package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/builder"
)

func TestRecentEventsRecordsATransitionOncePerVersion(t *testing.T) {
	var e recentEvents
	at := func(name, rv string) *v1alpha1.MagentoRelease {
		return builder.MakeRelease("n", name).ResourceVersion(rv).Obj()
	}
	if !e.first(at("a", "10"), "Switched blue→green") {
		t.Fatal("a new event was suppressed")
	}
	if e.first(at("a", "10"), "Switched blue→green") {
		t.Error("the same transition decided twice from one version (a lagging cache) was recorded twice")
	}
	if !e.first(at("b", "10"), "Switched blue→green") {
		t.Error("another release's event was suppressed")
	}
	if !e.first(at("a", "11"), "Switched green→blue") || !e.first(at("a", "12"), "Switched blue→green") {
		t.Error("the same transition happening again was suppressed")
	}
	if !e.first(at("a", "12"), "Deploying main-2 to green") {
		t.Error("a second transition of one version was suppressed")
	}
	e.forget(types.NamespacedName{Namespace: "n", Name: "a"})
	if !e.first(at("a", "12"), "Deploying main-2 to green") {
		t.Error("a deleted release's memory was kept")
	}
}
