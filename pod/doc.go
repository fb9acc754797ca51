// Package pod owns pods: groups of containers that share the network,
// IPC and UTS namespaces of one infra container, whose only process is
// catatonit in pause mode (the pause image, built here from the host's
// catatonit on first use). A pod's record (name, infra, shared
// namespaces, published ports as given) is one entry of pods.json in the
// store's graph root, written atomically under a lock; its members are
// the containers whose configuration names the pod.
//
// Published ports belong to the pod: they are the infra container's.
// Members join the infra's namespaces through the container package's
// container:ID network and spec.Spec.Share.
//
// It drives containers through package container only; it must not be
// imported by container, network, the monitor or the init.
package pod
