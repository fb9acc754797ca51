package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"sandbox/kube/plan"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Decode reads Kubernetes YAML (one or more documents) into pods: each
// Pod, and each Deployment's template once per replica (named
// NAME-pod, or NAME-pod-N for several). Services are checked and
// contribute nothing: a container's hostPort publishes its port.
//
// Decoding is strict: a field the API types do not know, or one that
// sandbox does not support, is an error naming its path; so is a
// document that is not a Kubernetes object or is of another kind.
func Decode(data []byte) (*plan.Decoded, error) {
	out := &plan.Decoded{}
	n := 0
	for i, doc := range splitDocuments(data) {
		raw, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: not valid YAML: %s", i+1, oneLine(err))
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
			continue
		}
		n++
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("document %d: not a Kubernetes object (want a mapping with apiVersion and kind): %s", i+1, oneLine(err))
		}
		apiVersion, _ := obj["apiVersion"].(string)
		kind, _ := obj["kind"].(string)
		if apiVersion == "" || kind == "" {
			return nil, fmt.Errorf("document %d: not a Kubernetes object: it has no apiVersion and kind", i+1)
		}
		pods, err := decodeObject(apiVersion, kind, raw, obj)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", word(kind), nameOf(obj), err)
		}
		out.Pods = append(out.Pods, pods...)
	}
	if n == 0 {
		return nil, errors.New("no Kubernetes object in the YAML: want a Pod or a Deployment")
	}
	seen := map[string]bool{}
	for _, p := range out.Pods {
		if seen[p.Name] {
			return nil, fmt.Errorf("pod %q is described twice", p.Name)
		}
		seen[p.Name] = true
	}
	return out, nil
}

// word is s as a message shows it: as it is when it is one printable
// word (Pod, apps/v1), else quoted, so that the message stays one line.
func word(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// oneLine is err's message on one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

func nameOf(obj map[string]any) string {
	if md, ok := obj["metadata"].(map[string]any); ok {
		if n, ok := md["name"].(string); ok {
			return fmt.Sprintf("%q", n)
		}
	}
	return "(no name)"
}

// splitDocuments splits a YAML stream at its "---" lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if t := strings.TrimRight(line, " \t\r\n"); t == "---" || strings.HasPrefix(t, "--- ") {
			docs = append(docs, []byte(strings.Join(cur, "")))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return append(docs, []byte(strings.Join(cur, "")))
}

func decodeObject(apiVersion, kind string, raw []byte, obj map[string]any) ([]plan.Pod, error) {
	switch {
	case apiVersion == "v1" && kind == "Pod":
		var p corev1.Pod
		if err := strictDecode(raw, obj, &p, podFields("spec.", "metadata.")); err != nil {
			return nil, err
		}
		pod, err := fromPodSpec(p.Name, p.Labels, &p.Spec)
		if err != nil {
			return nil, err
		}
		return []plan.Pod{pod}, nil
	case apiVersion == "apps/v1" && kind == "Deployment":
		var d appsv1.Deployment
		allowed := podFields("spec.template.spec.", "spec.template.metadata.")
		for _, f := range []string{"metadata.name", "metadata.labels.*", "metadata.annotations.*", "metadata.namespace",
			"metadata.creationTimestamp", "spec.replicas", "spec.selector", "spec.selector.matchLabels.*", "spec.template"} {
			allowed[f] = true
		}
		if err := strictDecode(raw, obj, &d, allowed); err != nil {
			return nil, err
		}
		return fromDeployment(&d)
	case apiVersion == "v1" && kind == "Service":
		var s corev1.Service
		allowed := map[string]bool{}
		for _, f := range []string{"metadata.name", "metadata.labels.*", "metadata.annotations.*", "metadata.namespace", "metadata.creationTimestamp",
			"spec.type", "spec.selector.*", "spec.ports[]", "spec.ports[].name", "spec.ports[].port", "spec.ports[].targetPort",
			"spec.ports[].protocol", "spec.ports[].nodePort"} {
			allowed[f] = true
		}
		return nil, strictDecode(raw, obj, &s, allowed)
	}
	return nil, fmt.Errorf("unsupported kind %s (apiVersion %s): play kube takes v1 Pod, apps/v1 Deployment and v1 Service", word(kind), word(apiVersion))
}

