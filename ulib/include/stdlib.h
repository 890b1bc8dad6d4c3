/* Memory and process exit for Apus user programs. malloc takes its memory from the
 * kernel with vm_map. */
#ifndef APUS_STDLIB_H
#define APUS_STDLIB_H
#include <stddef.h>

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void free(void *pointer);
int posix_memalign(void **result, size_t alignment, size_t size);
_Noreturn void exit(int code);

#endif
