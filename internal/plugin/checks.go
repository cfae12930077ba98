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

// requestCommand is a command that sets one of the release's request
// annotations (scale-down-idle, retry-checks, skip-checks) to a time. ask
// reads the release (again after a conflict) and says the time to ask for
// and what to print once it is set, or why it cannot be asked for.
func (o *options) requestCommand(use, short, annotation string,
	ask func(r *v1alpha1.MagentoRelease) (time.Time, []string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " RELEASE",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, r, err := o.release(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var said []string
			if err := patch(cmd.Context(), c, r, func(r *v1alpha1.MagentoRelease) error {
				at, lines, err := ask(r)
				if err != nil {
					return err
				}
				said = lines
				setAnnotation(r, annotation, at)
				return nil
			}); err != nil {
				return err
			}
			for _, l := range said {
				fmt.Fprintln(o.streams.Out, l)
			}
			return nil
		},
	}
}

func (o *options) retryChecksCommand() *cobra.Command {
	return o.requestCommand("retry-checks",
		"Check a slot whose checks failed again, at the version it runs (when the cause was outside the release)",
		v1alpha1.AnnotationRetryChecks, func(r *v1alpha1.MagentoRelease) (time.Time, []string, error) {
			at := o.requestTime()
			var lines []string
			for _, color := range v1alpha1.Colors {
				s := r.Status.SlotStatus(color)
				if s == nil || s.VerificationFailure == "" {
					continue
				}
				// A failure the operator's clock put after ours is the one
				// asked about: retry it too.
				if t := s.VerificationFailedTime; t != nil && t.After(at) {
					at = t.UTC()
				}
				var when string
				switch {
				case color == r.Spec.ActiveColor && color != r.Status.ActiveColor:
					when = "the switch to it starts again"
				case color == r.Spec.ActiveColor:
					when = "it serves traffic: a new window of checks starts"
				default:
					when = "at the next switch to it"
				}
				lines = append(lines, fmt.Sprintf("checking %s (%s) again: %s", color, orNone(s.Tag), when))
			}
			if len(lines) == 0 {
				return at, nil, &exitError{ExitError, fmt.Errorf("%s has no failed checks to retry", r.Name)}
			}
			return at, lines, nil
		})
}

func (o *options) skipChecksCommand() *cobra.Command {
	return o.requestCommand("skip-checks",
		"Let the pending switch go ahead without its checks, or end the checks after the last switch",
		v1alpha1.AnnotationSkipChecks, func(r *v1alpha1.MagentoRelease) (time.Time, []string, error) {
			if r.Spec.Verification == nil {
				return time.Time{}, nil, &exitError{ExitError, fmt.Errorf("%s has no checks to skip: spec.verification is not set", r.Name)}
			}
			var lines []string
			st := r.Status
			if st.ActiveColor != "" && r.Spec.ActiveColor != st.ActiveColor {
				lines = append(lines, fmt.Sprintf("skipping the checks of the pending switch to %s: it goes ahead once %s is ready (and migrated)",
					r.Spec.ActiveColor, r.Spec.ActiveColor))
			}
			if u := st.ChecksUntil; u != nil && u.After(o.now()) {
				lines = append(lines, fmt.Sprintf("skipping the checks after the switch to %s (due until %s)",
					st.ActiveColor, u.UTC().Format(time.RFC3339)))
			}
			if len(lines) == 0 {
				return time.Time{}, nil, &exitError{ExitError,
					fmt.Errorf("%s has no pending switch and no checks running after a switch: nothing to skip", r.Name)}
			}
			return o.requestTime(), lines, nil
		})
}
