// Package plugin is kubectl-magento, the kubectl plugin for MagentoReleases:
// status, deploy, switch, rollback, scale-down-idle, retry-checks and
// skip-checks, with exit codes CI jobs can branch on.
package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// Exit codes of kubectl-magento, for CI jobs to branch on.
const (
	// ExitOK is a command that did what it was asked.
	ExitOK = 0
	// ExitError is any other failure, e.g. bad usage or a request the API
	// server refused.
	ExitError = 1
	// ExitTimeout is --wait running out of time.
	ExitTimeout = 2
	// ExitDegraded is the release going Degraded while --wait waited (e.g. a
	// failed migration).
	ExitDegraded = 3
)

// exitError is an error that carries the exit code the command ends with
// (see ExitCode); any other error ends it with ExitError.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// ExitCode maps an error returned by the command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}

type options struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
	// newClient is replaced by tests; it builds a client from the flags.
	newClient func() (client.Client, string, error)
	now       func() time.Time
}

// NewCommand returns the kubectl-magento command.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	return NewCommandWithClock(streams, time.Now)
}

// NewCommandWithClock is NewCommand telling the time with now, which must be
// the operator's clock (tests share a fake one).
func NewCommandWithClock(streams genericiooptions.IOStreams, now func() time.Time) *cobra.Command {
	o := &options{flags: genericclioptions.NewConfigFlags(true), streams: streams, now: now}
	o.newClient = o.clientFromFlags
	root := &cobra.Command{
		Use:           "kubectl-magento",
		Short:         "Deploy, switch and inspect blue/green MagentoReleases",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	o.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(o.statusCommand(), o.deployCommand(), o.switchCommand(), o.rollbackCommand(), o.scaleDownCommand(),
		o.retryChecksCommand(), o.skipChecksCommand())
	return root
}

func (o *options) clientFromFlags() (client.Client, string, error) {
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, "", err
	}
	ns, _, err := o.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, "", err
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, "", err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	return c, ns, err
}

func (o *options) release(ctx context.Context, name string) (client.Client, *v1alpha1.MagentoRelease, error) {
	c, ns, err := o.newClient()
	if err != nil {
		return nil, nil, err
	}
	r := &v1alpha1.MagentoRelease{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, r); err != nil {
		return nil, nil, err
	}
	return c, r, nil
}

// patch sends a merge patch guarded by the release's resourceVersion, so a
// concurrent change is never overwritten; on a conflict (the operator wrote
// the status meanwhile) it reads the release again and retries, and mutate
// decides again on what it reads.
func patch(ctx context.Context, c client.Client, r *v1alpha1.MagentoRelease, mutate func(*v1alpha1.MagentoRelease) error) error {
	first := true
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			if err := c.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
				return err
			}
		}
		first = false
		base := r.DeepCopy()
		if err := mutate(r); err != nil {
			return err
		}
		return c.Patch(ctx, r, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	})
}

func (o *options) deployCommand() *cobra.Command {
	var tag, digest, revision string
	cmd := &cobra.Command{
		Use:   "deploy RELEASE --tag TAG",
		Short: "Deploy an image tag to the slot that does not serve traffic (the target of a pending switch)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, r, err := o.release(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var idle v1alpha1.Color
			if err := patch(cmd.Context(), c, r, func(r *v1alpha1.MagentoRelease) error {
				idle = deployColor(r)
				s := &v1alpha1.Slot{Tag: tag, Digest: digest, Revision: revision}
				if r.Spec.Slot(idle) != nil && revision == "" && r.Spec.Slot(idle).Tag == tag && r.Spec.Slot(idle).Digest == digest {
					s.Revision = r.Spec.Slot(idle).Revision
				}
				if idle == v1alpha1.Blue {
					r.Spec.Blue = s
				} else {
					r.Spec.Green = s
				}
				return nil
			}); err != nil {
				return err
			}
			fmt.Fprintf(o.streams.Out, "deploying %s to %s (not serving traffic); switch with: kubectl magento switch %s --to %s\n", tag, idle, r.Name, idle)
			return nil
		},
	}
	cmd.Flags().StringVar(&tag, "tag", "", "image tag to deploy (required)")
	cmd.Flags().StringVar(&digest, "digest", "", "pin the images by digest (sha256:…)")
	cmd.Flags().StringVar(&revision, "revision", "", "revision, to redeploy the same tag with the current settings")
	_ = cmd.MarkFlagRequired("tag")
	return cmd
}

// idleColor is the slot that neither serves nor is asked to serve.
func idleColor(r *v1alpha1.MagentoRelease) (v1alpha1.Color, error) {
	if r.Status.ActiveColor != "" && r.Status.ActiveColor != r.Spec.ActiveColor {
		return "", fmt.Errorf("a switch from %s to %s is under way: wait for it or call it off",
			r.Status.ActiveColor, r.Spec.ActiveColor)
	}
	return r.Spec.ActiveColor.Other(), nil
}

