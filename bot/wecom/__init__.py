"""企业微信: the 智能机器人 long connection (client and protocol), the adapter, its rendering and the reminder channel."""
