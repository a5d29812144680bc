"""The AttentiveNorm plugin library (``libattentive_norm_plugin.so``) as a file: where it is, loading it, and its C
kernel entry point. Nothing here needs TensorRT; registering the library with TensorRT is in ``an_deploy.trt``."""
