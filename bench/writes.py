"""What an index write costs Redis, and what grouping a batch's writes by group would save.

    python -m bench.writes                     # 20,000 articles; batches of 1k, 10k and all
    python -m bench.writes --articles 5000 --batches 1000,5000

Three parts, each the server's own CPU (INFO cpu: used_cpu_user + used_cpu_sys), which
the machine's noise disturbs far less than latencies:

1. Unit costs on this server: a Lua script's cost per argument it is handed, per
   `redis.call` (HSETNX of a new field), a plain pipelined HSETNX, and one plain HSET of
   100 fields per field.
2. The store's own write (`Store.add_many`, `add_article.lua`, 200 articles a round trip)
   on the bench feed, with INFO commandstats: calls per article by command, and how much of
   the script's time its Lua spends outside them.
3. The same articles' index entries written grouped by group, the issue's proposal for the
   write path: per batch of B articles, one HMGET of a group's fields and one HSET of the
   values that changed (a bench-only script, `GROUPED` below), after the records were
   stored. Reported per article: Redis CPU, this process's CPU to group them, and how many
   entries a touched group received (the density that decides whether grouping pays). Its
   groups end equal to part 2's, byte for byte, which the bench checks.

Uses DEDUP_REDIS_URL when set, else an embedded server; deletes its own keys.
"""

import argparse
import os
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bench.common import delete_keys, redis_cpu_seconds
from bench.corpus import NewsFeed, bench_redis, corpus_path, load_paragraphs
from dedup.config import Settings
from dedup.core.article import Article
from dedup.runtime import connect, index_store
from dedup.services.detector import ArticleInput, Detector
from dedup.store import Client, Store
from dedup.store.codecs import FIELD_BYTES

# Per group: n, cap, width, its n distinct fields, then their n values (each the field's new
# entries in order). A field at its cap is left alone, as add_article.lua leaves it.
GROUPED = """
local at = 1
for k = 1, #KEYS do
  local n, cap, width = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local first_field, first_value = at + 3, at + 3 + n
  at = first_value + n
  local keep = math.huge
  if cap > 0 then keep = math.ceil(cap / width) * width else cap = math.huge end
  local old = redis.call('HMGET', KEYS[k], unpack(ARGV, first_field, first_value - 1))
  local out = {}
  for i = 1, n do
    local value, new = old[i], ARGV[first_value + i - 1]
    if not value then
      if #new > keep then new = string.sub(new, 1, keep) end
      out[#out + 1] = ARGV[first_field + i - 1]
      out[#out + 1] = new
    elseif #value < cap then
      local grown = value
      for e = 1, #new, width do
        if #grown >= cap then break end
        grown = grown .. string.sub(new, e, e + width - 1)
      end
      out[#out + 1] = ARGV[first_field + i - 1]
      out[#out + 1] = grown
    end
  end
  if #out > 0 then redis.call('HSET', KEYS[k], unpack(out)) end
end
return 1
"""
GROUP_FIELDS = 2_000  # fields of one group per script argument run (Lua unpacks ~8,000)
CALL_FIELDS = 4_000  # fields a script call writes


def cpu_of(client: Client, action: Any) -> float:
    """Redis CPU seconds an action costs."""
    before = redis_cpu_seconds(client)
    action()
    return redis_cpu_seconds(client) - before


