/* M3 user fault: a write to an unmapped address must kill this process only. */
#include <stdio.h>
#include <stdint.h>

int main(void) {
  printf("FAULT: writing to 0x10\n");
  *(volatile uint64_t *)0x10 = 1;
  printf("FAULT: still alive, which is wrong\n");
  return 1;
}
