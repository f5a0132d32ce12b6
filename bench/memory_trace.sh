#!/usr/bin/env bash
# Live host memory of an rlxf command over time (bench/memory/mallinfo_trace.c): glibc's bytes in use
# next to the resident set, so peak RSS splits into live memory and freed memory the allocator keeps.
#   bench/memory_trace.sh OUT.tsv rlxf train --set ...     (any command whose process is named rlxf)
# Prints the peaks at the end. MALLINFO_TRACE_EXE=NAME traces another executable.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/memory_trace.sh OUT.tsv COMMAND [ARGS...]" >&2; exit 2; }
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
lib=$here/results/mallinfo_trace.so
mkdir -p "$here/results"
if [ ! -f "$lib" ] || [ "$here/memory/mallinfo_trace.c" -nt "$lib" ]; then
  cc -O2 -shared -fPIC -o "$lib" "$here/memory/mallinfo_trace.c" -lpthread
fi
MALLINFO_TRACE_OUT=$out LD_PRELOAD=$lib${LD_PRELOAD:+:$LD_PRELOAD} "$@"
tail -n 1 "$out" | awk -F'\t' -v file="$out" '{printf "peak in use %s MiB, peak RSS %s MiB (%s)\n", $7, $8, file}' >&2
