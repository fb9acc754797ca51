package container

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

var (
	adjectives = []string{
		"amber", "brave", "calm", "clever", "cosy", "eager", "fancy", "gentle", "happy", "jolly",
		"keen", "lively", "lucid", "mellow", "merry", "nimble", "patient", "proud", "quiet", "quick",
		"rapid", "serene", "sharp", "shy", "steady", "sunny", "swift", "tidy", "vivid", "witty",
	}
	nouns = []string{
		"badger", "beacon", "birch", "canyon", "cedar", "comet", "delta", "falcon", "fern", "glacier",
		"harbor", "heron", "island", "lagoon", "lynx", "maple", "meadow", "nebula", "otter", "pebble",
		"pine", "quartz", "raven", "reef", "river", "sparrow", "summit", "tundra", "valley", "willow",
	}
)

func pick(list []string) (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
	if err != nil {
		return "", err
	}
	return list[n.Int64()], nil
}

// freeName generates an adjective_noun name that no container has.
func (r *Runtime) freeName() (string, error) {
	for try := 0; try < 20; try++ {
		a, err := pick(adjectives)
		if err != nil {
			return "", fmt.Errorf("generate a name: %w", err)
		}
		n, err := pick(nouns)
		if err != nil {
			return "", fmt.Errorf("generate a name: %w", err)
		}
		name := a + "_" + n
		if try >= 10 {
			name = fmt.Sprintf("%s%d", name, try)
		}
		if _, err := r.Store.Container(name); err != nil {
			return name, nil
		}
	}
	return "", fmt.Errorf("generate a name: every candidate is taken; use --name")
}
