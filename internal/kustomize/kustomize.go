// Package kustomize renders kustomization directories with
// sigs.k8s.io/kustomize/api, the library behind `kubectl kustomize`.
package kustomize

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// ImageOverrides replaces images by name, as the images field of a
// kustomization does. It is a flag.Value taking NAME=REF.
type ImageOverrides []types.Image

// String implements flag.Value.
func (o *ImageOverrides) String() string {
	parts := make([]string, 0, len(*o))
	for _, img := range *o {
		parts = append(parts, img.Name+"="+img.NewName+":"+img.NewTag)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: NAME=REF, where REF is repository[:tag][@digest].
func (o *ImageOverrides) Set(v string) error {
	name, ref, ok := strings.Cut(v, "=")
	if !ok || name == "" || ref == "" {
		return fmt.Errorf("want NAME=REF, got %q", v)
	}
	parsed, err := reference.Parse(ref)
	if err != nil {
		return fmt.Errorf("image %q: %w", ref, err)
	}
	named, ok := parsed.(reference.Named)
	if !ok {
		return fmt.Errorf("image %q has no repository", ref)
	}
	img := types.Image{Name: name, NewName: named.Name()}
	if t, ok := parsed.(reference.Tagged); ok {
		img.NewTag = t.Tag()
	}
	if d, ok := parsed.(reference.Digested); ok {
		img.Digest = d.Digest().String()
	}
	*o = append(*o, img)
	return nil
}

// Render builds the kustomization in dir and returns the resources as a YAML
// stream. With overrides, dir is wrapped in a temporary kustomization that
// sets the images, so dir itself is never modified.
func Render(dir string, overrides ImageOverrides) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root := abs
	if len(overrides) > 0 {
		tmp, err := os.MkdirTemp("", "render-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		rel, err := filepath.Rel(tmp, abs) // kustomize refuses absolute roots
		if err != nil {
			return nil, err
		}
		k, err := yaml.Marshal(types.Kustomization{Resources: []string{rel}, Images: overrides})
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, "kustomization.yaml"), k, 0o600); err != nil {
			return nil, err
		}
		root = tmp
	}
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), root)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	return resMap.AsYaml()
}
