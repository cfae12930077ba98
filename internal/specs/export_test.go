package specs

// The drain times of served pods, for the tests of package specs_test.
const (
	FPMDrainSeconds          = fpmDrainSeconds
	WebDrainSeconds          = webDrainSeconds
	ServedGracePeriodSeconds = servedGracePeriodSeconds
)
