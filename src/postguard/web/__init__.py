"""The web shell: server-rendered pages, Vietnamese first with an English switch."""
