#!/usr/bin/env bash
# Runs examples/spark/whosaid_job.py in Spark local mode on a small corpus and checks that its
# output equals a plain `whosaid extract` run on the same input.
#
#   examples/spark/test.sh                                  # target/release/whosaid (built if missing)
#   WHOSAID_BIN=path/to/whosaid examples/spark/test.sh      # another build, e.g. the lean one
#   WHOSAID_EXTRA="--fast" examples/spark/test.sh           # extra whosaid options, both runs
#
# pyspark comes from PyPI into a venv in the cache ($WHOSAID_CACHE, default ~/.cache/whosaid),
# installed once (about 370 MB); later runs reuse it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
cache=${WHOSAID_CACHE:-$HOME/.cache/whosaid}
# Spark 3.5 runs on Java 8, 11 and 17 (the machine's); Spark 4 needs Java 17 too but drops
# Python 3.8, and 3.5 is what most clusters still run.
pyspark_version=3.5.9
venv=$cache/spark-venv
bin=${WHOSAID_BIN:-target/release/whosaid}
read -r -a extra <<<"${WHOSAID_EXTRA:-}"

fail() { echo "spark test: $*" >&2; exit 1; }

command -v java >/dev/null || fail "java not found (Spark needs Java 8, 11 or 17 on PATH or in JAVA_HOME)"
if [ -z "${JAVA_HOME:-}" ]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    export JAVA_HOME
fi

if [ "$("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null)" != "$pyspark_version" ]; then
    echo "spark test: installing pyspark $pyspark_version into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "pyspark==$pyspark_version"
fi

if [ ! -x "$bin" ]; then
    [ -z "${WHOSAID_BIN:-}" ] || fail "WHOSAID_BIN=$bin is not an executable file"
    echo "spark test: building $bin" >&2
    cargo build --release
fi
bin=$(readlink -f "$bin")

work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
corpus=$work/corpus.jsonl

# The corpus: the shipped article, generated articles with direct, mixed and indirect quotes,
# a blank line (skipped by whosaid, no record), and bad records that must come out as error
# records: no text, a text that is not a string, a line that is not JSON, and lines with no
# id, whose records are named after their line in the corpus.
python3 - "$corpus" data/000_86905691883c5ace.txt <<'PY'
import json, random, sys

out, article = sys.argv[1], sys.argv[2]
rng = random.Random(5)
people = [("John Kerry", "Secretary of State"), ("Sergey Lavrov", "Foreign Minister"),
          ("Angela Merkel", "Chancellor"), ("José Ramírez", "the mayor"),
          ("Maria Öberg", "a spokeswoman for the ministry"), ("Li Wei", "the company's chief executive")]
organisations = ["the United Nations", "the European Commission", "Acme Corp.", "the city council"]
topics = ["the ceasefire", "the budget", "the new stadium", "the trade talks", "the election",
          "the flood defences", "the merger", "the vaccine rollout"]
opinions = ["is a disaster for everyone involved", "will be good for the region",
            "has not been decided yet", "was handled badly from the start",
            "deserves our full support", "is the best chance we have had in years"]
cues = ["said", "told reporters", "added", "said on Tuesday", "warned", "insisted"]

def paragraph():
    name, title = rng.choice(people)
    surname = name.split()[-1]
    topic, opinion, cue = rng.choice(topics), rng.choice(opinions), rng.choice(cues)
    form = rng.randrange(6)
    if form == 0:
        return f'"{topic.capitalize()} {opinion}," {name}, {title}, {cue}.'
    if form == 1:
        return f'{name} {cue} that {topic} {opinion}.'
    if form == 2:
        return f'“We believe {topic} {opinion},” {surname} {cue}. “There is no other way.”'
    if form == 3:
        return f'According to {rng.choice(organisations)}, {topic} {opinion}.'
    if form == 4:
        return f'{title.capitalize()} {name} called {topic} "a mistake" and said it {opinion}.'
    return f'The talks on {topic} continued on Monday in Geneva, where delegates met for hours.'

