// The demo's steps as a table — each with its title, the change it makes to
// the release, what it waits for and what it shows — and the loop that runs
// them.

package main

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/builder"
)

// where is the cluster a step runs on; the zero value is both.
type where int

const (
	simOnly where = iota + 1
	realOnly
)

// step is one step of the cycle. Its title starts it; then come its change,
// its waits one after the other, and its views in order.
type step struct {
	title string
	on    where
	// change is what the step does to the release, as CI would; nil: none.
	change func(d *demo) error
	waits  []wait
	show   []view
}

// wait is what a step waits for: ok to hold of the release.
type wait struct {
	what string
	ok   func(*v1alpha1.MagentoRelease) bool
}

// view shows something; an error stops the demo.
type view func(d *demo) error

// failingTag is a tag whose Job pods fail on the simulated cluster (the
// default simcluster.Options.FailTag): its smoke test fails.
const failingTag = "failing"

// degraded prints the message of the release's Degraded condition.
const degraded = `jsonpath={.status.conditions[?(@.type=="Degraded")].message}{"\n"}`

// cycle is the whole blue/green cycle: first rollout, deploy to the idle
// slot, preview, switch, idle scale-down, rollback; then on the simulated
// cluster a broken build caught before the switch (its smoke test fails)
// and on the real one a release caught by the checks after it (it breaks
// under traffic), each switch called off after.
func (d *demo) cycle() []step {
	return []step{{
		title:  "1. First rollout: blue runs main-1 and serves traffic",
		change: applyRelease,
		waits:  []wait{{"Ready", func(r *v1alpha1.MagentoRelease) bool { return ready(r) && r.Status.ActiveColor == v1alpha1.Blue }}},
		show:   []view{(*demo).show, sendTraffic},
	}, {
		title:  "2. Deploy main-2 to the idle slot, green",
		change: patch(`{"spec":{"green":{"tag":"main-2"}}}`),
		waits:  []wait{{"green ready", func(r *v1alpha1.MagentoRelease) bool { return r.Status.Green != nil && r.Status.Green.Ready }}},
		show:   []view{(*demo).show},
	}, {
		title: "3. Preview: " + name + "-preview (and preview.shop.example.com) serve green; traffic stays on blue",
		show: []view{get("endpointslices", "-l", "kubernetes.io/service-name in ("+name+","+name+"-preview)",
			"-o", "custom-columns=SLICE:.metadata.name,SERVICE:.metadata.labels.kubernetes\\.io/service-name,PODS:.endpoints[*].targetRef.name"),
			pages(name, name+"-preview")},
	}, {
		title:  "4. Switch traffic to green (what CI's \"switch\" button does)",
		change: patch(`{"spec":{"activeColor":"green"}}`),
		waits:  []wait{{"switched and settled", settledOn(v1alpha1.Green)}},
		show:   []view{(*demo).show},
	}, {
		title: "5. Idle scale-down: blue stopped serving; after idleScaleDown.after (30s) it goes to zero",
		waits: []wait{{"blue scaled down", func(r *v1alpha1.MagentoRelease) bool {
			return r.Status.Blue != nil && r.Status.Blue.State == v1alpha1.SlotScaledDown
		}}},
		show: []view{(*demo).show},
	}, {
		title:  "6. Rollback to blue: scaled up with its frozen template, switched once ready",
		change: patch(`{"spec":{"activeColor":"blue"}}`),
		waits:  []wait{{"rolled back", settledOn(v1alpha1.Blue)}},
		show:   []view{(*demo).show},
	}, {
		title:  "7. A broken build caught before the switch: deploy " + failingTag + " to green and switch; its smoke test fails",
		on:     simOnly,
		change: patch(`{"spec":{"green":{"tag":"` + failingTag + `"},"activeColor":"green"}}`),
		waits:  []wait{{"the failed check", greenFailed}},
		show: []view{(*demo).show, peek("jobs", "-l", "app.kubernetes.io/component=verification",
			"-o", "custom-columns=JOB:.metadata.name,IMAGE:.spec.template.spec.containers[0].image,FAILED:.status.failed"),
			peek("mrel", name, "-o", degraded)},
	}, {
		title:  "8. Calling the switch off: spec.activeColor back to blue",
		on:     simOnly,
		change: patch(`{"spec":{"activeColor":"blue"}}`),
		waits: []wait{{"Ready, not Degraded", func(r *v1alpha1.MagentoRelease) bool {
			return ready(r) && !meta.IsStatusConditionTrue(r.Status.Conditions, v1alpha1.ConditionDegraded)
		}}},
	}, {
		title: "7. Traffic follows: a few seconds of requests after the rollback",
		on:    realOnly,
		waits: []wait{{"3s", func(*v1alpha1.MagentoRelease) bool { return time.Since(d.lastStep) > 3*time.Second }}},
	}, {
		title:  badReleaseStep + ": deploy " + breaksLater + " to green and switch; the checks after the switch move traffic back",
		on:     realOnly,
		change: patch(`{"spec":{"green":{"tag":"` + breaksLater + `"},"activeColor":"green"}}`),
		waits: []wait{
			{"switched to green", func(r *v1alpha1.MagentoRelease) bool { return r.Status.ActiveColor == v1alpha1.Green }},
			{"switched back to blue", func(r *v1alpha1.MagentoRelease) bool { return r.Status.ActiveColor == v1alpha1.Blue && greenFailed(r) }},
		},
		show: []view{(*demo).show, peek("mrel", name, "-o", degraded)},
	}, {
		title:  calledOffStep + ": spec.activeColor back to blue",
		on:     realOnly,
		change: patch(`{"spec":{"activeColor":"blue"}}`),
	}}
}