def unit_costs(client: Client, prefix: str) -> dict[str, float]:
    """Microseconds of Redis CPU per unit: Lua argument, Lua call, plain command, field."""
    rounds, width = 2_000, 100
    noop = client.register_script("for i = 1, #KEYS do local x = ARGV[i] end return 1")
    call = client.register_script(
        "for i = 1, #KEYS do redis.call('HSETNX', KEYS[i], ARGV[i], 'abcd') end return 1"
    )

    def scripts(script: Any) -> None:
        with client.pipeline(transaction=False) as pipe:
            for n in range(rounds):
                keys = [f"{prefix}:u:{(n * width + i) % 65536:x}" for i in range(width)]
                script(keys=keys, args=[os.urandom(6) for _ in keys], client=pipe)
            pipe.execute()

    def plain() -> None:
        with client.pipeline(transaction=False) as pipe:
            for n in range(rounds * 10):
                pipe.hsetnx(f"{prefix}:p:{n % 65536:x}", os.urandom(6), b"abcd")
            pipe.execute()

    def wide() -> None:
        with client.pipeline(transaction=False) as pipe:
            for n in range(rounds):
                pipe.hset(f"{prefix}:w:{n:x}", mapping={os.urandom(6): b"abcd" for _ in range(100)})
            pipe.execute()

    per_arg = cpu_of(client, lambda: scripts(noop)) * 1e6 / (rounds * width * 2)
    per_call = cpu_of(client, lambda: scripts(call)) * 1e6 / (rounds * width) - 2 * per_arg
    return {
        "Lua, per key or argument handed to a script": per_arg,
        "Lua, per redis.call HSETNX (beyond its arguments)": per_call,
        "plain HSETNX, pipelined, per command": cpu_of(client, plain) * 1e6 / (rounds * 10),
        "plain HSET of 100 fields, per field": cpu_of(client, wide) * 1e6 / (rounds * 100),
    }


def grouped_calls(store: Store, stored: Sequence[tuple[Article, int]]) -> tuple[list[Any], int]:
    """The GROUPED calls (keys, args) that write these articles' entries, and the number of
    groups touched. Fields, entries and caps are the store's own (`Store._add_call`)."""
    groups: dict[str, tuple[int, int, dict[bytes, bytes]]] = {}
    for article, doc_id in stored:
        _, names, args = store._add_call(article, store.keys.shard_of_url(article.url), doc_id)
        keys = iter(names["groups"])
        cap, name_cap = int(args["cap"]), int(args["name_cap"])
        for fields, entry, most in (
            (args["band_fields"], args["id_entry"], 0),
            (args["simhash_fields"], args["simhash_entry"], 0),
            (args["anchor_fields"], args["anchor_entry"], cap),
            (args["skeleton_fields"], args["skeleton_entry"], cap),
            (args["word_fields"], args["word_entry"], cap),
            (args["name_fields"], args["name_entry"], name_cap),
        ):
            for at in range(0, len(fields), FIELD_BYTES):
                key = next(keys)
                if key not in groups:
                    groups[key] = (most, len(entry), {})
                values = groups[key][2]
                field = fields[at : at + FIELD_BYTES]
                values[field] = values.get(field, b"") + entry
    calls: list[Any] = []
    keys_of: list[str] = []
    items: list[Any] = []
    for key, (most, width, values) in groups.items():
        fields = list(values)
        for start in range(0, len(fields), GROUP_FIELDS):
            part = fields[start : start + GROUP_FIELDS]
            keys_of.append(key)
            items += [len(part), most, width, *part, *(values[f] for f in part)]
            if len(items) >= 2 * CALL_FIELDS:
                calls.append((keys_of, items))
                keys_of, items = [], []
    if keys_of:
        calls.append((keys_of, items))
    return calls, len(groups)


