"""Data files of the domain (rules data with their sources), read through importlib.resources."""
