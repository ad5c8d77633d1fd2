"""Wound measurement from a photo: the printed calibration marker, its detection, the mapping of
the photo to the marker's plane, and the area, length, width and perimeter of a traced outline.

Pure code: pixels and polygons in, figures or a refusal out; no web, no database.
"""
