// Command probe is test tooling, not product code: the one program of the real node's test
// image (FROM scratch, so no shell), used by test/e2e/real-node.test.ts to see what a real
// kubelet and runtime enforce on a pod.
//
//	probe serve        print "probe: ready" and wait for SIGTERM (a pod that runs and logs)
//	probe alloc MIB    allocate and touch MIB MiB, print "probe: allocated MIB MiB", then wait
//	probe whoami       print uid, gid, root filesystem writability, capabilities, seccomp, no_new_privs
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe serve | alloc MIB | whoami")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		fmt.Println("probe: ready")
		waitForTerm()
	case "alloc":
		mib, err := strconv.Atoi(argOrEmpty(2))
		if err != nil || mib <= 0 {
			fmt.Fprintf(os.Stderr, "probe: alloc needs a positive number of MiB, got %q\n", argOrEmpty(2))
			os.Exit(2)
		}
		held := make([][]byte, 0, mib)
		for i := 0; i < mib; i++ {
			chunk := make([]byte, 1<<20)
			// Touch every page so the memory is charged to the cgroup, not just reserved.
			for p := 0; p < len(chunk); p += 4096 {
				chunk[p] = 1
			}
			held = append(held, chunk)
		}
		fmt.Printf("probe: allocated %d MiB\n", len(held))
		waitForTerm()
	case "whoami":
		whoami()
	default:
		fmt.Fprintf(os.Stderr, "probe: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func argOrEmpty(i int) string {
	if len(os.Args) > i {
		return os.Args[i]
	}
	return ""
}

func waitForTerm() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}

func whoami() {
	rootfs := "writable"
	if f, err := os.Create("/probe-write-test"); err != nil {
		rootfs = "read-only"
	} else {
		f.Close()
		os.Remove("/probe-write-test")
	}
	fmt.Printf("uid=%d gid=%d rootfs=%s", os.Getuid(), os.Getgid(), rootfs)
	status, err := os.Open("/proc/self/status")
	if err != nil {
		fmt.Printf(" status=%v\n", err)
		return
	}
	defer status.Close()
	fields := map[string]string{"CapEff": "capEff", "CapBnd": "capBnd", "Seccomp": "seccomp", "NoNewPrivs": "noNewPrivs"}
	scanner := bufio.NewScanner(status)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), ":")
		if name, known := fields[key]; ok && known {
			fmt.Printf(" %s=%s", name, strings.TrimSpace(value))
		}
	}
	fmt.Println()
}
