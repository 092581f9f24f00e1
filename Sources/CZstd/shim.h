/* zstd, with the parameters API (ZSTD_createCDict_advanced) exported by libzstd 1.5. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
/* ZDICT_trainFromBuffer_fastCover with fixed parameters (exported by libzstd 1.5). */
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
