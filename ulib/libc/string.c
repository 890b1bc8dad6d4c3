/* The string functions. Written as plain loops (-ffreestanding -fno-builtin keeps the
 * compiler from turning them back into calls to themselves), except memcpy, memmove and
 * memset: they move eight bytes per iteration with `rep movsq` / `rep stosq` and then
 * the last 0-7 bytes, as the kernel's arch/x86_64/shim/string.S does. Under QEMU's
 * -icount (make bench) every iteration of a `rep` is one instruction, so a byte loop
 * costs eight times as much and even clang's 32-byte vector loop (five instructions a
 * round) 2.5 times: blkdevd's 64 KiB copy from the bounce buffer (Swift's copyMemory is
 * memmove) was about 20,000 instructions. */
#include <string.h>

void *memcpy(void *destination, const void *source, size_t count) {
  void *to = destination;
  size_t words = count >> 3, bytes = count & 7;
  __asm__ volatile("rep movsq\n\tmovq %[bytes], %%rcx\n\trep movsb"
                   : "+D"(to), "+S"(source), "+c"(words)
                   : [bytes] "r"(bytes)
                   : "memory");
  return destination;
}

void *memmove(void *destination, const void *source, size_t count) {
  unsigned char *to = destination;
  const unsigned char *from = source;
  /* Forward is right unless the destination starts inside the source. */
  if (to <= from || to >= from + count) return memcpy(destination, source, count);
  /* Backwards: the eight-byte words from the top down with the direction flag set for
   * just that instruction (the ABI wants it clear), then the 0-7 bytes at the bottom;
   * the destination is above the source, so the words written never reach the bytes
   * still to be read. */
  size_t words = count >> 3, bytes = count & 7;
  if (words) {
    unsigned char *word_to = to + count - 8;
    const unsigned char *word_from = from + count - 8;
    __asm__ volatile("std\n\trep movsq\n\tcld" : "+D"(word_to), "+S"(word_from), "+c"(words) : : "memory");
  }
  while (bytes--) to[bytes] = from[bytes];
  return destination;
}

void *memset(void *destination, int value, size_t count) {
  void *to = destination;
  unsigned long pattern = (unsigned char)value * 0x0101010101010101ul;
  size_t words = count >> 3, bytes = count & 7;
  __asm__ volatile("rep stosq\n\tmovq %[bytes], %%rcx\n\trep stosb"
                   : "+D"(to), "+c"(words)
                   : "a"(pattern), [bytes] "r"(bytes)
                   : "memory");
  return destination;
}

int memcmp(const void *a, const void *b, size_t count) {
  const unsigned char *x = a, *y = b;
  for (; count; count--, x++, y++) {
    if (*x != *y) return *x - *y;
  }
  return 0;
}

size_t strlen(const char *text) {
  size_t length = 0;
  while (text[length]) length++;
  return length;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t count) {
  for (; count; count--, a++, b++) {
    if (*a != *b || !*a) return (unsigned char)*a - (unsigned char)*b;
  }
  return 0;
}
