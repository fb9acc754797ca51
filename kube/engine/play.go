package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sandbox/container"
	"sandbox/kube/plan"
	"sandbox/pod"
)

// PlayOptions are the flags of play kube.
type PlayOptions struct {
	// YAML is the file's content.
	YAML []byte
	// Down removes the pods the YAML describes instead; Replace removes
	// them first, then plays.
	Down, Replace bool
	// Network is --network: the pods' network (a user-defined one puts
	// each pod there, reachable by its name and its containers' names);
	// "" is the default.
	Network string
}

// ReadYAML reads play kube's FILE ("-": in).
func ReadYAML(file string, in io.Reader) ([]byte, error) {
	if file == "-" {
		return readAll(in)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return data, nil
}

// PlayReport is what play kube made, or removed with Down.
type PlayReport struct {
	Pods []PlayedPod
}

// PlayedPod is one pod and its containers' ids.
type PlayedPod struct {
	ID         string
	Containers []string
}

// Play decodes the YAML (in the helper) and makes its pods: each pod, its
// emptyDir directories, and its containers, named PODNAME-CONTAINERNAME,
// started. Nothing is made unless everything decodes; if making one
// fails, every pod made is removed again.
func Play(ctx context.Context, rt *container.Runtime, o PlayOptions) (_ *PlayReport, retErr error) {
	out, err := helper(ctx, "decode", o.YAML)
	if err != nil {
		return nil, err
	}
	var d plan.Decoded
	if err := json.Unmarshal(out, &d); err != nil {
		return nil, fmt.Errorf("kube helper answer: %w", err)
	}
	pods := pod.New(rt)
	if o.Down {
		return down(ctx, pods, d.Pods)
	}
	for _, p := range d.Pods {
		if o.Replace {
			if _, err := pods.Remove(ctx, p.Name, pod.RemoveOptions{Force: true, Ignore: true}); err != nil {
				return nil, err
			}
		} else if ok, err := pods.Exists(p.Name); err != nil {
			return nil, err
		} else if ok {
			return nil, fmt.Errorf("%w: pod %q exists: remove it first (play kube --down, pod rm), or use --replace", pod.ErrNameInUse, p.Name)
		}
	}
	rep := &PlayReport{}
	defer func() {
		if retErr == nil {
			return
		}
		for _, pp := range rep.Pods {
			if _, err := pods.Remove(context.WithoutCancel(ctx), pp.ID, pod.RemoveOptions{Force: true, Ignore: true}); err != nil {
				retErr = fmt.Errorf("%w (and removing pod %.12s: %v)", retErr, pp.ID, err)
			}
		}
	}()
	for _, p := range d.Pods {
		if _, err := playPod(ctx, rt, pods, p, o.Network, rep); err != nil {
			return nil, fmt.Errorf("pod %s: %w", p.Name, err)
		}
	}
	return rep, nil
}

func down(ctx context.Context, pods *pod.Manager, list []plan.Pod) (*PlayReport, error) {
	rep := &PlayReport{}
	var errs []error
	for _, p := range list {
		removed, err := pods.Remove(ctx, p.Name, pod.RemoveOptions{Force: true, Ignore: true})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if removed != nil {
			rep.Pods = append(rep.Pods, PlayedPod{ID: removed.ID})
		}
	}
	return rep, errors.Join(errs...)
}

// playPod makes one pod; it is in rep as soon as it exists.
func playPod(ctx context.Context, rt *container.Runtime, pods *pod.Manager, p plan.Pod, network string, rep *PlayReport) (*PlayedPod, error) {
	var publish []string
	for _, c := range p.Containers {
		for _, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			s := fmt.Sprintf("%d:%d/%s", port.HostPort, port.ContainerPort, port.Protocol)
			if port.HostIP != "" {
				s = port.HostIP + ":" + s
			}
			publish = append(publish, s)
		}
	}
	var labels []string
	for k, v := range p.Labels {
		labels = append(labels, k+"="+v)
	}
	created, err := pods.Create(ctx, pod.CreateOptions{Name: p.Name, Hostname: p.Hostname, Labels: labels, Publish: publish, Network: network})
	if err != nil {
		return nil, err
	}
	rep.Pods = append(rep.Pods, PlayedPod{ID: created.ID})
	pp := &rep.Pods[len(rep.Pods)-1]
	sources := map[string]string{}
	readOnly := map[string]bool{}
	for _, v := range p.Volumes {
		switch {
		case v.HostPath != "":
			if v.HostPathCreate {
				if err := os.MkdirAll(v.HostPath, 0o755); err != nil {
					return nil, fmt.Errorf("volume %s: %w", v.Name, err)
				}
			}
			sources[v.Name] = v.HostPath
		case v.Claim != "":
			sources[v.Name], readOnly[v.Name] = v.Claim, v.ReadOnly
		default:
			dir := filepath.Join(pods.Dir(created), pod.EmptyDirs, v.Name)
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			sources[v.Name] = dir
		}
	}
	for _, c := range p.Containers {
		o, err := createOptions(p, c, sources, readOnly)
		if err != nil {
			return nil, err
		}
		if err := pods.Join(ctx, o); err != nil {
			return nil, err
		}
		ctr, err := rt.Create(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", c.Name, err)
		}
		if err := rt.MarkCreated(ctr); err != nil {
			return nil, err
		}
		pp.Containers = append(pp.Containers, ctr.ID)
		if _, err := rt.Start(ctx, ctr, false); err != nil {
			return nil, fmt.Errorf("start container %s: %w", c.Name, err)
		}
	}
	return pp, nil
}

// createOptions are run's options for one container of a pod.
func createOptions(p plan.Pod, c plan.Container, sources map[string]string, readOnly map[string]bool) (*container.CreateOptions, error) {
	o := &container.CreateOptions{
		Image: c.Image, Name: p.Name + "-" + c.Name, Pull: c.Pull, Command: c.Args,
		Workdir: c.WorkingDir, User: c.User, ReadOnly: c.ReadOnlyRootfs, Privileged: c.Privileged,
		Interactive: c.Stdin, TTY: c.TTY, CapAdd: c.CapAdd, CapDrop: c.CapDrop,
		Pod: container.PodRef{Name: p.Name},
	}
	if c.Command != nil {
		data, err := json.Marshal(c.Command)
		if err != nil {
			return nil, err
		}
		s := string(data)
		o.Entrypoint = &s
	}
	for _, e := range c.Env {
		o.Env = append(o.Env, e.Name+"="+e.Value)
	}
	for _, m := range c.Mounts {
		v := sources[m.Volume] + ":" + m.Path
		if m.ReadOnly || readOnly[m.Volume] {
			v += ":ro"
		}
		o.Volumes = append(o.Volumes, v)
	}
	if c.MemoryLimit > 0 {
		o.Resources.Memory = strconv.FormatInt(c.MemoryLimit, 10)
	}
	if c.CPULimit > 0 {
		o.Resources.CPUs = strconv.FormatFloat(float64(c.CPULimit)/1e9, 'f', -1, 64)
	}
	switch p.RestartPolicy {
	case "", "Always":
		o.Restart = "always"
	case "OnFailure":
		o.Restart = "on-failure"
	default:
		o.Restart = "no"
	}
	if strings.ContainsAny(o.Name, "/ ") {
		return nil, fmt.Errorf("container name %q is not valid", o.Name)
	}
	return o, nil
}
