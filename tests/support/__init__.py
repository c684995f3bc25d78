"""Helpers shared by test packages (fleets, configurations, apps under Pilot,
fakes); test modules import from here, never from one another."""
