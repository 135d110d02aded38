"""Cluster-Panorama: the linked-data knowledge graph of the NRW cluster landscape."""

__version__ = "0.1.0"
