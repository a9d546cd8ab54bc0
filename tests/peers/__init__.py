"""Protocol-level stand-ins for hypervisors (XAPI, WS-Management) and a vSphere simulator
launcher, each holding one host in memory so tests can check what a driver reports and does."""
