package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	remote "k8s.io/cri-client/pkg"
)

// runCRIReset stops and removes every pod sandbox (and so every container) a CRI runtime holds.
// The real node's teardown runs it after the kubelet has stopped: stopping a sandbox is what
// runs the CNI DEL (veth, netns, IP lease) and unmounts its shm, so nothing of a test pod is
// left on the machine, and a containerd whose root is kept for its image cache starts empty.
func runCRIReset() int {
	fs := flag.NewFlagSet("cri-reset", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "CRI endpoint, e.g. unix:///run/containerd.sock (required)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *endpoint == "" {
		fmt.Fprintln(os.Stderr, "cri-reset: --endpoint is required")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runtime, err := remote.NewRemoteRuntimeService(ctx, *endpoint, 10*time.Second, nil, false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cri-reset: %v\n", err)
		return 1
	}
	sandboxes, err := runtime.ListPodSandbox(ctx, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cri-reset: listing pod sandboxes at %s: %v\n", *endpoint, err)
		return 1
	}
	failed := 0
	for _, s := range sandboxes {
		if err := runtime.StopPodSandbox(ctx, s.Id); err != nil {
			fmt.Fprintf(os.Stderr, "cri-reset: stopping sandbox %s (%s/%s): %v\n", s.Id, s.Metadata.Namespace, s.Metadata.Name, err)
			failed++
			continue
		}
		if err := runtime.RemovePodSandbox(ctx, s.Id); err != nil {
			fmt.Fprintf(os.Stderr, "cri-reset: removing sandbox %s: %v\n", s.Id, err)
			failed++
		}
	}
	fmt.Printf("cri-reset: %d sandboxes removed, %d failed\n", len(sandboxes)-failed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}
