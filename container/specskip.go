package container

import "bytes"

// withoutSpec returns data, a container's configuration as JSON, with the
// value of its top-level "spec" member replaced by {}, in data's own
// array, so that decoding the rest (configHead, which skips the spec
// anyway) does not scan the spec's bytes one by one: 14 of the file's 15
// KB, most of them the seccomp filter's string, which this finds the end
// of with bytes.IndexByte. Only a value that configHead skips is
// replaced, so what decodes is the same; text that this does not follow
// (an escaped key, an object cut short) is returned as it is, for the
// decoder to judge.
func withoutSpec(data []byte) []byte {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return data
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != '"' {
			return data
		}
		keyEnd := stringEnd(data, i)
		if keyEnd < 0 || bytes.IndexByte(data[i:keyEnd], '\\') >= 0 {
			return data
		}
		key := data[i+1 : keyEnd-1]
		i = skipSpace(data, keyEnd)
		if i >= len(data) || data[i] != ':' {
			return data
		}
		i = skipSpace(data, i+1)
		end := valueEnd(data, i)
		if end < 0 {
			return data
		}
		if data[i] == '{' && bytes.EqualFold(key, []byte("spec")) {
			n := copy(data[i+2:], data[end:])
			data[i], data[i+1] = '{', '}'
			return data[:i+2+n]
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ',' {
			return data // the end of the object, or text this does not follow
		}
		i++
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the string that opens at data[i] (a
// quote), or -1 if it does not end.
func stringEnd(data []byte, i int) int {
	for i++; ; {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		// A quote after an odd number of backslashes is escaped.
		n := 0
		for data[i-1-n] == '\\' {
			n++
		}
		i++
		if n%2 == 0 {
			return i
		}
	}
}

// valueEnd is the index after the value that starts at data[i], or -1 if
// it does not end; an object or an array is followed to its closing
// bracket, not checked.
func valueEnd(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				if i = stringEnd(data, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(data) && bytes.IndexByte([]byte(",}] \t\r\n"), data[i]) < 0 {
		i++
	}
	if i == start {
		return -1
	}
	return i
}
