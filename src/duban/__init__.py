"""duban runtime: the `duban` command, the supervisor, provisioning and the simulator."""
