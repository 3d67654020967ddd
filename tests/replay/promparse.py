"""A strict reader of the Prometheus text exposition format (version 0.0.4),
for tests: every line must be a HELP, a TYPE or a sample; metric and label
names follow the format's grammar; label values are properly escaped; each
sample's family was declared by TYPE before it; no series appears twice;
values parse as floats. Returns {(name, frozenset(labels.items())): value}."""
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse(text):
    if not text.endswith("\n"):
        raise ValueError("the exposition must end with a newline")
    types, helps, series = {}, {}, {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if not line:
            continue
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (" + NAME + r") (.*)", line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    raise ValueError(f"line {n}: malformed {line[:6]}: {line!r}")
                continue  # a plain comment
            kind, name, rest = m.groups()
            table = helps if kind == "HELP" else types
            if name in table:
                raise ValueError(f"line {n}: second {kind} for {name}")
            if kind == "TYPE":
                if rest not in TYPES:
                    raise ValueError(f"line {n}: unknown type {rest!r}")
                if any(k[0] == name for k in series):
                    raise ValueError(f"line {n}: TYPE for {name} after its samples")
            table[name] = rest
            continue
        m = re.fullmatch(r"(" + NAME + r")(\{(.*)\})? (\S+)( -?\d+)?", line)
        if not m:
            raise ValueError(f"line {n}: not a sample: {line!r}")
        name, _, labels_text, value, _ts = m.groups()
        labels = {}
        if labels_text:
            pos = 0
            pat = re.compile(r'(' + LABEL + r')="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)')
            while pos < len(labels_text):
                lm = pat.match(labels_text, pos)
                if not lm:
                    raise ValueError(f"line {n}: bad labels at {labels_text[pos:]!r}")
                if lm.group(1) in labels:
                    raise ValueError(f"line {n}: label {lm.group(1)} twice")
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        family = name
        if family not in types:
            raise ValueError(f"line {n}: sample of {name} without a TYPE before it")
        try:
            v = float(value)
        except ValueError:
            raise ValueError(f"line {n}: value {value!r} is not a number")
        key = (name, frozenset(labels.items()))
        if key in series:
            raise ValueError(f"line {n}: series {name}{labels} twice")
        series[key] = v
    return series
