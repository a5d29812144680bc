"""torch -> ONNX with one function-backed ``AttentiveNorm`` node per AN layer, inlining, checks and validation."""
