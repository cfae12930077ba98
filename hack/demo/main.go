// Command demo walks a whole blue/green release cycle: first rollout on
// blue, deploy to green, preview, switch, idle scale-down, rollback to blue,
// and a bad release caught by the checks (spec.verification).
// It prints what a person wants to see at each step and stops everything it
// started.
//
// By default it runs on the simulated cluster, with the real operator
// binary as its own process. With --real (root) it runs on the real
// single-node cluster: the operator as a pod from its install bundle, the
// shop's nginx and php-fpm as real containers, and requests sent through the
// shop's public Service the whole time, counted live.
//
//	go run ./hack/demo --manager bin/manager --kubectl PATH [--real]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/realtraffic"
	"github.com/magento-operator/magento-operator/test/simcluster"
)

const (
	ns   = "shop"
	name = "magento"
)

// environment is the cluster the demo runs on, with the operator running.
type environment struct {
	config                *rest.Config
	kubeconfig            string
	waitForServiceAccount func(ctx context.Context, namespace string) error
	// images, pod and verification are the release's spec.images, spec.pod
	// and spec.verification here.
	images       v1alpha1.Images
	pod          v1alpha1.PodSettings
	verification *v1alpha1.VerificationSpec
	// real is the real cluster, nil on the simulated one.
	real *realtraffic.Shop
	stop func() error
}

type demo struct {
	ctx     context.Context
	env     *environment
	kubectl string
	c       client.Client
	steps   []string
	start   time.Time
	// lastStep is when the current step began.
	lastStep time.Time
	// load runs on the real cluster once the shop serves.
	load *traffic
}

func main() {
	manager := flag.String("manager", "bin/manager", "the operator binary (simulated cluster)")
	kubectl := flag.String("kubectl", "kubectl", "the kubectl binary")
	real := flag.Bool("real", false, "run on the real single-node cluster (root), with live traffic")
	flag.Parse()
	if err := run(*manager, *kubectl, *real); err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1)
	}
}

func run(manager, kubectl string, real bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	begin := time.Now()
	var env *environment
	var err error
	if real {
		env, err = startReal(ctx)
	} else {
		env, err = startSim(ctx, manager)
	}
	if err != nil {
		return err
	}
	defer func() {
		title("Cleaning up: stopping the operator and the cluster")
		if err := env.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the cluster:", err)
		}
	}()

	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	c, err := client.New(env.config, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	d := &demo{ctx: ctx, env: env, kubectl: kubectl, c: c}
	if err := d.sh("create", "namespace", ns); err != nil {
		return err
	}
	if err := env.waitForServiceAccount(ctx, ns); err != nil {
		return err
	}
	err = d.walk(d.cycle())
	fmt.Println()
	title("Summary")
	for _, s := range d.steps {
		fmt.Println("  " + s)
	}
	if d.load != nil {
		report, lerr := d.load.stop()
		fmt.Printf("  %s, at %d/s with keep-alive through Service %s; by step:\n", d.load, trafficRate, name)
		for _, line := range report.Summary() {
			fmt.Println("    " + line)
		}
		// Requests may fail only while the broken release served, until the
		// checks saw it and traffic was back, and on the pooled connection
		// that stays with its nginx until it closes (steps 8 and 9).
		expected := func(step string) bool {
			return strings.HasPrefix(step, badReleaseStep) || strings.HasPrefix(step, calledOffStep)
		}
		if tot := report.Totals(func(step string) bool { return !expected(step) }); err == nil && (lerr != nil || tot.Failed > 0) {
			err = fmt.Errorf("%d of %d requests failed (%v)", tot.Failed, tot.Requests, lerr)
		}
	}
	if err == nil {
		fmt.Printf("  whole cycle: %s — traffic only ever moved to a ready slot\n", time.Since(begin).Round(time.Second))
	}
	return err
}

