// Package argocd tests what the operator ships for Argo CD.
package argocd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
	"github.com/magento-operator/magento-operator/test/builder"
)

const healthKey = "resource.customizations.health.magento.ops.dev_MagentoRelease"

// healthScript reads the script from the argocd-cm snippet users apply.
func healthScript(t *testing.T) string {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", "argocd-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := yaml.Unmarshal(raw, cm); err != nil {
		t.Fatal(err)
	}
	if cm.Name != "argocd-cm" || cm.Data[healthKey] == "" {
		t.Fatalf("argocd-cm snippet has no %s", healthKey)
	}
	return cm.Data[healthKey]
}

// toLua converts decoded JSON into Lua values, as Argo CD does for obj.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

// health runs the script on a release and returns status and message.
func health(t *testing.T, script string, r *v1alpha1.MagentoRelease) (string, string) {
	t.Helper()
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var obj any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString("local function run()\n" + script + "\nend\nresult = run()"); err != nil {
		t.Fatalf("script error: %v", err)
	}
	hs, ok := L.GetGlobal("result").(*lua.LTable)
	if !ok {
		t.Fatal("the script returned no table")
	}
	return hs.RawGetString("status").String(), hs.RawGetString("message").String()
}

// release is a release at generation whose status says it observed
// observed, with conds.
func release(generation, observed int64, conds ...metav1.Condition) *v1alpha1.MagentoRelease {
	st := v1alpha1.MagentoReleaseStatus{ObservedGeneration: observed}
	for _, c := range conds {
		meta.SetStatusCondition(&st.Conditions, c)
	}
	return builder.MakeRelease("", "shop").Generation(generation).Status(st).Obj()
}

func cond(t string, s metav1.ConditionStatus, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, Reason: "R", Message: msg}
}

// TestHealth runs Argo CD's health check for MagentoRelease, and the
// operator's own reading of the same status, on each kind of status.
func TestHealth(t *testing.T) {
	script := healthScript(t)
	tests := map[string]struct {
		r           *v1alpha1.MagentoRelease
		status, msg string
	}{
		"no status yet": {builder.MakeRelease("", "shop").Generation(1).Obj(), "Progressing",
			"Waiting for the operator to observe the latest spec"},
		"observedGeneration lags": {release(3, 2, cond("Ready", "True", "blue serves")), "Progressing",
			"Waiting for the operator to observe the latest spec"},
		"ready": {release(3, 3, cond("Ready", "True", "green serves traffic and is available"),
			cond("Progressing", "False", "-"), cond("Degraded", "False", "-")), "Healthy", "green serves traffic and is available"},
		"switch under way": {release(4, 4, cond("Ready", "False", "blue serves"),
			cond("Progressing", "True", "switching to green: web is not available"), cond("Degraded", "False", "-")),
			"Progressing", "switching to green: web is not available"},
		"deploy under way while ready": {release(4, 4, cond("Ready", "True", "blue"),
			cond("Progressing", "True", "green is rolling out main-2"), cond("Degraded", "False", "-")),
			"Progressing", "green is rolling out main-2"},
		"degraded wins over progressing": {release(5, 5, cond("Ready", "False", "x"),
			cond("Progressing", "True", "switching"), cond("Degraded", "True", "migration Job shop-migrate-green-1a2b failed")),
			"Degraded", "migration Job shop-migrate-green-1a2b failed"},
		"not ready and not progressing": {release(2, 2, cond("Ready", "False", "blue serves traffic but is not available yet"),
			cond("Progressing", "False", "-"), cond("Degraded", "False", "-")), "Progressing", "blue serves traffic but is not available yet"},
		"no conditions": {release(1, 1), "Progressing", "Waiting for the release to become ready"},
		"the serving slot unavailable past its deadline ends Progressing": {release(2, 2,
			cond("Ready", "False", "blue serves traffic but is not available yet"), cond("Progressing", "False", "-"),
			cond("Degraded", "True", "blue serves traffic but has not been available for 10m0s: php-fpm is not available")),
			"Degraded", "blue serves traffic but has not been available for 10m0s: php-fpm is not available"},
		"a child in the way": {release(2, 2, cond("Ready", "False", "x"), cond("Progressing", "False", "-"),
			cond("Degraded", "True", "Service shop already exists and it is not this release's (no controller reference to it); delete or rename it, or give this release another name")),
			"Degraded", "Service shop already exists and it is not this release's (no controller reference to it); delete or rename it, or give this release another name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, msg := health(t, script, tc.r)
			if status != tc.status || msg != tc.msg {
				t.Errorf("got %s %q, want %s %q", status, msg, tc.status, tc.msg)
			}
			// status.phase, the printer column and `kubectl magento status`
			// tell the same as Argo CD.
			if phase, msg := tc.r.Status.Health(tc.r.Generation); string(phase) != tc.status || msg != tc.msg {
				t.Errorf("MagentoReleaseStatus.Health: got %s %q, want %s %q", phase, msg, tc.status, tc.msg)
			}
		})
	}
}
