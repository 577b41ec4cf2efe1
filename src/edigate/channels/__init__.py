"""Channels: how documents arrive (SFTP, AS2, email, folders) and leave.

Every listener calls one :data:`~edigate.channels.base.Handler` per received file; every
outbound transport is an :class:`~edigate.channels.base.OutboundChannel`.
"""
