"""Package discovery that setuptools' pyproject tables cannot express on their own.

The PWA folder (``pwa/``) sits beside ``backend/`` so that designers find it at the top level,
yet it must ship in a non-editable install: it is mapped to the ``pointcare.pwa`` package.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages("backend"), "pointcare.pwa"])
