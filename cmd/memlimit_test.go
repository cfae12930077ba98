package main

import "testing"

func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    int64
		wantSet bool
	}{
		{"the container's limit less the headroom", map[string]string{"MEMORY_LIMIT": "167772160"}, 117440512, true},
		{"a small limit: half of it", map[string]string{"MEMORY_LIMIT": "67108864"}, 33554432, true},
		{"GOMEMLIMIT wins", map[string]string{"MEMORY_LIMIT": "268435456", "GOMEMLIMIT": "100MiB"}, 0, false},
		{"no limit", map[string]string{}, 0, false},
		{"not a number", map[string]string{"MEMORY_LIMIT": "256Mi"}, 0, false},
		{"zero", map[string]string{"MEMORY_LIMIT": "0"}, 0, false},
	} {
		got, set := memoryLimit(func(k string) string { return c.env[k] })
		if got != c.want || set != c.wantSet {
			t.Errorf("%s: memoryLimit = %d, %v; want %d, %v", c.name, got, set, c.want, c.wantSet)
		}
	}
}
