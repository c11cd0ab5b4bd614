"""Telegram adapters (python-telegram-bot): parse an update, call a service, format, reply."""
