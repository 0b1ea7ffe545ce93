"""What a user can search: the recent messages of the conversations they are in, and those
conversations' names. Kept in memory and bounded per conversation, as a gateway's cache of
recent history is; the long history lives in the messaging service behind it."""

from collections import deque
from typing import Any

INDEXES = ("messages", "conversations")
RECENT_PER_CONVERSATION = 200
MAX_HITS = 20


class SearchIndex:
    def __init__(self) -> None:
        self._recent: dict[str, deque[dict[str, Any]]] = {}
        self._conversations_of: dict[str, set[str]] = {}

    def joined(self, user: str, conversation: str) -> None:
        self._conversations_of.setdefault(user, set()).add(conversation)

    def added(self, conversation: str, message: dict[str, Any]) -> None:
        recent = self._recent.setdefault(conversation, deque(maxlen=RECENT_PER_CONVERSATION))
        recent.append(message)

    def search(self, user: str, index: str, query: str) -> list[dict[str, Any]]:
        """At most MAX_HITS matches of `query` (case-insensitive) in `index`, newest first
        within each conversation."""
        needle = query.casefold()
        conversations = sorted(self._conversations_of.get(user, ()))
        if index == "conversations":
            return [{"conversation": c} for c in conversations if needle in c.casefold()][:MAX_HITS]
        hits: list[dict[str, Any]] = []
        for conversation in conversations:
            for message in reversed(self._recent.get(conversation, ())):
                if needle in message["body"].casefold():
                    hits.append(
                        {"conversation": conversation, "id": message["id"], "seq": message["seq"]}
                    )
                    if len(hits) == MAX_HITS:
                        return hits
        return hits
