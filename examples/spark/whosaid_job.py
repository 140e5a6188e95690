"""Run `whosaid extract` over a JSONL corpus with Apache Spark.

    spark-submit whosaid_job.py INPUT OUTPUT [--whosaid PATH] [--single-file] [-- EXTRA...]

INPUT is a JSONL file (or directory or glob) of {"id","text",...} records, as a local path or
any Hadoop URI. Each partition is streamed through `whosaid extract -` with RDD.pipe, and the
records are written, one per input document and in input order, to OUTPUT: a directory of
part files (saveAsTextFile), or one file with --single-file. Arguments after `--` go to whosaid
(`--fast`, `--threads N`, `--speaker NAME`, `--doc-timeout S`, ...). See README.md beside this
file for running on a cluster.
"""

import argparse
import json
import re
import shlex
import sys

from pyspark import SparkConf, SparkContext

# whosaid options that would break the one-record-per-line contract with Spark, or would write
# files on the executors instead of to standard output.
REFUSED_OPTIONS = ("--format", "--output", "-o", "--resume", "--summary", "--input-format")

# RDD.pipe runs this shell line with the whosaid command as its arguments. whosaid exits 1 when
# a document failed; its error record is in the output like any other record, so that is a
# success for the job. Any other non-zero code (2: bad option or unreadable input, 101: panic,
# a signal) stays non-zero, and checkCode makes the Spark task fail.
EXIT_CODE_MAP = '"$@"; code=$?; if [ "$code" -eq 1 ]; then exit 0; fi; exit "$code"'


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Run `whosaid extract` over a JSONL corpus with Spark.",
        epilog="Arguments after -- are passed to `whosaid extract`, e.g. -- --fast --threads 2.",
    )
    parser.add_argument("input", help="JSONL corpus: a path or Hadoop URI (a directory or glob too)")
    parser.add_argument("output", help="output directory of part files, or a file with --single-file")
    parser.add_argument(
        "--whosaid",
        default="whosaid",
        help="the whosaid binary as the executors see it: an absolute path, a path relative to "
        "the task's working directory (where --archives are unpacked on a cluster), or a name "
        "on PATH (default: whosaid)",
    )
    parser.add_argument(
        "--single-file",
        action="store_true",
        help="write OUTPUT as one JSONL file (parts are written beside it first, then "
        "concatenated in order by the driver)",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="minimum number of input partitions (tasks); the default is Spark's",
    )
    parser.add_argument(
        "--id-prefix",
        default=None,
        help="records read from a line without an id are named PREFIX:LINE, LINE counting every "
        "line of the input in order from 1 (default: INPUT, as `whosaid extract INPUT` names "
        "them for a single file)",
    )
    own, extra = split_at_double_dash(argv)
    args = parser.parse_args(own)
    args.extra = extra
    for option in extra:
        if option.split("=", 1)[0] in REFUSED_OPTIONS:
            parser.error(f"{option} cannot be passed to whosaid here: the job reads whosaid's "
                         "JSONL standard output and writes OUTPUT itself")
    return args


def split_at_double_dash(argv):
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def whosaid_command(args, conf):
    """The command line each task runs, as one string for RDD.pipe (which shlex-splits it)."""
    # --input-format jsonl: auto-detection would read a partition whose first line is not a JSON
    # object (a bad record) as one plain-text document.
    whosaid = [args.whosaid, "extract", "-", "--input-format", "jsonl"]
    if not any(option.split("=", 1)[0] == "--threads" for option in args.extra):
        # Spark already runs one task per core (spark.task.cpus cores per task); whosaid would
        # otherwise start a thread per core of the node in every task, and N concurrent tasks
        # would oversubscribe the node N-fold.
        whosaid += ["--threads", conf.get("spark.task.cpus", "1")]
    whosaid += args.extra
    return shlex.join(["sh", "-c", EXIT_CODE_MAP, "sh"] + whosaid)