// podFields are the fields of a pod sandbox supports, under the prefixes
// of its spec and metadata.
func podFields(spec, meta string) map[string]bool {
	m := map[string]bool{}
	for _, f := range []string{"name", "labels.*", "annotations.*", "namespace", "creationTimestamp"} {
		m[meta+f] = true
	}
	for _, f := range []string{
		"restartPolicy", "hostname", "containers[]",
		"containers[].name", "containers[].image", "containers[].imagePullPolicy", "containers[].command", "containers[].args",
		"containers[].env[]", "containers[].env[].name", "containers[].env[].value", "containers[].workingDir",
		"containers[].ports[]", "containers[].ports[].containerPort", "containers[].ports[].hostPort", "containers[].ports[].hostIP",
		"containers[].ports[].protocol", "containers[].ports[].name",
		"containers[].volumeMounts[]", "containers[].volumeMounts[].name", "containers[].volumeMounts[].mountPath", "containers[].volumeMounts[].readOnly",
		"containers[].resources", "containers[].resources.limits.cpu", "containers[].resources.limits.memory",
		"containers[].securityContext", "containers[].securityContext.capabilities", "containers[].securityContext.capabilities.add",
		"containers[].securityContext.capabilities.drop", "containers[].securityContext.privileged",
		"containers[].securityContext.readOnlyRootFilesystem", "containers[].securityContext.runAsUser", "containers[].securityContext.runAsGroup",
		"containers[].stdin", "containers[].tty",
		"volumes[]", "volumes[].name", "volumes[].hostPath", "volumes[].hostPath.path", "volumes[].hostPath.type",
		"volumes[].emptyDir", "volumes[].persistentVolumeClaim", "volumes[].persistentVolumeClaim.claimName",
		"volumes[].persistentVolumeClaim.readOnly",
	} {
		m[spec+f] = true
	}
	return m
}

// strictDecode checks every field of the document obj against the Go
// type of out (unknown fields) and against allowed (unsupported ones),
// then decodes raw into out. allowed holds dotted paths, with [] for a
// list's items and * for a map's keys; a path not listed under an
// allowed mapping is refused; "status" is allowed when empty.
func strictDecode(raw []byte, obj map[string]any, out any, allowed map[string]bool) error {
	allowed["apiVersion"], allowed["kind"] = true, true
	if err := walk(obj, reflect.TypeOf(out).Elem(), "", "", allowed); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %q: want %s, not a %s", te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("decode: %s", oneLine(err))
	}
	return nil
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// walk checks the value v found at path p (of Go type t); shown is the
// path as errors name it, with list indexes.
func walk(v any, t reflect.Type, p, shown string, allowed map[string]bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		return nil // a leaf with its own syntax: quantities, times, int-or-strings
	}
	switch val := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child, childShown := join(p, k), join(shown, k)
			if t.Kind() == reflect.Map {
				if !allowed[join(p, "*")] && !allowed[child] {
					return unsupported(childShown)
				}
				if err := walk(val[k], t.Elem(), join(p, "*"), childShown, allowed); err != nil {
					return err
				}
				continue
			}
			if t.Kind() != reflect.Struct {
				return fmt.Errorf("field %q: want %s, not a mapping", shown, t.Kind())
			}
			ft, ok := fieldType(t, k)
			if !ok {
				return fmt.Errorf("unknown field %q", childShown)
			}
			if child == "status" && isEmpty(val[k]) {
				continue
			}
			if !allowed[child] && !hasAllowedUnder(allowed, child) && !isEmpty(val[k]) {
				return unsupported(childShown)
			}
			if err := walk(val[k], ft, child, childShown, allowed); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return nil // the decoder names the type error
		}
		for i, item := range val {
			if err := walk(item, t.Elem(), p+"[]", fmt.Sprintf("%s[%d]", shown, i), allowed); err != nil {
				return err
			}
		}
	}
	return nil
}

func unsupported(field string) error {
	return fmt.Errorf("unsupported field %q: sandbox does not support it", field)
}

func join(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}

func hasAllowedUnder(allowed map[string]bool, p string) bool {
	for a := range allowed {
		if strings.HasPrefix(a, p+".") || strings.HasPrefix(a, p+"[]") {
			return true
		}
	}
	return false
}

// isEmpty: v is null, or a mapping of empty values.
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, e := range m {
		if !isEmpty(e) {
			return false
		}
	}
	return true
}

// fieldType is the type of t's field whose JSON name is name, looking
// into inlined (embedded) structs.
func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		n, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && (n == "" || strings.Contains(opts, "inline")) {
			if ft, ok := fieldType(f.Type, name); ok {
				return ft, true
			}
			continue
		}
		if n == name {
			return f.Type, true
		}
	}
	return nil, false
}

// basePath is a volume path check: absolute and clean.
func absPath(p string) bool { return path.IsAbs(p) }
