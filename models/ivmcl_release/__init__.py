"""The iVMCL-Release code family (mmcv/mmdet-style): ResNetAN, MobileNetV2 and DenseNet builders and the reader of
its Python training configs (parsed, never executed)."""