def pipe_environment(conf):
    """The piped process's whole environment.

    RDD.pipe replaces the environment of the process it starts with the dict it is given, so
    the variables that spark.executorEnv.* sets on the executors (LD_LIBRARY_PATH for a shipped
    libtorch, WHOSAID_ENCODER) would not reach whosaid. They are read from the job's
    configuration here and passed on; relative paths in them resolve against the task's working
    directory, where a cluster manager unpacks --archives.
    """
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    prefix = "spark.executorEnv."
    for key, value in conf.getAll():
        if key.startswith(prefix):
            env[key[len(prefix):]] = value
    return env


def rename_fallback_ids(prefix):
    """Renames the records of id-less lines after their line in the whole input.

    whosaid names a record whose line has no usable id `-:N`, N being the line's number in the
    partition's standard input, so such names would repeat across partitions. The global line
    number was attached to each line before piping; the name becomes PREFIX:LINE, as the plain
    `whosaid extract INPUT` run names it. Error messages quote the name, and are renamed too.
    """

    def rename(pairs):
        for position, ((_, line_index), record) in enumerate(pairs, start=1):
            old = f"-:{position}"
            head = '{"id":' + json.dumps(old)
            if not record.startswith(head):
                yield record
                continue
            new = f"{prefix}:{line_index + 1}"
            rest = record[len(head):]
            at = rest.find('"error":')
            if at >= 0:
                escaped = json.dumps(new, ensure_ascii=False)[1:-1]
                tail = re.sub(r"(?<= )" + re.escape(old) + r"(?=[ :])",
                              lambda _: escaped, rest[at:])
                rest = rest[:at] + tail
            yield '{"id":' + json.dumps(new, ensure_ascii=False) + rest

    return rename


def run(sc, args):
    conf = sc.getConf()
    lines = sc.textFile(args.input, minPartitions=args.partitions)
    # whosaid skips blank lines without a record; dropping them here keeps input and output
    # one to one, which zip below relies on (and checks). The index counts every line, blank
    # ones too, as whosaid's line numbers do.
    documents = lines.zipWithIndex().filter(lambda pair: pair[0].strip())
    # A JSONL line never holds a raw newline (JSON escapes it inside strings), so one line in is
    # one document, and whosaid writes one line out per document, in order.
    records = documents.keys().pipe(
        whosaid_command(args, conf), env=pipe_environment(conf), checkCode=True
    )
    # zip fails the task if a partition's record count differs from its document count.
    renamed = documents.zip(records).mapPartitions(
        rename_fallback_ids(args.id_prefix or args.input)
    )
    if args.single_file:
        save_single_file(sc, renamed, args.output)
    else:
        renamed.saveAsTextFile(args.output)


def save_single_file(sc, records, output):
    """Writes the part files beside OUTPUT, then concatenates them in partition order.

    coalesce(1) before writing would pull the whole pipeline into one task, and a shuffle to
    one partition would lose the order; copying the finished parts through the driver does
    neither. The Hadoop FileSystem API makes it work for any URI that textFile reads.
    """
    jvm = sc._jvm
    hadoop_conf = sc._jsc.hadoopConfiguration()
    target = jvm.org.apache.hadoop.fs.Path(output)
    fs = target.getFileSystem(hadoop_conf)
    if fs.exists(target):
        sys.exit(f"whosaid_job: {output} already exists")
    parts_dir = jvm.org.apache.hadoop.fs.Path(output + ".parts")
    if fs.exists(parts_dir):
        sys.exit(f"whosaid_job: {output}.parts already exists (left by a failed run?)")
    records.saveAsTextFile(output + ".parts")
    statuses = fs.listStatus(parts_dir)
    parts = sorted(
        (status.getPath() for status in statuses if status.getPath().getName().startswith("part-")),
        key=lambda path: path.getName(),
    )
    out = fs.create(target, False)
    try:
        for part in parts:
            stream = fs.open(part)
            try:
                jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, out, hadoop_conf, False)
            finally:
                stream.close()
    finally:
        out.close()
    fs.delete(parts_dir, True)


def main(argv):
    args = parse_args(argv)
    sc = SparkContext.getOrCreate(SparkConf().setAppName("whosaid"))
    try:
        run(sc, args)
    finally:
        sc.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
