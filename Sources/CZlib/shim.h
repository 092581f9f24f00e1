#include <zlib.h>
/* inflateInit2 is a macro; Swift cannot call it. */
static inline int mirrord_inflate_init_gzip(z_streamp strm) { return inflateInit2(strm, 16 + MAX_WBITS); }
