package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestRecentEventsRecordsATransitionOnce(t *testing.T) {
	var e recentEvents
	a, b := types.NamespacedName{Namespace: "n", Name: "a"}, types.NamespacedName{Namespace: "n", Name: "b"}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if !e.first(a, "Switched blue→green", t0) {
		t.Fatal("a new event was suppressed")
	}
	if e.first(a, "Switched blue→green", t0.Add(time.Second)) {
		t.Error("the same event was recorded twice within moments (a reconcile on a lagging cache)")
	}
	if !e.first(b, "Switched blue→green", t0.Add(time.Second)) {
		t.Error("another release's event was suppressed")
	}
	if !e.first(a, "Switched green→blue", t0.Add(2*time.Second)) {
		t.Error("a different event was suppressed")
	}
	if !e.first(a, "Switched blue→green", t0.Add(eventMemory+2*time.Second)) {
		t.Error("the same transition much later was suppressed")
	}
	e.forget(a)
	if !e.first(a, "Switched green→blue", t0.Add(eventMemory+3*time.Second)) {
		t.Error("a deleted release's memory was kept")
	}
}
