// Command kubectl-magento is the kubectl plugin for MagentoReleases. Put it
// on your PATH and run `kubectl magento status RELEASE`.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/magento-operator/magento-operator/internal/plugin"
)

func main() {
	cmd := plugin.NewCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(plugin.ExitCode(err))
	}
}
