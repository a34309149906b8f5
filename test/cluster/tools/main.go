// Command streamqc-k8s is test tooling, not product code: one multi-call binary holding the
// Kubernetes control plane that streamqc's integration and end-to-end tests run against.
// Linking every component into one binary compiles the shared Kubernetes dependency graph once.
//
// Usage: streamqc-k8s COMPONENT [ARGS...], or a symlink named after the component.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	_ "time/tzdata" // CronJob time zones, as in the upstream mains

	"golang.org/x/sys/unix"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
)

type component struct {
	summary string
	run     func() int
}

var components = map[string]component{
	"cri-reset":               {"stop and remove every pod sandbox of a CRI runtime (real-node teardown)", runCRIReset},
	"etcd":                    {"etcd server (go.etcd.io/etcd/server/v3/etcdmain)", runEtcd},
	"kube-apiserver":          {"Kubernetes API server", runAPIServer},
	"kube-controller-manager": {"Kubernetes controller manager", runControllerManager},
	"kube-scheduler":          {"Kubernetes scheduler", runScheduler},
	"kubectl":                 {"Kubernetes command-line client", runKubectl},
	"kubelet":                 {"Kubernetes node agent (the real node of the real-node e2e mode)", runKubelet},
	"kwok":                    {"kwok controller simulating nodes and pods", runKwok},
	"kwok-stages":             {"print kwok's default node and pod lifecycle stages as YAML", runKwokStages},
	"pki":                     {"write the test cluster's CA, serving, client and service-account keys", runPKI},
}

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if _, ok := components[name]; !ok {
		if len(args) == 0 {
			usage()
			os.Exit(2)
		}
		name, args = args[0], args[1:]
	}
	c, ok := components[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "streamqc-k8s: unknown component %q\n", name)
		usage()
		os.Exit(2)
	}
	dieWithParent()
	// Every upstream main reads os.Args itself, so present the component as the program.
	os.Args = append([]string{name}, args...)
	os.Exit(c.run())
}

func usage() {
	names := make([]string, 0, len(components))
	for n := range components {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: streamqc-k8s COMPONENT [ARGS...]")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-24s %s\n", n, components[n].summary)
	}
}

// dieWithParent makes the kernel SIGKILL this process when the process that started it exits,
// so a test runner killed outright cannot leave a control plane behind. SIGKILL, not SIGTERM:
// with its owner gone, etcd and the API server die together, and an API server asked to shut
// down gracefully without its etcd waits forever. It is asked for with
// STREAMQC_PARENT_PID=<pid of the expected parent>; the check after prctl closes the race where
// the parent died before the request was made.
func dieWithParent() {
	want, err := strconv.Atoi(os.Getenv("STREAMQC_PARENT_PID"))
	if err != nil || want <= 0 {
		return
	}
	os.Unsetenv("STREAMQC_PARENT_PID")
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "streamqc-k8s: prctl(PR_SET_PDEATHSIG): %v\n", err)
		os.Exit(1)
	}
	if os.Getppid() != want {
		fmt.Fprintf(os.Stderr, "streamqc-k8s: parent %d is gone, not starting\n", want)
		os.Exit(1)
	}
}
