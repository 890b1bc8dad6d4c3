/* malloc over vm_map: a first-fit, address-ordered free list of blocks carved from
 * 64 KiB chunks the kernel maps on demand; free merges neighbours. Large requests get
 * their own mapping and go back with vm_unmap. Single-threaded, like the programs. */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <apus/syscall.h>

#define CHUNK (64 * 1024)
#define ALIGN 16
#define LARGE (32 * 1024)

struct block {
  size_t size;          /* bytes including this header */
  struct block *next;   /* free list link (free blocks only) */
};
#define HEADER ((sizeof(struct block) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static struct block *free_list;

static void *map(size_t size) {
  int64_t address = apus_vm_map(0, size, APUS_VM_PROT_READ | APUS_VM_PROT_WRITE, 0);
  return apus_is_error(address) ? NULL : (void *)(uintptr_t)address;
}

static void insert(struct block *block) {
  struct block **link = &free_list;
  while (*link && *link < block) link = &(*link)->next;
  block->next = *link;
  *link = block;
  if (block->next && (char *)block + block->size == (char *)block->next) {
    block->size += block->next->size;
    block->next = block->next->next;
  }
  if (link != &free_list) {
    struct block *previous = (struct block *)((char *)link - offsetof(struct block, next));
    if ((char *)previous + previous->size == (char *)block) {
      previous->size += block->size;
      previous->next = block->next;
    }
  }
}

void *malloc(size_t size) {
  if (size == 0) size = 1;
  if (size > SIZE_MAX - HEADER - APUS_PAGE_SIZE) return NULL;
  size_t need = (size + HEADER + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (need >= LARGE) {
    size_t mapped = (need + APUS_PAGE_SIZE - 1) & ~(size_t)(APUS_PAGE_SIZE - 1);
    struct block *block = map(mapped);
    if (!block) return NULL;
    block->size = mapped;
    block->next = (struct block *)-1;  /* marks a large block */
    return (char *)block + HEADER;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    for (struct block **link = &free_list; *link; link = &(*link)->next) {
      struct block *block = *link;
      if (block->size < need) continue;
      if (block->size - need >= HEADER + ALIGN) {
        struct block *rest = (struct block *)((char *)block + need);
        rest->size = block->size - need;
        rest->next = block->next;
        *link = rest;
        block->size = need;
      } else {
        *link = block->next;
      }
      block->next = NULL;
      return (char *)block + HEADER;
    }
    struct block *chunk = map(CHUNK);
    if (!chunk) return NULL;
    chunk->size = CHUNK;
    insert(chunk);
  }
  return NULL;
}

/* Embedded Swift's allocator entry. Alignments up to 16 are malloc's own; larger ones
 * over-allocate and keep the real block's address just below the aligned pointer,
 * behind a marker free() recognises. */
#define ALIGNED_MARK ((size_t)0x41504c4e)  /* "APLN" */

int posix_memalign(void **result, size_t alignment, size_t size) {
  if (alignment < sizeof(void *) || (alignment & (alignment - 1))) return 22; /* EINVAL */
  if (alignment <= ALIGN) {
    *result = malloc(size);
    return *result ? 0 : 12; /* ENOMEM */
  }
  if (size > SIZE_MAX - alignment - HEADER) return 12;
  char *raw = malloc(size + alignment + HEADER);
  if (!raw) return 12;
  uintptr_t aligned = ((uintptr_t)raw + HEADER + alignment - 1) & ~(uintptr_t)(alignment - 1);
  struct block *mark = (struct block *)(aligned - HEADER);
  mark->size = ALIGNED_MARK;
  mark->next = (struct block *)raw;
  *result = (void *)aligned;
  return 0;
}

void *calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *memory = malloc(count * size);
  if (memory) memset(memory, 0, count * size);
  return memory;
}

void free(void *pointer) {
  if (!pointer) return;
  struct block *block = (struct block *)((char *)pointer - HEADER);
  if (block->size == ALIGNED_MARK) {  /* from posix_memalign: free the real block */
    free(block->next);
    return;
  }
  if (block->next == (struct block *)-1) {
    apus_vm_unmap((uintptr_t)block, block->size);
    return;
  }
  insert(block);
}
