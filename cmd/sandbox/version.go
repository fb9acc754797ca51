package main

import (
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// versionReport is `version`'s answer in podman's shape: scripts read
// {{.Client.Version}} or the JSON's Client object.
type versionReport struct {
	Client clientVersion `json:"Client"`
}

// clientVersion is the build of this binary. sandbox has no server: the
// API version is its own version.
type clientVersion struct {
	APIVersion string `json:"APIVersion"`
	Version    string `json:"Version"`
	GoVersion  string `json:"GoVersion"`
	GitCommit  string `json:"GitCommit"`
	BuiltTime  string `json:"BuiltTime"`
	Built      int64  `json:"Built"`
	OsArch     string `json:"OsArch"`
	Os         string `json:"Os"`
}

func newVersionCommand(*globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version [flags]",
		Short: "Display the sandbox version information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionReport{Client: clientVersion{
				APIVersion: version, Version: version, GoVersion: runtime.Version(),
				BuiltTime: "unknown", OsArch: runtime.GOOS + "/" + runtime.GOARCH, Os: runtime.GOOS,
			}}
			if format != "" {
				if format != "json" {
					if _, err := parseTemplate(format); err != nil {
						return err
					}
				}
				return printReport(os.Stdout, format, v)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 0, 1, ' ', 0)
			c := v.Client
			fmt.Fprintf(tw, "Version:\t%s\nAPI Version:\t%s\nGo Version:\t%s\nBuilt:\t%s\nOS/Arch:\t%s\n",
				c.Version, c.APIVersion, c.GoVersion, c.BuiltTime, c.OsArch)
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format: json, or a Go template such as '{{.Client.Version}}'")
	return cmd
}
