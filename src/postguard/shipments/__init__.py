"""Shipments: bulk import, validation, the stored (sealed and masked) record, labels."""
