# magento-operator
#
# Every tool is built from source through the Go module proxy at the version
# pinned in its module under hack/tools/<tool>/go.mod, into bin/ (git-ignored),
# keyed by version. Nothing is downloaded from anywhere else.

IMG ?= magento-operator:latest

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

GOOS   ?= $(shell go env GOOS)
GOARCH ?= $(shell go env GOARCH)
GOBIN_DIR := $(CURDIR)/bin

# version of module $(1) pinned in hack/tools/$(2)/go.mod
pinned = $(shell awk '{for (i = 1; i < NF; i++) if ($$i == "$(1)") { print $$(i+1); exit }}' hack/tools/$(2)/go.mod)

KUBERNETES_VERSION    := $(call pinned,k8s.io/kubernetes,kube)
ETCD_VERSION          := $(call pinned,go.etcd.io/etcd/server/v3,etcd)
KWOK_VERSION          := $(call pinned,sigs.k8s.io/kwok,kwok)
CONTROLLER_GEN_VERSION := $(call pinned,sigs.k8s.io/controller-tools,controller-gen)
GOLANGCI_LINT_VERSION := $(call pinned,github.com/golangci/golangci-lint/v2,golangci-lint)

K8S_DIR        := bin/k8s-$(KUBERNETES_VERSION)-$(GOOS)-$(GOARCH)
ETCD           := bin/etcd-$(ETCD_VERSION)-$(GOOS)-$(GOARCH)/etcd
KWOK           := bin/kwok-$(KWOK_VERSION)
CONTROLLER_GEN := bin/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT  := bin/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUBECTL        ?= kubectl

# The directory envtest reads kube-apiserver and etcd from. Set
# KUBEBUILDER_ASSETS to use binaries of your own instead.
ENVTEST_DIR := bin/envtest-$(KUBERNETES_VERSION)-$(ETCD_VERSION)-$(GOOS)-$(GOARCH)
ifeq ($(origin KUBEBUILDER_ASSETS), undefined)
KUBEBUILDER_ASSETS := $(CURDIR)/$(ENVTEST_DIR)
ENVTEST_DEPS := $(ENVTEST_DIR)/kube-apiserver $(ENVTEST_DIR)/etcd
endif
export KUBEBUILDER_ASSETS

K8S_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(KUBERNETES_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(subst ., ,$(patsubst v%,%,$(KUBERNETES_VERSION)))) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(patsubst v%,%,$(KUBERNETES_VERSION)))) \
	-X k8s.io/component-base/version.gitTreeState=clean

# Files controller-gen writes; `make test` fails when they were stale.
GENERATED := config/crd/bases config/rbac/role.yaml api/v1alpha1/zz_generated.deepcopy.go

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and RBAC manifests.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: verify-generated
verify-generated: $(CONTROLLER_GEN) ## Regenerate and fail if generated files were stale.
	@before=$$(find $(GENERATED) -type f | sort | xargs sha256sum); \
	$(MAKE) --no-print-directory manifests generate; \
	after=$$(find $(GENERATED) -type f | sort | xargs sha256sum); \
	if [ "$$before" != "$$after" ]; then \
		diff <(echo "$$before") <(echo "$$after") || true; \
		echo "generated files were stale; they are regenerated now: review and commit them"; exit 1; \
	fi

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: $(GOLANGCI_LINT) ## Run golangci-lint and fix what it can.
	$(GOLANGCI_LINT) run --fix

.PHONY: test
test: verify-generated vet $(ENVTEST_DEPS) ## Verify generated files, vet, run unit and envtest suites.
	go test ./... -coverprofile cover.out

.PHONY: envtest
envtest: $(ENVTEST_DEPS) ## Build kube-apiserver and etcd for envtest (cached in bin/).

##@ Simulated cluster

SIM_TOOLS := $(K8S_DIR)/kube-apiserver $(K8S_DIR)/kube-controller-manager $(K8S_DIR)/kube-scheduler $(K8S_DIR)/kubectl $(ETCD) $(KWOK)

.PHONY: bench
bench: $(ENVTEST_DEPS) $(SIM_TOOLS) ## Measure switch latency, convergence, writes at rest and memory (envtest), idle deploys (simulated cluster); writes docs/performance.md.
	go build -o bin/manager ./cmd
	go run ./hack/bench --manager bin/manager


.PHONY: demo
demo: $(SIM_TOOLS) ## Run a whole blue/green cycle on a simulated cluster on this machine (REAL=1: on the real cluster, with live traffic; root).
	go build -o bin/manager ./cmd
	go run ./hack/demo --manager bin/manager --kubectl $(K8S_DIR)/kubectl $(if $(filter 1,$(REAL)),--real)

