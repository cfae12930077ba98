package main

import (
	"strconv"
)

// memoryHeadroom is the part of the container's memory limit left outside
// the Go runtime's: what the container is charged and the runtime does not
// count, above all the pages of the binary it has touched (make bench: RSS
// 56 MiB with a 7 MiB heap at one release).
const memoryHeadroom = 48 << 20

// memoryLimit is the soft memory limit to give the Go runtime: MEMORY_LIMIT,
// the container's limit in bytes (the downward API's resourceFieldRef
// limits.memory in config/manager), less memoryHeadroom, and at least half
// of it; unless GOMEMLIMIT says otherwise. Without a limit the collector
// only looks at GOGC, lets the heap grow to twice what is live between
// collections, and the kernel kills the process before the collector runs.
func memoryLimit(getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false // the runtime read it at start
	}
	limit, err := strconv.ParseInt(getenv("MEMORY_LIMIT"), 10, 64)
	if err != nil || limit <= 0 {
		return 0, false
	}
	return max(limit-memoryHeadroom, limit/2), true
}
