// The real single-node cluster: starting it with the operator as a pod, and
// the live traffic through the shop's public Service, counted by slot.

package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/loadgen"
	"github.com/magento-operator/magento-operator/test/realcluster/images"
	"github.com/magento-operator/magento-operator/test/realtraffic"
)

// trafficRate is the demo's load on the real cluster, in requests per second.
const trafficRate = 100

// breaksLater is a shop tag whose storefront answers 500 once a pod has
// served 20 pages: it passes its checks before the switch and breaks under
// traffic.
const breaksLater = "main-3-broken"

// badReleaseStep and calledOffStep start the names of the demo steps that
// deploy breaksLater and call the switch to it off.
const (
	badReleaseStep = "8. A release that breaks under traffic"
	calledOffStep  = "9. Calling the switch off"
)

// startReal runs the demo's cluster for real: the operator as a pod from its
// install bundle, the shop's nginx and php-fpm as real containers, and
// requests through the shop's public Service, counted as they are answered.
func startReal(ctx context.Context) (*environment, error) {
	title("Starting a real single-node cluster in a network namespace of its own " +
		"(containerd, kubelet, kube-proxy, CoreDNS), building the shop's and the operator's images")
	shop, err := realtraffic.StartShop(ctx, images.ShopConfig{Tags: []string{"main-1", "main-2", breaksLater},
		BrokenAfter: map[string]int{breaksLater: 20}})
	if err != nil {
		return nil, err
	}
	fmt.Printf("cluster up in %s; operator running as a pod %s after the start (kubectl -n %s logs deploy/%s)\n",
		shop.Up.Round(100*time.Millisecond), shop.Operator.Round(100*time.Millisecond),
		realtraffic.OperatorNamespace, realtraffic.OperatorDeployment)
	return &environment{
		// Checked before each switch and for 20 s after (shorter than the
		// demo's 30 s idle scale-down, which waits for the window to end).
		verification: &v1alpha1.VerificationSpec{
			Checks: []v1alpha1.HTTPCheck{{Path: "/health_check.php"}, {Path: "/", Contains: "version="}},
			Window: &metav1.Duration{Duration: 20 * time.Second}, Interval: &metav1.Duration{Duration: time.Second},
		},
		config: shop.Cluster.Config, kubeconfig: shop.Cluster.Kubeconfig,
		waitForServiceAccount: shop.Cluster.WaitForServiceAccount,
		images:                realtraffic.Images(),
		real:                  shop,
		stop:                  shop.Cluster.Stop,
	}, nil
}

// traffic is a load generator running through the shop's public Service.
type traffic struct {
	marks  chan string
	done   chan loadgen.Report
	err    error
	total  atomic.Int64
	failed atomic.Int64
	mu     sync.Mutex
	by     map[string]int
}

// startTraffic sends trafficRate requests/s, keep-alive, to Service name.
func startTraffic(ctx context.Context, shop *realtraffic.Shop, c client.Client) (*traffic, error) {
	svc := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc); err != nil {
		return nil, err
	}
	t := &traffic{marks: make(chan string), done: make(chan loadgen.Report, 1), by: map[string]int{}}
	cfg := loadgen.Config{URL: "http://" + svc.Spec.ClusterIP + "/", Rate: trafficRate, KeepAlive: true,
		MaxDuration: 15 * time.Minute, Dial: shop.Cluster.DialContext, Observe: t.observe}
	go func() {
		r, err := loadgen.Run(ctx, cfg, t.marks)
		t.err = err
		t.done <- r
	}()
	return t, nil
}

func (t *traffic) observe(color string, err error) {
	t.total.Add(1)
	if err != nil {
		t.failed.Add(1)
		return
	}
	t.mu.Lock()
	t.by[color]++
	t.mu.Unlock()
}

// mark starts a new step in the load generator's report.
func (t *traffic) mark(step string) { t.marks <- step }

// String is the live counter: requests so far, failures, answers by slot.
func (t *traffic) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := fmt.Sprintf("traffic: %d requests, %d failed", t.total.Load(), t.failed.Load())
	for _, c := range slices.Sorted(maps.Keys(t.by)) {
		s += fmt.Sprintf(", %d by %s", t.by[c], c)
	}
	return s
}

// stop ends the load and returns its report, one line per demo step.
func (t *traffic) stop() (loadgen.Report, error) {
	close(t.marks)
	r := <-t.done
	return r, t.err
}

// page fetches / through a Service of the shop from inside the cluster.
func page(ctx context.Context, shop *realtraffic.Shop, c client.Client, service string) string {
	svc := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: service}, svc); err != nil {
		return err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+svc.Spec.ClusterIP+"/", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := shop.Cluster.HTTPClient(5 * time.Second).Do(req)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return fmt.Sprintf("%s %s", resp.Status, strings.TrimSpace(string(body)))
}
