package controller

import (
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/bluegreen"
	"github.com/magento-operator/magento-operator/internal/specs"
)

// stoppedDeployments remembers, for each release, the Deployments known to
// have run no pod through every generation up to the one last seen.
//
// A deploy renders the idle slot's cron and consumer Deployments again at
// zero replicas. Until the Deployment controller has observed that new
// generation, its status is not current, and on status alone the live
// slot's cron and consumers would have to stop (rule 3) — and start again
// moments later, on every deploy. Yet a generation that asks for zero
// replicas, following one seen with no pod, cannot have started one. The
// memory is lost on a restart; the strict reading then holds until the
// status is current.
type stoppedDeployments struct {
	mu   sync.Mutex
	seen map[types.NamespacedName]map[string]stoppedAt
}

type stoppedAt struct {
	uid        types.UID
	generation int64
}

// mark sets KeptStopped on the observed Deployments of rel and remembers
// them: a Deployment at zero replicas that was created so, or is seen rolled
// out with no pod left, or whose previous generation was known stopped and
// was seen (each generation since then asked for zero replicas).
func (s *stoppedDeployments) mark(rel *v1alpha1.MagentoRelease, deployments map[string]*appsv1.Deployment, in bluegreen.Input) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := types.NamespacedName{Namespace: rel.Namespace, Name: rel.Name}
	known := s.seen[key]
	next := map[string]stoppedAt{}
	for color, obs := range in.Slots {
		for comp, st := range obs.Deployments {
			d := deployments[specs.SlotName(rel, comp, color)]
			if d == nil || st.SpecReplicas != 0 {
				continue
			}
			was, ok := known[d.Name]
			ok = ok && was.uid == d.UID && (d.Generation == was.generation || d.Generation == was.generation+1)
			if d.Generation == 1 || (st.Current && st.Pods == 0) || ok {
				st.KeptStopped = true
				next[d.Name] = stoppedAt{uid: d.UID, generation: d.Generation}
			}
		}
	}
	if len(next) == 0 {
		delete(s.seen, key)
		return
	}
	if s.seen == nil {
		s.seen = map[types.NamespacedName]map[string]stoppedAt{}
	}
	s.seen[key] = next
}

func (s *stoppedDeployments) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, key)
}
