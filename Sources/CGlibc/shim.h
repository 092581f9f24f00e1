/* glibc extensions that Swift's Glibc module does not include. */
#include <malloc.h>

