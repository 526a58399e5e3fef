"""Parser vectors from data files (tests/c/vectors/*.json, described in its README.md),
each one pytest item, run through cffi:

* request and response heads through mg_http_parse_head, whole and at every prefix, each
  time against a guard page (cutil.head_verdict); mg_parse_http must agree;
* chunked bodies through the decoder's test driver, whole, one byte at a time and split in
  two at every point, in reassembly and streaming mode (cutil.chunked_feed_all_ways), the
  input read from a copy against the guard page.

A vector marked "disputed" expects what the RFC says where the parser disagrees: it runs
as a strict xfail, so that a fix shows up as XPASS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cutil import (
    HTTP_FLAG_NAMES,
    chunked_error_names,
    chunked_feed_all_ways,
    head_verdict,
)

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "vectors"
CHUNKED_H = HERE.parents[1] / "csrc" / "proto" / "chunked.h"

HEAD_LIMIT_FIELDS = ("request_line", "header_section", "max_headers", "field_line")
CHUNKED_LIMIT_FIELDS = ("max_size_digits", "max_ext_len", "max_trailer_len",
                        "max_trailer_fields")
HEAD_OUTCOMES = ("expect", "reject", "incomplete")
CHUNKED_OUTCOMES = ("expect", "error", "incomplete")
HEAD_KEYS = {"length", "method", "uri", "query_string", "proto", "resp_code", "reason",
             "headers", "num_headers", "content_length", "flags", "body"}
COMMON_KEYS = {"name", "data", "data_hex", "rfc", "note", "limits", "disputed"}
STATUSES = {400, 414, 431, 501, 505}
FULL_PREFIXES = 2048  # inputs up to this long are parsed at every prefix


def materialize(spec) -> bytes:
    """Bytes from the README's notation: a Latin-1 string, or a list of pieces (strings,
    {"repeat": piece, "times": n}, {"hex": "..."})."""
    if isinstance(spec, str):
        return spec.encode("latin-1")
    if isinstance(spec, list):
        return b"".join(materialize(p) for p in spec)
    if isinstance(spec, dict) and set(spec) == {"repeat", "times"}:
        assert isinstance(spec["times"], int) and spec["times"] >= 0
        return materialize(spec["repeat"]) * spec["times"]
    if isinstance(spec, dict) and set(spec) == {"hex"}:
        return bytes.fromhex(spec["hex"])
    raise ValueError(f"not a byte string: {spec!r}")


def data_of(vec) -> bytes:
    return bytes.fromhex(vec["data_hex"]) if "data_hex" in vec else materialize(vec["data"])


def load(name: str) -> list[dict]:
    with open(VECTORS / name, encoding="ascii") as f:
        return json.load(f)


FILES = {name: load(name) for name in ("requests.json", "responses.json", "chunked.json")}


def params(vectors):
    out = []
    for v in vectors:
        marks = []
        if "disputed" in v:
            marks.append(pytest.mark.xfail(reason=v["disputed"], strict=True))
        out.append(pytest.param(v, id=v["name"], marks=marks))
    return out


# --- the files themselves -----------------------------------------------------------------


def test_vector_files_well_formed():
    names = [v["name"] for vs in FILES.values() for v in vs]
    assert len(names) == len(set(names)), "vector names must be unique"
    assert len(names) >= 150
    errors = set(chunked_error_names(CHUNKED_H)[1:])
    for fname, vectors in FILES.items():
        chunked = fname == "chunked.json"
        outcomes = CHUNKED_OUTCOMES if chunked else HEAD_OUTCOMES
        for v in vectors:
            where = f"{fname}: {v.get('name')}"
            assert sum(k in v for k in outcomes) == 1, where
            assert ("data" in v) != ("data_hex" in v), where
            assert set(v) <= COMMON_KEYS | set(outcomes), where
            data_of(v)
            limits = v.get("limits", {})
            assert set(limits) <= set(CHUNKED_LIMIT_FIELDS if chunked else HEAD_LIMIT_FIELDS)
            if chunked:
                if "expect" in v:
                    assert set(v["expect"]) == {"body", "rest"}, where
                    materialize(v["expect"]["body"])
                elif "error" in v:
                    assert v["error"] in errors, where
                else:
                    assert set(v["incomplete"]) == {"body"}, where
                continue
            if "reject" in v:
                assert v["reject"] in STATUSES, where
            elif "incomplete" in v:
                assert v["incomplete"] is True, where
            else:
                e = v["expect"]
                assert set(e) <= HEAD_KEYS, where
                need = {"length", "proto", "content_length", "flags"}
                need |= {"method", "uri"} if fname == "requests.json" else {"resp_code"}
                assert need <= set(e), where
                assert ("headers" in e) != ("num_headers" in e), where
                assert set(e["flags"]) <= set(HTTP_FLAG_NAMES), where


# --- heads --------------------------------------------------------------------------------


def head_limits(ffi, lib, vec):
    if "limits" not in vec:
        return None
    lim = ffi.new("struct mg_http_limits *", lib.mg_http_default_limits())
    for key, value in vec["limits"].items():
        setattr(lim, key, value)
    return lim


def expected_head(e: dict) -> dict:
    """The expectation with its byte strings materialized and flags in canonical order."""
    want = {}
    for key, value in e.items():
        if key == "headers":
            want[key] = [(materialize(n), materialize(v)) for n, v in value]
        elif key == "flags":
            want[key] = [f for f in HTTP_FLAG_NAMES if f in value]
        elif key in ("length", "num_headers", "content_length", "resp_code"):
            want[key] = value
        else:
            want[key] = materialize(value)
    return want


def run_head(ffi, lib, guarded, vec, is_req: bool):
    data = data_of(vec)
    limits = head_limits(ffi, lib, vec)
    step = 1 if len(data) <= FULL_PREFIXES else len(data) // 512
    r, status, got = head_verdict(ffi, lib, guarded, data, is_req, limits, step)
    if limits is None:
        hm = ffi.new("struct http_message *")
        legacy = lib.mg_parse_http(data, len(data), hm, int(is_req))
        assert legacy == (0 if r == -2 else r), "mg_parse_http disagrees"
    if "reject" in vec:
        assert (r, status) == (-1, vec["reject"])
    elif "incomplete" in vec:
        assert (r, status) == (-2, -2)
    else:
        want = expected_head(vec["expect"])
        assert (r, status) == (want["length"], 0)
        assert {k: got[k] for k in want} == want


@pytest.mark.parametrize("vec", params(FILES["requests.json"]))
def test_request(ffi, lib, guarded, vec):
    run_head(ffi, lib, guarded, vec, is_req=True)


@pytest.mark.parametrize("vec", params(FILES["responses.json"]))
def test_response(ffi, lib, guarded, vec):
    run_head(ffi, lib, guarded, vec, is_req=False)


# --- chunked bodies -----------------------------------------------------------------------

CHUNKED_ERRORS = chunked_error_names(CHUNKED_H)


@pytest.mark.parametrize("vec", params(FILES["chunked.json"]))
def test_chunked(ffi, lib, guarded, vec):
    data = data_of(vec)
    limits = None
    if "limits" in vec:
        limits = tuple(vec["limits"].get(k, 0) for k in CHUNKED_LIMIT_FIELDS)
    src = guarded(data)  # read by every feed below; nothing else uses the page meanwhile
    verdict, body, rest, err = chunked_feed_all_ways(ffi, lib, data, limits, src)
    if "error" in vec:
        assert (verdict, CHUNKED_ERRORS[err]) == ("bad", vec["error"])
    elif "incomplete" in vec:
        assert (verdict, body, CHUNKED_ERRORS[err]) == (
            "more", materialize(vec["incomplete"]["body"]), "OK")
    else:
        want = vec["expect"]
        assert (verdict, body, len(rest), CHUNKED_ERRORS[err]) == (
            "done", materialize(want["body"]), want["rest"], "OK")
