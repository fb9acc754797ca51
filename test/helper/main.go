// Command helper is a small static program that integration tests bind
// into busybox containers for what busybox lacks:
//
//	helper udp-echo PORT    answer every UDP datagram on PORT with itself
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "udp-echo" {
		if err := udpEcho(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, "usage: helper udp-echo PORT")
	os.Exit(2)
}

func udpEcho(port string) error {
	c, err := net.ListenPacket("udp4", "0.0.0.0:"+port)
	if err != nil {
		return err
	}
	fmt.Println("listening")
	buf := make([]byte, 65536)
	for {
		n, addr, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		fmt.Printf("from %v: %q\n", addr, buf[:n])
		if _, err := c.WriteTo(buf[:n], addr); err != nil {
			return err
		}
	}
}