def dump_groups(client: Client, store: Store) -> dict[str, dict[bytes, bytes]]:
    """Every index group of a store, by its name without the prefix."""
    prefix = store.keys.prefix
    found: dict[str, dict[bytes, bytes]] = {}
    for key in client.scan_iter(match=f"{prefix}:{{*}}:[lsxkwn]:*", count=5_000):
        values: dict[Any, Any] = client.hgetall(key)  # bytes: the client decodes nothing
        found[key.decode().removeprefix(prefix)] = values
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--batches", default="", help="grouped batch sizes (default 1k,10k,all)")
    args = parser.parse_args()
    count = args.articles
    batches = [int(b) for b in args.batches.split(",")] if args.batches else [1_000, 10_000, count]
    feed = NewsFeed(load_paragraphs(corpus_path()))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with bench_redis() as url:
        client = connect(url)
        base = f"dedup-bench-writes-{uuid.uuid4().hex[:6]}"
        print("## Unit costs, us of Redis CPU\n")
        for what, usec in unit_costs(client, base).items():
            print(f"- {what}: {usec:.2f}")
        delete_keys(client, base)

        settings = Settings(redis_url=url, key_prefix=f"{base}-store")
        detector = Detector(index_store(client, settings), settings, clock=lambda: now)
        detector._ensure_index()
        started = time.process_time()
        prepared = [detector.prepare(ArticleInput(a.url, a.text), now)[0] for a in feed.take(count)]
        prepare_ms = (time.process_time() - started) * 1000 / count
        client.config_resetstat()
        stored: list[tuple[Article, int]] = []

        def store_all() -> None:
            for i in range(0, count, 200):
                chunk = prepared[i : i + 200]
                done = detector.store.add_many(chunk)
                stored.extend((a, doc_id) for a, (doc_id, _) in zip(chunk, done, strict=True))

        client_started = time.process_time()
        redis_ms = cpu_of(client, store_all) * 1000 / count
        client_ms = (time.process_time() - client_started) * 1000 / count
        stats = client.info("commandstats")
        print(f"\n## The store's write, {count:,} articles (200 a round trip)\n")
        print(f"- prepared (fingerprint, language, record) in {prepare_ms:.3f} ms an article")
        print(f"- Redis CPU {redis_ms:.3f} ms an article; this process {client_ms:.3f} ms")
        inner = 0.0
        for name, stat in sorted(stats.items(), key=lambda kv: -int(kv[1]["usec"])):
            per = int(stat["usec"]) / count
            if name != "cmdstat_evalsha":
                inner += per
            print(
                f"  - {name.removeprefix('cmdstat_')}: {int(stat['calls']) / count:.1f} calls, "
                f"{per:.1f} us an article"
            )
        script = int(stats["cmdstat_evalsha"]["usec"]) / count
        print(
            f"  - of the script's {script:.0f} us, Lua's own (outside its calls): "
            f"{script - inner:.0f} us"
        )
        reference = dump_groups(client, detector.store)
        delete_keys(client, settings.key_prefix)

        print("\n## The same entries grouped by group (records not written: entries only)\n")
        print(
            "| batch, articles | Redis CPU ms/article | grouping, ms/article (this process) "
            "| entries per touched group | equal to the store's |"
        )
        print("|---|---|---|---|---|")
        grouped = client.register_script(GROUPED)
        for batch in batches:
            prefix = f"{base}-grouped-{batch}"
            store = Store(client, prefix)
            touched = entries = 0
            redis_s = client_s = 0.0
            for i in range(0, count, batch):
                chunk = stored[i : i + batch]
                started = time.process_time()
                calls, groups = grouped_calls(store, chunk)
                client_s += time.process_time() - started
                touched += groups
                entries += sum(
                    len(a.buckets)
                    + 4
                    + len(a.anchors)
                    + len(a.skeleton)
                    + len(a.word_anchors)
                    + len(a.name_pairs)
                    for a, _ in chunk
                )

                def write(calls: list[Any] = calls) -> None:
                    with client.pipeline(transaction=False) as pipe:
                        for keys, items in calls:
                            grouped(keys=keys, args=items, client=pipe)
                        pipe.execute()

                redis_s += cpu_of(client, write)
            same = dump_groups(client, store) == reference
            print(
                f"| {batch:,} | {redis_s * 1000 / count:.3f} | {client_s * 1000 / count:.3f} | "
                f"{entries / max(touched, 1):.1f} | {'yes' if same else 'NO'} |",
                flush=True,
            )
            delete_keys(client, prefix)
        client.close()
    print(
        "\nCounts of entries per article: "
        + str(Counter(len(a.buckets) for a, _ in stored).most_common(1)[0][0])
        + " bands, "
        + f"{sum(len(a.anchors) for a, _ in stored) / count:.0f} anchors, "
        + f"{sum(len(a.skeleton) for a, _ in stored) / count:.0f} skeleton, "
        + f"{sum(len(a.name_pairs) for a, _ in stored) / count:.0f} name pairs, "
        + f"{sum(len(a.word_anchors) for a, _ in stored) / count:.1f} content words, 4 SimHash"
    )


if __name__ == "__main__":
    main()
