"""llama.cpp builds, GGUF weights, probes and run manifests."""
