// Unit tests (privilege tier: none) of the attach protocol's framing.

package attach

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	frames := []struct {
		typ     byte
		payload []byte
	}{
		{Stdout, []byte("hello\n")},
		{Stderr, []byte("oops")},
		{Stdin, nil},
		{StdinClose, []byte{}},
		{Resize, ResizePayload(24, 80)},
		{Stdout, bytes.Repeat([]byte{0xab}, MaxPayload)},
		{Exit, ExitPayload(137)},
	}
	var stream bytes.Buffer
	for _, f := range frames {
		if err := WriteFrame(&stream, f.typ, f.payload); err != nil {
			t.Fatalf("WriteFrame(%d, %d bytes): %v", f.typ, len(f.payload), err)
		}
	}
	var buf []byte
	for i, f := range frames {
		typ, payload, err := ReadFrame(&stream, buf)
		if err != nil {
			t.Fatalf("ReadFrame #%d: %v", i, err)
		}
		if typ != f.typ || !bytes.Equal(payload, f.payload) {
			t.Fatalf("ReadFrame #%d = %d, %d bytes; want %d, %d bytes", i, typ, len(payload), f.typ, len(f.payload))
		}
		buf = payload // reuse, as the monitor does
	}
	// The end of the stream at a frame boundary is a clean EOF.
	if _, _, err := ReadFrame(&stream, buf); err != io.EOF {
		t.Fatalf("ReadFrame at the end = %v, want io.EOF", err)
	}
}

func TestWriteFrameLayout(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFrame(&b, Stderr, []byte("ab")); err != nil {
		t.Fatal(err)
	}
	if want := []byte{2, 0, 0, 0, 2, 'a', 'b'}; !bytes.Equal(b.Bytes(), want) {
		t.Errorf("WriteFrame wrote % x, want % x", b.Bytes(), want)
	}
}

func TestWriteFrameOversize(t *testing.T) {
	var b bytes.Buffer
	err := WriteFrame(&b, Stdout, make([]byte, MaxPayload+1))
	if err == nil || !strings.Contains(err.Error(), "attach frame of 1048577 bytes exceeds 1048576") {
		t.Fatalf("WriteFrame(oversize) = %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("WriteFrame(oversize) wrote %d bytes", b.Len())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteFrameError(t *testing.T) {
	if err := WriteFrame(failWriter{}, Stdout, []byte("x")); err == nil || err.Error() != "broken pipe" {
		t.Fatalf("WriteFrame to a failing writer = %v", err)
	}
}

func TestReadFrameErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		wantMsg string
	}{
		{name: "empty", in: nil, wantErr: io.EOF},
		{name: "partial header", in: []byte{1, 0, 0}, wantErr: io.ErrUnexpectedEOF},
		{name: "header only", in: []byte{1, 0, 0, 0, 3}, wantErr: io.ErrUnexpectedEOF},
		{name: "truncated payload", in: []byte{1, 0, 0, 0, 3, 'a', 'b'}, wantErr: io.ErrUnexpectedEOF},
		{name: "oversize length", in: []byte{1, 0, 0x10, 0, 1}, wantMsg: "attach frame of 1048577 bytes exceeds 1048576"},
		{name: "largest length", in: []byte{1, 0xff, 0xff, 0xff, 0xff}, wantMsg: "attach frame of 4294967295 bytes exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, payload, err := ReadFrame(bytes.NewReader(tt.in), nil)
			if payload != nil {
				t.Errorf("payload %q returned with an error", payload)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadFrame(% x) = %v, want %v", tt.in, err, tt.wantErr)
			}
			if tt.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("ReadFrame(% x) = %v, want an error containing %q", tt.in, err, tt.wantMsg)
			}
		})
	}
}

func TestReadFrameReusesBuffer(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFrame(&b, Stdout, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 16)
	_, payload, err := ReadFrame(&b, buf)
	if err != nil || string(payload) != "abc" {
		t.Fatalf("ReadFrame = %q, %v", payload, err)
	}
	if &payload[0] != &buf[:1][0] {
		t.Errorf("ReadFrame did not reuse a large enough buffer")
	}
}