// walk runs the steps meant for this cluster, in order, then lists the
// release's events.
func (d *demo) walk(steps []step) error {
	for _, s := range steps {
		if (s.on == simOnly && d.env.real != nil) || (s.on == realOnly && d.env.real == nil) {
			continue
		}
		d.step(s.title)
		if s.change != nil {
			if err := s.change(d); err != nil {
				return err
			}
		}
		for _, w := range s.waits {
			if err := d.waitFor(w.what, w.ok); err != nil {
				return err
			}
		}
		for _, show := range s.show {
			if err := show(d); err != nil {
				return err
			}
		}
	}
	return get("events", "--field-selector", "involvedObject.kind=MagentoRelease",
		"-o", "custom-columns=REASON:.reason,MESSAGE:.message")(d)
}

// applyRelease prints the release's manifest and applies it: blue at
// main-1, the images, pods and checks of this cluster, and an Ingress.
func applyRelease(d *demo) error {
	release := builder.MakeRelease(ns, name).IdleAfter(30 * time.Second).
		With(func(r *v1alpha1.MagentoRelease) {
			r.APIVersion, r.Kind = v1alpha1.GroupVersion.String(), "MagentoRelease"
			r.Spec.Images, r.Spec.Pod, r.Spec.Verification = d.env.images, d.env.pod, d.env.verification
			r.Spec.Ingress = &v1alpha1.IngressSpec{Host: "shop.example.com", PreviewHost: "preview.shop.example.com"}
		}).Obj()
	manifest, err := yaml.Marshal(release)
	if err != nil {
		return err
	}
	fmt.Printf("$ kubectl apply -f - <<EOF\n%sEOF\n", manifest)
	return d.apply(manifest)
}

// patch merges p into the release, as CI would.
func patch(p string) func(d *demo) error {
	return func(d *demo) error { return d.sh("patch", "mrel", name, "--type=merge", "-p", p) }
}

// get runs kubectl get args; a failure stops the demo.
func get(args ...string) view {
	return func(d *demo) error { return d.sh(append([]string{"get"}, args...)...) }
}

// peek runs kubectl get args; a failure is printed and the demo goes on.
func peek(args ...string) view {
	return func(d *demo) error {
		_ = d.sh(append([]string{"get"}, args...)...)
		return nil
	}
}

// sendTraffic starts the load on the real cluster, through the shop's
// public Service, and prints what it answers; nothing on the simulated one.
func sendTraffic(d *demo) error {
	shop := d.env.real
	if shop == nil {
		return nil
	}
	var err error
	if d.load, err = startTraffic(d.ctx, shop, d.c); err != nil {
		return err
	}
	fmt.Printf("Sending %d requests/s to Service %s from now on, keep-alive; %s answers: %s\n",
		trafficRate, name, name, page(d.ctx, shop, d.c, name))
	return nil
}

// pages prints what each of the services answers, on the real cluster;
// nothing on the simulated one, whose pods answer no HTTP.
func pages(services ...string) view {
	return func(d *demo) error {
		if shop := d.env.real; shop != nil {
			for _, svc := range services {
				fmt.Printf("%s answers: %s\n", svc, page(d.ctx, shop, d.c, svc))
			}
		}
		return nil
	}
}

// settledOn holds once color serves and the release is ready and no longer
// progressing.
func settledOn(color v1alpha1.Color) func(*v1alpha1.MagentoRelease) bool {
	return func(r *v1alpha1.MagentoRelease) bool {
		return r.Status.ActiveColor == color && ready(r) && !progressing(r)
	}
}

// greenFailed holds once green failed its checks.
func greenFailed(r *v1alpha1.MagentoRelease) bool {
	return r.Status.Green != nil && r.Status.Green.VerificationFailure != ""
}

func ready(r *v1alpha1.MagentoRelease) bool {
	return r.Status.ObservedGeneration == r.Generation && meta.IsStatusConditionTrue(r.Status.Conditions, v1alpha1.ConditionReady)
}

func progressing(r *v1alpha1.MagentoRelease) bool {
	return meta.IsStatusConditionTrue(r.Status.Conditions, v1alpha1.ConditionProgressing)
}
