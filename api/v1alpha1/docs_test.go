package v1alpha1_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/internal/testenv"
)

// fieldPaths lists the JSON paths of every field of t, descending into the
// structs of this API package (not into core types such as EnvVar).
func fieldPaths(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != reflect.TypeFor[v1alpha1.Slot]().PkgPath() {
		return nil
	}
	var paths []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && opts == "inline" {
			paths = append(paths, fieldPaths(prefix, f.Type)...) // its fields are the struct's
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		p := prefix + "." + name
		paths = append(paths, p)
		paths = append(paths, fieldPaths(p, f.Type)...)
	}
	return paths
}

// schemaAt returns the CRD schema of a dotted path below the version's root.
func schemaAt(root *apiextensionsv1.JSONSchemaProps, path string) *apiextensionsv1.JSONSchemaProps {
	s := root
	for _, part := range strings.Split(path, ".") {
		if s.Type == "array" && s.Items != nil && s.Items.Schema != nil {
			s = s.Items.Schema // a list's fields are its items'
		}
		next, ok := s.Properties[part]
		if !ok {
			return nil
		}
		s = &next
	}
	return s
}

// TestDocsCoverEveryField fails when docs/api.md misses a field of the types,
// or documents a default other than the CRD's.
func TestDocsCoverEveryField(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	root := generatedCRD(t).Spec.Versions[0].Schema.OpenAPIV3Schema

	lines := strings.Split(string(doc), "\n")
	rowOf := func(path string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, "|") && strings.Contains(l, "`"+path+"`") {
				return l
			}
		}
		return ""
	}

	paths := append(fieldPaths("spec", reflect.TypeFor[v1alpha1.MagentoReleaseSpec]()),
		fieldPaths("status", reflect.TypeFor[v1alpha1.MagentoReleaseStatus]())...)
	if len(paths) < 60 {
		t.Fatalf("found only %d fields; the walk is broken", len(paths))
	}
	for _, p := range paths {
		row := rowOf(p)
		if row == "" {
			t.Errorf("docs/api.md has no table row for `%s`", p)
			continue
		}
		s := schemaAt(root, p)
		if s == nil {
			t.Errorf("the CRD has no schema for %s", p)
			continue
		}
		if s.Default == nil {
			continue
		}
		var v any
		if err := json.Unmarshal(s.Default.Raw, &v); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(v)
		if m, ok := v.(map[string]any); ok && len(m) == 0 {
			want = "{}"
		}
		if !strings.Contains(row, "`"+want+"`") {
			t.Errorf("docs/api.md: `%s` should document default `%s`: %s", p, want, row)
		}
	}
}

// generatedCRD reads the CRD controller-gen wrote.
func generatedCRD(t *testing.T) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config/crd/bases/magento.ops.dev_magentoreleases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(raw, crd); err != nil {
		t.Fatal(err)
	}
	return crd
}

// TestRulesCitedInCodeAreInTheDocs fails when a comment cites "rule N" and
// docs/api.md ("Behaviour") numbers no such rule.
func TestRulesCitedInCodeAreInTheDocs(t *testing.T) {
	root := testenv.RepoRoot()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, behaviour, _ := strings.Cut(string(doc), "\n## Behaviour\n")
	behaviour, _, _ = strings.Cut(behaviour, "\n## ")
	numbered := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^(\d+)\. \*\*`).FindAllStringSubmatch(behaviour, -1) {
		numbered[m[1]] = true
	}
	if len(numbered) < 13 {
		t.Fatalf("docs/api.md numbers %d behaviour rules, want 13 or more", len(numbered))
	}
	cite := regexp.MustCompile(`\b[Rr]ules? (\d+)`)
	cited := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "bin" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllStringSubmatch(string(src), -1) {
			cited++
			if !numbered[m[1]] {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s cites rule %s, which docs/api.md does not number", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited == 0 {
		t.Fatal("no comment cites a rule: the search is broken")
	}
}

// TestDocsListEveryReason fails when docs/api.md does not name a condition
// or Event reason the operator uses (api/v1alpha1/reasons.go).
func TestDocsListEveryReason(t *testing.T) {
	root := testenv.RepoRoot()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "api", "v1alpha1", "reasons.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		lit, ok := node.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		n++
		if reason, _ := strconv.Unquote(lit.Value); !strings.Contains(string(doc), "`"+reason+"`") {
			t.Errorf("docs/api.md does not name the reason `%s`", reason)
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found %d reasons in reasons.go; the parse is broken", n)
	}
}