func TestResizePayload(t *testing.T) {
	for _, size := range [][2]uint16{{0, 0}, {24, 80}, {math.MaxUint16, 1}} {
		p := ResizePayload(size[0], size[1])
		rows, cols, err := ParseResize(p)
		if err != nil || rows != size[0] || cols != size[1] {
			t.Errorf("ParseResize(ResizePayload(%d, %d)) = %d, %d, %v", size[0], size[1], rows, cols, err)
		}
	}
	if want := []byte{0, 24, 0, 80}; !bytes.Equal(ResizePayload(24, 80), want) {
		t.Errorf("ResizePayload(24, 80) = % x, want % x", ResizePayload(24, 80), want)
	}
	for _, p := range [][]byte{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, _, err := ParseResize(p); err == nil || !strings.Contains(err.Error(), "resize payload of") || !strings.Contains(err.Error(), "want 4") {
			t.Errorf("ParseResize(% x) = %v, want a size error", p, err)
		}
	}
}

func TestExitPayload(t *testing.T) {
	for _, code := range []int{0, 1, 127, 137, 255, -1, math.MaxInt32, math.MinInt32} {
		got, err := ParseExit(ExitPayload(code))
		if err != nil || got != code {
			t.Errorf("ParseExit(ExitPayload(%d)) = %d, %v", code, got, err)
		}
	}
	if _, err := ParseExit([]byte{0, 0, 1}); err == nil || !strings.Contains(err.Error(), "exit payload of 3 bytes, want 4") {
		t.Errorf("ParseExit(3 bytes) = %v", err)
	}
}

func FuzzFrameRoundTrip(f *testing.F) {
	f.Add(Stdout, []byte("hello\n"), Exit, []byte{0, 0, 0, 1})
	f.Add(Resize, []byte{0, 24, 0, 80}, Stdin, []byte{})
	f.Fuzz(func(t *testing.T, typ1 byte, p1 []byte, typ2 byte, p2 []byte) {
		var stream bytes.Buffer
		if len(p1) > MaxPayload || len(p2) > MaxPayload {
			if WriteFrame(&stream, typ1, p1) == nil && WriteFrame(&stream, typ2, p2) == nil {
				t.Fatalf("oversize frame written")
			}
			return
		}
		if err := WriteFrame(&stream, typ1, p1); err != nil {
			t.Fatal(err)
		}
		if err := WriteFrame(&stream, typ2, p2); err != nil {
			t.Fatal(err)
		}
		if stream.Len() != 10+len(p1)+len(p2) {
			t.Fatalf("two frames took %d bytes", stream.Len())
		}
		buf := make([]byte, 0, 8)
		for _, want := range []struct {
			typ byte
			p   []byte
		}{{typ1, p1}, {typ2, p2}} {
			typ, p, err := ReadFrame(&stream, buf)
			if err != nil || typ != want.typ || !bytes.Equal(p, want.p) {
				t.Fatalf("ReadFrame = %d, %q, %v; want %d, %q", typ, p, err, want.typ, want.p)
			}
			buf = p // reuse the storage for the next frame, as the monitor does
		}
		if _, _, err := ReadFrame(&stream, buf); err != io.EOF {
			t.Fatalf("ReadFrame after the last frame = %v, want io.EOF", err)
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 2, 'h', 'i'})
	f.Add([]byte{4, 0, 0, 0, 4, 0, 24, 0, 80, 5, 0, 0, 0, 4, 0, 0, 0, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		consumed := 0
		for {
			typ, p, err := ReadFrame(r, nil)
			if err != nil {
				if p != nil {
					t.Fatalf("payload with error %v", err)
				}
				return
			}
			if len(p) > MaxPayload {
				t.Fatalf("payload of %d bytes", len(p))
			}
			// What was read is exactly what was there.
			if !bytes.Equal(data[consumed+5:consumed+5+len(p)], p) || data[consumed] != typ {
				t.Fatalf("frame at %d read as %d, %q", consumed, typ, p)
			}
			consumed += 5 + len(p)
			switch typ {
			case Resize:
				ParseResize(p)
			case Exit:
				if code, err := ParseExit(p); err == nil {
					if q := ExitPayload(code); !bytes.Equal(q, p) {
						t.Fatalf("ExitPayload(ParseExit(% x)) = % x", p, q)
					}
				}
			}
		}
	})
}
