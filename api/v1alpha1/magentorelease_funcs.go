package v1alpha1

import "time"

// Other returns the other slot's colour.
func (c Color) Other() Color {
	if c == Blue {
		return Green
	}
	return Blue
}

// Slot returns the spec of the slot of the given colour, nil when it does not exist.
func (s *MagentoReleaseSpec) Slot(c Color) *Slot {
	switch c {
	case Blue:
		return s.Blue
	case Green:
		return s.Green
	}
	return nil
}

// SlotStatus returns the status of the slot of the given colour, nil when none was recorded.
func (s *MagentoReleaseStatus) SlotStatus(c Color) *SlotStatus {
	switch c {
	case Blue:
		return s.Blue
	case Green:
		return s.Green
	}
	return nil
}

// SetSlotStatus records the status of the slot of the given colour; nil removes it.
func (s *MagentoReleaseStatus) SetSlotStatus(c Color, st *SlotStatus) {
	switch c {
	case Blue:
		s.Blue = st
	case Green:
		s.Green = st
	}
}

// Condition types reported on a MagentoRelease.
const (
	// ConditionReady is True when the desired slot serves traffic and is fully available.
	ConditionReady = "Ready"
	// ConditionProgressing is True while a deploy or a switch is under way.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when a deadline passed, a migration failed or a
	// request cannot be carried out.
	ConditionDegraded = "Degraded"
)

// AnnotationScaleDownIdle, set on a release to an RFC 3339 time, asks for the
// idle slot to be scaled down now, if it has been idle since before that time
// (`kubectl magento scale-down-idle` sets it).
const AnnotationScaleDownIdle = "magento.ops.dev/scale-down-idle"

// AnnotationRetryChecks, set on a release to an RFC 3339 time, asks for a
// slot whose checks (spec.verification) failed before that time to be
// checked again, at the version it runs (`kubectl magento retry-checks`).
const AnnotationRetryChecks = "magento.ops.dev/retry-checks"

// AnnotationSkipChecks, set on a release to an RFC 3339 time, skips the
// checks of a switch pending since before that time (failed ones too), and
// ends the window of checks after a switch made before it (`kubectl magento
// skip-checks`).
const AnnotationSkipChecks = "magento.ops.dev/skip-checks"

// MaxNameLength is the longest metadata.name a MagentoRelease may have. Every
// child is named from it and must be a DNS-1035 label of at most 63
// characters; the longest child name is the post-switch Job
// <name>-post-switch-green-<8 hex characters>, a suffix of 27 characters, so
// the name may have 63 - 27 = 36. The CEL rule on MagentoRelease spells the
// number out (markers cannot refer to constants); a test keeps the two equal.
const MaxNameLength = 36

// HTTPChecks returns the checks to run: the default one when neither checks
// nor a command are set.
func (v *VerificationSpec) HTTPChecks() []HTTPCheck {
	if len(v.Checks) == 0 && len(v.Command) > 0 {
		return nil
	}
	if len(v.Checks) == 0 {
		return []HTTPCheck{{Path: DefaultCheckPath, Status: DefaultCheckStatus}}
	}
	out := make([]HTTPCheck, len(v.Checks))
	for i, c := range v.Checks {
		if c.Status == 0 {
			c.Status = DefaultCheckStatus
		}
		out[i] = c
	}
	return out
}

// CheckWindow is how long checks run after a switch.
func (v *VerificationSpec) CheckWindow() time.Duration {
	if v.Window == nil {
		return DefaultCheckWindow
	}
	return v.Window.Duration
}

// CheckInterval is the time between two rounds of checks after a switch.
func (v *VerificationSpec) CheckInterval() time.Duration {
	if v.Interval == nil || v.Interval.Duration < time.Second {
		return DefaultCheckInterval
	}
	return v.Interval.Duration
}

// SwitchesBack tells whether a failed check after a switch may move traffic back.
func (v *VerificationSpec) SwitchesBack() bool { return or(v.SwitchBack, true) }
