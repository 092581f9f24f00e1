/* glibc extensions that Swift's Glibc module does not include. */
#include <malloc.h>

/* syncfs(2) (Linux 2.6.39, glibc 2.14; a GNU extension, declared by <unistd.h> only with
   _GNU_SOURCE): one call makes every file written on a filesystem durable, which is how the
   blob store's group commit syncs a batch of blobs at once. */
extern int syncfs(int fd);
