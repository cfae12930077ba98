package specs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDefaultCommands(t *testing.T) {
	if !strings.Contains(DefaultCronCommand[2], "php bin/magento cron:run") || !strings.Contains(DefaultCronCommand[2], "sleep 60") {
		t.Errorf("cron command %q", DefaultCronCommand)
	}
	if !strings.Contains(DefaultConsumerCommand[2], "queue:consumers:start") {
		t.Errorf("consumer command %q", DefaultConsumerCommand)
	}
	// The migration asks Magento first (TestDefaultMigrationCommand runs it).
	if len(DefaultMigrationCommand) != 3 || DefaultMigrationCommand[0] != shell || DefaultMigrationCommand[1] != "-c" {
		t.Errorf("migration command %q", DefaultMigrationCommand)
	}
	for _, want := range []string{"setup:db:status", "setup:upgrade --keep-generated", "app:config:status", "app:config:import",
		"/dev/termination-log"} {
		if !strings.Contains(DefaultMigrationCommand[2], want) {
			t.Errorf("migration command lacks %q: %q", want, DefaultMigrationCommand[2])
		}
	}
}

// TestDefaultWriterCommandsStop runs the default cron and consumer scripts
// with the machine's /bin/sh (dash on Debian, as in the official PHP
// images) and a stand-in php, and checks that SIGTERM and SIGQUIT (the
// official PHP-FPM images' stop signal) stop them, the consumers included,
// well inside the grace period.
func TestDefaultWriterCommandsStop(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) { testWriterCommandsStop(t, sig) })
	}
}

func testWriterCommandsStop(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	php := "#!/bin/sh\n" +
		"case \"$2\" in\n" +
		"queue:consumers:list) echo one; echo two ;;\n" +
		"queue:consumers:start) trap 'echo stopped >> " + dir + "/stopped; exit 0' TERM; sleep 600 & wait $! ;;\n" +
		"cron:run) ;;\n" +
		"esac\n"
	if err := os.WriteFile(filepath.Join(dir, "php"), []byte(php), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, command := range map[string][]string{"cron": DefaultCronCommand, "consumer": DefaultConsumerCommand} {
		cmd := exec.Command(command[0], command[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		begin := time.Now()
		_ = cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s exited with %v", name, err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%s did not stop on %s within 10 s", name, sig)
		}
		t.Logf("%s stopped %s after %s", name, time.Since(begin).Round(time.Millisecond), sig)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "stopped")); strings.Count(string(b), "stopped") != 2 {
		t.Errorf("consumers stopped: %q, want both", b)
	}
}
