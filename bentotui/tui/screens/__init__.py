"""The TUI's screens: one per area (models, servers, requests), the log view and the dialogs."""
