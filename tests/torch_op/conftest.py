"""The trained demo model, shared with the export tests."""

from tests.export.conftest import demo_checkpoint, demo_model  # noqa: F401