.PHONY: test-e2e
test-e2e: $(SIM_TOOLS) ## Run the e2e suite: the operator binary against the simulated cluster.
	go build -o bin/manager ./cmd
	MANAGER_BINARY=$(CURDIR)/bin/manager go test -tags e2e ./test/e2e/ -count=1 -timeout 30m -v -ginkgo.v

.PHONY: simcluster
simcluster: $(SIM_TOOLS) ## Run the simulated cluster in the foreground (Ctrl-C stops it).
	go run ./hack/simcluster

##@ Real single-node cluster (root; see test/realcluster)
# etcd, the control plane, containerd, kubelet, kube-proxy (iptables) and
# CoreDNS in a network namespace of their own; real pods, offline.

COREDNS_VERSION := $(call pinned,github.com/coredns/coredns,coredns)
COREDNS         := bin/coredns-$(COREDNS_VERSION)
REAL_TOOLS := $(SIM_TOOLS) $(K8S_DIR)/kubelet $(K8S_DIR)/kube-proxy $(COREDNS)
REAL_DEPS  := containerd runc containernetworking-plugins iptables conntrack debootstrap

ifeq ($(REAL),1)
demo: real-deps $(REAL_TOOLS)
endif

.PHONY: real-deps
real-deps: ## Install containerd, runc, CNI plugins, iptables, conntrack, debootstrap with apt when missing (needs root).
	@missing=$$(for p in $(REAL_DEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update && apt-get install -y --no-install-recommends $$missing; \
	fi

.PHONY: real-tools
real-tools: $(REAL_TOOLS) ## Build kubelet, kube-proxy, CoreDNS and the control plane (cached in bin/).

.PHONY: realcluster
realcluster: real-deps $(REAL_TOOLS) ## Run a real single-node cluster in the foreground (root; Ctrl-C stops it).
	go run ./hack/realcluster

.PHONY: test-real
test-real: real-deps $(REAL_TOOLS) ## Real pods, real traffic: the cluster's smoke test, then the operator's scenarios under load (root).
	go test -tags real ./test/realcluster/ -count=1 -v -timeout 15m
	go test -tags real ./test/realtraffic/ -count=1 -v -timeout 40m

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager and the kubectl-magento plugin.
	go build -o bin/manager ./cmd
	go build -o bin/kubectl-magento ./cmd/kubectl-magento

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster of your kubeconfig.
	go run ./cmd

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image.
	docker push $(IMG)

.PHONY: build-installer
build-installer: manifests generate ## Render config/default with IMG into dist/install.yaml.
	mkdir -p dist
	go run ./hack/render --image controller=$(IMG) config/default > dist/install.yaml

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster of your kubeconfig.
	go run ./hack/render config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs from the cluster of your kubeconfig.
	go run ./hack/render config/crd | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests ## Deploy the operator with image IMG to the cluster of your kubeconfig.
	go run ./hack/render --image controller=$(IMG) config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator from the cluster of your kubeconfig.
	go run ./hack/render config/default | $(KUBECTL) delete --ignore-not-found -f -

##@ Tools (built from hack/tools/<tool>/go.mod into bin/)
# The version is part of each file name, so a binary is built once and reused
# until its pin in hack/tools changes.

.PHONY: tools
tools: $(ENVTEST_DEPS) $(SIM_TOOLS) $(CONTROLLER_GEN) $(GOLANGCI_LINT) ## Build every pinned tool.

$(K8S_DIR)/%:
	cd hack/tools/kube && CGO_ENABLED=0 go build -trimpath -ldflags "$(K8S_LDFLAGS)" -o $(CURDIR)/$@ k8s.io/kubernetes/cmd/$*

$(ETCD):
	cd hack/tools/etcd && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o $(CURDIR)/$@ .

$(ENVTEST_DIR)/kube-apiserver: $(K8S_DIR)/kube-apiserver
	mkdir -p $(ENVTEST_DIR) && ln -sf $(CURDIR)/$< $@

$(ENVTEST_DIR)/etcd: $(ETCD)
	mkdir -p $(ENVTEST_DIR) && ln -sf $(CURDIR)/$< $@

$(COREDNS):
	cd hack/tools/coredns && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o $(CURDIR)/$@ .

$(KWOK):
	cd hack/tools/kwok && CGO_ENABLED=0 go build -trimpath -o $(CURDIR)/$@ sigs.k8s.io/kwok/cmd/kwok

$(CONTROLLER_GEN):
	cd hack/tools/controller-gen && go build -trimpath -o $(CURDIR)/$@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(GOLANGCI_LINT):
	cd hack/tools/golangci-lint && go build -trimpath -o $(CURDIR)/$@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint
