/* hello: the sample package's program (make packages → hello-1.0.pkg), in C. */
#include <stdio.h>

int main(void) {
  printf("APP: hello world\n");
  return 0;
}
