"""an_deploy: export, accelerate and check neural networks that use Attentive Normalization."""

__version__ = "0.1.0"
