package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
	kubelet "k8s.io/kubernetes/cmd/kubelet/app"
)

// Each run mirrors the upstream cmd/<name>/main.go of the pinned release.

func runEtcd() int {
	etcdmain.Main(os.Args)
	return 0
}

func runAPIServer() int { return cli.Run(apiserver.NewAPIServerCommand()) }

func runControllerManager() int { return cli.Run(controllermanager.NewControllerManagerCommand()) }

func runScheduler() int { return cli.Run(scheduler.NewSchedulerCommand()) }

// runKubelet is the real node agent of the real-node end-to-end mode (test/cluster/real-node.ts).
func runKubelet() int { return cli.Run(kubelet.NewKubeletCommand(context.Background())) }

func runKubectl() int {
	logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) //nolint:errcheck
	if err := cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand()); err != nil {
		kubectlutil.CheckErr(err)
	}
	return 0
}

// joinYAML joins YAML documents into one multi-document stream.
func joinYAML(docs ...string) string {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, strings.TrimSpace(d))
	}
	return strings.Join(out, "\n---\n") + "\n"
}

func runKwokStages() int {
	fmt.Print(kwokDefaultStages())
	return 0
}
