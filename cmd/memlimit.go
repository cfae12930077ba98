package main

import (
	"strconv"
)

// memoryLimitShare is the share of the container's memory limit the Go
// runtime aims to stay under: the rest is for what it does not count
// (thread stacks outside the heap, the binary's own pages).
const memoryLimitShare = 0.9

// memoryLimit is the soft memory limit to give the Go runtime: 90 % of
// MEMORY_LIMIT, the container's limit in bytes (the downward API's
// resourceFieldRef limits.memory in config/manager), unless GOMEMLIMIT
// says otherwise. Without a limit the collector only looks at GOGC, and a
// heap that doubles between collections is killed by the kernel before the
// collector runs.
func memoryLimit(getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false // the runtime read it at start
	}
	limit, err := strconv.ParseInt(getenv("MEMORY_LIMIT"), 10, 64)
	if err != nil || limit <= 0 {
		return 0, false
	}
	return int64(float64(limit) * memoryLimitShare), true
}
