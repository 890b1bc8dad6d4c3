/* Address spaces (issue 9): each check is the regression test of a defect the M3
 * kernel had, named in its comment. Prints MEMORY: ok only after every answer was
 * checked; the boot's MM lines then show nothing leaked. */
#include "testlib.h"

#define PAGE 4096ull
#define RW (APUS_VM_PROT_READ | APUS_VM_PROT_WRITE)

static const char child_path[] = "tests/child";
static char big_arguments[4096];

/* Defect 5 and 12: vm_map could take every free page; the next kernel allocation in
 * a system call (a thread's FPU area, process_spawn copying 4 KiB of arguments) then
 * panicked the kernel. Fill memory until vm_map says no_memory, then ask the kernel
 * for more: every answer is an error the spec declares, and the kernel lives. */
static void thread_exits(uint64_t unused) {
  (void)unused;
  apus_thread_exit(0);
}

/* One process may map 256 MiB; the machine has more, so `depth` processes nest, each
 * holding what it could map, until one is refused before its own limit: memory is
 * full for the whole system, and that one asks the kernel for more. */
static void full_memory_fails_soft(int depth) {
  uint64_t held[512];
  int count = 0;
  uint64_t chunk = 4ull << 20;
  uint64_t mapped = 0;
  while (count < 512) {
    int64_t got = apus_vm_map(0, chunk, RW, 0);
    if (apus_is_error(got)) {
      expect_eq("vm_map past the limit", got, ERR(APUS_ERR_NO_MEMORY));
      if (chunk == PAGE) break;
      chunk /= 2;
      continue;
    }
    ((volatile uint8_t *)(uintptr_t)got)[0] = 1;  /* really there */
    held[count++] = (uint64_t)got;
    mapped += chunk;
  }
  printf("MEMORY: process %d mapped %lu MiB before no_memory\n", depth, mapped >> 20);
  if (mapped >= (250ull << 20) && depth < 4) {  /* stopped by its own 256 MiB limit: go deeper */
    struct apus_process_status status;
    char next[2] = {(char)('1' + depth), 0};
    expect_eq("a deeper filler", run_case("tests/memory", next, &status), 0);
    expect_eq("...ended well", status.code, 0);
    return;
  }
  int64_t spawned = apus_process_spawn((const uint8_t *)child_path, sizeof child_path - 1, (const uint8_t *)big_arguments,
                                       sizeof big_arguments);
  expect_true("process_spawn with memory full: ok or no_memory", spawned > 0 || spawned == ERR(APUS_ERR_NO_MEMORY));
  if (spawned > 0) {
    struct apus_process_status status;
    apus_process_wait((apus_handle_t)spawned, &status);
    apus_handle_close((apus_handle_t)spawned);
  }
  int64_t thread = apus_thread_spawn((uint64_t)(uintptr_t)thread_exits, held[0] + PAGE, 0);
  expect_true("thread_spawn with memory full: ok or no_memory", thread == ERR(APUS_ERR_NO_MEMORY) || thread > 0);
  int64_t more = apus_vm_map(0, PAGE, RW, 0);
  expect_eq("vm_map with memory full", more, ERR(APUS_ERR_NO_MEMORY));
  /* Freed memory is usable again. Four pages, not one: the kernel's heap may take a
   * freed page for the new mapping's own books (a memory object, its page list), and
   * whether it must depends on how full its slabs happen to be. */
  expect_eq("vm_unmap part of a mapping", apus_vm_unmap(held[0], 4 * PAGE), 0);
  expect_true("vm_map of a page just freed", apus_vm_map(0, PAGE, RW, 0) > 0);
}

/* Defect 6: vm_unmap walked every page of its range, so unmapping all of user space
 * took ~3*10^10 steps. Now it costs what is mapped: this returns at once. */
static void huge_unmap_is_cheap(void) {
  int64_t kept = apus_vm_map(0, 16 * PAGE, RW, 0);
  expect_eq("vm_unmap of a 127 TiB range", apus_vm_unmap(0x100000000000ull, 0x7f0000000000ull - 0x100000000000ull), 0);
  ((volatile uint8_t *)(uintptr_t)kept)[0] = 1;  /* below the range: still mapped */
  apus_vm_unmap((uint64_t)kept, 16 * PAGE);
}

/* Defect 13: vm_map/vm_unmap churn never reused an address and kept every page table
 * (2,000 cycles held 2,253 table pages). Now the same address comes back each time. */
static void churn_reuses_addresses(void) {
  int64_t first = apus_vm_map(0, 16 * PAGE, RW, 0);
  int moved = 0;
  apus_vm_unmap((uint64_t)first, 16 * PAGE);
  for (int i = 0; i < 2000; i++) {
    int64_t again = apus_vm_map(0, 16 * PAGE, RW, 0);
    if (again != first) moved++;
    ((volatile uint8_t *)(uintptr_t)again)[i % (16 * PAGE)] = 1;
    apus_vm_unmap((uint64_t)again, 16 * PAGE);
  }
  expect_eq("cycles that got a new address", moved, 0);
}

/* The hint is honoured when the range is free there; an unmapped hole in the middle
 * of a mapping is really gone and the rest stays. */
static void hints_and_holes(void) {
  uint64_t hint = 0x3000000000ull;
  expect_eq("vm_map at a free hint", apus_vm_map(hint, 4 * PAGE, RW, 0), (int64_t)hint);
  int64_t elsewhere = apus_vm_map(hint, 4 * PAGE, RW, 0);
  expect_true("vm_map at a taken hint goes elsewhere", elsewhere > 0 && (uint64_t)elsewhere != hint);
  expect_eq("fixed over a mapping", apus_vm_map(hint + PAGE, PAGE, RW, APUS_VM_MAP_FLAGS_FIXED), ERR(APUS_ERR_ADDRESS_IN_USE));
  expect_eq("a hole in the middle", apus_vm_unmap(hint + PAGE, PAGE), 0);
  expect_eq("fixed into the hole", apus_vm_map(hint + PAGE, PAGE, RW, APUS_VM_MAP_FLAGS_FIXED), (int64_t)(hint + PAGE));
  ((volatile uint8_t *)(uintptr_t)(hint + 3 * PAGE))[0] = 1;  /* the tail survived the split */
  expect_eq("unmap all of it", apus_vm_unmap(hint, 4 * PAGE), 0);
  apus_vm_unmap((uint64_t)elsewhere, 4 * PAGE);
  expect_eq("the mapping limit", apus_vm_map(0, 512ull << 20, RW, 0), ERR(APUS_ERR_NO_MEMORY));
}

int main(int argc, char **argv) {
  test_name = "MEMORY";
  if (argc > 1 && argv[1][0] >= '1' && argv[1][0] <= '9') {
    full_memory_fails_soft(argv[1][0] - '0');
    return finish("full memory");
  }
  huge_unmap_is_cheap();
  churn_reuses_addresses();
  hints_and_holes();
  /* Fill memory from a process of its own: its exit must give everything back. Two
   * rounds: the second proves the first returned what it took. */
  for (int round = 0; round < 2; round++) {
    struct apus_process_status status;
    expect_eq("memory-filling child", run_case("tests/memory", "1", &status), 0);
    expect_eq("...ended well", status.code, 0);
  }
  return finish("address spaces");
}
