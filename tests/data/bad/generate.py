"""Writes the bad-input corpus and its MANIFEST (kind, file, status,
message fragment), plus ../good/tiny.dgn, a valid model file built from the
format in docs/model.md (the positive control for the damaged ones).
Run from anywhere: python3 tests/data/bad/generate.py
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
GOOD = os.path.join(HERE, "..", "good")
rows = []


def put(kind, name, data, status, fragment):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(HERE, name), mode) as f:
        f.write(data)
    rows.append(f"{kind}\t{name}\t{status}\t{fragment}")


# ---- CSV ------------------------------------------------------------------
put("csv", "wrong_separator.csv", "a;b;T\n70;30;550\n60;40;450\n", "DGN_E_FORMAT",
    "need at least one component column")
put("csv", "unbalanced_quotes.csv", 'a,b,T\n70,30,550\n"60,40,450\n', "DGN_E_FORMAT",
    ":3: column 1: quoted field is never closed")
put("csv", "non_utf8.csv", b"a,b,T\n70,30,550\n6\xff0,40,450\n", "DGN_E_FORMAT",
    ":3: column 1")
put("csv", "huge_number.csv", "a,b,T\n70,30,550\n60,1e999,450\n", "DGN_E_NONFINITE",
    ":3: column 2 (\"b\"): \"1e999\" is not finite")
put("csv", "tiny_numbers.csv", "a,b,T\n1e-300,1e-320,550\n4e-310,0,450\n", "DGN_E_DATA",
    "cannot tell the units")
put("csv", "nan.csv", "a,b,T\n70,30,550\n60,40,NaN\n", "DGN_E_NONFINITE", ":3: column 3")
put("csv", "inf.csv", "a,b,T\n-inf,30,550\n", "DGN_E_NONFINITE", ":2: column 1")
put("csv", "empty_cell.csv", "a,b,T\n70,30,550\n60,,450\n", "DGN_E_FORMAT",
    ":3: column 2 (\"b\"): empty cell")
put("csv", "megabyte_line.csv", "a,b,T\n70,30,550\n60," + "4" * (1 << 20) + ",450\n",
    "DGN_E_NONFINITE", ":3: column 2")
header = ",".join(f"c{i}" for i in range(1, 5000)) + ",T\n"
row = ",".join(["0.02"] * 4999) + ",550\n"
put("csv", "thousands_of_columns.csv", header + row + row, "DGN_E_DATA",
    "other class is empty")
put("csv", "truncated_mid_row.csv", "a,b,T\n70,30,550\n60,4", "DGN_E_FORMAT",
    ":3: expected 3 fields, found 2")
put("csv", "empty.csv", "", "DGN_E_FORMAT", "file is empty")
put("csv", "header_only.csv", "a,b,T\n", "DGN_E_FORMAT", ":1: header row but no data rows")
put("csv", "negative.csv", "a,b,T\n70,30,550\n-5,105,450\n", "DGN_E_FORMAT",
    ":3: column 1 (\"a\"): \"-5\" is negative")
put("csv", "duplicate_columns.csv", "a,b,a,T\n40,30,30,550\n", "DGN_E_FORMAT",
    ":1: columns 1 and 3 are both named \"a\"")
put("csv", "mixed_units.csv", "a,b,T\n0.7,0.3,550\n60,40,450\n", "DGN_E_FORMAT",
    "mixes fractions and percents")
put("csv", "nul_byte.csv", b"a,b,T\n70,30,550\n60,4\x000,450\n", "DGN_E_FORMAT",
    ":3: NUL byte")
put("csv", "text_after_quote.csv", 'a,b,T\n"70"x,30,550\n', "DGN_E_FORMAT",
    ":2: column 1: unexpected 'x' after a closing quote")
put("csv", "empty_header_name.csv", "a,,T\n70,30,550\n", "DGN_E_FORMAT",
    ":1: column 2 has an empty name")

# ---- model files -------------------------------------------------------------
def model(n=3, d=2, f=2, heads=1, h=2, k=2, max_batch=6, seed=1, dropout=0.1,
          interaction=1, n_params=None, version=1, extra=b""):
    count = n * d + (n * f + 3 * d * d if interaction else 0) + n * d * h + 2 * h + h * k + k
    n_params = count if n_params is None else n_params
    body = struct.pack("<8Q", n, d, f, heads, h, k, max_batch, seed)
    body += struct.pack("<fI", dropout, interaction)
    body += struct.pack("<Q", n_params) + struct.pack(f"<{count}f", *[0.01 * i for i in range(count)])
    body += struct.pack("<Q", 2 * h) + struct.pack(f"<{2 * h}f", *([0.0] * h + [1.0] * h))
    body += struct.pack("<I", 1) + struct.pack("<I", 4) + b"note" + struct.pack("<Q", 2) + b"ok"
    total = 8 + 4 + 8 + len(body) + 4
    head = b"DGNMODEL" + struct.pack("<IQ", version, total)
    data = head + body
    return data + struct.pack("<I", zlib.crc32(data)) + extra


good = model()
os.makedirs(GOOD, exist_ok=True)
with open(os.path.join(GOOD, "tiny.dgn"), "wb") as f:
    f.write(good)
put("model", "zero_length.dgn", b"", "DGN_E_FORMAT", "empty file, not a model")
put("model", "truncated.dgn", good[: len(good) // 2], "DGN_E_FORMAT", "truncated model file")
put("model", "wrong_magic.dgn", b"PK\x03\x04" + good[4:], "DGN_E_FORMAT", "wrong magic number")
put("model", "future_version.dgn", model(version=2), "DGN_E_FORMAT", "format version 2")
flipped = bytearray(good)
flipped[len(good) // 2] ^= 0x40
put("model", "checksum_mismatch.dgn", bytes(flipped), "DGN_E_FORMAT", "checksum mismatch")
put("model", "trailing_bytes.dgn", good + b"\0\0", "DGN_E_FORMAT", "after the end")


def patched(offset, value):
    """The good model with one u64 of the config replaced, checksum fixed."""
    data = bytearray(good[:-4])
    data[offset:offset + 8] = struct.pack("<Q", value)
    return bytes(data) + struct.pack("<I", zlib.crc32(bytes(data)))


# Config starts at byte 20: n_components, embed_dim, rank, heads, hidden, ...
put("model", "huge_hidden.dgn", patched(20 + 4 * 8, 1 << 40), "DGN_E_FORMAT",
    "impossible config")
put("model", "overflowing_dimensions.dgn", patched(20, (1 << 63) + 5), "DGN_E_FORMAT",
    "impossible config")
put("model", "wrong_parameter_count.dgn", patched(20 + 72, 999), "DGN_E_FORMAT",
    "parameter count does not match")

# ---- grid specs -----------------------------------------------------------------
put("grid", "unknown_component.grid", "step=5, SiO2, Fe2O3", "DGN_E_INVALID",
    "no component named \"Fe2O3\"")
put("grid", "min_above_max.grid", "step=5, SiO2=80:40, Na2O", "DGN_E_FORMAT",
    "minimum 80 is above maximum 40")
put("grid", "cannot_sum_to_100.grid", "step=5, SiO2=0:30, Na2O=0:30", "DGN_E_INVALID",
    "cannot sum to 100")
put("grid", "zero_step.grid", "step=0, SiO2, Na2O", "DGN_E_FORMAT", "not a positive number")
put("grid", "negative_step.grid", "step=-2.5, SiO2, Na2O", "DGN_E_FORMAT",
    "not a positive number")
put("grid", "beyond_64_bits.grid",
    "step=0.001, SiO2, Al2O3, B2O3, Na2O, K2O, CaO, MgO, Li2O, ZnO", "DGN_E_INVALID",
    "more than a 64-bit count holds")
put("grid", "no_step.grid", "SiO2, Na2O", "DGN_E_FORMAT", "no step=S item")

# ---- model validation: NaN models, impossible statistics, metadata ----------
rows.append("# model validation (issue 13: non-finite and impossible values, metadata)")


def ctx_model(params=None, stats=None, meta=None, count=None):
    """A 3-component model carrying the context dgn-train stores (names,
    property, range, z-score statistics, centre, units): a model the
    programs accept (../good/context.dgn) until one value is damaged."""
    n, d, f, h, k = 3, 2, 2, 2, 2
    n_params = n * d + n * f + 3 * d * d + n * d * h + 2 * h + h * k + k
    params = params if params is not None else [0.01 * i for i in range(n_params)]
    stats = stats if stats is not None else [0.0] * h + [1.0] * h
    meta = meta if meta is not None else ctx_meta()
    body = struct.pack("<8Q", n, d, f, 1, h, k, 6, 1) + struct.pack("<fI", 0.1, 1)
    body += struct.pack("<Q", n_params) + struct.pack(f"<{n_params}f", *params)
    body += struct.pack("<Q", 2 * h) + struct.pack(f"<{2 * h}f", *stats)
    body += struct.pack("<I", len(meta) if count is None else count)
    for name, data in meta:
        body += struct.pack("<I", len(name)) + name + struct.pack("<Q", len(data)) + data
    data = b"DGNMODEL" + struct.pack("<IQ", 1, 8 + 4 + 8 + len(body) + 4) + body
    return data + struct.pack("<I", zlib.crc32(data))


def ctx_meta(mean=(0.6, 0.2, 0.2), std=(0.1, 0.05, 0.05), centre=(0.6, 0.8),
             lo=500.0, hi=600.0, names=b"SiO2\0Na2O\0CaO\0"):
    return [(b"dgn.components", names), (b"dgn.property", b"TG\0"),
            (b"dgn.range", struct.pack("<2d", lo, hi)),
            (b"dgn.zscore", struct.pack("<6d", *mean, *std)),
            (b"dgn.centre", struct.pack("<2f", *centre)),
            (b"dgn.units", struct.pack("<I", 2))]


def ctx_params(i, v):
    p = [0.01 * j for j in range(46)]
    p[i] = v
    return p


NAN, INF = float("nan"), float("inf")
with open(os.path.join(GOOD, "context.dgn"), "wb") as f:
    f.write(ctx_model())
# Parameters: embedding 0-5, interaction 6-11, attention 12-23, W1 24-35.
put("model", "nan_weight.dgn", ctx_model(params=ctx_params(30, NAN)), "DGN_E_NONFINITE",
    "parameter 30 (projection.linear1.weight[6]) is NaN")
put("model", "inf_weight.dgn", ctx_model(params=ctx_params(0, INF)), "DGN_E_NONFINITE",
    "parameter 0 (embedding[0]) is inf")
put("model", "nan_bn_mean.dgn", ctx_model(stats=[NAN, 0.0, 1.0, 1.0]), "DGN_E_NONFINITE",
    "BatchNorm running mean[0] is NaN")
put("model", "negative_bn_variance.dgn", ctx_model(stats=[0.0, 0.0, 1.0, -0.25]),
    "DGN_E_FORMAT", "BatchNorm running variance[1] is -0.25; a variance cannot be negative")
put("model", "inf_bn_variance.dgn", ctx_model(stats=[0.0, 0.0, INF, 1.0]), "DGN_E_NONFINITE",
    "BatchNorm running variance[0] is inf")
put("model", "nan_centre.dgn", ctx_model(meta=ctx_meta(centre=(NAN, 0.8))), "DGN_E_NONFINITE",
    "class centre[0] (metadata dgn.centre) is NaN")
put("model", "inf_centre.dgn", ctx_model(meta=ctx_meta(centre=(0.6, -INF))), "DGN_E_NONFINITE",
    "class centre[1] (metadata dgn.centre) is -inf")
put("model", "negative_std.dgn", ctx_model(meta=ctx_meta(std=(0.1, -0.05, 0.05))),
    "DGN_E_FORMAT", "z-score std[1] (\"Na2O\") (metadata dgn.zscore) is -0.05")
put("model", "zero_std.dgn", ctx_model(meta=ctx_meta(std=(0.1, 0.05, 0.0))), "DGN_E_FORMAT",
    "z-score std[2] (\"CaO\") (metadata dgn.zscore) is 0; a standard deviation must be positive")
put("model", "nan_mean.dgn", ctx_model(meta=ctx_meta(mean=(NAN, 0.2, 0.2))), "DGN_E_NONFINITE",
    "z-score mean[0] (\"SiO2\") (metadata dgn.zscore) is NaN")
put("model", "lo_above_hi.dgn", ctx_model(meta=ctx_meta(lo=600.0, hi=500.0)), "DGN_E_FORMAT",
    "target range (metadata dgn.range): lo 600 is above hi 500")
put("model", "nan_range.dgn", ctx_model(meta=ctx_meta(hi=NAN)), "DGN_E_NONFINITE",
    "target range (metadata dgn.range) is [500, nan]")
put("model", "component_count.dgn", ctx_model(meta=ctx_meta(names=b"SiO2\0Na2O\0")),
    "DGN_E_FORMAT", "component names (metadata dgn.components): need 3 non-empty, "
    "NUL-terminated names, found 2")
short_centre = ctx_meta()
short_centre[4] = (b"dgn.centre", struct.pack("<f", 0.6))
put("model", "short_centre.dgn", ctx_model(meta=short_centre), "DGN_E_FORMAT",
    "class centre (metadata dgn.centre) holds 4 bytes, expected 8")
put("model", "huge_metadata_count.dgn", ctx_model(count=0xFFFFFFFF), "DGN_E_FORMAT",
    "4294967295 metadata entries, above the limit of 1048576")
put("model", "metadata_count_beyond_file.dgn", ctx_model(count=1000), "DGN_E_FORMAT",
    "1000 metadata entries cannot fit")
put("model", "duplicate_metadata.dgn", ctx_model(meta=ctx_meta() + [(b"dgn.property", b"TG\0")]),
    "DGN_E_FORMAT", "metadata \"dgn.property\" appears twice (entry 7 repeats it)")
# 80,000 entries (12.8 s to load when each insert searched all the others),
# then a repeat: the loader must get through them all, fast, to refuse it.
many = ctx_meta() + [(b"k%d" % i, b"") for i in range(80000)] + [(b"k0", b"")]
put("model", "many_metadata_entries.dgn", ctx_model(meta=many), "DGN_E_FORMAT",
    "metadata \"k0\" appears twice (entry 80007 repeats it)")

# ---- bounds: non-regular inputs are tested in C and shell (tests/test_csv.c,
# tests/bad_cli.sh); here huge headers, line ends, BOMs, names, off-sum candidates
rows.append("# bounds: huge headers, line ends, BOMs, names, candidate files")
wide = ",".join(f"c{i}" for i in range(1, 200001))
put("csv", "huge_header.csv", wide + ", c100000 \n" + ",".join(["0"] * 200001) + "\n",
    "DGN_E_FORMAT", ":1: columns 100000 (\"c100000\") and 200001 (\" c100000 \")")
put("csv", "cr_only.csv", "a,b,T\r70,30,550\r60,x,450\r", "DGN_E_FORMAT",
    ":3: column 2 (\"b\"): \"x\" is not a number")
put("csv", "mixed_line_ends.csv", "a,b,T\r\n70,30,550\n65,35,500\r60,x,450\r\n",
    "DGN_E_FORMAT", ":4: column 2 (\"b\"): \"x\" is not a number")
put("csv", "bom_inside.csv", b"\xef\xbb\xbfa,b,T\n70,30,550\n\xef\xbb\xbfa,b,T\n60,40,450\n",
    "DGN_E_FORMAT", ":3: column 1: U+FEFF byte-order mark inside the file")
put("csv", "bom_inside_value.csv", b"a,b,T\n70,30,550\n60,\xef\xbb\xbf40,450\n",
    "DGN_E_FORMAT", ":3: column 2: U+FEFF byte-order mark inside the file")
put("csv", "whitespace_duplicate.csv", "SiO2,Na2O, SiO2 ,T\n60,20,20,550\n", "DGN_E_FORMAT",
    ":1: columns 1 (\"SiO2\") and 3 (\" SiO2 \") are both named \"SiO2\"")
put("csv", "tab_duplicate.csv", '"W% SiO2","W% SiO2\t",T\n60,40,550\n', "DGN_E_FORMAT",
    "are both named \"W% SiO2\"")
put("csv", "blank_name.csv", "a,   ,T\n70,30,550\n", "DGN_E_FORMAT",
    ":1: column 2 has an empty name")

# Candidate files for a model over the SciGlass columns, in its order.
OXIDES = ["BaO", "CaO", "MgO", "PbO", "SrO", "ZnO", "GeO2", "SiO2", "TeO2", "TiO2", "ZrO2",
          "WO3", "K2O", "Li2O", "Na2O", "Al2O3", "B2O3", "Bi2O3", "P2O5"]


def cand(*rows_, header=None, eol="\n"):
    """A candidate table: each row gives the first components' values, the rest 0."""
    head = header if header is not None else ",".join(OXIDES)
    lines = [head] + [",".join(list(map(str, r)) + ["0"] * (len(OXIDES) - len(r)))
                      for r in rows_]
    return eol.join(lines) + eol


