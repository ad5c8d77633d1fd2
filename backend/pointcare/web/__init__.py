"""HTTP: Litestar controllers for the API, the pages and DICOMweb."""
