// Command render prints the manifests of a kustomization directory, rendered
// with sigs.k8s.io/kustomize/api, so that no kustomize binary is needed.
//
//	go run ./hack/render [--image NAME=REF] DIR
//
// --image replaces the image named NAME (e.g. the manager's "controller") with
// REF, as `kustomize edit set image` would.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/magento-operator/magento-operator/internal/kustomize"
)

func main() {
	var images kustomize.ImageOverrides
	flag.Var(&images, "image", "NAME=REF: replace image NAME with REF (repeatable)")
	flag.Usage = func() {
		_, _ = fmt.Fprintln(flag.CommandLine.Output(), "usage: render [--image NAME=REF] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	out, err := kustomize.Render(flag.Arg(0), images)
	if err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(out)
}