put("candidates", "cand_half_sum.csv", cand([20, 10, 10, 10], [10, 10, 5, 25]),
    "DGN_E_DATA", "no candidate left: all 2 rows have proportions summing outside 95-105 % "
    "(line 2 sums to 50 %)")
put("candidates", "cand_one_and_half_sum.csv", cand([60, 40, 30, 20]), "DGN_E_DATA",
    "(line 2 sums to 150 %)")
put("candidates", "cand_fraction_half_sum.csv", cand([0.2, 0.1, 0.1, 0.1]), "DGN_E_DATA",
    "(line 2 sums to 50 %)")
put("candidates", "cand_some_off_sum.csv",
    cand([60, 20, 10, 10], [20, 10, 10, 10], [60, 40, 30, 20], [50, 30, 20]),
    "DGN_OK", "rejected 2 rows")
# 13.8 + 33.8 + 28.1 + 19.3 is 94.99999999999999 in doubles, 15.9 + 15.3 +
# 38.1 + 35.7 is 105.00000000000001: at the edge, kept; 94.9 % and 105.1 % not.
put("candidates", "cand_edge_sums.csv",
    cand([13.8, 33.8, 28.1, 19.3], [15.9, 15.3, 38.1, 35.7], [60, 14.9, 10, 10],
         [60, 25.1, 10, 10]), "DGN_OK", "rejected 2 rows")
