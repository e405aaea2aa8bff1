"""The baseline for bench/load.py: a Flask app whose one route does one Redis GET and one SET,
the least a web hook that keeps state could do per request."""

from __future__ import annotations

import os

from flask import Flask
from redis import Redis

app = Flask(__name__)
redis = Redis.from_url(os.environ["REDIS_URL"])


@app.get("/healthz")
def health() -> str:
    return "ok"


@app.post("/bare")
def bare() -> str:
    redis.get("bench:bare")
    redis.set("bench:bare", "1", ex=60)
    return "<Response/>"
