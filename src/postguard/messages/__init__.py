"""Messages: a pasted SMS, chat message or VietQR code read as a whole (indicators, red flags, a model)."""
