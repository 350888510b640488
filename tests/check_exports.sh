#!/bin/sh
# The shared library exports the functions the public headers declare with
# DGN_API, and nothing else. Usage: check_exports.sh LIB INCLUDE_DIR...
set -eu
lib=$1
shift
include="$*"
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
[ -n "$syms" ] || { echo "no exported symbols in $lib"; exit 1; }
api=$(for d in "$@"; do cat "$d"/*.h "$d"/dgn/*.h 2>/dev/null || true; done | tr '\n' ' ' |
      grep -o 'DGN_API[^;{(]*(' | sed 's/.*[^A-Za-z0-9_]\([A-Za-z0-9_]*\)[ ]*($/\1/' | sort -u)
extra=$(printf '%s\n' "$syms" | grep -vxF "$api" || true)
if [ -n "$extra" ]; then
    echo "exported from $lib but not declared DGN_API in $include:"
    printf '%s\n' "$extra"
    exit 1
fi
echo "$(printf '%s\n' "$syms" | wc -l) symbols, all declared DGN_API"