put("candidates", "cand_no_units.csv", cand([5, 3, 2], [10, 10]), "DGN_E_DATA",
    "no row's proportions sum to near 1 or near 100")
put("candidates", "cand_mixed_units.csv", cand([60, 40], [0.6, 0.4]), "DGN_E_FORMAT",
    "mixes fractions and percents")
put("candidates", "cand_duplicate_column.csv",
    cand([60, 40], header=",".join(OXIDES) + ",SiO2"), "DGN_E_FORMAT",
    ":1: columns 8 and 20 are both named \"SiO2\"")
put("candidates", "cand_whitespace_duplicate.csv",
    cand([60, 40], header=",".join(OXIDES) + ", Na2O "), "DGN_E_FORMAT",
    ":1: columns 15 (\"Na2O\") and 20 (\" Na2O \") are both named \"Na2O\"")
put("candidates", "cand_cr_only.csv", cand([60, 40], [60, "4o"], eol="\r"), "DGN_E_FORMAT",
    ":3: column 2 (\"CaO\"): \"4o\" is not a number")
put("candidates", "cand_bom_inside.csv",
    cand([60, 40]).encode() + b"\xef\xbb\xbf" + cand([60, 40]).encode(), "DGN_E_FORMAT",
    ":3: column 1: U+FEFF byte-order mark inside the file")
