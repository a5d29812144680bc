"""The AOGNet-v2 code family (the published AN ImageNet classifiers): ResNet, MobileNetV2 and AOGNet builders and
the reader of its YAML training configs."""
