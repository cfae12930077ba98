// This file is `kubectl magento status`.

package plugin

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// statusCommand shows what the release runs and how healthy it is.
func (o *options) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status RELEASE",
		Short: "Show slots, tags, readiness, checks, where traffic goes and when the idle slot scales down",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, r, err := o.release(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			o.printStatus(r)
			return nil
		},
	}
}

func (o *options) printStatus(r *v1alpha1.MagentoRelease) {
	out := o.streams.Out
	st := r.Status
	fmt.Fprintf(out, "Release:  %s/%s (generation %d, observed %d)\n", r.Namespace, r.Name, r.Generation, st.ObservedGeneration)
	// The conditions at the end say why; until the operator observed the
	// newest spec they are older than it.
	phase, _ := st.Health(r.Generation)
	fmt.Fprintf(out, "Phase:    %s\n", phase)
	fmt.Fprintf(out, "Traffic:  %s", orNone(string(st.ActiveColor)))
	if r.Spec.ActiveColor != st.ActiveColor {
		fmt.Fprintf(out, " (switching to %s)", r.Spec.ActiveColor)
	}
	fmt.Fprintf(out, "\nPreview:  %s\n\n", orNone(string(st.PreviewColor)))
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SLOT\tSPEC TAG\tRUNNING TAG\tSTATE\tREADY\tOUTDATED\tMIGRATED\tVERIFIED\tIDLE SCALE-DOWN")
	for _, c := range v1alpha1.Colors {
		spec, s := r.Spec.Slot(c), st.SlotStatus(c)
		if spec == nil && s == nil {
			continue
		}
		specTag := "-"
		if spec != nil {
			specTag = spec.Tag
		}
		if s == nil {
			s = &v1alpha1.SlotStatus{}
		}
		verified := "-"
		if r.Spec.Verification != nil {
			verified = fmt.Sprint(s.Verified)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%t\t%t\t%t\t%s\t%s\n", c, specTag, orNone(s.Tag), orNone(string(s.State)), s.Ready, s.Outdated,
			s.Migrated, verified, o.scaleDownIn(s))
	}
	_ = w.Flush()
	if lines := o.checkLines(r); len(lines) > 0 {
		fmt.Fprintln(out)
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
	}
	fmt.Fprintln(out)
	for _, t := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionProgressing, v1alpha1.ConditionDegraded} {
		if c := meta.FindStatusCondition(st.Conditions, t); c != nil {
			fmt.Fprintf(out, "%-12s %-5s %s: %s\n", t+":", c.Status, c.Reason, c.Message)
		}
	}
}

func (o *options) scaleDownIn(s *v1alpha1.SlotStatus) string {
	if s.IdleScaleDownTime == nil {
		return "-"
	}
	if s.State == v1alpha1.SlotScaledDown {
		return "done " + s.IdleScaleDownTime.UTC().Format(time.RFC3339)
	}
	left := s.IdleScaleDownTime.Sub(o.now()).Round(time.Second)
	if left < 0 {
		left = 0
	}
	return "in " + left.String()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
