"""Screens: the dashboard, the fleet-wide services view, service detail and help."""
