"""Process wiring: builds each domain's service from its config section, assembles the web
app, and runs the background loops. Nothing below this package imports it."""
