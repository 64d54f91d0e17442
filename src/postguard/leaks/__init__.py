"""Leak detection: alerts, canary shipments, access anomalies and leak triangulation."""
