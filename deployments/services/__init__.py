"""Services: every write and state change (see STYLE.md)."""
