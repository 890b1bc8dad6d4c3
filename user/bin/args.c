/* args: the smallest program on the disk (/bin/args): it was read from the ext2
 * filesystem by fsd and started with process_spawn_image, and prints its arguments. */
#include <stdio.h>

int main(int argc, char **argv) {
  printf("hello from the disk:");
  for (int i = 0; i < argc; i++) printf(" %s", argv[i]);
  printf("\n");
  return 0;
}
