# ------------------------------------------------------------------------------------------------
# The static part of the job (src/transform/internal/spark_job_runtime.py, embedded into pinpipe
# and appended after the generated rules above). It holds no cleaning rule and no schema fact:
# those are the generated SCHEMAS, KINDS and clean_<kind>() above. What is here are the
# primitives they call (the value parsers of src/transform/value_rules.cc and the record
# validator's checks, src/core/record_validator.cc), reading the lake and writing the output.
# ------------------------------------------------------------------------------------------------
import argparse
import datetime
import gzip
import io
import json
import math
import os
import re
import sys
import time

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1


# ---------------------------------------------------------------------------- value primitives
def _trim(s):
    return s.strip(TRIM_CHARS)


def _parse_count(s, integer):
    """ParseCountSuffix: exact decimal arithmetic, then the column's integer range."""
    i, n, digits, frac, mantissa = 0, len(s), 0, 0, 0
    ints = 0
    while i < n and "0" <= s[i] <= "9":
        digits += 1
        if digits > MAX_COUNT_DIGITS:
            return None
        mantissa = mantissa * 10 + ord(s[i]) - 48
        ints += 1
        i += 1
    if ints == 0:
        return None
    if i < n and s[i] == ".":
        i += 1
        while i < n and "0" <= s[i] <= "9":
            digits += 1
            if digits > MAX_COUNT_DIGITS:
                return None
            mantissa = mantissa * 10 + ord(s[i]) - 48
            frac += 1
            i += 1
        if frac == 0:
            return None
    multiplier = 1
    if i < n:
        multiplier = COUNT_SUFFIXES.get(s[i])
        if multiplier is None:
            return None
        i += 1
    if i != n:
        return None
    v = mantissa * multiplier // (10 ** frac)
    if v > _INT64_MAX:
        return None
    return _fit(v, integer)


def _fit(v, integer):
    if integer and (v < _INT32_MIN or v > _INT32_MAX):
        return None
    return v


