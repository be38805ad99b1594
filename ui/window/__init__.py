"""The main window, its menus (View > Theme and Large text among them), help, options
and saved settings."""
