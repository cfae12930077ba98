package plugin

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
)

// checkLines are the lines status prints under the slot table: the window
// of checks after the last switch, the slots that failed their checks, and
// what the migrations said.
func (o *options) checkLines(r *v1alpha1.MagentoRelease) []string {
	var lines []string
	st := r.Status
	if u := st.ChecksUntil; u != nil && u.After(o.now()) {
		lines = append(lines, fmt.Sprintf("Checks:   after the switch to %s until %s (%s left)",
			orNone(string(st.ActiveColor)), u.UTC().Format(time.RFC3339), u.Sub(o.now()).Round(time.Second)))
	}
	for _, c := range v1alpha1.Colors {
		if s := st.SlotStatus(c); s != nil && s.VerificationFailure != "" {
			lines = append(lines, fmt.Sprintf("%s failed its checks: %s", c, s.VerificationFailure))
		}
	}
	for _, c := range v1alpha1.Colors {
		s := st.SlotStatus(c)
		switch {
		case s == nil:
		case s.MigrationOutput != "" && s.MigrationFailed:
			lines = append(lines, fmt.Sprintf("%s migration: %s (failed)", c, s.MigrationOutput))
		case s.MigrationOutput != "":
			lines = append(lines, fmt.Sprintf("%s migration: %s", c, s.MigrationOutput))
		case s.MigrationFailed:
			lines = append(lines, fmt.Sprintf("%s migration: failed", c))
		}
	}
	return lines
}

// requestTime is the time a request annotation asks for: now, rounded up to
// the second as the operator rounds the times it records, so a failure or
// a switch it recorded a moment ago is before it.
func (o *options) requestTime() time.Time {
	now := o.now().UTC()
	if t := now.Truncate(time.Second); !t.Equal(now) {
		return t.Add(time.Second)
	}
	return now
}

func setAnnotation(r *v1alpha1.MagentoRelease, key string, t time.Time) {
	if r.Annotations == nil {
		r.Annotations = map[string]string{}
	}
	r.Annotations[key] = t.UTC().Format(time.RFC3339)
}

func (o *options) retryChecksCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "retry-checks RELEASE",
		Short: "Check a slot whose checks failed again, at the version it runs (when the cause was outside the release)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, r, err := o.release(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var failed []v1alpha1.Color
			if err := patch(cmd.Context(), c, r, func(r *v1alpha1.MagentoRelease) error {
				failed = nil
				at := o.requestTime()
				for _, color := range v1alpha1.Colors {
					if s := r.Status.SlotStatus(color); s != nil && s.VerificationFailure != "" {
						failed = append(failed, color)
						// A failure the operator's clock put after ours is
						// the one asked about: retry it too.
						if t := s.VerificationFailedTime; t != nil && t.After(at) {
							at = t.UTC()
						}
					}
				}
				if len(failed) == 0 {
					return &exitError{ExitError, fmt.Errorf("%s has no failed checks to retry", r.Name)}
				}
				setAnnotation(r, v1alpha1.AnnotationRetryChecks, at)
				return nil
			}); err != nil {
				return err
			}
			for _, color := range failed {
				var when string
				switch {
				case color == r.Spec.ActiveColor && color != r.Status.ActiveColor:
					when = "the switch to it starts again"
				case color == r.Spec.ActiveColor:
					when = "it serves traffic: a new window of checks starts"
				default:
					when = "at the next switch to it"
				}
				fmt.Fprintf(o.streams.Out, "checking %s (%s) again: %s\n", color, orNone(r.Status.SlotStatus(color).Tag), when)
			}
			return nil
		},
	}
}

func (o *options) skipChecksCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "skip-checks RELEASE",
		Short: "Let the pending switch go ahead without its checks, or end the checks after the last switch",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, r, err := o.release(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var skipped []string
			if err := patch(cmd.Context(), c, r, func(r *v1alpha1.MagentoRelease) error {
				skipped = nil
				if r.Spec.Verification == nil {
					return &exitError{ExitError, fmt.Errorf("%s has no checks to skip: spec.verification is not set", r.Name)}
				}
				st := r.Status
				if st.ActiveColor != "" && r.Spec.ActiveColor != st.ActiveColor {
					skipped = append(skipped, fmt.Sprintf("skipping the checks of the pending switch to %s: it goes ahead once %s is ready (and migrated)",
						r.Spec.ActiveColor, r.Spec.ActiveColor))
				}
				if u := st.ChecksUntil; u != nil && u.After(o.now()) {
					skipped = append(skipped, fmt.Sprintf("skipping the checks after the switch to %s (due until %s)",
						st.ActiveColor, u.UTC().Format(time.RFC3339)))
				}
				if len(skipped) == 0 {
					return &exitError{ExitError, fmt.Errorf("%s has no pending switch and no checks running after a switch: nothing to skip", r.Name)}
				}
				setAnnotation(r, v1alpha1.AnnotationSkipChecks, o.requestTime())
				return nil
			}); err != nil {
				return err
			}
			for _, s := range skipped {
				fmt.Fprintln(o.streams.Out, s)
			}
			return nil
		},
	}
}
