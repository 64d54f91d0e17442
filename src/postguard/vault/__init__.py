"""Field-level encryption of personal data: data keys sealed under the key-encryption key, masking."""
