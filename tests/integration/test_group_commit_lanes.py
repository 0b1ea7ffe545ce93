"""Group commit with several lanes (PostgreSQL's default; SQLite's single writer queues
them): many concurrent callers, each answered once its own unit committed, units that race
for one key retried alone, and no lane lost on the way (the last callers are not stranded)."""

import threading

from sqlalchemy import Connection, text

from gatewatch.store.database import create_database_engine
from gatewatch.store.group_commit import GroupCommit

CALLERS = 64


def test_concurrent_callers_on_several_lanes_each_commit_once(database_url: str) -> None:
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE seen (n INTEGER PRIMARY KEY, key TEXT UNIQUE)"))
    commits = GroupCommit(engine, max_group=4, lanes=3)
    start = threading.Barrier(CALLERS)
    answered: dict[int, bool] = {}
    errors: list[BaseException] = []

    def caller(n: int) -> None:
        def work(connection: Connection) -> None:
            # Callers 0-7 race for one key: one inserts it, the rest find it on their retry.
            if n < 8:
                found = connection.execute(text("SELECT n FROM seen WHERE key = 'shared'"))
                if found.first() is not None:
                    return
            key = "shared" if n < 8 else f"k{n}"
            connection.execute(
                text("INSERT INTO seen (n, key) VALUES (:n, :key)"), {"n": n, "key": key}
            )

        start.wait()
        try:
            commits.run(work)
            with engine.connect() as reader:  # committed before the caller was answered
                answered[n] = (
                    n >= 8
                    or reader.execute(text("SELECT 1 FROM seen WHERE key = 'shared'")).first()
                    is not None
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a caller was never answered"
    assert errors == []
    assert answered == dict.fromkeys(range(CALLERS), True)
    with engine.connect() as connection:
        keys = set(connection.execute(text("SELECT key FROM seen")).scalars())
    assert keys == {"shared"} | {f"k{n}" for n in range(8, CALLERS)}
    # Every lane was handed back: one more caller is answered (a leaked lane would strand it).
    late: list[object] = []
    last = threading.Thread(
        target=lambda: late.append(
            commits.run(lambda connection: connection.execute(text("SELECT 1")).scalar())
        )
    )
    last.start()
    last.join(timeout=10)
    assert late == [1]
    engine.dispose()
