/* A program the loader must refuse: 100 MiB of .bss, past the 64 MiB image limit
 * (kernel/object/ElfImage.swift). Were it loaded, it would exit 0. */
volatile char big[100 << 20];

int main(void) { return big[sizeof big - 1]; }
