"""MongoDB-wire server (FerretDB): insert, find, update with an index, via pymongo."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from moviepipe.services import mongo

pytestmark = pytest.mark.integration


def test_insert_find_update_with_unique_index(stack, mongo_db_name):
    with mongo.client(stack) as mc:
        coll = mc[mongo_db_name]["movies"]
        coll.create_index([("movie_id", ASCENDING)], unique=True, name="movie_id_unique")
        coll.insert_many(
            [{"movie_id": i, "title": f"movie {i}", "votes": i * 10} for i in range(1, 6)]
        )

        assert coll.find_one({"movie_id": 3})["title"] == "movie 3"
        assert [d["movie_id"] for d in coll.find({"votes": {"$gte": 30}}).sort("movie_id", 1)] == [
            3,
            4,
            5,
        ]

        result = coll.update_one(
            {"movie_id": 3}, {"$set": {"title": "renamed"}, "$inc": {"votes": 1}}
        )
        assert result.modified_count == 1
        assert coll.find_one({"movie_id": 3}, {"_id": 0, "title": 1, "votes": 1}) == {
            "title": "renamed",
            "votes": 31,
        }

        upsert = coll.update_one({"movie_id": 99}, {"$set": {"title": "new"}}, upsert=True)
        assert upsert.upserted_id is not None
        assert coll.count_documents({}) == 6

        with pytest.raises(DuplicateKeyError):
            coll.insert_one({"movie_id": 1, "title": "duplicate"})
        index_names = {ix["name"] for ix in coll.list_indexes()}
        assert "movie_id_unique" in index_names
