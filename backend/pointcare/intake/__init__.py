"""Intake: objects other capture devices and apps send to Pointcare over STOW-RS, as the Image
Manager of IHE Web-based Image Capture (WIC). Read and checked (``received``), matched to a
patient of the directory (``patients``), before they are stored as every object is."""
