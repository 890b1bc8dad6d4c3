/* spin: counts until Ctrl-C ends it (/bin/spin), to show that the shell's foreground
 * program can be interrupted and the shell goes on. */
#include <stdio.h>
#include <apus/syscall.h>

int main(void) {
  printf("spin: running until Ctrl-C\n");
  for (volatile uint64_t count = 0;; count++) {
    if (count % 1000000 == 0) apus_yield();
  }
}
