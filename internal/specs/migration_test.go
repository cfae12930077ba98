package specs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDefaultMigrationCommand runs the default migration script with the
// machine's /bin/sh (dash on Debian, as in the official PHP images), and
// with busybox sh when it is installed, and a stand-in php that records
// every bin/magento command and exits with the code each case chooses.
func TestDefaultMigrationCommand(t *testing.T) {
	shells := map[string][]string{"sh": {shell}}
	if busybox, err := exec.LookPath("busybox"); err == nil {
		shells["busybox"] = []string{busybox, "sh"}
	}
	for name, sh := range shells {
		t.Run(name, func(t *testing.T) { testMigrationCommand(t, sh) })
	}
}

func testMigrationCommand(t *testing.T, sh []string) {
	for _, tc := range []struct {
		name string
		// exit codes of the stand-in's commands; absent is 0
		exits map[string]int
		// want: the commands run, the script's exit code, and what the
		// termination log must mention
		ran     []string
		code    int
		summary []string
	}{
		{
			name:    "current",
			ran:     []string{"setup:db:status", "app:config:status"},
			summary: []string{"setup:db:status: exit 0, schema and data are current", "app:config:status: exit 0, config is current"},
		},
		{
			name:  "db needs upgrade",
			exits: map[string]int{"setup:db:status": 2},
			ran:   []string{"setup:db:status", "setup:upgrade --keep-generated", "app:config:status"},
			summary: []string{"setup:db:status: exit 2, running setup:upgrade --keep-generated",
				"setup:upgrade --keep-generated: done", "app:config:status: exit 0"},
		},
		{
			name:    "config needs import",
			exits:   map[string]int{"app:config:status": 2},
			ran:     []string{"setup:db:status", "app:config:status", "app:config:import"},
			summary: []string{"setup:db:status: exit 0", "app:config:status: exit 2, running app:config:import", "app:config:import: done"},
		},
		{
			name:  "both",
			exits: map[string]int{"setup:db:status": 2, "app:config:status": 2},
			ran: []string{"setup:db:status", "setup:upgrade --keep-generated", "app:config:status",
				"app:config:import"},
			summary: []string{"running setup:upgrade", "running app:config:import"},
		},
		{
			name:    "db status fails",
			exits:   map[string]int{"setup:db:status": 1},
			ran:     []string{"setup:db:status"},
			code:    1,
			summary: []string{"setup:db:status: failed with exit 1"},
		},
		{
			name:    "upgrade fails",
			exits:   map[string]int{"setup:db:status": 2, "setup:upgrade": 5},
			ran:     []string{"setup:db:status", "setup:upgrade --keep-generated"},
			code:    5,
			summary: []string{"setup:db:status: exit 2", "setup:upgrade --keep-generated: failed with exit 5"},
		},
		{
			name:    "config status fails",
			exits:   map[string]int{"app:config:status": 3},
			ran:     []string{"setup:db:status", "app:config:status"},
			code:    3,
			summary: []string{"setup:db:status: exit 0", "app:config:status: failed with exit 3"},
		},
		{
			name:    "import fails",
			exits:   map[string]int{"app:config:status": 2, "app:config:import": 4},
			ran:     []string{"setup:db:status", "app:config:status", "app:config:import"},
			code:    4,
			summary: []string{"app:config:import: failed with exit 4"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			calls := filepath.Join(dir, "calls")
			php := "#!/bin/sh\n" +
				"shift\n" + // bin/magento
				"echo \"$*\" >> " + calls + "\n" +
				"echo \"stand-in $1\"\n" +
				"case \"$1\" in\n"
			for cmd, code := range tc.exits {
				php += cmd + ") exit " + strconv.Itoa(code) + " ;;\n"
			}
			php += "esac\n"
			if err := os.WriteFile(filepath.Join(dir, "php"), []byte(php), 0o755); err != nil {
				t.Fatal(err)
			}
			termLog := filepath.Join(dir, "termination-log")
			cmd := exec.Command(sh[0], append(sh[1:], DefaultMigrationCommand[1:]...)...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "TERMINATION_LOG="+termLog)
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.code, out)
			}
			b, _ := os.ReadFile(calls)
			if diff := cmp.Diff(tc.ran, strings.Split(strings.TrimSpace(string(b)), "\n")); diff != "" {
				t.Errorf("bin/magento commands (-want +got):\n%s", diff)
			}
			summary, err := os.ReadFile(termLog)
			if err != nil {
				t.Fatalf("no termination log: %v; output:\n%s", err, out)
			}
			for _, want := range tc.summary {
				if !strings.Contains(string(summary), want) {
					t.Errorf("termination log lacks %q:\n%s", want, summary)
				}
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(string(summary), "stand-in") {
				t.Errorf("termination log holds Magento's output:\n%s", summary)
			}
		})
	}
}

// TestDefaultMigrationCommandNoTerminationLog: outside a container, where
// the termination log's directory is missing, the script still succeeds.
func TestDefaultMigrationCommandNoTerminationLog(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "php"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(DefaultMigrationCommand[0], DefaultMigrationCommand[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"),
		"TERMINATION_LOG="+filepath.Join(dir, "missing", "termination-log"))
	if out, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(out), "termination-log") {
		t.Errorf("%v; output:\n%s", err, out)
	}
}
