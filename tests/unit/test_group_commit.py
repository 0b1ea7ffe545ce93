"""Group commit on a real SQLite file: units share a transaction, fail alone."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gatewatch.store.database import create_database_engine
from gatewatch.store.group_commit import GroupCommit


def test_concurrent_units_commit_together_and_a_failing_one_fails_alone(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path}/group.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE seen (n INTEGER PRIMARY KEY)"))
    commits = GroupCommit(engine)
    errors: dict[int, BaseException] = {}
    start = threading.Barrier(16)

    def unit(n: int) -> None:
        def work(connection: Connection) -> int:
            connection.execute(text("INSERT INTO seen (n) VALUES (:n)"), {"n": n})
            if n == 7:
                raise ValueError("unit 7 is broken")
            return n

        start.wait()
        try:
            assert commits.run(work) == n
            # Answered only after the commit: a fresh connection sees the row.
            with engine.connect() as reader:
                assert reader.execute(text("SELECT n FROM seen WHERE n = :n"), {"n": n}).one()
        except BaseException as error:
            errors[n] = error

    threads = [threading.Thread(target=unit, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert list(errors) == [7] and isinstance(errors[7], ValueError)
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT n FROM seen")).scalars())
    assert stored == set(range(16)) - {7}
    engine.dispose()


def test_a_failed_commit_fails_every_unit_of_its_group(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path}/group.db")
    commits = GroupCommit(engine)
    with pytest.raises(Exception, match="no such table"):
        commits.run(lambda connection: connection.execute(text("INSERT INTO missing VALUES (1)")))
    assert commits.run(lambda connection: connection.execute(text("SELECT 1")).scalar()) == 1
    engine.dispose()
