"""Widgets: render what they are given, post messages about what the operator did."""
