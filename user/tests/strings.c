/* ulib's memcpy, memmove and memset (ulib/libc/string.c move eight bytes a `rep`
 * iteration and then the rest; memmove goes backwards with the direction flag set when
 * the destination starts inside the source): every length 0-80 at every alignment 0-15
 * of source and destination, overlapping both ways, checked byte by byte against a
 * plain loop, including the bytes around the target that must not change; and the
 * direction flag is clear after each call (the ABI requires it). Prints STRINGS: ok and
 * exits 0, or names the first case that failed and exits 1. */
#include <stdio.h>
#include <string.h>

#define AREA 256
static unsigned char area[AREA], expected[AREA];

static void fill(void) {
  for (int i = 0; i < AREA; i++) area[i] = expected[i] = (unsigned char)(i * 7 + 3);
}

static int direction_flag_set(void) {
  unsigned long flags;
  __asm__ volatile("pushfq\n\tpopq %0" : "=r"(flags));
  return (flags >> 10) & 1;
}

static int check(const char *what, int length, int to, int from) {
  if (memcmp(area, expected, AREA) != 0 || direction_flag_set()) {
    printf("STRINGS: %s length=%d to=%d from=%d wrong%s\n", what, length, to, from,
           direction_flag_set() ? " (direction flag left set)" : "");
    return 0;
  }
  return 1;
}

int main(void) {
  for (int length = 0; length <= 80; length++) {
    for (int to = 16; to < 48; to++) {
      for (int from = 16; from < 48; from++) {
        /* Apart: memcpy. */
        fill();
        void *returned = memcpy(area + to + 128, area + from, (size_t)length);
        for (int i = 0; i < length; i++) expected[to + 128 + i] = expected[from + i];
        if (returned != area + to + 128 || !check("memcpy", length, to + 128, from)) return 1;
        /* Possibly overlapping, either way: memmove (a copy through a scratch array). */
        fill();
        returned = memmove(area + to, area + from, (size_t)length);
        unsigned char scratch[80];
        for (int i = 0; i < length; i++) scratch[i] = expected[from + i];
        for (int i = 0; i < length; i++) expected[to + i] = scratch[i];
        if (returned != area + to || !check("memmove", length, to, from)) return 1;
      }
      fill();
      void *returned = memset(area + to, 0xa5 ^ length, (size_t)length);
      for (int i = 0; i < length; i++) expected[to + i] = (unsigned char)(0xa5 ^ length);
      if (returned != area + to || !check("memset", length, to, 0)) return 1;
    }
  }
  printf("STRINGS: ok\n");
  return 0;
}
