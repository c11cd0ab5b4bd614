"""Telegram: the adapter (python-telegram-bot), its HTML, limits, Bot API requests over aiohttp and the reminder channel."""
