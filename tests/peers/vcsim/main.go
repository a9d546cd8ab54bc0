// Command vcsim serves govmomi's vSphere simulator for Stratus's integration tests.
//
// It binds the given address (port 0 picks a free port), prints one line "URL=<sdk url>" on
// stdout once it is listening, and runs until SIGINT or SIGTERM. Host hardware figures are flags
// so a test can assert the inventory a driver reports; the login is checked against -user/-pass.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
)

type options struct {
	listen   string
	esxMode  bool
	useTLS   bool
	user     string
	password string
	sockets  int
	cores    int
	mhz      int
	memory   int64
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.listen, "l", "127.0.0.1:0", "address to listen on")
	flag.BoolVar(&o.esxMode, "esx", false, "simulate a standalone ESXi host instead of a vCenter")
	flag.BoolVar(&o.useTLS, "tls", false, "serve https with a self-signed certificate")
	flag.StringVar(&o.user, "user", "", "the only username accepted (required)")
	flag.StringVar(&o.password, "pass", "", "the only password accepted (required)")
	flag.IntVar(&o.sockets, "sockets", 2, "CPU packages per host")
	flag.IntVar(&o.cores, "cores", 8, "CPU cores per host, all packages together")
	flag.IntVar(&o.mhz, "mhz", 2400, "CPU speed in MHz")
	flag.Int64Var(&o.memory, "memory", 64<<30, "memory per host in bytes")
	flag.Parse()
	if o.user == "" || o.password == "" {
		log.Fatal("-user and -pass are required: the simulator must check credentials")
	}
	return o
}

// shapeHosts edits the templates every simulated HostSystem is copied from; it must run before
// Model.Create, which is when the hosts are made.
func shapeHosts(o options) {
	summary := esx.HostSystem.Summary.Hardware
	summary.NumCpuPkgs = int16(o.sockets)
	summary.NumCpuCores = int16(o.cores)
	summary.NumCpuThreads = int16(o.cores)
	summary.CpuMhz = int32(o.mhz)
	summary.MemorySize = o.memory

	info := esx.HostHardwareInfo
	info.CpuInfo.NumCpuPackages = int16(o.sockets)
	info.CpuInfo.NumCpuCores = int16(o.cores)
	info.CpuInfo.NumCpuThreads = int16(o.cores)
	info.CpuInfo.Hz = int64(o.mhz) * 1000 * 1000
	info.MemorySize = o.memory
}

func main() {
	o := parseFlags()
	shapeHosts(o)

	model := simulator.VPX()
	if o.esxMode {
		model = simulator.ESX()
	}
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()

	model.Service.Listen = &url.URL{Host: o.listen, User: url.UserPassword(o.user, o.password)}
	if o.useTLS {
		model.Service.TLS = new(tls.Config)
	}
	server := model.Service.NewServer()
	defer server.Close()

	// Print the URL without the credentials the simulator puts in it.
	address := *server.URL
	address.User = nil
	fmt.Printf("URL=%s\n", address.String())
	os.Stdout.Sync()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