// deployColor is the slot a deploy goes to: the one that does not serve
// traffic. During a switch that is its target, so a fix for a target that
// failed its migration or never became ready is one deploy.
func deployColor(r *v1alpha1.MagentoRelease) v1alpha1.Color {
	if r.Status.ActiveColor != "" {
		return r.Status.ActiveColor.Other()
	}
	return r.Spec.ActiveColor.Other()
}

type waitFlags struct {
	wait    bool
	timeout time.Duration
}

func (w *waitFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&w.wait, "wait", false, "wait until traffic has moved and the release is Ready")
	cmd.Flags().DurationVar(&w.timeout, "timeout", 10*time.Minute, "how long --wait waits")
}

func (o *options) switchCommand() *cobra.Command {
	var to string
	var w waitFlags
	cmd := &cobra.Command{
		Use:   "switch RELEASE [--to blue|green] [--wait] [--timeout 10m]",
		Short: "Move traffic to the other slot (or --to a slot) once it is ready",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, r, err := o.release(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			target := r.Spec.ActiveColor.Other()
			if to != "" {
				target = v1alpha1.Color(to)
			}
			return o.switchTo(cmd.Context(), c, r, target, w)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "blue or green (default: the slot that is not active)")
	w.add(cmd)
	return cmd
}

func (o *options) rollbackCommand() *cobra.Command {
	var w waitFlags
	cmd := &cobra.Command{
		Use:   "rollback RELEASE [--wait] [--timeout 10m]",
		Short: "Move traffic back to the slot that served before (scaled up first if it was scaled down)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, r, err := o.release(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if r.Status.ActiveColor == "" {
				return errors.New("nothing has served yet: there is nothing to roll back to")
			}
			return o.switchTo(cmd.Context(), c, r, r.Status.ActiveColor.Other(), w)
		},
	}
	w.add(cmd)
	return cmd
}

// switchTo asks for traffic to move to target, a slot r must have; with
// --wait, it waits until traffic is there and the release is Ready.
func (o *options) switchTo(ctx context.Context, c client.Client, r *v1alpha1.MagentoRelease, target v1alpha1.Color, w waitFlags) error {
	if target != v1alpha1.Blue && target != v1alpha1.Green {
		return fmt.Errorf("--to must be blue or green, not %q", target)
	}
	if r.Spec.Slot(target) == nil {
		return fmt.Errorf("%s has no %s slot: deploy to it first", r.Name, target)
	}
	if r.Spec.ActiveColor != target {
		if err := patch(ctx, c, r, func(r *v1alpha1.MagentoRelease) error { r.Spec.ActiveColor = target; return nil }); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.streams.Out, "switching %s to %s\n", r.Name, target)
	if !w.wait {
		return nil
	}
	return o.waitFor(ctx, c, client.ObjectKeyFromObject(r), target, w.timeout)
}

// waitFor waits until traffic is on target and the release is Ready.
func (o *options) waitFor(ctx context.Context, c client.Client, key client.ObjectKey, target v1alpha1.Color, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	for {
		r := &v1alpha1.MagentoRelease{}
		if err := c.Get(ctx, key, r); err == nil {
			ready := meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionReady)
			if r.Status.ObservedGeneration == r.Generation && r.Status.ActiveColor == target && ready != nil && ready.Status == metav1.ConditionTrue {
				fmt.Fprintf(o.streams.Out, "traffic is on %s and %s is Ready\n", target, r.Name)
				return nil
			}
			if d := meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionDegraded); d != nil && d.Status == metav1.ConditionTrue &&
				d.ObservedGeneration == r.Generation && d.Reason != v1alpha1.ReasonDeadlineExceeded {
				return &exitError{ExitDegraded, fmt.Errorf("%s is Degraded (%s): %s", r.Name, d.Reason, d.Message)}
			}
			if p := meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionProgressing); p != nil && p.Message != last {
				last = p.Message
				fmt.Fprintf(o.streams.ErrOut, "… %s\n", strings.TrimSpace(p.Message))
			}
		}
		select {
		case <-ctx.Done():
			return &exitError{ExitTimeout, fmt.Errorf("traffic did not reach %s within %s", target, timeout)}
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (o *options) scaleDownCommand() *cobra.Command {
	return o.requestCommand("scale-down-idle", "Scale the idle slot down to zero now instead of after idleScaleDown.after",
		v1alpha1.AnnotationScaleDownIdle, func(r *v1alpha1.MagentoRelease) (time.Time, []string, error) {
			idle, err := idleColor(r)
			if err != nil {
				return time.Time{}, nil, err
			}
			if r.Spec.Slot(idle) == nil {
				return time.Time{}, nil, fmt.Errorf("%s has no idle slot", r.Name)
			}
			return o.now(), []string{fmt.Sprintf("scaling %s down now", idle)}, nil
		})
}
