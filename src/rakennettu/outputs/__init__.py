"""Outputs: the GeoPackage, maps, report, rasters and the run record."""
