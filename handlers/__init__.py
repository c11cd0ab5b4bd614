"""The bot's behaviour, once for every app: `core.Conversation` takes a neutral `messages.Incoming`
and sends back neutral `messages.Reply`s. No app's SDK is imported here; adapters live in `bot/`."""
