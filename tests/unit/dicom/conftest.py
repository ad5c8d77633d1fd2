"""The photo builder's tests build from the imaging corpus' normalised photos."""

from tests.unit.imaging.conftest import normalised

__all__ = ["normalised"]
