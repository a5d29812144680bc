from __future__ import annotations

import pytest

from tests.plugin import plugin_harness


@pytest.fixture(scope="session")
def plugin_build() -> plugin_harness.PluginBuild:
    """The plugin and its host test, built into build/plugins (a no-op when up to date)."""
    reason = plugin_harness.missing_tools()
    if reason is not None:
        pytest.skip(f"cannot build the TensorRT plugin: {reason}")
    return plugin_harness.build()
