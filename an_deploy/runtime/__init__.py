"""One small runner per backend (torch, onnxruntime, tensorrt) behind the ``Runner`` protocol."""
