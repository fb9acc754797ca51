package container

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Streams of a log record.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// LogRecord is one line of a container's log in the k8s-file format the
// monitor writes (see monitor.LogWriter):
//
//	2026-11-23T05:18:39.123456789Z stdout F hello
type LogRecord struct {
	Time time.Time
	// Stream is StreamStdout or StreamStderr.
	Stream string
	// Partial (tag P) is a piece of a line that goes on in the next record
	// of the same stream; a full record (tag F) ends the line.
	Partial bool
	// Text is the output, without the newline that ended it.
	Text []byte
}

// ParseLogLine parses one k8s-file log line, given without its newline.
// Text refers to line's bytes.
func ParseLogLine(line []byte) (LogRecord, error) {
	var r LogRecord
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return r, fmt.Errorf("log line %s: want TIMESTAMP STREAM F|P TEXT", quoteShort(line))
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return r, fmt.Errorf("log line %s: timestamp %s is not RFC 3339", quoteShort(line), quoteShort(ts))
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	switch string(stream) {
	case StreamStdout, StreamStderr:
	default:
		return r, fmt.Errorf("log line %s: stream %s, want stdout or stderr", quoteShort(line), quoteShort(stream))
	}
	if !ok {
		return r, fmt.Errorf("log line %s: no F or P tag", quoteShort(line))
	}
	// The writer puts a space after the tag even before empty text; a
	// line cut just after the tag is read as empty text too.
	tag, text, _ := bytes.Cut(rest, []byte{' '})
	switch string(tag) {
	case "F":
	case "P":
		r.Partial = true
	default:
		return r, fmt.Errorf("log line %s: tag %s, want F or P", quoteShort(line), quoteShort(tag))
	}
	r.Time, r.Stream, r.Text = t, string(stream), text
	return r, nil
}

// quoteShort quotes b for an error message, cut to 60 bytes.
func quoteShort(b []byte) string {
	if len(b) > 60 {
		return strconv.Quote(string(b[:60])) + "..."
	}
	return strconv.Quote(string(b))
}

// LogTimestampFormat is how logs -t shows a record's time: RFC 3339 in UTC
// with nanoseconds always nine digits, as docker does.
const LogTimestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// ParseLogTime reads a --since or --until value as docker does:
//
//   - a Go duration (10m, 1h30m), counted back from now;
//   - an RFC 3339 time, with or without fractional seconds, minutes or
//     seconds, or a date alone; without a zone (Z or ±hh:mm) it is in
//     now's location;
//   - a Unix timestamp in seconds, with up to nine decimals.
func ParseLogTime(value string, now time.Time) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("invalid time %q: want an RFC 3339 time (2006-01-02T15:04:05Z), a Unix timestamp or a duration like 10m", value)
	}
	if value == "" {
		return bad()
	}
	if d, err := time.ParseDuration(value); err == nil && value != "0" {
		return now.Add(-d), nil
	}
	if strings.Contains(value, "-") {
		t, err := parseRFC3339ish(value, now.Location())
		if err != nil {
			return bad()
		}
		return t, nil
	}
	sec, frac, hasFrac := strings.Cut(value, ".")
	if sec == "" || !allDigits(sec) || (hasFrac && (frac == "" || len(frac) > 9 || !allDigits(frac))) {
		return bad()
	}
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s > 1<<40 {
		return bad()
	}
	var ns int64
	if hasFrac {
		ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64) // nine digits at most: cannot fail
	}
	return time.Unix(s, ns).In(now.Location()), nil
}

// parseRFC3339ish parses the time forms docker's --since accepts: a date,
// an hour, minutes, seconds and fractions, with or without a zone.
func parseRFC3339ish(value string, loc *time.Location) (time.Time, error) {
	date, clock, hasClock := strings.Cut(value, "T")
	zone := ""
	if i := strings.IndexAny(clock, "Zz+-"); hasClock && i >= 0 {
		clock, zone = clock[:i], clock[i:]
	} else if !hasClock && len(date) > len("2006-01-02") {
		// A date with a zone: 2006-01-02Z or 2006-01-02+01:00.
		date, zone = date[:10], date[10:]
	}
	layout := "2006-01-02"
	if hasClock {
		switch strings.Count(clock, ":") {
		case 0:
			layout += "T15"
		case 1:
			layout += "T15:04"
		default:
			layout += "T15:04:05"
		}
		if strings.Contains(clock, ".") {
			layout += ".999999999"
		}
	}
	in := date
	if hasClock {
		in += "T" + clock
	}
	if zone == "" {
		return time.ParseInLocation(layout, in, loc)
	}
	if zone == "z" {
		zone = "Z"
	}
	return time.Parse(layout+"Z07:00", in+zone)
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseTail reads --tail: "all" (returned as -1), or a number of lines;
// a negative number means all, as docker does.
func ParseTail(value string) (int, error) {
	if value == "all" || value == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, fmt.Errorf("invalid --tail %q: want a number of lines or all", value)
	}
	if n < 0 {
		return -1, nil
	}
	return n, nil
}
