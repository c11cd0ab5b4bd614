"""Everything the bot says in chats that is not an answer from the knowledge base. Chinese first."""

WELCOME = (
    "您好！我是 PolicyBot，帮您查碳达峰碳中和、节能减排等政策里的任务、目标、期限和责任部门。\n"
    "直接发问题即可（群里请用 /ask 问题，或 @我，或回复我的消息）。发送 /help 查看全部命令。"
)
HELP_HEADER = "可用命令："
HELP_ADMIN_HEADER = "管理员命令："
HELP_FOOTER = "示例：碳减排支持工具什么时候出台？谁牵头？"
ASK_USAGE = "用法：/ask 问题，例如 /ask 碳减排支持工具什么时候出台？"
SEARCH_USAGE = "用法：/search 关键词，例如 /search 清洁取暖"
DEPT_USAGE = "用法：/dept 部门，例如 /dept 发改委"
DEADLINES_USAGE = "用法：/deadlines [天数]，天数为 1–3650 的整数，默认 30"
UNKNOWN_DEPARTMENT = "没有找到部门“{name}”。可以试试：{examples}"
NO_DEADLINES = "未来 {days} 天内没有到期的条目。"
DEADLINES_TITLE = "未来 {days} 天内到期（截至 {today}）："
ERROR = "抱歉，处理您的请求时出错了，请稍后再试。"
STALE_BUTTON = "这个按钮已过期，请重新提问。"
INVALID_BUTTON = "无法识别的按钮。"
ITEM_GONE = "这个条目已不存在或已删除。"
NOT_ADMIN = "抱歉，只有管理员可以使用这个命令。"
REWRITTEN = "（按“{question}”回答）"
TOO_LONG_NOTE = "（问题太长，只按前 {n} 个字回答）"
MAX_QUESTION_CHARS = 500
