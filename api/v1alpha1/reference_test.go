package v1alpha1_test

import "github.com/distribution/reference"

// The CEL rules on images.app and images.web embed these expressions of the
// reference grammar, which the operator parses images with.
func referenceNamePattern() string { return reference.NameRegexp.String() }
func referencePattern() string     { return reference.ReferenceRegexp.String() }