with open(out, "w", encoding="utf-8") as f:
    with open(article, encoding="utf-8") as a:
        f.write(json.dumps({"id": "000_86905691883c5ace", "text": a.read()}) + "\n")
    for i in range(36):
        text = "\n\n".join(paragraph() for _ in range(rng.randrange(2, 7)))
        f.write(json.dumps({"id": f"gen-{i:02}", "text": text, "source": "generated"},
                           ensure_ascii=i % 2 == 0) + "\n")
        if i == 10:
            f.write("\n")
        if i == 20:
            f.write(json.dumps({"id": "bad-no-text", "title": "nothing here"}) + "\n")
            f.write(json.dumps({"text": '"It works without an id," the clerk said.'}) + "\n")
        if i == 30:
            f.write('{"id": "bad-json", "text": "unterminated\n')
            f.write(json.dumps({"id": 7, "text": ["not", "a", "string"]}) + "\n")
            f.write(json.dumps({"id": "", "text": "An empty id is no id, she said."}) + "\n")
PY

# Quiet logs: the job's own failures still reach stderr through the Python traceback.
cat >"$work/log4j2.properties" <<'EOF'
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
EOF

echo "spark test: plain run of $bin" >&2
set +e
"$bin" extract "$corpus" --threads 1 "${extra[@]}" >"$work/plain.jsonl" 2>"$work/plain.log"
code=$?
set -e
# The corpus has bad records, so 1 (some documents failed) is the expected exit code.
[ "$code" = 1 ] || { cat "$work/plain.log" >&2; fail "plain whosaid run exited $code, expected 1"; }

export PYSPARK_PYTHON=$venv/bin/python PYSPARK_DRIVER_PYTHON=$venv/bin/python
export SPARK_LOCAL_IP=127.0.0.1
spark_job() { # output-path job-options...
    local output=$1
    shift
    "$venv/bin/spark-submit" --master 'local[2]' \
        --driver-java-options "-Dlog4j2.configurationFile=file:$work/log4j2.properties" \
        --conf spark.ui.enabled=false \
        examples/spark/whosaid_job.py "$corpus" "$output" --whosaid "$bin" --partitions 4 "$@" \
        -- "${extra[@]}" >"$work/spark.log" 2>&1 \
        || { cat "$work/spark.log" >&2; fail "the Spark job failed (log above)"; }
}

compare() { # spark-output-files...
    python3 - "$work/plain.jsonl" "$@" <<'PY'
import json, sys

def records(paths):
    lines = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines += [line.rstrip("\n") for line in f]
    return lines

plain, spark = records(sys.argv[1:2]), records(sys.argv[2:])
problems = []
if len(spark) != len(plain):
    problems.append(f"{len(spark)} records from Spark, {len(plain)} from the plain run")
try:
    spark_parsed = [json.loads(line) for line in spark]
except ValueError as error:
    sys.exit(f"spark test: a Spark output line is not JSON: {error}")
# A document's record does not depend on the documents beside it (the transformer reads each
# window by itself), so the records must be identical, confidences to the last digit.
by_id = lambda lines: sorted(lines, key=lambda line: str(json.loads(line)["id"]))
for p, s in zip(by_id(plain), by_id(spark)):
    if p != s:
        problems.append(f"first differing record, by id:\n  plain: {p[:400]}\n  spark: {s[:400]}")
        break
if not problems and [json.loads(line)["id"] for line in spark] != [json.loads(line)["id"] for line in plain]:
    problems.append("same records, but not in input order")
if problems:
    sys.exit("spark test: MISMATCH between Spark and the plain run: " + "; ".join(problems))
failed = sum("error" in record for record in spark_parsed)
print(f"spark test: {len(spark)} records ({failed} error records), the same as the plain run",
      file=sys.stderr)
PY
}

echo "spark test: Spark job, part files" >&2
spark_job "$work/out"
compare "$work/out"/part-*
echo "spark test: Spark job, --single-file" >&2
spark_job "$work/out.jsonl" --single-file
compare "$work/out.jsonl"
[ ! -e "$work/out.jsonl.parts" ] || fail "--single-file left its part files behind"
echo "spark test: passed" >&2
