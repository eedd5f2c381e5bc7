# Shared by the workflow scripts: the entry point, benchmark-safe malloc settings, and the vocabulary.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONVBERT="$ROOT/scripts/convbert"
VOCAB="${VOCAB:-$ROOT/testdata/vocab/bert-base-uncased-vocab.txt}"
# glibc's malloc trimming can make large-batch runs 3-4x slower at random; keep big blocks mapped
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
