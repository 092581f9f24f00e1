#include <zlib.h>
/* inflateInit2 is a macro; Swift cannot call it. */
static inline int mirrord_inflate_init_gzip(z_streamp strm) { return inflateInit2(strm, 16 + MAX_WBITS); }
/* Content-Encoding: deflate is the zlib format (RFC 1950, RFC 9110 section 8.4.1.2); some servers send raw deflate. */
static inline int mirrord_inflate_init_zlib(z_streamp strm) { return inflateInit2(strm, MAX_WBITS); }
static inline int mirrord_inflate_init_raw(z_streamp strm) { return inflateInit2(strm, -MAX_WBITS); }
