package api

import (
	"encoding/json"
	"net/http"
	"time"

	"sandbox/container"

	ctrtypes "github.com/moby/moby/api/types/container"
)

// statsContainer answers docker's stats, one-shot or a stream of one
// reading a second, from the engine's cgroup readings (as stats does).
func (s *Server) statsContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	cs, err := s.rt.StatsTargets([]string{ref})
	if err != nil {
		return ctrErr(ref, err)
	}
	c := cs[0]
	stream := r.URL.Query().Get("stream") == "" || boolParam(r, "stream")
	if boolParam(r, "one-shot") {
		stream = false
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	var prev ctrtypes.StatsResponse
	first := true
	for {
		sample, err := s.rt.SampleStats(c)
		if err != nil {
			if first {
				return err
			}
			s.log.Printf("stats %s: %v", ref, err)
			return nil
		}
		cur := statsResponse(c, sample)
		cur.PreCPUStats = prev.CPUStats
		cur.PreRead = prev.Read
		if err := enc.Encode(cur); err != nil {
			return nil // the client left
		}
		flush(w)
		first = false
		if !stream {
			return nil
		}
		prev = cur
		select {
		case <-r.Context().Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func statsResponse(c *container.Container, sample container.StatsSample) ctrtypes.StatsResponse {
	out := ctrtypes.StatsResponse{ID: c.ID, Name: "/" + c.Name(), Read: sample.At, OSType: "linux"}
	st := sample.Stats
	if st == nil {
		return out
	}
	out.CPUStats.CPUUsage.TotalUsage = st.CPUUsageUsec * 1000
	out.CPUStats.SystemUsage = uint64(time.Now().UnixNano())
	out.CPUStats.OnlineCPUs = 1
	out.MemoryStats.Usage = st.MemoryUsage()
	if st.MemoryMax > 0 {
		out.MemoryStats.Limit = uint64(st.MemoryMax)
	}
	out.PidsStats.Current = st.Pids
	if st.PidsMax > 0 {
		out.PidsStats.Limit = uint64(st.PidsMax)
	}
	return out
}
