"""Inbound and outbound processing, the worker and the ERP connector."""