_INT_TEXT = re.compile(r"-?[0-9]+\Z")
_DOUBLE_TEXT = re.compile(r"-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_BOOL_WORDS = {"1": True, "t": True, "true": True, "0": False, "f": False, "false": False}


def _text_to_int(s, integer):
    if not _INT_TEXT.match(s):
        return None
    v = int(s)
    if v < _INT64_MIN or v > _INT64_MAX:
        return None
    return _fit(v, integer)


def _text_to_double(s):
    if not _DOUBLE_TEXT.match(s):
        return None
    v = float(s)
    return v if math.isfinite(v) else None


def _text_to_bool(s):
    return _BOOL_WORDS.get(s.lower()) if s.isascii() else None


def _number_to_int(v, integer):
    return _fit(v, integer) if isinstance(v, int) else None


def _number_to_double(v):
    return float(v)


def _number_to_text(v):
    return str(v) if isinstance(v, int) else _double_text(v)


def _number_to_bool(v):
    return (v == 1) if isinstance(v, int) and v in (0, 1) else None


def _days_from_civil(y, m, d):
    y -= 1 if m <= 2 else 0
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _leap(y):
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _parse_timestamp(s):
    """core::ParseTimestamp: (micros since the epoch, None) or (None, why)."""
    def digits(pos, n):
        part = s[pos:pos + n]
        if len(part) != n or not all("0" <= c <= "9" for c in part):
            return None
        return int(part)
    if len(s) < 19:
        return None, "input is too short"
    year = digits(0, 4)
    if year is None:
        return None, "invalid character in year"
    if s[4] != "-":
        return None, "invalid date separator, expected `-`"
    month = digits(5, 2)
    if month is None:
        return None, "invalid character in month"
    if s[7] != "-":
        return None, "invalid date separator, expected `-`"
    day = digits(8, 2)
    if day is None:
        return None, "invalid character in day"
    if year < 1:
        return None, "year value is outside expected range"
    if month < 1 or month > 12:
        return None, "month value is outside expected range"
    dim = 29 if month == 2 and _leap(year) else _DAYS_IN_MONTH[month - 1]
    if day < 1 or day > dim:
        return None, "day value is outside expected range"
    if s[10] not in (" ", "T"):
        return None, "invalid datetime separator, expected `T` or space"
    hour = digits(11, 2)
    if hour is None:
        return None, "invalid character in hour"
    if s[13] != ":":
        return None, "invalid time separator, expected `:`"
    minute = digits(14, 2)
    if minute is None:
        return None, "invalid character in minute"
    if len(s) < 17 or s[16] != ":":
        return None, "invalid time separator, expected `:`"
    second = digits(17, 2)
    if second is None:
        return None, "invalid character in second"
    if hour > 23:
        return None, "hour value is outside expected range"
    if minute > 59:
        return None, "minute value is outside expected range"
    if second > 59:
        return None, "second value is outside expected range"
    pos, nanos, offset = 19, 0, 0
    if pos < len(s) and s[pos] == ".":
        pos += 1
        n = 0
        while pos < len(s) and "0" <= s[pos] <= "9":
            n += 1
            if n > 9:
                return None, "second fraction value is more than 9 digits long"
            nanos = nanos * 10 + ord(s[pos]) - 48
            pos += 1
        if n == 0:
            return None, "invalid character in second fraction"
        nanos *= 10 ** (9 - n)
    if pos < len(s):
        c = s[pos]
        if c == "Z":
            pos += 1
        elif c in "+-":
            pos += 1
            oh, om = digits(pos, 2), None
            if oh is not None and s[pos + 2:pos + 3] == ":":
                om = digits(pos + 3, 2)
            if oh is None or om is None:
                return None, "invalid timezone offset, expected `+HH:MM` or `-HH:MM`"
            if oh > 23 or om > 59:
                return None, "timezone offset must be less than 24 hours"
            pos += 5
            offset = (-1 if c == "-" else 1) * (oh * 60 + om)
        else:
            return None, "invalid timezone sign or unexpected character after the time"
    if pos != len(s):
        return None, "unexpected extra characters at the end of the input"
    seconds = (_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
               - offset * 60)
    return seconds * 1000000 + (nanos + 500) // 1000, None


def _text_to_timestamp(s):
    return _parse_timestamp(s)[0]


def _uuid_problem(s):
    """The validator's IsUuid: None when `s` is 8-4-4-4-12 hex digits, else why not."""
    if len(s) != 36:
        return "invalid length: expected 36 characters, found %d" % len(s.encode("utf-8"))
    for i, c in enumerate(s):
        if i in (8, 13, 18, 23):
            if c != "-":
                return "invalid group separator at %d" % i
        elif not (c in "0123456789abcdefABCDEF"):
            return "invalid character: expected [0-9a-fA-F] at %d" % i
    return None


# ------------------------------------------------------------------------------ text formats
def _double_text(v):
    """The shortest text that reads back as `v`, as std::to_chars writes it (pinpipe's form):
    fixed or scientific, whichever is shorter (fixed on a tie), exponents of two digits."""
    if not math.isfinite(v):
        return repr(v)
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    r = repr(v)
    sign = "-" if r.startswith("-") else ""
    mantissa, _, exp = r.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    decimal_exp = len(whole) + (int(exp) if exp else 0)  # v = 0.digits x 10^decimal_exp
    significant = digits.lstrip("0")
    decimal_exp -= len(digits) - len(significant)
    significant = significant.rstrip("0")
    if decimal_exp <= 0:
        fixed = "0." + "0" * (-decimal_exp) + significant
    elif decimal_exp >= len(significant):
        # An integer: to_chars writes its exact digits (of the texts of this length that read
        # back as `v`, the closest), not the shortest digits padded with zeros.
        fixed = str(int(abs(v)))
    else:
        fixed = significant[:decimal_exp] + "." + significant[decimal_exp:]
    e = decimal_exp - 1
    sci = (significant[0] + ("." + significant[1:] if len(significant) > 1 else "") + "e" +
           ("-" if e < 0 else "+") + "%02d" % abs(e))
    return sign + (sci if len(sci) < len(fixed) else fixed)


def _timestamp_text(micros):
    """transform::AppendTimestamp: "YYYY-MM-DD HH:MM:SS[.ffffff]", year 0 as "0001-... BC"."""
    seconds, fraction = divmod(micros, 1000000)
    days, sod = divmod(seconds, 86400)
    z = days + 719468  # civil_from_days (H. Hinnant), as the C++ writer
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    text = "%04d-%02d-%02d %02d:%02d:%02d" % (year if year > 0 else 1 - year, month, day,
                                              sod // 3600, sod // 60 % 60, sod % 60)
    if fraction:
        text += ".%06d" % fraction
    return text + (" BC" if year <= 0 else "")


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_cell(v, type_name):
    """One field of PostgreSQL COPY text format (transform::AppendCopyLine)."""
    if v is None:
        return "\\N"
    if type_name in ("integer", "bigint"):
        return str(v)
    if type_name == "double":
        return _double_text(v)
    if type_name == "text":
        return v.translate(_COPY_ESCAPES)
    if type_name == "boolean":
        return "t" if v else "f"
    if type_name == "timestamp":
        return _timestamp_text(v)
    if type_name == "double_array":
        return "{" + ",".join(_double_text(x) for x in v) + "}"
    raise ValueError("unknown column type " + type_name)


def _json_string(s):
    return json.dumps(s, ensure_ascii=False)


# -------------------------------------------------------------------------------- validation
class _Obj(list):
    """A JSON object as its (key, value) pairs, in order, duplicates kept."""


class _BadJson(ValueError):
    pass


def _reject_constant(name):
    raise _BadJson("invalid literal (expected true, false or null)")


def _parse_int(text):
    v = int(text)
    if v < _INT64_MIN or v > _UINT64_MAX:
        raise _BadJson("invalid number, or a number out of range (integers must fit in 64 bits, "
                       "floats in a double)")
    return v


def _parse_float(text):
    v = float(text)
    if not math.isfinite(v):
        raise _BadJson("invalid number, or a number out of range (integers must fit in 64 bits, "
                       "floats in a double)")
    return v


def _check_strings(v):
    """Lone surrogates from \\u escapes are not text (simdjson refuses them)."""
    if isinstance(v, str):
        v.encode("utf-8")
    elif isinstance(v, list):
        for item in v:
            if isinstance(item, tuple):
                _check_strings(item[0])
                _check_strings(item[1])
            else:
                _check_strings(item)


def _decode(raw):
    if raw.startswith(b"\xef\xbb\xbf"):
        raise _BadJson("byte order mark (U+FEFF) before the document")
    if not raw.strip(b" \t\r\n"):
        raise _BadJson("empty document")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadJson("invalid UTF-8 (malformed, overlong or surrogate bytes)")
    try:
        doc = json.loads(text, object_pairs_hook=_Obj, parse_constant=_reject_constant,
                         parse_int=_parse_int, parse_float=_parse_float)
        _check_strings(doc)
    except _BadJson:
        raise
    except (ValueError, RecursionError) as e:
        raise _BadJson(str(e).split(":")[0])
    return doc


def _validate(schema, raw):
    """core::RecordValidator: (values by schema field, None) or (None, errors)."""
    try:
        doc = _decode(raw)
    except _BadJson as e:
        return None, [("", MSG["json_invalid_prefix"] + str(e), "json_invalid")]
    if not isinstance(doc, _Obj):
        return None, [("", MSG["not_object"], "model_attributes_type")]
    index = {f[0]: i for i, f in enumerate(schema)}
    slots, counts, extras = {}, {}, []
    for key, value in doc:
        i = index.get(key)
        if i is None:
            if key not in extras:
                extras.append(key)
            continue
        counts[i] = counts.get(i, 0) + 1
        slots[i] = value
    errors, values = [], [None] * len(schema)
    for i, (name, ftype, required, lo, hi) in enumerate(schema):
        if counts.get(i, 0) > 1:
            errors.append((name, MSG["duplicate"], "duplicate_key"))
            continue
        if i not in slots:
            if required:
                errors.append((name, MSG["missing"], "missing"))
            continue
        v = slots[i]
        if ftype in ("int", "number"):
            is_int = type(v) is int
            if not (is_int or (ftype == "number" and type(v) is float)):
                errors.append((name, MSG["int_type"], "int_type") if ftype == "int"
                              else (name, MSG["float_type"], "float_type"))
                continue
            if float(v) < lo:
                errors.append((name, MSG["ge_prefix"] + _bound_text(lo), "greater_than_equal"))
            elif float(v) > hi:
                errors.append((name, MSG["le_prefix"] + _bound_text(hi), "less_than_equal"))
            else:
                values[i] = float(v) if is_int and v > _INT64_MAX else v
            continue
        if type(v) is not str:
            errors.append({"uuid": (name, MSG["uuid_type"], "uuid_type"),
                           "timestamp": (name, MSG["datetime_type"], "datetime_type")}.get(
                ftype, (name, MSG["string_type"], "string_type")))
            continue
        if "\x00" in v:
            errors.append((name, MSG["nul"], "string_nul"))
            continue
        if ftype == "uuid":
            why = _uuid_problem(v)
            if why is not None:
                errors.append((name, MSG["uuid_parsing_prefix"] + why, "uuid_parsing"))
                continue
        if ftype == "timestamp":
            why = _parse_timestamp(v)[1]
            if why is not None:
                errors.append((name, MSG["datetime_parsing_prefix"] + why, "datetime_parsing"))
                continue
        values[i] = v
    for key in extras:
        errors.append((key, MSG["extra"], "extra_forbidden"))
    if errors:
        return None, errors
    return values, None


def _bound_text(bound):
    return _double_text(float(bound))


def _errors_text(errors):
    """core::FieldErrorsText."""
    return "; ".join("%s: %s (%s)" % (f or "body", m, t) for f, m, t in errors)


# ------------------------------------------------------------------------------ reading the lake
def _decompress(path, data):
    if path.endswith(".gz"):
        return gzip.decompress(data)
    import zstandard  # pip install zstandard (scripts/setup installs it)
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


def _lines(data):
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _clean_object(item, kinds_by_topic):
    """One archive object -> ('row'|'dead'|'drop', ...) tuples (the batch job's ObjectCleaner)."""
    path, data = item
    topic, date, key = _object_key(path, kinds_by_topic)
    kind = kinds_by_topic[topic]
    schema = SCHEMAS[kind["name"]]
    clean = kind["clean"]
    types = kind["types"]
    dedup = kind["dedup"]
    for n, raw in enumerate(_lines(_decompress(path, data)), start=1):
        values, errors = _validate(schema, raw)
        if errors is not None:
            try:
                raw_field = ',"raw":' + _json_string(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raw_field = ',"raw_hex":"' + raw.hex() + '"'
            yield ("dead", kind["name"], date, None, key, n,
                   '{"object":' + _json_string(key) + ',"line":' + str(n) + ',"reason":' +
                   _json_string(_errors_text(errors)) + raw_field + "}")
            continue
        row = clean(values)
        if row is None:
            yield ("drop", kind["name"], date, None, key, n, None)
            continue
        text = "\t".join(_copy_cell(v, t) for v, t in zip(row, types))
        dedup_value = None if dedup is None else row[dedup]
        yield ("row", kind["name"], date, dedup_value, key, n, text)


_KEY_RE = re.compile(r"/([^/]+)/dt=(\d{4}-\d{2}-\d{2})/hr=\d{2}/\d+-\d{20}\.jsonl\.(zst|gz)$")


def _object_key(path, kinds_by_topic):
    m = _KEY_RE.search(path)
    if m is None or m.group(1) not in kinds_by_topic:
        raise ValueError("not an archive object: " + path)
    start = m.start() + 1
    return m.group(1), m.group(2), path[start:]


# --------------------------------------------------------------------------------------- main
def _days(args):
    if args.date:
        return sorted(set(args.date))
    first = datetime.date.fromisoformat(args.first)
    last = datetime.date.fromisoformat(args.last or args.first)
    out = []
    while first <= last:
        out.append(first.isoformat())
        first += datetime.timedelta(days=1)
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lake", required=True,
                   help="the archive: file:///path, /path or s3a://bucket[/prefix]")
    p.add_argument("--date", action="append", help="a day YYYY-MM-DD (repeatable)")
    p.add_argument("--from", dest="first", help="first day of a range")
    p.add_argument("--to", dest="last", help="last day of a range (default: --from)")
    p.add_argument("--out", required=True, help="output directory (Spark path), replaced")
    p.add_argument("--topics", default=",".join(k["topic"] for k in KINDS),
                   help="topics of the " + ", ".join(k["name"] for k in KINDS) + " records")
    p.add_argument("--master", default=os.environ.get("PINPIPE_SPARK_MASTER", "local[*]"))
    p.add_argument("--partitions", type=int, default=0,
                   help="Spark partitions for the objects (default: Spark's parallelism)")
    p.add_argument("--s3-endpoint", default=os.environ.get("PINPIPE_S3_ENDPOINT", ""),
                   help="S3 endpoint for s3a:// (e.g. http://127.0.0.1:9000); credentials from "
                        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
    p.add_argument("--jars", default=os.environ.get("PINPIPE_SPARK_JARS", ""),
                   help="comma-separated jars for s3a (hadoop-aws, aws-java-sdk-bundle)")
    args = p.parse_args(argv)
    if not args.date and not args.first:
        p.error("give --date or --from")
    days = _days(args)
    topics = args.topics.split(",")
    if len(topics) != len(KINDS):
        p.error("--topics needs %d topics" % len(KINDS))
    kinds_by_topic = {t: k for t, k in zip(topics, KINDS)}
    lake = args.lake.rstrip("/")
    if lake.startswith("/"):
        lake = "file://" + lake

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    builder = (SparkSession.builder.master(args.master).appName("pinpipe-batch-" + JOB_NAME)
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))
    if args.jars:
        builder = builder.config("spark.jars", args.jars)
    if lake.startswith("s3a://"):
        builder = (builder
                   .config("spark.hadoop.fs.s3a.path.style.access", "true")
                   .config("spark.hadoop.fs.s3a.aws.credentials.provider",
                           "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"))
        if args.s3_endpoint:
            builder = builder.config("spark.hadoop.fs.s3a.endpoint", args.s3_endpoint).config(
                "spark.hadoop.fs.s3a.connection.ssl.enabled",
                "true" if args.s3_endpoint.startswith("https") else "false")
        for name, env in (("access.key", "AWS_ACCESS_KEY_ID"),
                          ("secret.key", "AWS_SECRET_ACCESS_KEY")):
            if os.environ.get(env):
                builder = builder.config("spark.hadoop.fs.s3a." + name, os.environ[env])
    spark = builder.getOrCreate()
    started = time.monotonic()
    sc = spark.sparkContext
    sc.setLogLevel("WARN")

    # List the day's objects and markers through Hadoop's FileSystem (local or s3a alike).
    jvm = sc._jvm
    conf = sc._jsc.hadoopConfiguration()
    files, unsealed = [], []
    for day in days:
        for topic in topics:
            day_path = jvm.org.apache.hadoop.fs.Path("%s/%s/dt=%s" % (lake, topic, day))
            fs = day_path.getFileSystem(conf)
            found = fs.globStatus(jvm.org.apache.hadoop.fs.Path(
                "%s/%s/dt=%s/hr=*/*.jsonl.*" % (lake, topic, day)))
            for status in (found or []):
                name = status.getPath().toString()
                if _KEY_RE.search(name):
                    files.append(name)
            if not fs.exists(jvm.org.apache.hadoop.fs.Path(day_path, "_SUCCESS")):
                unsealed.append("%s/dt=%s" % (topic, day))
    for u in unsealed:
        print("warning: %s has no _SUCCESS marker (the day may still grow)" % u, file=sys.stderr)
    if not files:
        print("error: no archive object for %s in %s" % (", ".join(days), lake), file=sys.stderr)
        spark.stop()
        return 2

    parts = args.partitions or max(sc.defaultParallelism, 1)
    objects = sc.binaryFiles(",".join(files), minPartitions=parts)
    outcomes = objects.flatMap(lambda item: _clean_object(item, kinds_by_topic)).cache()

    # De-duplication by the table's dedup column: the first copy in (object key, line) order
    # wins, per day, as in the batch job; NULL is never a duplicate.
    def dedup_key(t):
        _, kind, date, value, key, line, _text = t
        return ((kind, date, ("v", value) if value is not None else ("n", key, line)),
                (key, line, _text))
    rows = (outcomes.filter(lambda t: t[0] == "row").map(dedup_key)
            .reduceByKey(lambda a, b: a if (a[0], a[1]) <= (b[0], b[1]) else b))
    tables = {k["name"]: k["table"] for k in KINDS}
    out_rows = rows.map(lambda kv: (tables[kv[0][0]], kv[0][1], kv[1][2]))
    out_dead = (outcomes.filter(lambda t: t[0] == "dead")
                .map(lambda t: ("_rejected_" + t[1], t[2], t[6])))
    frame = spark.createDataFrame(out_rows.union(out_dead), "table string, dt string, value string")
    (frame.repartition("table", "dt").write.mode("overwrite").partitionBy("table", "dt")
     .text(args.out))

    counts = outcomes.map(lambda t: ((t[2], t[1], t[0]), 1)).reduceByKey(lambda a, b: a + b)
    counts = dict(counts.collect())
    kept = dict(rows.map(lambda kv: ((kv[0][1], kv[0][0]), 1)).reduceByKey(lambda a, b: a + b)
                .collect())
    for day in days:
        for k in KINDS:
            n = lambda what: counts.get((day, k["name"], what), 0)
            records = n("row") + n("drop") + n("dead")
            print("%s %s records=%d rows=%d dropped=%d dead=%d duplicates=%d" % (
                day, k["name"], records, kept.get((day, k["name"]), 0), n("drop"), n("dead"),
                n("row") - kept.get((day, k["name"]), 0)))
    # The job's own time (the session was up): JVM start-up is measured around the process.
    print(json.dumps({"job_seconds": round(time.monotonic() - started, 3)}))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