// startSim runs the demo on the simulated cluster: kwok's fake nodes, and
// the operator binary as a process of this machine.
func startSim(ctx context.Context, manager string) (*environment, error) {
	opts, err := simcluster.DefaultOptions()
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	title("Starting a simulated cluster on 127.0.0.1 (etcd, kube-apiserver, controller-manager, scheduler, kwok)")
	cluster, err := simcluster.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	fmt.Printf("ready in %s; 3 fake nodes\n", time.Since(begin).Round(100*time.Millisecond))
	op := cluster.NewOperator(manager)
	err = cluster.InstallCRDs(ctx)
	if err == nil {
		err = op.Start()
	}
	if err != nil {
		_ = cluster.Stop()
		return nil, err
	}
	fmt.Println("CRD installed; operator started as its own process (log: " + cluster.Dir + "/operator.log)")
	return &environment{
		config: cluster.Config, kubeconfig: cluster.Kubeconfig,
		waitForServiceAccount: cluster.WaitForServiceAccount,
		images:                v1alpha1.Images{App: "registry.example.com/shop/magento-php-fpm", Web: "registry.example.com/shop/magento-nginx"},
		pod:                   v1alpha1.PodSettings{Tolerations: simcluster.PodTolerations, NodeSelector: simcluster.PodNodeSelector},
		// Simulated pods answer no HTTP: the shop's own smoke test, run as a
		// Job in its image, checks a slot before each switch (and once
		// after, in a window shorter than the 30 s idle scale-down). Job
		// pods of the tag simcluster.Options.FailTag fail here.
		verification: &v1alpha1.VerificationSpec{
			Command: []string{"bin/smoke-test"},
			Window:  &metav1.Duration{Duration: 10 * time.Second},
		},
		stop: func() error {
			op.Stop()
			return cluster.Stop()
		},
	}, nil
}

func (d *demo) step(s string) {
	if d.start.IsZero() {
		d.start = time.Now()
	}
	d.lastStep = time.Now()
	d.steps = append(d.steps, fmt.Sprintf("[%6s] %s", time.Since(d.start).Round(time.Second), s))
	if d.load != nil {
		d.load.mark(s)
	}
	fmt.Println()
	title(s)
}

// show prints the release, its Deployments per slot and where the Services
// point; a failure is printed and the demo goes on.
func (d *demo) show() error {
	_ = d.sh("get", "mrel", name)
	_ = d.sh("get", "deployments", "-L", "magento.ops.dev/color", "--sort-by=.metadata.name")
	_ = d.sh("get", "services", "-o", "custom-columns=SERVICE:.metadata.name,SELECTS-SLOT:.spec.selector.magento\\.ops\\.dev/color")
	return nil
}

func (d *demo) apply(manifest []byte) error {
	cmd := d.kubectlCmd("apply", "-f", "-")
	cmd.Stdin = strings.NewReader(string(manifest))
	return cmd.Run()
}

func (d *demo) sh(args ...string) error {
	fmt.Println("$ kubectl " + strings.Join(quote(args), " "))
	return d.kubectlCmd(args...).Run()
}

func (d *demo) kubectlCmd(args ...string) *exec.Cmd {
	cmd := exec.CommandContext(d.ctx, d.kubectl, append([]string{"--kubeconfig=" + d.env.kubeconfig, "--namespace=" + ns}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd
}

// waitFor polls the release until ok holds, for at most two minutes. On the
// real cluster the line it prints counts the requests live.
func (d *demo) waitFor(what string, ok func(*v1alpha1.MagentoRelease) bool) error {
	start := time.Now()
	line := func() string {
		s := fmt.Sprintf("… waiting for %s (%s)", what, time.Since(start).Round(100*time.Millisecond))
		if d.load != nil {
			s += " · " + d.load.String()
		}
		return s
	}
	live := d.load != nil
	if !live {
		fmt.Printf("… waiting for %s", what)
	}
	for time.Since(start) < 3*time.Minute {
		if live {
			fmt.Print("\r\033[K" + line())
		}
		r := &v1alpha1.MagentoRelease{}
		if err := d.c.Get(d.ctx, client.ObjectKey{Namespace: ns, Name: name}, r); err == nil && ok(r) {
			if live {
				fmt.Println("\r\033[K" + line())
			} else {
				fmt.Printf(" (%s)\n", time.Since(start).Round(100*time.Millisecond))
			}
			return nil
		}
		select {
		case <-d.ctx.Done():
			fmt.Println()
			return d.ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	fmt.Println()
	return fmt.Errorf("timed out waiting for %s", what)
}

func title(s string) { fmt.Printf("\033[1m== %s\033[0m\n", s) }

func quote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, ` {}"()*,`) {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
