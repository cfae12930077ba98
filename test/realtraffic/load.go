// This file runs the load generator (hack/loadgen) inside the cluster
// against a release's public Service, and marks the steps its report counts
// by.

package realtraffic

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/magento-operator/magento-operator/api/v1alpha1"
	"github.com/magento-operator/magento-operator/test/loadgen"
)

// load is a running load generator.
type load struct {
	keepAlive bool
	cmd       *exec.Cmd
	marks     io.WriteCloser
	out       *strings.Builder
}

// startLoad starts the load generator against the release's public Service.
func (e Env) startLoad(ctx context.Context, rel *v1alpha1.MagentoRelease, keepAlive bool) (*load, error) {
	svc := &corev1.Service{}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: rel.Namespace, Name: rel.Name}, svc); err != nil {
		return nil, err
	}
	url := "http://" + svc.Spec.ClusterIP + "/"
	cmd := e.InCluster(ctx, e.Loadgen, "-url", url, fmt.Sprintf("-rate=%d", e.Rate), fmt.Sprintf("-keepalive=%t", keepAlive),
		"-max-duration=20m")
	marks, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	l := &load{keepAlive: keepAlive, cmd: cmd, marks: marks, out: &strings.Builder{}}
	cmd.Stdout = l.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *load) mark(name string) error {
	_, err := fmt.Fprintln(l.marks, name)
	return err
}

func (l *load) stop() (loadgen.Report, error) {
	_ = l.marks.Close()
	if err := l.cmd.Wait(); err != nil {
		return loadgen.Report{}, fmt.Errorf("load generator: %w", err)
	}
	var r loadgen.Report
	err := json.NewDecoder(bufio.NewReader(strings.NewReader(l.out.String()))).Decode(&r)
	return r, err
}
