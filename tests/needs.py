"""Skip marks for optional test dependencies (a helper module imported by tests, not a test)."""
import importlib.util

import pytest

HAVE_BUMBLE = importlib.util.find_spec("bumble") is not None
needs_bumble = pytest.mark.skipif(not HAVE_BUMBLE, reason="the emulator needs Google Bumble: pip install 'retrorun[test]'")
