package controller

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
	"github.com/magento-operator/magento-operator/test/builder"
)

// TestARoundChecksThePodsAtOnceAndReportsTheFirstFailureByName checks the
// round's shape with six web pods on six loopback addresses: every pod is
// asked, several at once (a slot of slow pods holds a worker for one pod's
// time), and the failure reported is the first failing pod's by name,
// whichever answers first.
func TestARoundChecksThePodsAtOnceAndReportsTheFirstFailureByName(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on every address: %v", err)
	}
	var inFlight, most, asked atomic.Int32
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		host, _, _ := net.SplitHostPort(r.Context().Value(http.LocalAddrContextKey).(net.Addr).String())
		time.Sleep(200 * time.Millisecond) // long enough for the others to overlap
		if host == "127.0.0.5" || host == "127.0.0.3" {
			http.Error(w, "broken on "+host, http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	rel := builder.MakeRelease("stage", "shop").WebPort(int32(ln.Addr().(*net.TCPAddr).Port)).Verification(v1alpha1.VerificationSpec{}).Obj()
	var objs []runtime.Object
	// Names in the reverse order of the addresses: pod-1 is on 127.0.0.7.
	for i := 1; i <= 6; i++ {
		objs = append(objs, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "shop-web-green-" + strconv.Itoa(i), Namespace: "stage",
				Labels: specs.SlotLabels(rel, v1alpha1.Green, specs.Web)},
			Status: corev1.PodStatus{PodIP: "127.0.0." + strconv.Itoa(8-i),
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		})
	}
	sch := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(sch); err != nil {
		t.Fatal(err)
	}
	r := &MagentoReleaseReconciler{APIReader: fake.NewClientBuilder().WithScheme(sch).WithRuntimeObjects(objs...).Build()}
	res := r.check(context.Background(), rel, bluegreen.Check{Color: v1alpha1.Green})
	// 127.0.0.5 is pod 3, 127.0.0.3 is pod 5: pod 3 comes first by name.
	if !strings.Contains(res.Failure, "on pod shop-web-green-3: status 500") || res.Inconclusive {
		t.Errorf("failure %q", res.Failure)
	}
	if asked.Load() != 6 {
		t.Errorf("%d pods were asked, want 6", asked.Load())
	}
	if most.Load() < 2 {
		t.Errorf("at most %d request at once: the pods were checked one after another", most.Load())
	}
}
