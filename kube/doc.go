// Package kube converts between sandbox's pods (package kube/plan) and
// Kubernetes YAML, with the k8s.io/api types: Generate prints a v1 Pod or
// apps/v1 Deployment (and a v1 Service), Decode reads Pods, Deployments
// and Services strictly, naming any field it does not know or does not
// support. Pure functions; only the sandbox-kube helper links this
// package, because k8s.io's packages cost milliseconds of init at every
// start of a process that links them. It must not import the engine.
package kube
