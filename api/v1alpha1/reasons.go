package v1alpha1

// Reasons of the conditions (Ready, Progressing, Degraded) and of the Events
// the operator records on a MagentoRelease: public words that docs/api.md
// lists and users alert on.
const (
	// ReasonAvailable: Ready is True; the active slot serves traffic and is fully available.
	ReasonAvailable = "Available"
	// ReasonNotAvailable: Ready is False; the active slot is not fully available.
	ReasonNotAvailable = "NotAvailable"
	// ReasonSwitchPending: Ready is False; spec.activeColor names a slot that does not serve yet.
	ReasonSwitchPending = "SwitchPending"
	// ReasonSwitching: Progressing is True; a switch is under way.
	ReasonSwitching = "Switching"
	// ReasonDeploying: Progressing is True; a slot is being deployed.
	ReasonDeploying = "Deploying"
	// ReasonMovingCron: Progressing is True; cron and consumers are moving to the active slot.
	ReasonMovingCron = "MovingCronAndConsumers"
	// ReasonStable: Progressing is False; nothing is under way.
	ReasonStable = "Stable"
	// ReasonDeadlineExceeded: Degraded is True; a deploy or switch passed spec.progressDeadlineSeconds.
	ReasonDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonAsExpected: Degraded is False.
	ReasonAsExpected = "AsExpected"
	// ReasonInvalidSpec: Degraded is True; the spec cannot be rendered.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonMigrationFailed: Degraded is True; the migration Job of the target slot failed.
	ReasonMigrationFailed = "MigrationFailed"
	// ReasonLiveUnavailable: Degraded is True; the serving slot lost availability for longer than the progress deadline (rule 12).
	ReasonLiveUnavailable = "LiveUnavailable"
	// ReasonNameConflict: Degraded is True; an object the release does not control is in the way of a child (rule 11).
	ReasonNameConflict = "NameConflict"
	// ReasonChildRejected: Degraded is True; the API server refused a child (rule 11).
	ReasonChildRejected = "ChildRejected"
	// ReasonVerificationFailed: Degraded is True; a slot failed its checks (spec.verification).
	ReasonVerificationFailed = "VerificationFailed"
	// EventVerified is recorded when a slot passed its checks.
	EventVerified = "Verified"
	// EventVerificationFailed is recorded when a slot failed its checks.
	EventVerificationFailed = "VerificationFailed"
	// EventSwitchedBack is recorded when a check failed after a switch and traffic moved back.
	EventSwitchedBack = "SwitchedBack"
	// EventChecksSkipped is recorded when checks were skipped, as asked (magento.ops.dev/skip-checks).
	EventChecksSkipped = "ChecksSkipped"
	// EventRetryingChecks is recorded when failed checks run again, as asked (magento.ops.dev/retry-checks).
	EventRetryingChecks = "RetryingChecks"
	// EventMigrated is recorded when a migration Job succeeded.
	EventMigrated = "Migrated"
	// EventDeploying is recorded when a new version is deployed to a slot.
	EventDeploying = "Deploying"
	// EventSwitched is recorded when the Services moved to another slot.
	EventSwitched = "Switched"
	// EventScaledDown is recorded when the idle slot was scaled down.
	EventScaledDown = "ScaledDown"
	// EventScaledUp is recorded when a scaled-down slot was scaled up again.
	EventScaledUp = "ScaledUp"
	// EventDegraded is recorded when the release becomes Degraded.
	EventDegraded = "Degraded"
	// EventPostSwitchFailed is recorded when the post-switch Job failed or could not be created.
	EventPostSwitchFailed = "PostSwitchFailed"
)
