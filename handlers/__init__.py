"""Telegram adapters (python-telegram-bot): parse an update, call a service, format, reply.

`register` adds every handler in one documented order:
  group 0  commands (public, then admin — admin handlers check the user themselves), group migration,
           the bot's own membership (removed from a chat)
  group 1  buttons (callback queries)
  group 2  plain text: any text in private chats, addressed text in groups
The error handler is added last.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, ChatMemberHandler, CommandHandler, MessageHandler, filters

from handlers import admin, ask, browse, errors, subscriptions


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", browse.on_start), group=0)
    app.add_handler(CommandHandler("help", browse.on_help), group=0)
    app.add_handler(CommandHandler("ask", ask.on_ask), group=0)
    app.add_handler(CommandHandler("deadlines", browse.on_deadlines), group=0)
    app.add_handler(CommandHandler("dept", browse.on_dept), group=0)
    app.add_handler(CommandHandler("search", browse.on_search), group=0)
    app.add_handler(CommandHandler("subscribe", subscriptions.on_subscribe), group=0)
    app.add_handler(CommandHandler("subscriptions", subscriptions.on_subscriptions), group=0)
    app.add_handler(CommandHandler("unsubscribe", subscriptions.on_unsubscribe), group=0)
    app.add_handler(CommandHandler("ics", subscriptions.on_ics), group=0)
    app.add_handler(CommandHandler("add", admin.on_add), group=0)
    app.add_handler(CommandHandler("edit", admin.on_edit), group=0)
    app.add_handler(CommandHandler("delete", admin.on_delete), group=0)
    app.add_handler(CommandHandler("undo", admin.on_undo), group=0)
    app.add_handler(CommandHandler("history", admin.on_history), group=0)
    app.add_handler(CommandHandler("done", admin.on_done), group=0)
    app.add_handler(CommandHandler("postpone", admin.on_postpone), group=0)
    app.add_handler(CommandHandler("import", admin.on_import), group=0)
    app.add_handler(MessageHandler(filters.Document.ALL & filters.CaptionRegex(r"^/import(?:@\w+)?\b"),
                                   admin.on_import), group=0)
    app.add_handler(CommandHandler("export", admin.on_export), group=0)
    app.add_handler(CommandHandler("stats", admin.on_stats), group=0)
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, subscriptions.on_migrate), group=0)
    app.add_handler(ChatMemberHandler(subscriptions.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=0)
    app.add_handler(CallbackQueryHandler(ask.on_button), group=1)
    text = filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & text, ask.on_private_text), group=2)
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & text, ask.on_group_text), group=2)
    app.add_error_handler(errors.on_error)
