{
  "targets": [{
    "target_name": "udp_batch",
    "sources": ["udp_batch.c"],
    "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
    "conditions": [["OS!='linux'", { "type": "none" }]]
  }]
}
