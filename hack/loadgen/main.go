// Command loadgen sends GET requests to -url at -rate per second until its
// standard input ends. Each line read from standard input starts a new step
// of the scenario; at the end it prints the report as JSON on standard output.
// It runs inside the real cluster's network namespace (see test/realcluster).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/magento-operator/magento-operator/test/loadgen"
)

func main() {
	var cfg loadgen.Config
	flag.StringVar(&cfg.URL, "url", "", "URL to GET")
	flag.IntVar(&cfg.Rate, "rate", 200, "requests per second")
	flag.BoolVar(&cfg.KeepAlive, "keepalive", true, "reuse connections")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "timeout of one request (it fails after that)")
	flag.DurationVar(&cfg.MaxDuration, "max-duration", 10*time.Minute, "stop after this long in any case")
	flag.Parse()
	if cfg.URL == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	marks := make(chan string)
	go func() {
		defer close(marks)
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			if name := strings.TrimSpace(in.Text()); name != "" {
				marks <- name
			}
		}
	}()
	report, err := loadgen.Run(ctx, cfg, marks)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(report); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
