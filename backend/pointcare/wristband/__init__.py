"""Wristbands: barcodes found in a camera frame, and the patient identifier their text carries."""
