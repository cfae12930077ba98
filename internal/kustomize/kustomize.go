// Package kustomize renders kustomization directories with
// sigs.k8s.io/kustomize/api, the library behind `kubectl kustomize`.
package kustomize

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
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
// stream, with the images of overrides replaced.
func Render(dir string, overrides ImageOverrides) ([]byte, error) {
	if len(overrides) == 0 {
		return run(dir)
	}
	return Overlay(dir, types.Kustomization{Images: overrides})
}

// Overlay renders base through the overlay k (images, patches, namespace…),
// which is written to a temporary directory: base itself is never modified.
func Overlay(base string, k types.Kustomization) ([]byte, error) {
	abs, err := filepath.Abs(base)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "render-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	rel, err := filepath.Rel(tmp, abs) // kustomize refuses absolute roots
	if err != nil {
		return nil, err
	}
	k.Resources = append([]string{rel}, k.Resources...)
	out, err := yaml.Marshal(k)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "kustomization.yaml"), out, 0o600); err != nil {
		return nil, err
	}
	return run(tmp)
}

func run(dir string) ([]byte, error) {
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified // a kustomization's sortOptions decide
	resMap, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	return resMap.AsYaml()
}

// Objects splits a rendered YAML stream into objects, in order.
func Objects(stream []byte) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}