extra = ",".join(f"x{i}" for i in range(1, 50001))
put("candidates", "cand_wide_header.csv",
    cand([60, 40], header=",".join(OXIDES) + "," + extra + ",x25000"), "DGN_E_FORMAT",
    "columns 25019 and 50020 are both named \"x25000\"")

with open(os.path.join(HERE, "MANIFEST"), "w") as f:
    f.write("# kind\tfile\tstatus\tmessage fragment (written by generate.py)\n")
    f.write("\n".join(rows) + "\n")

# ---- outputs: not files but what an output path names, made by the runners
# (tests/test_bad_inputs.c, tests/bad_cli.sh) beside a copy of an input.
outputs = [
    ("same_as_input", "DGN_E_INVALID", "is the same file as the input"),
    ("hard_link_to_input", "DGN_E_INVALID", "is the same file as the input"),
    ("symlink_to_input", "DGN_E_INVALID", "is the same file as the input"),
    ("input_through_dot", "DGN_E_INVALID", "is the same file as the input"),
    ("dev_null", "DGN_E_INVALID", "/dev/null: is a character device, not a regular file"),
    ("dev_full", "DGN_E_INVALID", "/dev/full: is a character device, not a regular file"),
    ("fifo", "DGN_E_INVALID", "is a FIFO, not a regular file"),
    ("directory", "DGN_E_INVALID", "is a directory, not a regular file"),
    ("missing_directory", "DGN_E_IO", "No such file or directory"),
    ("dangling_symlink", "DGN_E_INVALID", "is a symbolic link to a missing file"),
]
with open(os.path.join(HERE, "MANIFEST"), "a") as f:
    f.write("# outputs (issue 13): the file column names what the output path is\n")
    f.write("".join(f"output\t{n}\t{s}\t{m}\n" for n, s, m in outputs))
