package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseLdd(t *testing.T) {
	out := `	linux-vdso.so.1 (0x00007ff776200000)
	libiperf.so.0 => /lib/x86_64-linux-gnu/libiperf.so.0 (0x00007ff7761b6000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff775fd4000)
	/lib64/ld-linux-x86-64.so.2 (0x00007ff776202000)
`
	got, err := parseLdd(out)
	want := []string{"/lib/x86_64-linux-gnu/libiperf.so.0", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("parseLdd = %q, %v; want %q", got, err, want)
	}
	if got, err := parseLdd("\tstatically linked\n"); err != nil || len(got) != 0 {
		t.Errorf("static: parseLdd = %q, %v; want nothing", got, err)
	}
	if _, err := parseLdd("\tlibsctp.so.1 => not found\n"); err == nil || !strings.Contains(err.Error(), "libsctp.so.1") {
		t.Errorf("missing library: err = %v, want one naming it", err)
	}
}

func TestParseDefaultRoute(t *testing.T) {
	text := `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	0002000A	00000000	0001	0	0	0	00FFFFFF	0	0	0
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
`
	r, err := parseDefaultRoute(text)
	if err != nil || r.iface != "eth0" || r.gateway.String() != "192.0.2.1" {
		t.Errorf("parseDefaultRoute = %+v, %v; want eth0 via 192.0.2.1", r, err)
	}
	if _, err := parseDefaultRoute(strings.SplitAfterN(text, "\n", 3)[0] + strings.SplitAfterN(text, "\n", 3)[1]); err == nil {
		t.Error("no default route: want an error")
	}
}

func TestParseIperf(t *testing.T) {
	rate, err := parseIperf([]byte(`{"start":{},"intervals":[],"end":{"sum_sent":{"bits_per_second":4.1e9},"sum_received":{"bits_per_second":4.0e9}}}`))
	if err != nil || rate != 4.0e9 {
		t.Errorf("parseIperf = %v, %v; want 4e9", rate, err)
	}
	if _, err := parseIperf([]byte(`{"start":{},"intervals":[],"end":{},"error":"unable to connect to server: Connection refused"}`)); err == nil || !strings.Contains(err.Error(), "Connection refused") {
		t.Errorf("error report: err = %v", err)
	}
	if _, err := parseIperf([]byte("iperf3: error")); err == nil {
		t.Error("not JSON: want an error")
	}
}

func TestSummarizeRates(t *testing.T) {
	st := summarizeRates([]float64{5, 1, 4, 2, 3})
	if st.median != 3 || st.p10 != 1 || st.spread != 3 {
		t.Errorf("summarizeRates = %+v, want median 3, p10 1, spread 3", st)
	}
	st = summarizeRates([]float64{4, 2})
	if st.median != 3 || st.p10 != 2 {
		t.Errorf("summarizeRates even = %+v, want median 3, p10 2", st)
	}
}

func TestRateVerdict(t *testing.T) {
	b := budget{ref: "podman", min: 1}
	if ok, _ := rateVerdict(1.02, b, 10.2e9, 10e9, 1.1); !ok {
		t.Error("1.02 against ≥ 1: want within budget")
	}
	ok, text := rateVerdict(0.9, b, 9e9, 10e9, 1.05)
	if ok || text != "below budget by 10% (9.00 Gbit/s, needed 10.00 Gbit/s)" {
		t.Errorf("0.9 against ≥ 1 = %v %q", ok, text)
	}
	ok, text = rateVerdict(0.95, b, 9.5e9, 10e9, 1.2)
	if ok || !strings.HasSuffix(text, "less than the noise (spread 1.20)") {
		t.Errorf("0.95 with spread 1.2 = %v %q", ok, text)
	}
}

func TestExpandArg(t *testing.T) {
	got := expandArg([]string{"run", "@M@", "img"}, "@M@", []string{"-v", "a:b:ro"})
	if want := []string{"run", "-v", "a:b:ro", "img"}; !slices.Equal(got, want) {
		t.Errorf("expandArg = %q, want %q", got, want)
	}
}
