#!/bin/sh
# The shared library exports dgn_ symbols and nothing else.
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
[ -n "$syms" ] || { echo "no exported symbols in $lib"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^dgn_' || true)
if [ -n "$bad" ]; then
    echo "symbols without the dgn_ prefix exported from $lib:"
    printf '%s\n' "$bad"
    exit 1
fi
echo "$(printf '%s\n' "$syms" | wc -l) symbols, all dgn_"
