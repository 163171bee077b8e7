"""fracdash's version, apart from the package root so that any module may read it."""

__version__ = "0.1.0"
